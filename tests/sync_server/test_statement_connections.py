"""The SQLite connections a no-op sync reads on (``StatementConnections``): kept for the next
read, at most as many as the pool's size, and none left open once the store is disposed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from sync_server.store import StatementConnections


def _open(connection: sqlite3.Connection) -> bool:
    try:
        connection.execute("SELECT 1")
    except sqlite3.ProgrammingError:  # "Cannot operate on a closed database."
        return False
    return True


def test_a_connection_given_back_is_taken_again_and_closed_with_the_store(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    kept = StatementConnections(engine, keep=1)
    first, generation = kept.take()
    second, _ = kept.take()
    kept.give_back(first, generation)
    kept.give_back(second, generation)  # one idle at most: closed
    assert not _open(second)
    again, _ = kept.take()
    assert again is first and _open(first)
    kept.give_back(again, generation)
    kept.close()
    assert not _open(first)
    engine.dispose()


def test_a_connection_in_use_while_the_store_is_disposed_is_closed_when_it_comes_back(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    kept = StatementConnections(engine, keep=4)
    busy, generation = kept.take()
    kept.close()
    kept.give_back(busy, generation)
    assert not _open(busy)
    with pytest.raises(IndexError):
        kept._idle.pop()
    engine.dispose()

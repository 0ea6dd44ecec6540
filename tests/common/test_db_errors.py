"""Store errors never repeat a statement's values (they may be personal data or key material)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from common.db import create_sqlite_engine, new_key


def test_a_failed_statement_does_not_show_its_parameters(tmp_path: Path) -> None:
    engine = create_sqlite_engine(tmp_path / "store.db", new_key())
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE person (email TEXT UNIQUE)"))
            connection.execute(text("INSERT INTO person VALUES (:e)"), {"e": "dana.private@example.test"})
        with pytest.raises(IntegrityError) as failed, engine.begin() as connection:
            connection.execute(text("INSERT INTO person VALUES (:e)"), {"e": "dana.private@example.test"})
        assert "dana.private" not in str(failed.value)
        assert "UNIQUE" in str(failed.value)
    finally:
        engine.dispose()

"""Revision 0016: a journal entry's lines pushed with it have no change-log rows of their own
(``sync_server.writes.LOGGED_WITH``). Going back to 0015 gives each one the row server code from
before needs to send it: exactly one, at the line's version, found by a pull that reads the
change log only, right after its entry's; nothing else changes, and nothing at or below the
pruned floor. Going up again changes nothing. On both stores, on PostgreSQL as the database's
owner that is not a superuser (row-level security applies to it), as production migrates.

Revision 0019 moved the lines into their entry, and the server code that wrote them as rows is
gone: the store is taken back to 0018 (its own downgrade gives the lines their table back), and
the books are written there as a push of posted invoices wrote them from 0016 to 0018."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, insert, select, update

from common import migrate
from common.db import create_sqlite_engine, new_key
from common.ids import new_id
from common.schema import (
    Account,
    AppUser,
    ChangeLog,
    JournalEntry,
    JournalLine,
    Membership,
    OrgSequence,
    metadata,
)
from common.schema.base import table_of
from common.schema.types import utcnow
from sync_server import admin_ops, retention
from sync_server.config import ServerConfig
from sync_server.retention import PRUNED_SEQUENCE, prune_organization
from sync_server.store import Store, prepare_store
from sync_server.writes import CHANGE_SEQUENCE
from tests.common.migrations import table_at, tables_at, to_revision
from tests.common.test_migration_journal_write_cost import _seed
from tests.pg_owner import owned_database

BEFORE = "0015"
LAST = "0018"  # the last revision with a journal_line table


@dataclass
class Server:
    store: Store
    everything: Engine  # reads every organization's rows (the store's own engine on SQLite)
    org_id: str
    user_id: str


def _server(config: ServerConfig, everything: Engine | None = None) -> Server:
    store = prepare_store(config)
    org_id = admin_ops.create_org(store, "Acme")
    user_id = new_id()
    with store.admin_session() as session:
        session.execute(
            insert(AppUser).values(id=user_id, email="admin@acme.test", name="Admin", password_hash="-")
        )
    with store.session(org_id, write=True) as session:
        session.execute(insert(Membership).values(org_id=org_id, id=new_id(), user_id=user_id, roles=[]))
    to_revision(store.engine, LAST, down=True)
    return Server(store, everything or store.engine, org_id, user_id)


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[Server]:
    server = _server(ServerConfig(data_dir=tmp_path / "data").for_tests())
    yield server
    server.store.dispose()


@pytest.fixture
def pg_server(pg_admin_url: str, tmp_path: Path) -> Iterator[Server]:
    """A database owned by a role that is neither a superuser nor bypasses row-level security."""
    with owned_database(pg_admin_url) as db:
        superuser = create_engine(db.superuser_url)
        config = ServerConfig(data_dir=tmp_path / "data", database_url=db.url_of(db.owner),
                              app_role=db.app_role, pool_size=2).for_tests()  # fmt: skip
        try:
            server = _server(config, superuser)
            yield server
            server.store.dispose()
        finally:
            superuser.dispose()


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue(f"{request.param}_server")


def _push_posted_invoices(server: Server, count: int) -> None:
    """What a push of ``count`` posted invoices wrote to the books from revision 0016 to 0018: per
    invoice an entry at the next change seq, with its change-log row, then its three lines
    (receivable, revenue, VAT) at the next three seqs, which no change-log row holds
    (``LOGGED_WITH``); the change counter after the last."""
    with server.everything.begin() as connection:
        counter = _counter(server, CHANGE_SEQUENCE)
        assert counter > 0  # the organization's own creation was logged
        accounts = list(
            connection.execute(
                select(Account.id).where(Account.org_id == server.org_id).order_by(Account.code).limit(3)
            ).scalars()
        )
        entries, lines, log = [], [], []
        for n in range(count):
            at = utcnow()
            counter += 1
            entry = {"org_id": server.org_id, "id": new_id(), "version": counter, "updated_at": at,
                     "updated_by": server.user_id, "deleted": False, "number": f"JE-{new_id()}",
                     "entry_date": at.date(), "fiscal_period_id": None, "memo": None, "source": "sales",
                     "source_id": new_id(), "reverses_entry_id": None}  # fmt: skip
            entries.append(entry)
            log.append({"org_id": server.org_id, "seq": counter, "entity": "journal_entry",
                        "entity_id": entry["id"], "at": at})  # fmt: skip
            amounts = ((2400 + n, 0), (0, 2000 + n), (0, 400))
            for line_no, (account, (debit, credit)) in enumerate(
                zip(accounts, amounts, strict=True), start=1
            ):
                counter += 1
                lines.append({**entry, "id": new_id(), "version": counter, "journal_entry_id": entry["id"],
                              "line_no": line_no, "account_id": account, "debit": debit, "credit": credit,
                              "currency": "EUR", "memo": None})  # fmt: skip
        connection.execute(table_at(connection, table_of(JournalEntry)).insert(), entries)
        connection.execute(table_at(connection, table_of(JournalLine)).insert(), lines)
        connection.execute(insert(ChangeLog), log)
        connection.execute(
            update(OrgSequence)
            .where(OrgSequence.org_id == server.org_id, OrgSequence.name == CHANGE_SEQUENCE)
            .values(value=counter)
        )


def _tables(server: Server) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, in a fixed order (the tables and columns of the store's revision)."""
    with server.everything.connect() as connection:
        return {
            table.name: sorted((tuple(row) for row in connection.execute(select(*table.columns))), key=repr)
            for table in tables_at(connection, [*metadata.sorted_tables, table_of(JournalLine)])
        }


def _forced(server: Server) -> set[str]:
    """The tables whose row-level security applies to their owner too (PostgreSQL)."""
    if not server.store.is_postgres:
        return set()
    with server.everything.connect() as connection:
        return set(
            connection.exec_driver_sql(
                "SELECT relname FROM pg_class WHERE relforcerowsecurity AND relname IN "
                "('journal_line', 'change_log', 'org_sequence')"
            ).scalars()
        )


def _counter(server: Server, name: str) -> int:
    with server.everything.connect() as connection:
        return int(
            connection.execute(
                select(OrgSequence.value).where(OrgSequence.org_id == server.org_id, OrgSequence.name == name)
            ).scalar()
            or 0
        )


def _lines(server: Server) -> list[tuple[str, str, int, Any]]:
    """(id, entry id, version, updated_at) of the organization's journal lines."""
    with server.everything.connect() as connection:
        return [
            (row.id, row.journal_entry_id, int(row.version), row.updated_at)
            for row in connection.execute(
                select(
                    JournalLine.id, JournalLine.journal_entry_id, JournalLine.version, JournalLine.updated_at
                )
                .where(JournalLine.org_id == server.org_id)
                .order_by(JournalLine.version)
            )
        ]


def _row_of(server: Server, line: tuple[str, str, int, Any]) -> tuple[Any, ...]:
    line_id, _entry, version, updated_at = line
    return (server.org_id, version, "journal_line", line_id, updated_at)


def _log_after(server: Server, after: int) -> list[tuple[int, str, str]]:
    """What a pull from before revision 0016 sent from a cursor at ``after``: the rows the
    change log names after it, in its order (each at its first change)."""
    with server.everything.connect() as connection:
        return [
            (int(seq), entity, entity_id)
            for seq, entity, entity_id in connection.execute(
                select(ChangeLog.seq, ChangeLog.entity, ChangeLog.entity_id)
                .where(ChangeLog.org_id == server.org_id, ChangeLog.seq > after)
                .order_by(ChangeLog.seq)
            )
        ]


def test_going_back_gives_each_pushed_line_its_change_log_row(server: Server) -> None:
    assert (CHANGE_SEQUENCE, PRUNED_SEQUENCE) == ("change", "pruned")  # the revision's names
    cursor = _counter(server, CHANGE_SEQUENCE)  # a device synced before the push
    _push_posted_invoices(server, 4)
    lines = _lines(server)
    assert len(lines) == 12  # receivable, revenue, VAT: an entry of three lines an invoice
    before, forced = _tables(server), _forced(server)
    assert len(forced) == (3 if server.store.is_postgres else 0)
    assert not [row for row in before["change_log"] if row[2] == "journal_line"]
    assert not {line[2] for line in lines} & {row[1] for row in before["change_log"]}

    to_revision(server.store.engine, BEFORE, down=True)
    after = _tables(server)
    assert _forced(server) == forced
    assert {name: rows for name, rows in after.items() if name != "change_log"} == {
        name: rows for name, rows in before.items() if name != "change_log"
    }
    assert after["change_log"] == sorted(
        before["change_log"] + [_row_of(server, line) for line in lines], key=repr
    )
    # A pull that reads the change log only finds every line, each right after its entry.
    log = _log_after(server, cursor)
    with server.everything.connect() as connection:
        entries = dict(
            connection.execute(
                select(JournalEntry.id, JournalEntry.version).where(JournalEntry.org_id == server.org_id)
            ).all()
        )
    assert len(entries) == 4
    for entry_id, version in entries.items():
        at = log.index((int(version), "journal_entry", entry_id))
        own = [(v, "journal_line", i) for i, e, v, _ in lines if e == entry_id]
        assert log[at + 1 : at + 1 + len(own)] == own

    to_revision(server.store.engine, LAST)
    assert _tables(server) == after
    with server.store.engine.connect() as connection:
        assert migrate.current_revision(connection) == LAST


def test_nothing_goes_back_at_or_below_the_pruned_floor(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Today's retention at 0018: its floor, change log and counter are as they were; the
    # tombstones it would drop are found by today's references (journal_balance, which 0018
    # has not), and the store holds none.
    monkeypatch.setattr(retention, "_drop_tombstones", lambda *_args: 0)
    _push_posted_invoices(server, 2)
    with server.store.session(server.org_id, write=True) as session:
        report = prune_organization(session, server.org_id, now=utcnow() + timedelta(days=91))
    assert report.change_log_rows > 0
    _push_posted_invoices(server, 2)
    floor = _counter(server, PRUNED_SEQUENCE)
    assert floor == report.floor
    lines = _lines(server)
    kept = [line for line in lines if line[2] > floor]
    # The floor is the last change-log row pruned: the first push's last entry's. Its lines came
    # after it, are above the floor and go back, with the second push's; the first entry's do not.
    assert (len(lines), len(kept)) == (12, 9)
    before = _tables(server)

    to_revision(server.store.engine, BEFORE, down=True)
    after = _tables(server)
    assert after["change_log"] == sorted(
        before["change_log"] + [_row_of(server, line) for line in kept], key=repr
    )
    assert min(row[1] for row in after["change_log"]) > floor
    assert {name: rows for name, rows in after.items() if name != "change_log"} == {
        name: rows for name, rows in before.items() if name != "change_log"
    }


def test_a_copy_without_change_counters_gets_no_rows(tmp_path: Path) -> None:
    """A desktop's copy holds lines (versions the server's, or 0 for its own) but no counters."""
    engine = create_sqlite_engine(tmp_path / "copy.db", new_key())
    try:
        to_revision(engine, LAST)
        _seed(engine)
        to_revision(engine, BEFORE, down=True)
        with engine.connect() as connection:
            assert connection.execute(select(ChangeLog.seq)).all() == []
    finally:
        engine.dispose()

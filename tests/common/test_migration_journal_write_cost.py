"""Revision 0014 on stores that already hold journal entries: a journal line's organization is
checked through its entry; no row changes, and a line of an organization that does not exist is
still refused (by its entry's reference)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, select
from sqlalchemy.exc import IntegrityError

from common.db import create_sqlite_engine, new_key
from common.schema import Account, JournalEntry, JournalLine, Organization
from common.schema.base import table_of
from tests.common.migrations import table_at, to_revision

BEFORE, AFTER = "0013", "0014"  # 0015 checks the remaining references otherwise on PostgreSQL
WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _synced(org_id: str, **values: Any) -> dict[str, Any]:
    return {"org_id": org_id, "id": str(uuid.uuid4()), "version": 1, "updated_at": WHEN,
            "updated_by": None, "deleted": False, **values}  # fmt: skip


def _entry(org_id: str, number: str, source: str) -> dict[str, Any]:
    return _synced(org_id, number=number, entry_date=date(2031, 12, 31), fiscal_period_id=None, memo=None,
                   source=source, source_id=None, reverses_entry_id=None)  # fmt: skip


def _line(
    org_id: str, entry_id: str, account_id: str, line_no: int, debit: int, credit: int
) -> dict[str, Any]:
    return _synced(org_id, journal_entry_id=entry_id, line_no=line_no, account_id=account_id, debit=debit,
                   credit=credit, currency="EUR", memo=None, entry_date=date(2031, 12, 31))  # fmt: skip


def _seed(engine: Engine) -> str:
    """An organization with two accounts, a sale's entry and a year-end entry; returns its id."""
    org_id = str(uuid.uuid4())
    with engine.begin() as connection:
        connection.execute(table_of(Organization).insert(),
                           {"id": org_id, "name": f"Acme {org_id[:8]}", "base_currency": "EUR", "created_at": WHEN})  # fmt: skip
        accounts = [_synced(org_id, code=code, name=code, type="asset", parent_id=None, archived=False)
                    for code in ("1200", "4000")]  # fmt: skip
        connection.execute(table_of(Account).insert(), accounts)
        entries = [_entry(org_id, "JE-1", "sales"), _entry(org_id, "JE-2", "year_end")]
        connection.execute(table_at(connection, table_of(JournalEntry)).insert(), entries)
        lines = [
            _line(org_id, entry["id"], account["id"], n, debit, credit)
            for entry in entries
            for n, (account, debit, credit) in enumerate(((accounts[0], 500, 0), (accounts[1], 0, 500)))
        ]
        connection.execute(table_at(connection, table_of(JournalLine)).insert(), lines)
    return org_id


def _rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """The entries and lines, with the columns the store has at its revision (the lines: the
    table's before revision 0019, the view's from it)."""
    with engine.connect() as connection:
        return {
            model.__tablename__: sorted(
                (
                    dict(row)
                    for row in connection.execute(
                        select(*table_at(connection, table_of(model)).columns)
                    ).mappings()
                ),
                key=lambda row: row["id"],
            )
            for model in (JournalEntry, JournalLine)
        }


def _shape(engine: Engine) -> set[str]:
    """The tables journal_line's foreign keys refer to."""
    return {fk["referred_table"] for fk in inspect(engine).get_foreign_keys("journal_line")}


def _refuses_a_line_of_no_organization(engine: Engine, entry_id: str, account_id: str) -> None:
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            table_of(JournalLine).insert(), _line(str(uuid.uuid4()), entry_id, account_id, 9, 1, 0)
        )


ORG_FK_SQL = (
    ", \n\tCONSTRAINT fk_journal_line_org_id_organization FOREIGN KEY(org_id) REFERENCES organization (id)"
)


def _definition(engine: Engine) -> str:
    """journal_line's stored definition (a copy writes its own)."""
    with engine.connect() as connection:
        return str(
            connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'journal_line'"
            ).scalar_one()
        )


def _respell(engine: Engine, spelling: str) -> None:
    """Write the organization's key into journal_line's definition as ``spelling``."""
    with engine.begin() as connection:
        definition = _definition(engine)
        version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
        connection.exec_driver_sql("PRAGMA writable_schema = ON")
        connection.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'journal_line'",
            (definition.replace("REFERENCES organization (id)", spelling),),
        )
        connection.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
        connection.exec_driver_sql("PRAGMA writable_schema = OFF")


def _round_trip(engine: Engine, *, spelling: str | None = None) -> None:
    respelt = spelling is not None
    to_revision(engine, BEFORE)
    if spelling is not None:
        _respell(engine, spelling)
    org_id = _seed(engine)
    before = _rows(engine)
    definition = _definition(engine) if engine.dialect.name == "sqlite" else ""
    assert _shape(engine) == {"organization", "journal_entry", "account"}
    to_revision(engine, AFTER)
    assert _rows(engine) == before
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"]
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        after = _definition(engine)
        assert "organization" not in after
        # Edited in place (the rest as it was), or copied: the respelt key was not found.
        assert (after == definition.replace(ORG_FK_SQL, "")) is not respelt
    assert _shape(engine) == {"journal_entry", "account"}
    line = before["journal_line"][0]
    _refuses_a_line_of_no_organization(engine, line["journal_entry_id"], line["account_id"])
    assert {row["org_id"] for row in _rows(engine)["journal_line"]} == {org_id}
    to_revision(engine, BEFORE, down=True)
    assert _rows(engine) == before
    assert _shape(engine) == {"organization", "journal_entry", "account"}


def test_an_encrypted_store_keeps_its_entries_both_ways(tmp_path: Path) -> None:
    """The foreign key goes by an edit of the table's stored definition, not a copy."""
    engine = create_sqlite_engine(tmp_path / "store.db", new_key())
    try:
        _round_trip(engine)
    finally:
        engine.dispose()


def test_a_definition_written_otherwise_is_copied_instead(tmp_path: Path) -> None:
    """A store whose journal_line definition does not read as revisions 0001 and 0003 wrote it
    (made by another route: here the same key spelt without a space) gets the table copied
    without the key (Alembic's batch mode)."""
    engine = create_sqlite_engine(tmp_path / "store.db", new_key())
    try:
        _round_trip(engine, spelling="REFERENCES organization(id)")
    finally:
        engine.dispose()


def test_a_key_whose_clause_goes_on_is_copied_instead(tmp_path: Path) -> None:
    """The known text followed by more of the same clause (``DEFERRABLE …``) is not cut out of
    the definition, which would leave the rest dangling: the table is copied."""
    engine = create_sqlite_engine(tmp_path / "store.db", new_key())
    try:
        _round_trip(engine, spelling="REFERENCES organization (id) DEFERRABLE INITIALLY IMMEDIATE")
    finally:
        engine.dispose()


@pytest.fixture
def pg_engine(pg_database: str) -> Iterator[Engine]:
    engine = create_engine(pg_database.replace("postgresql://", "postgresql+psycopg://"))
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_postgresql_keeps_its_entries_both_ways(pg_engine: Engine) -> None:
    _round_trip(pg_engine)

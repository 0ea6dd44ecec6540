"""Revision 0015: on PostgreSQL a journal line's entry and account are checked once a statement
by triggers, not by foreign keys, with the same refusals: a line whose entry or account is
missing, or of another organization, is refused with the foreign-key error named after the old
constraint; a referenced entry or account cannot be deleted, re-keyed or truncated away; a line
being written locks its parents. SQLite keeps its foreign keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, Engine, create_engine, inspect, select, text
from sqlalchemy.exc import IntegrityError, NotSupportedError

from common.db import create_sqlite_engine, new_key
from common.schema import Account, JournalEntry, JournalLine
from common.schema.base import table_of
from sync_server import pg_security
from tests.common.migrations import table_at, to_revision
from tests.common.test_migration_journal_write_cost import _entry, _line, _rows, _seed, _synced

ENTRY_FK = "fk_journal_line_org_id_journal_entry_id_journal_entry"
ACCOUNT_FK = "fk_journal_line_org_id_account_id_account"
APP_ROLE = "ops_app"
LAST = "0018"  # the last revision with a journal_line table (0019 moves the lines into their entry)
TRIGGERS = {
    ("journal_line", "journal_line_refs_insert"),
    ("journal_line", "journal_line_refs_update"),
    *((parent, f"{parent}_lines_{kind}") for parent in ("journal_entry", "account")
      for kind in ("delete", "rekey", "truncate")),
}  # fmt: skip


@pytest.fixture
def pg_engine(pg_database: str) -> Iterator[Engine]:
    engine = create_engine(pg_database.replace("postgresql://", "postgresql+psycopg://"))
    yield engine
    engine.dispose()


@pytest.fixture
def books(pg_engine: Engine) -> tuple[Engine, dict[str, Any], dict[str, Any]]:
    """A store at the last revision with a journal_line table, with the application role, and two
    organizations' seeded books: for each, one of its lines (its ids name an entry and an
    account of that organization)."""
    to_revision(pg_engine, LAST)
    pg_security.prepare(pg_engine, APP_ROLE)
    mine, theirs = _seed(pg_engine), _seed(pg_engine)
    lines = _rows(pg_engine)["journal_line"]
    return pg_engine, *(next(line for line in lines if line["org_id"] == org) for org in (mine, theirs))  # type: ignore[return-value]


def _as_app(connection: Connection, org_id: str) -> None:
    """What every request transaction does (sync_server.store): the application role, whose
    rows are its organization's (row-level security)."""
    connection.execute(
        text("SELECT set_config('role', :role, true), set_config('app.org_id', :org, true)"),
        {"role": APP_ROLE, "org": org_id},
    )


def _refused(failed: pytest.ExceptionInfo[Any], constraint: str) -> None:
    """The error a foreign key raised: SQLSTATE 23503, named after the constraint."""
    error = failed.value.orig
    assert isinstance(error, psycopg.errors.ForeignKeyViolation)
    assert error.diag.constraint_name == constraint


def _new_line(line: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**line, "id": str(uuid.uuid4()), "line_no": 9, **changes}


def _triggers(engine: Engine) -> set[tuple[str, str]]:
    with engine.connect() as connection:
        return {
            (table, name)
            for table, name in connection.execute(
                text(
                    "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE NOT t.tgisinternal AND (t.tgname LIKE '%lines_%' OR t.tgname LIKE 'journal_line_refs_%')"
                )
            )
        }


def _shape(engine: Engine) -> set[str]:
    return {fk["name"] for fk in inspect(engine).get_foreign_keys("journal_line")}


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("column", "constraint"), [("journal_entry_id", ENTRY_FK), ("account_id", ACCOUNT_FK)]
)
@pytest.mark.parametrize("whose", ["missing", "another organization's"])
def test_a_line_of_a_missing_or_foreign_parent_is_refused(
    books: tuple[Engine, dict[str, Any], dict[str, Any]], column: str, constraint: str, whose: str
) -> None:
    engine, mine, theirs = books
    parent = str(uuid.uuid4()) if whose == "missing" else theirs[column]
    good = [_new_line(mine, line_no=n) for n in range(20)]
    for rows in ([_new_line(mine, **{column: parent})], [*good, _new_line(mine, **{column: parent})]):
        with pytest.raises(IntegrityError) as failed, engine.begin() as connection:
            _as_app(connection, mine["org_id"])
            connection.execute(table_of(JournalLine).insert(), rows)
        _refused(failed, constraint)
    # Nor may a stored line be moved onto one.
    with pytest.raises(IntegrityError) as failed, engine.begin() as connection:
        _as_app(connection, mine["org_id"])
        lines = table_of(JournalLine)
        connection.execute(lines.update().where(lines.c.id == mine["id"]).values({column: parent}))
    _refused(failed, constraint)
    # Good lines are written, as the application role (its parents are the ones it sees).
    with engine.begin() as connection:
        _as_app(connection, mine["org_id"])
        connection.execute(table_of(JournalLine).insert(), good)
    assert len(_rows(engine)["journal_line"]) == 8 + len(good)


@pytest.mark.postgres
def test_a_temporary_table_of_the_caller_does_not_stand_in_for_a_parent(
    books: tuple[Engine, dict[str, Any], dict[str, Any]],
) -> None:
    engine, mine, _theirs = books
    missing = str(uuid.uuid4())
    with pytest.raises(IntegrityError) as failed, engine.begin() as connection:
        _as_app(connection, mine["org_id"])
        connection.execute(text("CREATE TEMP TABLE account (org_id text, id text)"))
        connection.execute(
            text("INSERT INTO account VALUES (:org, :id)"), {"org": mine["org_id"], "id": missing}
        )
        connection.execute(table_of(JournalLine).insert(), _new_line(mine, account_id=missing))
    _refused(failed, ACCOUNT_FK)


@pytest.mark.postgres
@pytest.mark.parametrize(("model", "column", "constraint"),
                         [(JournalEntry, "journal_entry_id", ENTRY_FK), (Account, "account_id", ACCOUNT_FK)])  # fmt: skip
def test_a_referenced_entry_or_account_cannot_be_deleted_or_rekeyed(
    books: tuple[Engine, dict[str, Any], dict[str, Any]], model: type[Any], column: str, constraint: str
) -> None:
    engine, mine, _theirs = books
    table = table_of(model)
    this = table.c.id == mine[column]
    for statement in (table.delete().where(this), table.update().where(this).values(id=str(uuid.uuid4()))):
        with pytest.raises(IntegrityError) as failed, engine.begin() as connection:
            _as_app(connection, mine["org_id"])
            connection.execute(statement)
        _refused(failed, constraint)
    with pytest.raises(NotSupportedError), engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {table.name} CASCADE"))
    # Once no line references it, it goes (a row of many, in one statement).
    with engine.begin() as connection:
        _as_app(connection, mine["org_id"])
        lines = table_of(JournalLine)
        connection.execute(lines.delete().where(lines.c[column] == mine[column]))
        if model is JournalEntry:
            spare = _entry(mine["org_id"], "JE-9", "manual")
        else:
            spare = _synced(
                mine["org_id"], code="9999", name="spare", type="asset", parent_id=None, archived=False
            )
        connection.execute(table_at(connection, table).insert(), spare)
        assert (
            connection.execute(table.delete().where(table.c.id.in_([mine[column], spare["id"]]))).rowcount
            == 2
        )
    with engine.connect() as connection:
        assert connection.execute(select(table.c.id).where(this)).first() is None


@pytest.mark.postgres
def test_a_line_being_written_locks_its_account_and_entry(
    books: tuple[Engine, dict[str, Any], dict[str, Any]],
) -> None:
    """As a foreign key's check does (FOR KEY SHARE): another transaction cannot delete the
    parents of a line not yet committed, which its own check could not see."""
    engine, mine, _theirs = books
    org = mine["org_id"]
    with engine.begin() as connection:
        account = _synced(org, code="7000", name="new", type="expense", parent_id=None, archived=False)
        entry = _entry(org, "JE-7", "manual")
        connection.execute(table_of(Account).insert(), account)
        connection.execute(table_at(connection, table_of(JournalEntry)).insert(), entry)
    with engine.connect() as writer, engine.connect() as other:
        writer.begin()
        _as_app(writer, org)
        line = _line(org, entry["id"], account["id"], 1, 5, 0)
        writer.execute(table_of(JournalLine).insert(), line)
        for model, parent in ((Account, account), (JournalEntry, entry)):
            with pytest.raises(Exception) as failed, other.begin():
                other.execute(text("SET LOCAL lock_timeout = '300ms'"))
                other.execute(table_of(model).delete().where(table_of(model).c.id == parent["id"]))
            assert isinstance(getattr(failed.value, "orig", None), psycopg.errors.LockNotAvailable)
        writer.rollback()
        with other.begin():  # the line never was: both go
            for model, parent in ((JournalEntry, entry), (Account, account)):
                table = table_of(model)
                assert other.execute(table.delete().where(table.c.id == parent["id"])).rowcount == 1


@pytest.mark.postgres
def test_postgresql_checks_by_statement_and_goes_back_to_foreign_keys(pg_engine: Engine) -> None:
    to_revision(pg_engine, "0014")
    _seed(pg_engine)
    before = _rows(pg_engine)
    assert _shape(pg_engine) == {ENTRY_FK, ACCOUNT_FK}
    assert _triggers(pg_engine) == set()
    to_revision(pg_engine, "0015")
    assert _rows(pg_engine) == before
    assert _shape(pg_engine) == set()
    assert _triggers(pg_engine) == TRIGGERS
    line = before["journal_line"][0]
    for changes, constraint in (
        ({"account_id": "nope"}, ACCOUNT_FK),
        ({"journal_entry_id": "nope"}, ENTRY_FK),
    ):
        with pytest.raises(IntegrityError) as failed, pg_engine.begin() as connection:
            connection.execute(table_of(JournalLine).insert(), _new_line(line, **changes))
        _refused(failed, constraint)
    to_revision(pg_engine, "0014", down=True)
    assert _rows(pg_engine) == before
    assert _shape(pg_engine) == {ENTRY_FK, ACCOUNT_FK}
    assert _triggers(pg_engine) == set()
    with pytest.raises(IntegrityError) as failed, pg_engine.begin() as connection:
        connection.execute(table_of(JournalLine).insert(), _new_line(line, account_id="nope"))
    _refused(failed, ACCOUNT_FK)


def test_sqlite_keeps_its_foreign_keys(tmp_path: Path) -> None:
    engine = create_sqlite_engine(tmp_path / "store.db", new_key())
    try:
        to_revision(engine, "0014")
        with engine.connect() as connection:
            schema = connection.exec_driver_sql(
                "SELECT type, name, sql FROM sqlite_master ORDER BY name"
            ).all()
        to_revision(engine, "0016")  # 0017 changes an index of journal_entry, for another reason
        with engine.connect() as connection:
            assert (
                connection.exec_driver_sql("SELECT type, name, sql FROM sqlite_master ORDER BY name").all()
                == schema
            )
        to_revision(engine, LAST)
        referred = {fk["referred_table"] for fk in inspect(engine).get_foreign_keys("journal_line")}
        assert referred == {"journal_entry", "account"}
        line = _rows_of_seeded(engine)
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(table_of(JournalLine).insert(), _new_line(line, account_id="nope"))
    finally:
        engine.dispose()


def _rows_of_seeded(engine: Engine) -> dict[str, Any]:
    _seed(engine)
    return _rows(engine)["journal_line"][0]

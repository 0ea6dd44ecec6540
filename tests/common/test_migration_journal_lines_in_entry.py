"""Revision 0019 on stores that hold books: each entry's lines move into ``journal_entry.lines_json``
(in line order, ids kept, a deleted line of a live entry dropped), ``journal_line`` becomes a view
that reads the same rows as the table held, ``journal_balance`` holds the sums of the live
entries' lines per organization, account, currency and day, and the lines' change-log rows go.

Then the balances stay the grouped lines of the live entries after every kind of write of an
entry: an insert (several in one statement), a delete, ``deleted`` flipped either way, its lines
or its date changed, several entries in one statement, an upsert and (SQLite, with
``recursive_triggers`` on as the desktop has it) ``INSERT OR REPLACE``. Going back to 0018 gives
the lines their table again, and going up again gives the same books.

On the encrypted embedded store and on PostgreSQL, there migrated as production does: by the
database's owner, which is not a superuser (FORCEd row-level security applies to it), written
as the application role (``SET LOCAL ROLE``, ``app.org_id``). There, also: the application role
sees only its organization's lines and balances, ``TRUNCATE journal_entry`` is refused, and a
line naming another organization's account is refused (``journal_balance``'s reference)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, Engine, bindparam, create_engine, func, insert, select, text
from sqlalchemy.exc import IntegrityError, NotSupportedError

from common.db import create_sqlite_engine, new_key
from common.journal_lines import encode_lines
from common.schema import Account, ChangeLog, JournalBalance, JournalEntry, JournalLine, Organization
from common.schema.base import table_of
from sync_server import pg_security
from tests.common.business import ledger_sums
from tests.common.migrations import table_at, to_revision
from tests.pg_owner import owned_database

BEFORE, AFTER = "0018", "0019"
WHEN = datetime(2031, 12, 1, 9, 30, tzinfo=UTC)
D1, D2, D3 = date(2031, 12, 30), date(2031, 12, 31), date(2032, 1, 2)
BALANCE_FK = "fk_journal_balance_org_id_account_id_account"


@dataclass
class Store:
    engine: Engine  # migrates, and writes (the database's owner on PostgreSQL)
    everything: Engine  # reads every organization's rows
    app_role: str | None = None  # PostgreSQL: writes run as this role, for one organization

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    engine = create_sqlite_engine(tmp_path / "store.db", new_key())
    try:
        yield Store(engine, engine)
    finally:
        engine.dispose()


@pytest.fixture
def pg_store(pg_admin_url: str) -> Iterator[Store]:
    """A database owned by a role that is neither a superuser nor bypasses row-level security,
    with the application role (pg_security.prepare, as ``ops-server init`` leaves a store of the
    previous release)."""
    with owned_database(pg_admin_url) as db:
        owner, superuser = create_engine(db.url_of(db.owner)), create_engine(db.superuser_url)
        try:
            to_revision(owner, BEFORE)
            pg_security.prepare(owner, db.app_role)
            yield Store(owner, superuser, db.app_role)
        finally:
            owner.dispose()
            superuser.dispose()


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Store:
    return request.getfixturevalue(f"{request.param}_store")


@contextmanager
def _writing(store: Store, org_id: str) -> Iterator[Connection]:
    """A transaction as a request's (sync_server.store): on PostgreSQL the application role,
    whose rows are its organization's."""
    with store.engine.begin() as connection:
        if store.app_role is not None:
            connection.execute(
                text("SELECT set_config('role', :role, true), set_config('app.org_id', :org, true)"),
                {"role": store.app_role, "org": org_id},
            )
        yield connection


# -- the books at 0018 -----------------------------------------------------------------------------


def _stamps(org_id: str, **values: Any) -> dict[str, Any]:
    return {"org_id": org_id, "id": str(uuid.uuid4()), "version": 1, "updated_at": WHEN,
            "updated_by": None, "deleted": False, **values}  # fmt: skip


@dataclass
class Org:
    id: str
    accounts: dict[str, str] = field(default_factory=dict)  # code → id


@dataclass
class Books:
    a: Org
    b: Org
    # entry id → the lines the revision keeps in it, as stored: [id, account_id, debit, credit, currency, memo]
    lines: dict[str, list[list[Any]]]
    entries: dict[str, str]  # name → entry id
    dropped: str  # the id of the deleted line of a live entry


def _seed(store: Store) -> Books:
    """Two organizations' books as revision 0018 held them (lines as rows, each stamped as its
    entry; change-log rows for an entry and for its lines)."""
    orgs = [Org(str(uuid.uuid4())), Org(str(uuid.uuid4()))]
    entries: list[dict[str, Any]] = []
    line_rows: list[dict[str, Any]] = []
    kept: dict[str, list[list[Any]]] = {}
    named: dict[str, str] = {}
    with store.everything.begin() as connection:
        organization, account = (
            table_at(connection, table_of(Organization)),
            table_at(connection, table_of(Account)),
        )
        entry_table, line_table = (
            table_at(connection, table_of(JournalEntry)),
            table_at(connection, table_of(JournalLine)),
        )
        for n, org in enumerate(orgs):
            connection.execute(organization.insert(), {"id": org.id, "name": f"Org {n} {org.id[:8]}",
                                                       "base_currency": "EUR", "created_at": WHEN})  # fmt: skip
            for code in ("1000", "1100", "2200", "4000"):
                row = _stamps(org.id, code=code, name=code, type="asset", parent_id=None, archived=False)
                connection.execute(account.insert(), row)
                org.accounts[code] = row["id"]

        def entry(name: str, org: Org, day: date, lines: list[tuple[str, int, int, str, str | None]],
                  *, deleted: bool = False, version: int = 1, order: list[int] | None = None,
                  dropped: tuple[str, int, int] | None = None) -> None:  # fmt: skip
            row = _stamps(org.id, version=version, deleted=deleted, number=name, entry_date=day,
                          fiscal_period_id=None, memo=None, source="manual", source_id=None,
                          reverses_entry_id=None)  # fmt: skip
            entries.append(row)
            named[name] = row["id"]
            stamps = {k: row[k] for k in ("org_id", "version", "updated_at", "updated_by", "deleted")}
            rows = [
                {
                    **stamps,
                    "id": str(uuid.uuid4()),
                    "journal_entry_id": row["id"],
                    "line_no": no,
                    "account_id": org.accounts[code],
                    "debit": debit,
                    "credit": credit,
                    "currency": currency,
                    "memo": memo,
                    "entry_date": day,
                }
                for no, (code, debit, credit, currency, memo) in enumerate(lines, start=1)
            ]
            kept[row["id"]] = [[r["id"], r["account_id"], r["debit"], r["credit"], r["currency"], r["memo"]]
                               for r in rows]  # fmt: skip
            if dropped is not None:
                code, debit, credit = dropped
                rows.append({**rows[0], "id": str(uuid.uuid4()), "line_no": len(rows) + 1, "deleted": True,
                             "account_id": org.accounts[code], "debit": debit, "credit": credit})  # fmt: skip
            # Inserted out of line order: the revision orders by line_no, not by rowid.
            line_rows.extend(rows[i] for i in (order or range(len(rows))))

        a, b = orgs
        entry("E1", a, D1, [("1000", 1200, 0, "EUR", "Kasse"), ("4000", 0, 1000, "EUR", "Umsatzerlöse"),
                            ("2200", 0, 200, "EUR", None)],
              order=[3, 2, 0, 1], dropped=("1000", 999, 0))  # fmt: skip
        entry("E2", a, D1, [("1100", 500, 0, "USD", None), ("4000", 0, 500, "USD", None)], version=2)
        entry("E3", a, D2, [("1000", 300, 0, "EUR", None), ("4000", 0, 300, "EUR", None)], version=3)
        entry("E4", a, D1, [("1000", 50, 0, "EUR", None), ("4000", 0, 50, "EUR", None)], version=4)
        # A tombstone: its lines were tombstoned with it; they stay with it, and count nowhere.
        entry("E5", a, D1, [("1000", 7777, 0, "EUR", None), ("4000", 0, 7777, "EUR", None)],
              deleted=True, version=5)  # fmt: skip
        entry("E6", a, D2, [], version=6)
        entry("F1", b, D1, [("1000", 10, 0, "EUR", None), ("4000", 0, 10, "EUR", None)])
        connection.execute(entry_table.insert(), entries)
        connection.execute(line_table.insert(), line_rows)
        dropped_line = next(
            r["id"] for r in line_rows if r["deleted"] and r["journal_entry_id"] == named["E1"]
        )
        log = [{"org_id": a.id, "seq": 1, "entity": "journal_entry", "entity_id": named["E1"], "at": WHEN}]
        log += [{"org_id": a.id, "seq": 2 + n, "entity": "journal_line", "entity_id": line[0], "at": WHEN}
                for n, line in enumerate(kept[named["E1"]])]  # fmt: skip
        connection.execute(insert(ChangeLog), log)
    return Books(a, b, kept, named, dropped_line)


# -- what the store holds --------------------------------------------------------------------------


def _line_rows(store: Store) -> list[dict[str, Any]]:
    """journal_line's rows, every column (the table's at 0018, the view's from 0019)."""
    with store.everything.connect() as connection:
        lines = table_of(JournalLine)
        rows = connection.execute(select(*lines.columns)).mappings()
        return sorted((dict(row) for row in rows), key=lambda row: row["id"])


def _entries(store: Store) -> dict[str, dict[str, Any]]:
    """The entries by id, every column the store has, ``lines_json`` read as JSON."""
    with store.everything.connect() as connection:
        table = table_at(connection, table_of(JournalEntry))
        rows = [dict(row) for row in connection.execute(select(*table.columns)).mappings()]
    for row in rows:
        if "lines_json" in row:
            row["lines_json"] = json.loads(row["lines_json"])
    return {row["id"]: row for row in rows}


Key = tuple[str, str, str, date]


def _balances(store: Store) -> dict[Key, tuple[int, int, int]]:
    with store.everything.connect() as connection:
        return ledger_sums(connection)[0]


def _grouped(store: Store) -> dict[Key, tuple[int, int, int]]:
    """The view's live lines, summed per organization, account, currency and day."""
    with store.everything.connect() as connection:
        return ledger_sums(connection)[1]


def _balanced(store: Store) -> dict[Key, tuple[int, int, int]]:
    """The balances, checked to be the grouped live lines (no row left holding no line)."""
    balances = _balances(store)
    assert balances == _grouped(store)
    assert all(lines > 0 for _debit, _credit, lines in balances.values())
    return balances


def _migrated(store: Store) -> Books:
    if not store.postgres:
        to_revision(store.engine, BEFORE)
    books = _seed(store)
    to_revision(store.engine, AFTER)
    return books


# -- the revision ----------------------------------------------------------------------------------


def test_lines_move_into_their_entry_and_are_summed_per_account_and_day(store: Store) -> None:
    if not store.postgres:
        to_revision(store.engine, BEFORE)
    books = _seed(store)
    before = _line_rows(store)
    assert len(before) == 14  # E1's four (one deleted), E2-E5's two each, E6 none, F1's two
    to_revision(store.engine, AFTER)

    entries = _entries(store)
    assert {entry_id: row["lines_json"] for entry_id, row in entries.items()} == books.lines
    assert entries[books.entries["E6"]]["lines_json"] == []
    # The view reads the same rows as the table held, but the deleted line of a live entry.
    assert _line_rows(store) == [row for row in before if row["id"] != books.dropped]
    e1 = sorted(
        (row["line_no"], row["id"])
        for row in _line_rows(store)
        if row["journal_entry_id"] == books.entries["E1"]
    )
    assert e1 == [(n, line[0]) for n, line in enumerate(books.lines[books.entries["E1"]], start=1)]

    a, b = books.a, books.b
    assert _balanced(store) == {
        (a.id, a.accounts["1000"], "EUR", D1): (1200 + 50, 0, 2),
        (a.id, a.accounts["4000"], "EUR", D1): (0, 1000 + 50, 2),
        (a.id, a.accounts["2200"], "EUR", D1): (0, 200, 1),
        (a.id, a.accounts["1100"], "USD", D1): (500, 0, 1),
        (a.id, a.accounts["4000"], "USD", D1): (0, 500, 1),
        (a.id, a.accounts["1000"], "EUR", D2): (300, 0, 1),
        (a.id, a.accounts["4000"], "EUR", D2): (0, 300, 1),
        (b.id, b.accounts["1000"], "EUR", D1): (10, 0, 1),
        (b.id, b.accounts["4000"], "EUR", D1): (0, 10, 1),
    }
    with store.everything.connect() as connection:
        log = connection.execute(select(ChangeLog.entity, ChangeLog.entity_id)).all()
    assert log == [("journal_entry", books.entries["E1"])]
    if store.postgres:
        with store.everything.connect() as connection:
            forced = set(
                connection.exec_driver_sql(
                    "SELECT relname FROM pg_class WHERE relkind = 'r' AND relrowsecurity AND relforcerowsecurity "
                    "AND relname IN ('journal_entry', 'change_log', 'journal_balance')"
                ).scalars()
            )
        assert forced == {"journal_entry", "change_log", "journal_balance"}


def _new_entry(
    org: Org, name: str, day: date, lines: list[tuple[str, int, int]], **values: Any
) -> dict[str, Any]:
    stored = [
        [str(uuid.uuid4()), org.accounts[code], debit, credit, "EUR", None] for code, debit, credit in lines
    ]
    return _stamps(org.id, number=name, entry_date=day, fiscal_period_id=None, memo=None, source="manual",
                   source_id=None, reverses_entry_id=None, lines_json=encode_lines(stored), **values)  # fmt: skip


def test_balances_follow_every_write_of_an_entry(store: Store) -> None:
    books = _migrated(store)
    a = books.a
    cash, revenue = a.accounts["1000"], a.accounts["4000"]
    entries = table_of(JournalEntry)
    start = _balanced(store)

    def write(*statements: Any) -> dict[Key, tuple[int, int, int]]:
        with _writing(store, a.id) as connection:
            for statement, *params in statements:
                connection.execute(statement, *params)
        return _balanced(store)

    def entry_is(name: str) -> Any:
        return (entries.c.org_id == a.id) & (entries.c.id == books.entries.get(name, name))

    # Several entries in one statement, onto the same balance rows (grouped before the upsert).
    n1, n2 = (_new_entry(a, f"N{n}", D3, [("1000", 100 * n, 0), ("4000", 0, 100 * n)]) for n in (1, 2))
    after = write((entries.insert(), [n1, n2]))
    assert after[(a.id, cash, "EUR", D3)] == (300, 0, 2)
    after = write((entries.delete().where(entry_is(n1["id"])),))
    assert after[(a.id, revenue, "EUR", D3)] == (0, 200, 1)
    after = write((entries.delete().where(entry_is(n2["id"])),))
    assert after == start

    # A tombstone counts nowhere; brought back it counts, tombstoned again it does not.
    n3 = _new_entry(a, "N3", D1, [("1000", 40, 0), ("2200", 0, 40)], deleted=True)
    assert write((entries.insert(), n3)) == start
    after = write((entries.update().where(entry_is(n3["id"])).values(deleted=False),))
    assert after[(a.id, cash, "EUR", D1)] == (1250 + 40, 0, 3)
    assert write((entries.update().where(entry_is(n3["id"])).values(deleted=True),)) == start

    # Its lines or its date changed: the old ones go, the new ones count (a row left with no line goes).
    new_lines = [
        [str(uuid.uuid4()), cash, 1300, 0, "EUR", None],
        [str(uuid.uuid4()), revenue, 0, 1300, "EUR", None],
    ]
    after = write((entries.update().where(entry_is("E1")).values(lines_json=encode_lines(new_lines)),))
    assert after[(a.id, cash, "EUR", D1)] == (1350, 0, 2)
    assert (a.id, a.accounts["2200"], "EUR", D1) not in after
    after = write((entries.update().where(entry_is("E3")).values(entry_date=D3),))
    assert (a.id, cash, "EUR", D2) not in after
    assert after[(a.id, cash, "EUR", D3)] == (300, 0, 1)

    # One statement over several entries: tombstoned both, back both, and a change of no line.
    settled = after
    both = entries.c.id.in_([books.entries["E2"], books.entries["E4"]])
    after = write((entries.update().where((entries.c.org_id == a.id) & both).values(deleted=True),))
    assert (a.id, a.accounts["1100"], "USD", D1) not in after
    assert after[(a.id, cash, "EUR", D1)] == (1300, 0, 1)
    assert (
        write((entries.update().where((entries.c.org_id == a.id) & both).values(deleted=False),)) == settled
    )
    assert write((entries.update().where(entries.c.org_id == a.id).values(memo="seen"),)) == settled

    # An upsert: inserted rows are added, the updated one's lines replaced.
    n4 = _new_entry(a, "N4", D2, [("1000", 7, 0), ("4000", 0, 7)])
    e4 = {**_new_entry(a, "E4", D1, [("1100", 60, 0), ("4000", 0, 60)]), "id": books.entries["E4"]}
    columns = [c.name for c in entries.columns]
    values = ", ".join(f":{c}" for c in columns)
    upsert = text(
        f"INSERT INTO journal_entry ({', '.join(columns)}) VALUES ({values}) "
        "ON CONFLICT (org_id, id) DO UPDATE SET lines_json = excluded.lines_json"
    ).bindparams(*(bindparam(c, type_=entries.c[c].type) for c in columns))
    after = write((upsert, [n4, e4]))
    assert after[(a.id, cash, "EUR", D2)] == (7, 0, 1)
    assert after[(a.id, cash, "EUR", D1)] == (1300, 0, 1)
    assert after[(a.id, a.accounts["1100"], "EUR", D1)] == (60, 0, 1)

    if not store.postgres:
        # The desktop writes a pulled row with INSERT OR REPLACE, recursive_triggers on: the old
        # row's delete subtracts its lines, the new row's insert adds its own.
        e2 = {**_new_entry(a, "E2", D2, [("1000", 25, 0), ("4000", 0, 25)]), "id": books.entries["E2"]}
        with store.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA recursive_triggers = ON")
            assert connection.exec_driver_sql("PRAGMA recursive_triggers").scalar() == 1
            connection.execute(entries.insert().prefix_with("OR REPLACE"), e2)
            connection.commit()
            connection.exec_driver_sql("PRAGMA recursive_triggers = OFF")
            connection.commit()
        after = _balanced(store)
        assert (a.id, a.accounts["1100"], "USD", D1) not in after
        assert after[(a.id, cash, "EUR", D2)] == (7 + 25, 0, 2)
    # The other organization's balances were never touched.
    b = books.b
    assert {k: v for k, v in _balances(store).items() if k[0] == b.id} == {
        k: v for k, v in start.items() if k[0] == b.id
    }


def test_going_back_and_up_again_keeps_the_books(store: Store) -> None:
    books = _migrated(store)
    a = books.a
    entries = table_of(JournalEntry)
    with _writing(store, a.id) as connection:  # a tombstone that holds lines, written at 0019
        connection.execute(
            entries.insert(), _new_entry(a, "N1", D3, [("1000", 5, 0), ("4000", 0, 5)], deleted=True)
        )
        connection.execute(entries.insert(), _new_entry(a, "N2", D3, [("1100", 9, 0), ("4000", 0, 9)]))
    lines, books_before, balances = _line_rows(store), _entries(store), _balanced(store)
    assert any(row["deleted"] for row in lines)

    to_revision(store.engine, BEFORE, down=True)
    assert _line_rows(store) == lines  # the table again, each line stamped as its entry
    assert _entries(store) == {
        entry_id: {k: v for k, v in row.items() if k != "lines_json"}
        for entry_id, row in books_before.items()
    }
    with store.everything.connect() as connection:
        assert not connection.exec_driver_sql(
            "SELECT count(*) FROM journal_line WHERE deleted AND journal_entry_id NOT IN "
            "(SELECT id FROM journal_entry WHERE deleted)"
        ).scalar()

    to_revision(store.engine, AFTER)
    assert _entries(store) == books_before
    assert _line_rows(store) == lines
    assert _balanced(store) == balances


# -- PostgreSQL: who sees and writes what ----------------------------------------------------------


@pytest.mark.postgres
def test_the_application_role_sees_only_its_organizations_lines_and_balances(pg_store: Store) -> None:
    books = _migrated(pg_store)
    lines, balances = _line_rows(pg_store), _balances(pg_store)
    for org in (books.a, books.b):
        with _writing(pg_store, org.id) as connection:
            view = table_of(JournalLine)
            seen = connection.execute(select(view.c.id, view.c.org_id)).all()
            sums = connection.execute(select(JournalBalance.org_id, JournalBalance.account_id)).all()
        assert sorted(seen) == sorted((row["id"], row["org_id"]) for row in lines if row["org_id"] == org.id)
        assert sorted(sums) == sorted((k[0], k[1]) for k in balances if k[0] == org.id)
        assert seen and sums
    with pg_store.engine.begin() as connection:  # the role with no organization set sees nothing
        connection.execute(text(f"SET LOCAL ROLE {pg_store.app_role}"))
        assert connection.execute(select(func.count()).select_from(table_of(JournalLine))).scalar() == 0
        assert connection.execute(select(func.count()).select_from(table_of(JournalBalance))).scalar() == 0


@pytest.mark.postgres
def test_truncating_the_entries_is_refused(pg_store: Store) -> None:
    books = _migrated(pg_store)
    balances = _balances(pg_store)
    for engine in (pg_store.engine, pg_store.everything):  # the owner, and a superuser
        with (
            pytest.raises(NotSupportedError, match="journal_balance is kept from it"),
            engine.begin() as connection,
        ):
            connection.exec_driver_sql("TRUNCATE journal_entry CASCADE")
    assert _balanced(pg_store) == balances
    assert len(_entries(pg_store)) == len(books.lines)


@pytest.mark.postgres
@pytest.mark.parametrize("whose", ["another organization's", "no"])
def test_a_line_naming_an_account_not_of_its_organization_is_refused(pg_store: Store, whose: str) -> None:
    books = _migrated(pg_store)
    a, b = books.a, books.b
    balances = _balances(pg_store)
    entry = _new_entry(a, "X1", D1, [("1000", 5, 0), ("4000", 0, 5)])
    foreign = b.accounts["4000"] if whose != "no" else str(uuid.uuid4())
    entry["lines_json"] = entry["lines_json"].replace(a.accounts["4000"], foreign)
    with pytest.raises(IntegrityError) as failed, _writing(pg_store, a.id) as connection:
        connection.execute(table_of(JournalEntry).insert(), entry)
    assert isinstance(failed.value.orig, psycopg.errors.ForeignKeyViolation)
    assert failed.value.orig.diag.constraint_name == BALANCE_FK
    # Nor may a stored entry's lines be changed to name one.
    e4 = books.entries["E4"]
    stored = [
        [line[0], foreign if line[1] == a.accounts["4000"] else line[1], *line[2:]]
        for line in books.lines[e4]
    ]
    entries = table_of(JournalEntry)
    with pytest.raises(IntegrityError) as failed, _writing(pg_store, a.id) as connection:
        connection.execute(
            entries.update()
            .where(entries.c.org_id == a.id, entries.c.id == e4)
            .values(lines_json=encode_lines(stored))
        )
    assert failed.value.orig.diag.constraint_name == BALANCE_FK  # type: ignore[union-attr]
    assert _balanced(pg_store) == balances

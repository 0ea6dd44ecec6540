"""New journal entries (their lines in their row) held to the end of a slice on the embedded store
(``sync_server.held_ledger``): written in one statement, the same rows, balances and answers as
one statement per write; a command reading the journal later in the slice (its entries, the
``journal_line`` view, ``journal_balance``) sees what is held; an id the store already has sends
the slice back to being applied with savepoints.

On the embedded store only: on PostgreSQL every write is held (``test_deferred_writes``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, select, text

from common.commands.fields import Args, Id
from common.commands.finance import post_entry
from common.commands.framework import REGISTRY, CommandContext, command, invalid
from common.commands.postings import chart_account_id
from common.commands.rowaccess import RowWriter, row_reader, row_writer, session_connection
from common.ids import new_id
from common.journal_lines import encode_lines
from common.permissions import ALL_PERMISSIONS
from common.schema import JournalBalance, JournalEntry, JournalLine, Warehouse
from common.schema.base import Base, table_of
from common.schema.types import utcnow
from common.wire import Mutation
from sync_server import admin_ops, writes
from sync_server.held_ledger import HELD, READ_AS, HeldLedgerRows
from sync_server.store import Store
from tests.sync_server.conftest import Services, World, mutation, set_up_books, warehouse
from tests.sync_server.test_deferred_writes import _posting_batch, same_as_with_savepoints


@pytest.fixture
def store_kind() -> str:
    return "sqlite"


@pytest.fixture
def store(services: Services) -> Store:
    assert not services.store.is_postgres
    return services.store


def _spy_tries(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each try of a slice was optimistic (``False``) or with savepoints (``True``)."""
    tries: list[bool] = []
    apply = writes.apply_mutations

    def spy(*args: Any, savepoints: bool = True, **kwargs: Any) -> Any:
        tries.append(savepoints)
        return apply(*args, savepoints=savepoints, **kwargs)

    monkeypatch.setattr(writes, "apply_mutations", spy)
    return tries


def test_posted_invoices_held_are_stored_as_with_savepoints(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same batch (invoices created and posted, quantities and discounts) in two
    organizations with books: a push's optimistic try in one, its journal rows written a
    statement per table at the slice's end; a statement per write in savepoints in the other.
    The answers and the rows stored are the same."""
    held_org = admin_ops.create_org(store, f"Held {new_id()[-6:]}", books=True)
    savepoint_org = admin_ops.create_org(store, f"Savepoints {new_id()[-6:]}", books=True)
    batch = _posting_batch(new_id(), new_id())
    user = new_id()
    tries = _spy_tries(monkeypatch)
    written: list[tuple[str, int]] = []
    insert_values = RowWriter.insert_values

    def spy_insert(writer: RowWriter, dbapi: Any, given: list[tuple[Any, ...]]) -> int:
        written.append((writer.table.name, len(given)))
        return insert_values(writer, dbapi, given)

    monkeypatch.setattr(RowWriter, "insert_values", spy_insert)
    optimistic = writes.apply_in_slices(store, held_org, user, None, ALL_PERMISSIONS, batch)
    assert tries == [False]  # held and written together: no fallback
    monkeypatch.undo()
    held_rows = same_as_with_savepoints(store, held_org, savepoint_org, user, batch, optimistic)
    # Two entries of three lines each (the third invoice, 0.001 at 0.07, posts nothing), in
    # their entries' rows, written in one statement at the slice's end; the balances the
    # triggers keep are those of the one-by-one path (same_as_with_savepoints).
    assert len(held_rows["journal_entry"]) == 2 and len(held_rows["journal_line"]) == 6
    assert [len(entry["lines_json"]) for entry in held_rows["journal_entry"]] == [3, 3]
    assert sum(row["lines"] for row in held_rows["journal_balance"]) == 6
    assert written == [("journal_entry", 2)]


def _manual_entry(org_id: str, entry_id: str, amount: int) -> dict[str, Any]:
    cash, revenue = chart_account_id(org_id, "1000"), chart_account_id(org_id, "4000")
    return mutation(
        "finance.post_journal_entry",
        id=entry_id,
        entry_date=date.today().isoformat(),
        currency="EUR",
        lines=[{"account_id": cash, "debit": amount}, {"account_id": revenue, "credit": amount}],
    )


def test_a_reversal_pushed_with_its_entry_reverses_the_lines_held_before_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry and its reversal in one push: the reversal reads the entry's lines from the
    store, which has them although they were held (written before its query ran)."""
    org = world.a
    set_up_books(world, org)
    entry, reversal = new_id(), new_id()
    tries = _spy_tries(monkeypatch)
    batch = [
        _manual_entry(org.id, entry, 12_345),
        mutation("finance.reverse_journal_entry", id=reversal, entry_id=entry),
        warehouse("AFTER"),
    ]
    results = world.push(org.email("admin"), org, batch).get_json()["results"]
    assert [r["status"] for r in results] == ["applied"] * 3, results
    assert tries == [False]
    with world.services.store.session(org.id) as session:
        lines = session.execute(
            select(
                JournalLine.journal_entry_id, JournalLine.account_id, JournalLine.debit, JournalLine.credit
            )
            .where(JournalLine.journal_entry_id.in_([entry, reversal]))
            .order_by(JournalLine.journal_entry_id == reversal, JournalLine.line_no)
        ).all()
    cash, revenue = chart_account_id(org.id, "1000"), chart_account_id(org.id, "4000")
    assert [tuple(line) for line in lines] == [
        (entry, cash, 12_345, 0),
        (entry, revenue, 0, 12_345),
        (reversal, cash, 0, 12_345),
        (reversal, revenue, 12_345, 0),
    ]


def test_an_entry_id_the_store_has_reruns_the_slice_with_savepoints(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry whose id is taken, held among other commands: the store finds the id taken when
    the held rows are written, the slice is applied again with savepoints, and only that
    command is refused, as it would have been one statement at a time."""
    org = world.a
    set_up_books(world, org)
    taken = new_id()
    first = world.push(org.email("accountant"), org, [_manual_entry(org.id, taken, 100)]).get_json()
    assert first["results"][0]["status"] == "applied"
    tries = _spy_tries(monkeypatch)
    batch = [
        warehouse("A"),
        _manual_entry(org.id, taken, 999),
        _manual_entry(org.id, new_id(), 5),
        warehouse("B"),
    ]
    results = world.push(org.email("admin"), org, batch).get_json()["results"]
    assert [(r["status"], r.get("code")) for r in results] == [
        ("applied", None),
        ("rejected", "invalid"),
        ("applied", None),
        ("applied", None),
    ]
    assert "already exists" in results[1]["message"]
    assert tries == [False, True]
    with world.services.store.session(org.id) as session:
        codes = sorted(session.execute(select(Warehouse.code)).scalars())
        amounts = (
            session.execute(
                select(JournalLine.debit).where(JournalLine.journal_entry_id == taken, JournalLine.debit > 0)
            )
            .scalars()
            .all()
        )
        entries = (
            session.execute(select(JournalEntry.id).where(JournalEntry.source == "manual")).scalars().all()
        )
    assert codes == ["A", "B"]
    assert amounts == [100]  # the first entry's, untouched
    assert len(entries) == 2


def _entry_row(org_id: str, entry_id: str, amount: int) -> dict[str, Any]:
    """A journal entry's row as ``post_entry`` writes it: cash debited, revenue credited."""
    cash, revenue = chart_account_id(org_id, "1000"), chart_account_id(org_id, "4000")
    lines = encode_lines(
        [[new_id(), cash, amount, 0, "EUR", None], [new_id(), revenue, 0, amount, "EUR", "x"]]
    )
    return {"org_id": org_id, "id": entry_id, "version": 1, "updated_at": utcnow(), "updated_by": None,
            "deleted": False, "number": f"JE-{entry_id[-6:]}", "entry_date": date.today(),
            "fiscal_period_id": None, "memo": None, "source": "manual", "source_id": None,
            "reverses_entry_id": None, "lines_json": lines}  # fmt: skip


def test_a_statement_naming_a_held_table_writes_what_is_held_first(store: Store) -> None:
    """Whichever way a statement runs (SQLAlchemy, or the DB-API connection the commands'
    reads by id use), rows held are in the store before it; a statement on another table leaves
    them held."""
    org_id = admin_ops.create_org(store, f"Reads {new_id()[-6:]}", books=True)
    dialect = store.engine.dialect
    entries = row_writer(table_of(JournalEntry), dialect)

    def entry(entry_id: str) -> dict[str, Any]:
        return _entry_row(org_id, entry_id, 10)

    first, second = new_id(), new_id()
    with store.session(org_id, write=True) as session, HeldLedgerRows(session, org_id) as held:
        row = entry(first)
        assert held.insert(entries, [row]) == [row]
        # Another table's statement: still held.
        session.execute(select(Warehouse.id).where(Warehouse.org_id == org_id)).all()
        assert session.execute(text("SELECT 1")).scalar_one() == 1
        # Read by id on the DB-API connection, as CommandContext.get does for a row it lacks.
        _, dbapi = session_connection(session)
        found = row_reader(table_of(JournalEntry), False, dialect).fetch(dbapi, org_id, first)
        assert found is not None and found["number"] == f"JE-{first[-6:]}"
        held.insert(entries, [entry(second)])
        # Through SQLAlchemy.
        numbers = (
            session.execute(
                select(JournalEntry.number).where(JournalEntry.org_id == org_id, JournalEntry.id == second)
            )
            .scalars()
            .all()
        )
        assert numbers == [f"JE-{second[-6:]}"]
        held.flush()
    with store.session(org_id) as session:
        stored = (
            session.execute(select(JournalEntry.id).where(JournalEntry.id.in_([first, second])))
            .scalars()
            .all()
        )
    assert sorted(stored) == sorted([first, second])


@pytest.mark.parametrize("posts", [False, True])
def test_a_slice_leaves_the_connection_as_it_was(store: Store, posts: bool) -> None:
    """After the optimistic try, whether it held rows (posted invoices) or not (a warehouse),
    the session's DB-API connection is the store's again and a statement naming the journal
    runs as any other."""
    org_id = admin_ops.create_org(store, f"Plain {new_id()[-6:]}", books=True)
    user = new_id()
    if posts:
        batch = _posting_batch(new_id(), new_id())
    else:
        batch = [
            Mutation(
                id=new_id(),
                name="inventory.create_warehouse",
                args={"id": new_id(), "code": "W", "name": "W"},
            )
        ]
    with store.session(org_id, user_id=user, write=True) as session:
        connection, before = session_connection(session)
        results = writes.apply_mutations(
            session, org_id, user, None, ALL_PERMISSIONS, batch, savepoints=False
        )
        assert {r.status for r in results} == {"applied"}
        assert session_connection(session)[1] is before
        assert not event.contains(connection, "before_cursor_execute", HeldLedgerRows._before_execute)
        entries = session.execute(select(JournalEntry.id).where(JournalEntry.org_id == org_id)).all()
    assert len(entries) == (2 if posts else 0)


def test_an_entry_id_given_twice_in_one_push_is_refused_the_second_time(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both held, the store finds the second taken when they are written: the slice is applied
    again with savepoints and the second is refused, as one statement at a time refuses it."""
    org = world.a
    set_up_books(world, org)
    twice = new_id()
    tries = _spy_tries(monkeypatch)
    batch = [_manual_entry(org.id, twice, 70), warehouse("A"), _manual_entry(org.id, twice, 80)]
    results = world.push(org.email("admin"), org, batch).get_json()["results"]
    assert [(r["status"], r.get("code")) for r in results] == [
        ("applied", None),
        ("applied", None),
        ("rejected", "invalid"),
    ]
    assert tries == [False, True]
    with world.services.store.session(org.id) as session:
        debits = (
            session.execute(
                select(JournalLine.debit).where(JournalLine.journal_entry_id == twice, JournalLine.debit > 0)
            )
            .scalars()
            .all()
        )
    assert debits == [70]


@pytest.fixture
def posts_then_refuses() -> Iterator[str]:
    """A command that posts an entry, then refuses (a CommandError after its rows were held)."""

    class PostThenRefuseArgs(Args):
        id: Id
        account_id: Id
        other_id: Id

    @command("finance.test_post_then_refuse", args=PostThenRefuseArgs, permission="finance.post")
    def post_then_refuse(ctx: CommandContext, args: PostThenRefuseArgs) -> None:
        lines = [
            {"account_id": args.account_id, "debit": 10, "credit": 0, "currency": "EUR", "memo": None},
            {"account_id": args.other_id, "debit": 0, "credit": 10, "currency": "EUR", "memo": None},
        ]
        post_entry(ctx, entry_id=args.id, entry_date=ctx.now.date(), memo=None, lines=lines)
        raise invalid("id", "refused after posting")

    yield "finance.test_post_then_refuse"
    REGISTRY.pop("finance.test_post_then_refuse", None)


def test_a_command_refused_after_its_posting_was_held_leaves_no_entry(
    world: World, monkeypatch: pytest.MonkeyPatch, posts_then_refuses: str
) -> None:
    org = world.a
    set_up_books(world, org)
    refused, kept = new_id(), new_id()
    cash, revenue = chart_account_id(org.id, "1000"), chart_account_id(org.id, "4000")
    tries = _spy_tries(monkeypatch)
    batch = [
        _manual_entry(org.id, kept, 40),
        mutation(posts_then_refuses, id=refused, account_id=cash, other_id=revenue),
        warehouse("A"),
    ]
    results = world.push(org.email("admin"), org, batch).get_json()["results"]
    assert [(r["status"], r.get("code")) for r in results] == [
        ("applied", None),
        ("rejected", "invalid"),
        ("applied", None),
    ]
    assert tries == [False, True]
    with world.services.store.session(org.id) as session:
        entries = (
            session.execute(select(JournalEntry.id).where(JournalEntry.org_id == org.id)).scalars().all()
        )
        line_entries = set(
            session.execute(
                select(JournalLine.journal_entry_id).where(JournalLine.org_id == org.id)
            ).scalars()
        )
    assert entries == [kept]
    assert line_entries == {kept}


def test_only_the_journal_references_the_rows_held_and_what_reads_them_is_named_first(store: Store) -> None:
    """What holding the rows rests on: no other table's foreign key names a held table (its row
    would be written before the row it names), the held tables are written parents first, and
    whatever reads the held rows without naming a held table is named in ``READ_AS`` (a
    statement naming it writes what is held first): the ``journal_line`` view, and the
    ``journal_balance`` table, the only one the entries' triggers write, which no row references
    and no trigger of its own reads on."""
    references = {
        (table.name, key.column.table.name)
        for table in Base.metadata.sorted_tables
        for key in table.foreign_keys
        if key.column.table.name in (*HELD, "journal_balance")
    }
    assert references == {("journal_entry", "journal_entry")}
    assert list(HELD) == [t.name for t in Base.metadata.sorted_tables if t.name in HELD]
    with store.engine.connect() as connection:
        schema = connection.execute(
            text("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('view', 'trigger')")
        ).all()
    reading = [row for row in schema if any(name in row.sql for name in HELD)]
    views = {row.name for row in reading if row.type == "view"}
    triggers = [row for row in reading if row.type == "trigger"]
    assert views == {"journal_line"}
    assert triggers and {row.tbl_name for row in triggers} == {"journal_entry"}
    written = {
        target
        for row in triggers
        for target in re.findall(
            r"(?:INSERT\s+INTO|(?<!DO )UPDATE|DELETE\s+FROM)\s+\"?(\w+)", row.sql.partition(" BEGIN")[2]
        )
    }
    assert written == {"journal_balance"}
    assert not [row for row in schema if row.type == "trigger" and row.tbl_name in views | written]
    assert set(HELD) | views | written <= set(READ_AS)


def test_a_read_of_the_balances_or_the_line_view_sees_the_entries_held(store: Store) -> None:
    """Inside a slice, a statement reading ``journal_balance`` or the ``journal_line`` view,
    through SQLAlchemy or on the DB-API connection, sees the entries held before it."""
    org_id = admin_ops.create_org(store, f"Balances {new_id()[-6:]}", books=True)
    entries = row_writer(table_of(JournalEntry), store.engine.dialect)
    cash = chart_account_id(org_id, "1000")
    first, second = new_id(), new_id()
    with store.session(org_id, write=True) as session, HeldLedgerRows(session, org_id) as held:
        held.insert(entries, [_entry_row(org_id, first, 70)])
        debits = (
            session.execute(
                select(JournalBalance.debit).where(
                    JournalBalance.org_id == org_id, JournalBalance.account_id == cash
                )
            )
            .scalars()
            .all()
        )
        assert debits == [70]
        held.insert(entries, [_entry_row(org_id, second, 30)])
        lines = session.execute(
            select(JournalLine.journal_entry_id, JournalLine.line_no).where(
                JournalLine.org_id == org_id, JournalLine.journal_entry_id == second
            )
        ).all()
        assert [tuple(line) for line in lines] == [(second, 1), (second, 2)]
        held.insert(entries, [_entry_row(org_id, new_id(), 5)])
        _, dbapi = session_connection(session)
        cursor = dbapi.cursor()
        try:
            cursor.execute(
                "SELECT sum(debit), sum(lines) FROM journal_balance WHERE org_id = ? AND account_id = ?",
                (org_id, cash),
            )
            assert tuple(cursor.fetchone()) == (105, 3)
        finally:
            cursor.close()


def test_an_entry_id_another_organization_has_is_posted_in_the_pushers_own(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As an attacker in another organization would try: an entry pushed with the id of another
    organization's entry is held, written and answered in the pusher's organization alone; the
    other organization's entry and lines are untouched."""
    set_up_books(world, world.a)
    set_up_books(world, world.b)
    shared = new_id()
    theirs = world.push(world.a.email("admin"), world.a, [_manual_entry(world.a.id, shared, 111)])
    assert theirs.get_json()["results"][0]["status"] == "applied"
    tries = _spy_tries(monkeypatch)
    mine = world.push(world.b.email("admin"), world.b, [_manual_entry(world.b.id, shared, 222)])
    assert mine.get_json()["results"][0]["status"] == "applied"
    assert tries == [False]
    store = world.services.store
    for org, amount in ((world.a, 111), (world.b, 222)):
        with store.session(org.id) as session:
            debits = session.execute(
                select(JournalLine.org_id, JournalLine.debit).where(
                    JournalLine.org_id == org.id,
                    JournalLine.journal_entry_id == shared,
                    JournalLine.debit > 0,
                )
            ).all()
        assert [tuple(row) for row in debits] == [(org.id, amount)]

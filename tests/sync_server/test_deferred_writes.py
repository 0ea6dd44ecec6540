"""Held writes on PostgreSQL (``sync_server.deferred``): rows the store keeps exactly as held are
sent without ``RETURNING`` (only the row count is checked); every other row is read back and
compared. Whenever the store would keep something other than what was answered, or an id is
taken, the held writes are refused and the slice is applied again with savepoints.

On real PostgreSQL only: that is the store these writes are held for.
"""

from __future__ import annotations

import gc
import types
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from psycopg import pq
from sqlalchemy import Column, MetaData, Numeric, PrimaryKeyConstraint, String, Table, select, text

from common.commands.rowaccess import RowWriter, row_writer
from common.ids import new_id
from common.journal_lines import decode_lines
from common.permissions import ALL_PERMISSIONS
from common.schema import Invoice, InvoiceLine, JournalBalance, JournalEntry, JournalLine, Warehouse
from common.schema.base import table_of
from common.schema.types import utcnow
from common.wire import Mutation
from sync_server import admin_ops, deferred, writes
from sync_server.deferred import DeferredRefused, DeferredWrites, _plain
from sync_server.store import Store
from tests.sync_server.conftest import Services


@pytest.fixture
def store_kind() -> str:
    return "postgres"


@pytest.fixture
def store(services: Services) -> Store:
    assert services.store.is_postgres
    return services.store


def _warehouse(org_id: str, entity_id: str, code: str) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "id": entity_id,
        "code": code,
        "name": f"Warehouse {code}",
        "updated_at": utcnow(),
    }


def test_a_row_stored_as_held_is_sent_without_returning_and_its_taken_id_refused(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    org_id = admin_ops.create_org(store, f"Held {new_id()[-6:]}")
    taken = new_id()
    table = table_of(Warehouse)
    writer = row_writer(table, store.engine.dialect)

    send = deferred.send_insert_new_rows_postgres

    def without_returning(*args: Any, returning: bool, **kwargs: Any) -> Any:
        assert not returning, "a row stored as held was read back"
        return send(*args, returning=returning, **kwargs)

    monkeypatch.setattr(deferred, "send_insert_new_rows_postgres", without_returning)
    with store.session(org_id, write=True) as session, DeferredWrites(session, org_id) as held:
        answered = held.insert(writer, [_warehouse(org_id, taken, "A")])
        # Text, integers, booleans, a UTC timestamp: kept as held, so not read back.
        assert _plain(table, store.engine.dialect).rows(answered)
        held.flush()
        assert held.statements == 1
    with store.session(org_id) as session:
        stored = session.execute(select(table).where(table.c.id == taken)).mappings().one()
    assert dict(stored) == answered[0]

    # The id taken: the row count says so, and the held writes are refused (then rolled back).
    with (
        pytest.raises(DeferredRefused, match="id was taken"),
        store.session(org_id, write=True) as session,
        DeferredWrites(session, org_id) as held,
    ):
        held.insert(writer, [_warehouse(org_id, new_id(), "B"), _warehouse(org_id, taken, "C")])
        held.flush()
    with store.session(org_id) as session:
        codes = session.execute(select(table.c.code)).scalars().all()
    assert codes == ["A"]


def test_an_update_of_a_row_not_stored_is_refused(store: Store) -> None:
    """A held update sent without ``RETURNING``: the row count says the row is not there."""
    org_id = admin_ops.create_org(store, f"Held {new_id()[-6:]}")
    table = table_of(Warehouse)
    writer = row_writer(table, store.engine.dialect)
    stored, absent = new_id(), new_id()
    with store.session(org_id, write=True) as session, DeferredWrites(session, org_id) as held:
        held.insert(writer, [_warehouse(org_id, stored, "A")])
        held.flush()
    before = {**writer.missing, **_warehouse(org_id, absent, "X")}
    with (
        pytest.raises(DeferredRefused, match="row to update is missing"),
        store.session(org_id, write=True) as session,
        DeferredWrites(session, org_id) as held,
    ):
        row = {**writer.missing, **_warehouse(org_id, stored, "A")}
        held.update(writer, stored, {"name": "Renamed"}, row)
        held.update(writer, absent, {"name": "Renamed"}, before)
        assert _plain(table, store.engine.dialect).rows([row, before])
        held.flush()
    with store.session(org_id) as session:
        names = session.execute(select(table.c.name)).scalars().all()
    assert names == ["Warehouse A"]  # the refused flush was rolled back


def _scratch_table(store: Store, *columns: Column[Any]) -> Iterator[Table]:
    """A table beside the schema keyed as the entity tables are, with ``columns`` besides."""
    table = Table(
        f"held_scratch_{new_id()[-8:].replace('-', '')}",
        MetaData(),
        Column("org_id", String(36), nullable=False),
        Column("id", String(36), nullable=False),
        *columns,
        PrimaryKeyConstraint("org_id", "id"),
    )
    with store.engine.begin() as connection:
        table.create(connection)
        connection.execute(text(f'GRANT ALL ON "{table.name}" TO PUBLIC'))
    yield table
    with store.engine.begin() as connection:
        table.drop(connection)


@pytest.fixture
def scratch(store: Store) -> Iterator[Table]:
    """A scratch table with a ``Numeric(12, 2)`` and a ``varchar(3)`` column."""
    yield from _scratch_table(store, Column("amount", Numeric(12, 2)), Column("code", String(3)))


@pytest.mark.parametrize(
    ("amount", "code", "kept"),
    [
        (Decimal("1.50"), "abc", True),  # the column's scale, the column's length: as held
        (Decimal("1.5"), "abc", False),  # given back as 1.50
        (Decimal("1.505"), "abc", False),  # rounded to 1.51 (not refused by PostgreSQL)
        (Decimal("-0.00"), "abc", False),  # given back as 0.00 (no negative zero)
        (Decimal("1.50"), "abc  ", False),  # cut to "abc" (trailing spaces: not refused)
        (Decimal("1.50"), "abcd", False),  # cut to "abc" by the array's cast
    ],
)
def test_a_value_stored_otherwise_than_held_is_refused(
    store: Store, scratch: Table, amount: Decimal, code: str, kept: bool
) -> None:
    org_id = new_id()
    row = {"org_id": org_id, "id": new_id(), "amount": amount, "code": code}
    # row_writer asks each type for its result processing without the column's type code, which
    # SQLAlchemy's psycopg Numeric refuses (the schema has no Numeric column): the same writer,
    # reading values as psycopg gives them (a numeric is a Decimal already, as SQLAlchemy reads it).
    dialect = store.engine.dialect
    names = tuple(c.name for c in scratch.c)
    writer = RowWriter(
        table=scratch,
        dialect=dialect,
        names=names,
        binders={c.name: c.type._cached_bind_processor(dialect) for c in scratch.c},
        readers=(None,) * len(names),
        missing=dict.fromkeys(names),
        required=frozenset(),
        bind_at=(),
        as_given=None,
        utc_at=(),
    )
    assert not _plain(scratch, store.engine.dialect).rows([row])  # Numeric: always read back
    with store.session(org_id, write=True) as session, DeferredWrites(session, org_id) as held:
        answered = held.insert(writer, [row])
        assert answered == [row]
        if kept:
            held.flush()
            return
        with pytest.raises(DeferredRefused, match="stored otherwise"):
            held.flush()
        session.rollback()


def _posting_batch(customer: str, tax_rate: str) -> list[Mutation]:
    def mutation(command: str, **args: Any) -> Mutation:
        return Mutation(id=new_id(), name=command, args=args)

    batch = [
        mutation("sales.create_customer", id=customer, name="Customer"),
        mutation("finance.create_tax_rate", id=tax_rate, code="VAT", name="VAT", rate="20"),
    ]
    for n, (quantity, price, discount) in enumerate(
        [("3", 12_345, "0"), ("2.5", 999, "12.5"), ("0.001", 7, "0")]
    ):
        invoice = new_id()
        line = {"id": new_id(), "description": f"Line {n} "[: 5 + n], "quantity": quantity, "unit_price": price,
                "discount_percent": discount, "tax_rate_id": tax_rate}  # fmt: skip
        batch.append(mutation("sales.create_invoice", id=invoice, customer_id=customer, lines=[line]))
        batch.append(mutation("sales.post_invoice", id=invoice))
    return batch


def _stored(store: Store, org_id: str) -> dict[str, list[dict[str, Any]]]:
    """The batch's rows, but their organization, time, change sequence and the ids of rows each
    organization made itself (accounts, periods: compared by their codes, also in an entry's
    ``lines_json``); the journal's lines as its view shows them, and its balances."""
    found: dict[str, list[dict[str, Any]]] = {}
    with store.session(org_id) as session:
        accounts = {row.id: row.code for row in session.execute(text("SELECT id, code FROM account"))}
        periods = {row.id: row.name for row in session.execute(text("SELECT id, name FROM fiscal_period"))}
        for model in (Invoice, InvoiceLine, JournalEntry, JournalLine, JournalBalance):
            table = table_of(model)
            rows = []
            key = table.c.id if "id" in table.c else table.c.account_id
            stmt = select(table).where(table.c.org_id == org_id).order_by(key, *table.primary_key.columns)
            for row in session.execute(stmt).mappings():
                values = {k: v for k, v in row.items() if k not in {"org_id", "updated_at", "version"}}
                if "account_id" in values:
                    values["account_id"] = accounts[values["account_id"]]
                if values.get("fiscal_period_id") is not None:
                    values["fiscal_period_id"] = periods[values["fiscal_period_id"]]
                if "lines_json" in values:
                    lines = decode_lines(values["lines_json"])
                    values["lines_json"] = [
                        {**line, "account_id": accounts[line["account_id"]]} for line in lines
                    ]
                rows.append(values)
            if model is JournalBalance:
                rows.sort(key=lambda r: (r["account_id"], r["currency"], r["entry_date"]))
            found[table.name] = rows
    return found


def same_as_with_savepoints(
    store: Store, held_org: str, savepoint_org: str, user: str, batch: list[Mutation], optimistic: list[Any]
) -> dict[str, list[dict[str, Any]]]:
    """Apply ``batch`` in ``savepoint_org`` a statement per write, in savepoints; the answers and
    the rows stored must be those the optimistic try gave in ``held_org`` (``optimistic``).
    Returns the rows stored (:func:`_stored`)."""
    with store.session(savepoint_org, user_id=user, write=True) as session:
        one_by_one = writes.apply_mutations(session, savepoint_org, user, None, ALL_PERMISSIONS, batch)
    assert [r.status for r in optimistic] == ["applied"] * len(batch)
    assert optimistic == one_by_one
    held_rows = _stored(store, held_org)
    assert held_rows == _stored(store, savepoint_org)
    return held_rows


@pytest.mark.parametrize("send_ahead_every", [writes.SEND_AHEAD_EVERY, 1, 3])
def test_posted_invoices_held_are_stored_as_with_savepoints(
    store: Store, monkeypatch: pytest.MonkeyPatch, send_ahead_every: int
) -> None:
    """The same batch (invoices created and posted: journal entries and lines, quantities and
    discounts) in two organizations with books: held and sent together in one (sent ahead in
    pipeline mode every ``send_ahead_every`` commands: after each command, after every third,
    or not at all in a batch this short), a statement per write in savepoints in the other;
    the answers and the rows stored are the same."""
    monkeypatch.setattr(writes, "SEND_AHEAD_EVERY", send_ahead_every)
    held_org = admin_ops.create_org(store, f"Held {new_id()[-6:]}", books=True)
    savepoint_org = admin_ops.create_org(store, f"Savepoints {new_id()[-6:]}", books=True)
    batch = _posting_batch(new_id(), new_id())
    user = new_id()

    tries: list[bool] = []
    apply = writes.apply_mutations

    def spy(*args: Any, savepoints: bool = True, **kwargs: Any) -> Any:
        tries.append(savepoints)
        return apply(*args, savepoints=savepoints, **kwargs)

    counted: list[str] = []
    send_update = deferred.send_update_rows_postgres

    def spy_update(*args: Any, returning: bool) -> Any:
        if not returning:
            counted.append(args[2].name)
        return send_update(*args, returning=returning)

    pipelined: list[bool] = []
    send_ahead = deferred.DeferredWrites.send_ahead

    def spy_send_ahead(held: DeferredWrites) -> None:
        send_ahead(held)
        pipelined.append(held._pipeline is not None)

    monkeypatch.setattr(writes, "apply_mutations", spy)
    monkeypatch.setattr(deferred, "send_update_rows_postgres", spy_update)
    monkeypatch.setattr(deferred.DeferredWrites, "send_ahead", spy_send_ahead)
    optimistic = writes.apply_in_slices(store, held_org, user, None, ALL_PERMISSIONS, batch)
    assert tries == [False]  # held and sent together: no fallback
    assert "invoice" in counted  # posted after its insert was sent: an update without RETURNING
    # Sent ahead after every send_ahead_every-th command (in pipeline mode whenever something
    # was held), never in a batch shorter than that.
    assert len(pipelined) == len(batch) // send_ahead_every
    assert any(pipelined) == (send_ahead_every < len(batch))
    monkeypatch.undo()
    held_rows = same_as_with_savepoints(store, held_org, savepoint_org, user, batch, optimistic)
    assert len(held_rows["journal_entry"]) >= 2 and len(held_rows["journal_line"]) >= 6
    assert sum(len(entry["lines_json"]) for entry in held_rows["journal_entry"]) == len(
        held_rows["journal_line"]
    )
    assert sum(row["lines"] for row in held_rows["journal_balance"]) == len(held_rows["journal_line"])


def test_rows_are_plain_only_when_every_value_of_every_row_is() -> None:
    # Judged column by column over the whole batch: one row out of many with a value of
    # another type, or a text longer than its column, makes the batch read back.
    from enum import StrEnum

    from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect

    class Code(StrEnum):
        A = "A"

    plain = _plain(table_of(Warehouse), psycopg_dialect())
    org_id, now = new_id(), utcnow()

    def row(n: int, **changes: Any) -> dict[str, Any]:
        return {
            "code": f"W{n}",
            "name": f"Warehouse {n}",
            "address": None if n % 2 else "Somewhere",
            "archived": False,
            "version": n,
            "updated_at": now,
            "updated_by": None,
            "deleted": False,
            "org_id": org_id,
            "id": new_id(),
            **changes,
        }

    rows = [row(n) for n in range(300)]
    assert plain.rows(rows)
    assert plain.rows([])
    assert plain.rows([*rows, row(300, code="C" * 32)])  # at the column's length
    assert not plain.rows([*rows, row(300, code="C" * 33)])  # longer: cut by the store
    assert not plain.rows([*rows, row(300, code=Code.A)])  # a str subclass
    assert not plain.rows([*rows, row(300, version=True)])  # a bool in an integer column
    assert not plain.rows([*rows, row(300, archived=1)])  # an int in a boolean column
    assert not plain.rows([row(0, address="x" * 501), *rows])
    # What the insert then sends: the values by column, in the table's order.
    shuffled = [dict(reversed(r.items())) for r in rows]
    assert plain.columns(shuffled) == [tuple(r[c.name] for r in rows) for c in table_of(Warehouse).c]
    assert plain.columns([*rows, row(300, version=True)]) is None


def test_the_rows_read_ahead_are_held_by_the_batch_alone(store: Store) -> None:
    """The batch's shared rows, filled by the read-ahead, are let go by reference counting once
    the batch is done: nothing of the read-ahead keeps them (a recursive nested function did,
    through its own cell, a cycle that only the collector, paused during a push, breaks: every
    row the batch wrote stayed alive until it ran)."""
    org_id = admin_ops.create_org(store, f"Ahead {new_id()[-6:]}", books=True)
    rows: dict[tuple[str, str], dict[str, Any] | None] = {}
    with store.session(org_id, write=True) as session:
        writes._read_ahead(session, org_id, _posting_batch(new_id(), new_id()), rows)
    assert rows and all(row is None for row in rows.values())  # read: none is stored yet
    assert [r for r in gc.get_referrers(rows) if not isinstance(r, types.FrameType)] == []


def test_writes_sent_ahead_are_checked_when_settled_and_a_taken_id_refused(store: Store) -> None:
    """What ``send_ahead`` sends in pipeline mode is answered later: a taken id is refused at the
    next flush (and nothing of the transaction is kept), and the connection leaves pipeline mode
    whichever way the block ends."""
    org_id = admin_ops.create_org(store, f"Ahead {new_id()[-6:]}")
    table = table_of(Warehouse)
    writer = row_writer(table, store.engine.dialect)
    taken = new_id()
    with store.session(org_id, write=True) as session, DeferredWrites(session, org_id) as held:
        held.insert(writer, [_warehouse(org_id, taken, "A")])
        held.send_ahead()
        assert held._pipeline is not None  # sent, not yet answered
        held.insert(writer, [_warehouse(org_id, new_id(), "B")])
        held.flush()  # the answers of what was sent ahead checked first, then the rest sent
        assert held._pipeline is None and held.statements == 2
        dbapi = held._dbapi
    assert dbapi.pgconn.pipeline_status == pq.PipelineStatus.OFF

    for end in ("flush", "block"):
        with (
            pytest.raises(DeferredRefused, match="id was taken"),
            store.session(org_id, write=True) as session,
            DeferredWrites(session, org_id) as held,
        ):
            held.insert(writer, [_warehouse(org_id, new_id(), "C"), _warehouse(org_id, taken, "D")])
            held.send_ahead()  # refused by the store, but not answered yet: nothing raised here
            held.insert(writer, [_warehouse(org_id, new_id(), "E")])
            if end == "flush":
                held.flush()
        assert held._pipeline is None
        assert held._dbapi.pgconn.pipeline_status == pq.PipelineStatus.OFF
    with store.session(org_id) as session:
        codes = sorted(session.execute(select(table.c.code)).scalars().all())
    assert codes == ["A", "B"]  # the refused transactions were rolled back whole


def test_a_taken_id_in_writes_sent_ahead_reruns_the_slice_with_savepoints(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line id taken by another transaction after the batch read it as free: the optimistic
    try sends the line ahead in pipeline mode, the store skips it, and the answers say so when
    next checked; the batch is applied again with savepoints and only that command is refused."""
    monkeypatch.setattr(writes, "SEND_AHEAD_EVERY", 2)
    org_id = admin_ops.create_org(store, f"Ahead {new_id()[-6:]}", books=True)
    user = new_id()
    customer, tax_rate = new_id(), new_id()
    setup = _posting_batch(customer, tax_rate)
    applied = writes.apply_in_slices(store, org_id, user, None, ALL_PERMISSIONS, setup)
    assert {r.status for r in applied} == {"applied"}

    def invoice() -> Mutation:
        line = {"id": new_id(), "description": "Service", "quantity": "1", "unit_price": 1_000}
        return Mutation(
            id=new_id(),
            name="sales.create_invoice",
            args={"id": new_id(), "customer_id": customer, "lines": [line]},
        )

    batch = [invoice() for _ in range(4)]
    contested = batch[1].args["lines"][0]["id"]
    lines = table_of(InvoiceLine)
    columns = ", ".join(f'"{c.name}"' for c in lines.c if c.name != "id")
    apply_one = writes._apply_one
    tries: list[bool] = []

    def another_transaction_takes_the_id(ctx: Any, mutation: Mutation, *args: Any) -> Any:
        if mutation.id == batch[1].id and not tries:
            tries.append(ctx.deferred is None)
            # Committed by another connection once the batch has read the id as free.
            with store.session(org_id, write=True) as other:
                other.execute(
                    text(
                        f'INSERT INTO invoice_line ("id", {columns}) '
                        f"SELECT :id, {columns} FROM invoice_line LIMIT 1"
                    ),
                    {"id": contested},
                )
        elif mutation.id == batch[1].id:
            tries.append(ctx.deferred is None)
        return apply_one(ctx, mutation, *args)

    refused_ahead: list[str] = []
    send_ahead = deferred.DeferredWrites.send_ahead

    def spy_send_ahead(held: DeferredWrites) -> None:
        try:
            send_ahead(held)
        except DeferredRefused as exc:
            refused_ahead.append(str(exc))
            raise

    monkeypatch.setattr(writes, "_apply_one", another_transaction_takes_the_id)
    monkeypatch.setattr(deferred.DeferredWrites, "send_ahead", spy_send_ahead)
    results = writes.apply_in_slices(store, org_id, user, None, ALL_PERMISSIONS, batch)
    # The line sent ahead after the second command is found skipped when the next send comes
    # (after the fourth), before the batch's final flush.
    assert refused_ahead == ["an id was taken"]
    assert tries == [False, True]  # held and sent ahead, refused when checked; then savepoints
    assert [r.status for r in results] == ["applied", "rejected", "applied", "applied"]
    with store.session(org_id) as session:
        ids = set(session.execute(select(table_of(Invoice).c.id)).scalars())
    assert {m.args["id"] for m in batch} & ids == {batch[n].args["id"] for n in (0, 2, 3)}


@pytest.fixture
def plain_scratch(store: Store) -> Iterator[Table]:
    """A scratch table with a ``varchar(3)`` column (no ``Numeric``: ``row_writer`` and
    ``rows_reader`` read such a table as they read the schema's)."""
    yield from _scratch_table(store, Column("code", String(3)))


def test_rows_read_ahead_are_joined_to_their_ids_whatever_the_statistics(
    store: Store, plain_scratch: Table
) -> None:
    """The batch's read-ahead (``rowaccess.rows_reader``) planned from statistics older than
    the table (a pooled connection's generic plan made while it was small, as after a burst of
    pushes): the ids are joined to the rows, never a list every row is tested against (that
    plan read 500 invoice lines among 20,000 in 190 ms, and grew with the table)."""
    from common.commands.rowaccess import rows_reader

    org_id = new_id()
    fill = (
        f'INSERT INTO "{plain_scratch.name}" (org_id, id, code) '
        "SELECT :org, gen_random_uuid()::text, 'abc' FROM generate_series(1, :rows)"
    )
    with store.engine.begin() as connection:
        # Statistics taken when the table held a push's worth of rows, then 40 times as many.
        connection.execute(text(fill), {"org": org_id, "rows": 500})
        connection.execute(text(f'ANALYZE "{plain_scratch.name}"'))
        connection.execute(text(fill), {"org": org_id, "rows": 20_000})
        ids = list(connection.execute(text(f'SELECT id FROM "{plain_scratch.name}" LIMIT 500')).scalars())
    reader = rows_reader(plain_scratch, store.engine.dialect)
    sql = reader.statement.sql.replace("%(_ids)s", "$2").replace("%(_org_id)s", "$1")
    with store.engine.connect() as connection:
        connection.execute(text("SET plan_cache_mode = force_generic_plan"))
        # As a planner judging from those statistics does: the table read whole, not by index.
        connection.execute(text("SET enable_indexscan = off"))
        connection.execute(text("SET enable_bitmapscan = off"))
        connection.exec_driver_sql(f"PREPARE ahead AS {sql}")
        # EXPLAIN takes no bound parameters: the ids (uuids made above) written out.
        listed = ", ".join(f"'{i}'" for i in ids)
        plan = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE ahead('{org_id}', ARRAY[{listed}])"
        ).scalar_one()

    def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for child in node.get("Plans", ()):
            yield from nodes(child)

    found = list(nodes(plan[0]["Plan"]))
    assert not [n for n in found if "ANY" in n.get("Filter", "")], found
    assert plan[0]["Plan"]["Actual Rows"] == 500
    with store.engine.connect() as connection:
        rows = reader.fetch(connection.connection.dbapi_connection, org_id, ids)
    assert sorted(rows) == sorted(ids)

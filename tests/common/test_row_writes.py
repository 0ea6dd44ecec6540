"""The command framework's inserts and updates (run on the DB-API cursor, ``RowWriter``): rows
come back as stored, in the order given, defaults filled, a taken id refused; on both sides'
real stores (the client's encrypted copy and the server's), read back through SQLAlchemy."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from common.commands import CommandContext, CommandError
from common.ids import new_id
from common.local import DraftNumbering, UndoRecorder
from common.permissions import ALL_PERMISSIONS
from common.schema import Product
from tests.common.conftest import Workspace


def _context(workspace: Workspace, session: Any) -> CommandContext:
    return CommandContext(
        session=session,
        org_id=workspace.org_id,
        actor_id=workspace.actor_id,
        permissions=ALL_PERMISSIONS,
        command_id=new_id(),
        recorder=UndoRecorder(),
        numbering=DraftNumbering(session, new_id()),
    )


def _product(n: int) -> dict[str, Any]:
    return {"id": new_id(), "sku": f"RW-{new_id()[-12:]}-{n}", "name": f"Row {n}", "currency": "EUR",
            "reorder_point": Decimal("1.5") if n % 2 else None}  # fmt: skip


def _args(product: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in product.items() if k != "reorder_point"}, "sale_price": 100}


@pytest.mark.parametrize("count", [1, 7, 33, 300])
def test_insert_many_returns_the_rows_as_stored_in_the_order_given(workspace: Workspace, count: int) -> None:
    """300 rows take three statements (256, 32, 12): every row is written once, in order."""
    products = [_product(n) for n in range(count)]
    with workspace.store.write_session() as session:
        inserted = _context(workspace, session).insert_many(Product, products)
    assert [r["id"] for r in inserted] == [p["id"] for p in products]
    with workspace.store.read_session() as session:
        stored = {
            r["id"]: dict(r)
            for r in session.execute(
                select(*Product.__table__.c).where(Product.id.in_([p["id"] for p in products]))
            ).mappings()
        }
    assert len(stored) == count
    for row in inserted:
        assert row == stored[row["id"]]
        # Defaults of the columns not given, as SQLAlchemy would have filled them.
        assert (row["unit"], row["sale_price"], row["archived"], row["deleted"]) == ("pcs", 0, False, False)
    assert stored[products[-1]["id"]]["reorder_point"] == products[-1]["reorder_point"]


def test_insert_many_with_a_taken_id_is_refused_naming_it(workspace: Workspace) -> None:
    taken = _product(0)
    workspace.apply("inventory.create_product", _args(taken))
    batch = [_product(1), {**_product(2), "id": taken["id"]}]
    with pytest.raises(CommandError) as refused, workspace.store.write_session() as session:
        _context(workspace, session).insert_many(Product, batch)
    assert refused.value.field == "id" and taken["id"] in refused.value.message
    with workspace.store.read_session() as session:
        assert session.execute(select(Product.id).where(Product.id == batch[0]["id"])).first() is None


def test_update_returns_the_row_as_stored_and_unique_checks_exclude_the_row(workspace: Workspace) -> None:
    product = _product(1)
    workspace.apply("inventory.create_product", _args(product))
    other = _product(2)
    workspace.apply("inventory.create_product", _args(other))
    with workspace.store.write_session() as session:
        ctx = _context(workspace, session)
        # Its own SKU is not taken by another product; the other's is.
        ctx.ensure_unique(Product, "sku", product["sku"], "sku", exclude=product["id"])
        with pytest.raises(CommandError) as taken:
            ctx.ensure_unique(Product, "sku", other["sku"], "changes.sku", exclude=product["id"])
        assert taken.value.field == "changes.sku"
        updated = ctx.update(Product, product["id"], {"reorder_point": Decimal("2.25"), "name": "Renamed"})
    assert (updated["reorder_point"], updated["name"]) == (Decimal("2.25"), "Renamed")
    with workspace.store.read_session() as session:
        stored = (
            session.execute(select(*Product.__table__.c).where(Product.id == product["id"])).mappings().one()
        )
    assert dict(stored) == updated


class _Text(str):
    """Text of a ``str`` subclass: stored as text, read back as a plain ``str``."""


@pytest.mark.parametrize("count", [1, 40])
def test_rows_of_plain_values_are_answered_exactly_as_read_back(workspace: Workspace, count: int) -> None:
    """Rows whose every value the store keeps as given (text, integers, booleans, UTC stamps,
    NULL) are answered without reading them back: the answer is what a read gives, type for
    type; a value of another type in the statement (a ``str`` subclass) still comes back read."""
    products = [{**_product(2 * n), "cost_price": n, "archived": bool(n % 2)} for n in range(count)]
    odd = {**_product(1), "name": _Text("Odd one")}
    with workspace.store.write_session() as session:
        inserted = _context(workspace, session).insert_many(Product, products)
        [other] = _context(workspace, session).insert_many(Product, [odd])
    with workspace.store.read_session() as session:
        stored = {
            r["id"]: dict(r)
            for r in session.execute(
                select(*Product.__table__.c).where(Product.id.in_([p["id"] for p in [*products, odd]]))
            ).mappings()
        }
    assert [r["id"] for r in inserted] == [p["id"] for p in products]
    for row in [*inserted, other]:
        assert row == stored[row["id"]]
        assert list(row) == list(stored[row["id"]])
        assert {k: type(v) for k, v in row.items()} == {k: type(v) for k, v in stored[row["id"]].items()}
    assert type(other["name"]) is str


def test_rows_naming_every_column_are_answered_in_column_order_as_copies(workspace: Workspace) -> None:
    """A row naming every column, in an order of its own (as a posting's rows are), is answered
    as a read gives it: the same values and types, the columns in the table's order; the answer
    is not the dict given (changing one leaves the other as it was)."""
    given = {"archived": False, "reorder_point": None, "currency": "EUR", "cost_price": 7, "sale_price": 100,
             "unit": "pcs", "barcode": None, "description": "All of it", "name": "Every column",
             "sku": f"RW-{new_id()[-12:]}-all", "id": new_id()}  # fmt: skip
    with workspace.store.write_session() as session:
        answered = _context(workspace, session).insert(Product, given)
    with workspace.store.read_session() as session:
        [stored] = session.execute(select(*Product.__table__.c).where(Product.id == given["id"])).mappings()
    assert answered == dict(stored)
    assert list(answered) == list(stored)
    assert {k: type(v) for k, v in answered.items()} == {k: type(v) for k, v in stored.items()}
    answered["name"] = "Changed"
    assert given["name"] == "Every column"


def test_plain_rows_with_a_taken_id_among_them_are_refused_naming_it(workspace: Workspace) -> None:
    taken = _product(0)
    workspace.apply("inventory.create_product", _args(taken))
    batch = [_product(2), {**_product(4), "id": taken["id"]}, _product(6)]
    with pytest.raises(CommandError) as refused, workspace.store.write_session() as session:
        _context(workspace, session).insert_many(Product, batch)
    assert refused.value.field == "id" and taken["id"] in refused.value.message
    with workspace.store.read_session() as session:
        assert session.execute(select(Product.id).where(Product.id == batch[0]["id"])).first() is None


class _BulkRecorder(UndoRecorder):
    """A recorder with the bulk method: must record what the per-row one does."""

    def __init__(self) -> None:
        super().__init__()
        self.bulk_calls: list[tuple[str, int]] = []

    def record_inserts(self, entity: str, rows: list[dict[str, Any]]) -> None:
        self.bulk_calls.append((entity, len(rows)))
        for row in rows:
            self.record_write(entity, row["id"], None, row)


def test_a_parent_with_its_children_is_written_recorded_and_remembered_as_by_insert_then_insert_many(
    workspace: Workspace,
) -> None:
    """``insert_with_children`` (a journal entry with its lines) writes, versions, records and
    remembers what ``insert`` then ``insert_many`` do, with a recorder that records row by row
    (the workstation's) or several rows at once."""
    from common.schema import Account, JournalEntry, JournalLine

    for recorder in (UndoRecorder(), _BulkRecorder()):
        with workspace.store.write_session() as session:
            ctx = _context(workspace, session)
            ctx.recorder, ctx.rows = recorder, {}
            accounts = [new_id(), new_id()]
            for n, account in enumerate(accounts):
                ctx.insert(
                    Account, {"id": account, "code": f"T{new_id()[-8:]}{n}", "name": "A", "type": "asset"}
                )
            entry_id = new_id()
            lines = [
                {"id": new_id(), "journal_entry_id": entry_id, "line_no": n + 1, "account_id": account,
                 "debit": 100 if n == 0 else 0, "credit": 100 if n else 0, "currency": "EUR", "memo": None,
                 "entry_date": ctx.now.date()}
                for n, account in enumerate(accounts)
            ]  # fmt: skip
            entry = ctx.insert_with_children(
                JournalEntry,
                {"id": entry_id, "number": f"JE-{new_id()[-12:]}", "entry_date": ctx.now.date(), "fiscal_period_id": None,
                 "memo": "m", "source": "manual", "source_id": None, "reverses_entry_id": None},
                JournalLine,
                [dict(line) for line in lines],
            )  # fmt: skip
            assert entry["id"] == entry_id and entry["org_id"] == workspace.org_id
            assert [u["id"] for u in recorder.undo][-3:] == [entry_id, *(line["id"] for line in lines)]
            for line in lines:
                remembered = ctx.rows[("journal_line", line["id"])]
                assert remembered is not None and {k: remembered[k] for k in line} == line
                assert ctx.get(JournalLine, line["id"]) == remembered
            # A child id taken refuses the command (which the caller rolls back).
            again = {**{k: entry[k] for k in ("entry_date", "memo", "source")}, "id": new_id()}
            again |= {"number": f"JE-{new_id()[-12:]}", "fiscal_period_id": None, "source_id": None}
            with pytest.raises(CommandError, match=f"a journal line with id {lines[0]['id']} already exists"):
                ctx.insert_with_children(
                    JournalEntry, {**again, "reverses_entry_id": None}, JournalLine, [dict(lines[0])]
                )
            session.rollback()
        if isinstance(recorder, _BulkRecorder):
            assert recorder.bulk_calls[0] == ("journal_line", 2)

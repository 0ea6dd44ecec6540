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

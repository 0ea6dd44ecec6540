"""Inventory and purchasing commands, applied through a real encrypted client store."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from common.commands import REGISTRY
from common.ids import new_id
from common.permissions import BUILTIN_ROLES
from common.schema import Product, PurchaseOrder, PurchaseOrderLine, StockMove, Warehouse
from common.stock import low_stock, stock_levels, stock_on_hand
from tests.common.conftest import Workspace

INVENTORY_COMMANDS = {
    "inventory.create_warehouse", "inventory.update_warehouse", "inventory.create_product",
    "inventory.update_product", "inventory.record_stock_move", "inventory.reverse_stock_move",
    "inventory.record_stock_count",
    "inventory.create_supplier", "inventory.update_supplier", "inventory.create_purchase_order",
    "inventory.update_purchase_order", "inventory.set_purchase_order_lines", "inventory.order_purchase_order",
    "inventory.receive_purchase_order", "inventory.cancel_purchase_order",
}  # fmt: skip


def _row(ws: Workspace, model: Any, entity_id: str) -> dict[str, Any]:
    with ws.store.read_session() as session:
        found = (
            session.execute(select(*model.__table__.columns).where(model.id == entity_id)).mappings().one()
        )
        return dict(found)


def _warehouse(ws: Workspace, code: str | None = None) -> str:
    warehouse_id = new_id()
    ws.apply(
        "inventory.create_warehouse",
        {"id": warehouse_id, "code": code or f"W{warehouse_id[-8:]}", "name": "Main"},
    )
    return warehouse_id


def _product(ws: Workspace, **extra: Any) -> str:
    product_id = new_id()
    args = {
        "id": product_id,
        "sku": f"SKU-{product_id[-10:]}",
        "name": "Hex bolt M8",
        "sale_price": 120,
        "currency": "EUR",
    }
    ws.apply("inventory.create_product", {**args, **extra})
    return product_id


def _on_hand(ws: Workspace, product_id: str, warehouse_id: str) -> Decimal:
    with ws.store.read_session() as session:
        return stock_on_hand(session, ws.org_id, product_id, warehouse_id)


def test_every_contract_command_is_registered_with_its_permission() -> None:
    assert set(REGISTRY) >= INVENTORY_COMMANDS
    for name in INVENTORY_COMMANDS:
        assert REGISTRY[name].permission == "inventory.write"


# -- warehouses and products -------------------------------------------------------------------


def test_create_warehouse_and_product_store_what_was_given(workspace: Workspace) -> None:
    warehouse_id = _warehouse(workspace, "MAIN-1")
    assert _row(workspace, Warehouse, warehouse_id)["code"] == "MAIN-1"
    product_id = _product(workspace, unit="kg", reorder_point="2.5", barcode="4006381333931", cost_price=80)
    product = _row(workspace, Product, product_id)
    assert (product["name"], product["unit"], product["sale_price"], product["currency"]) == (
        "Hex bolt M8",
        "kg",
        120,
        "EUR",
    )
    assert product["reorder_point"] == Decimal("2.5")
    assert product["org_id"] == workspace.org_id and product["updated_by"] == workspace.actor_id
    assert product["deleted"] is False


def test_sku_and_warehouse_code_are_unique_per_organization(workspace: Workspace) -> None:
    product_id = _product(workspace)
    sku = _row(workspace, Product, product_id)["sku"]
    error = workspace.refused(
        "inventory.create_product",
        {"id": new_id(), "sku": sku, "name": "Other", "sale_price": 1, "currency": "EUR"},
    )
    assert (error.code, error.field) == ("invalid", "sku") and sku in error.message
    _warehouse(workspace, "DUP")
    error = workspace.refused("inventory.create_warehouse", {"id": new_id(), "code": "DUP", "name": "Again"})
    assert error.field == "code"


def _product_args(**override: Any) -> dict[str, Any]:
    return {
        "id": new_id(),
        "sku": f"S-{new_id()[-8:]}",
        "name": "Widget",
        "sale_price": 100,
        "currency": "EUR",
        **override,
    }


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"id": "not-a-uuid"}, "id"),
        ({"sku": "has space"}, "sku"),
        ({"sku": "x" * 65}, "sku"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"name": "bell\x07"}, "name"),
        ({"sale_price": 1.5}, "sale_price"),
        ({"sale_price": "100"}, "sale_price"),
        ({"sale_price": -1}, "sale_price"),
        ({"sale_price": 10**16}, "sale_price"),
        ({"currency": "XXX"}, "currency"),
        ({"reorder_point": "1.0000001"}, "reorder_point"),
        ({"reorder_point": 0.5}, "reorder_point"),
        ({"reorder_point": "-1"}, "reorder_point"),
        ({"unit": "u" * 17}, "unit"),
        ({"description": "d" * 2001}, "description"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_each_invalid_product_argument_is_refused_naming_the_field(
    workspace: Workspace, override: dict[str, Any], field: str
) -> None:
    before = len(workspace.store.outbox())
    error = workspace.refused("inventory.create_product", _product_args(**override))
    assert error.code == "invalid"
    assert error.field == field
    assert error.message.startswith(f"{field}:")
    assert len(workspace.store.outbox()) == before  # nothing queued, nothing half-written


def test_missing_required_arguments_are_each_named(workspace: Workspace) -> None:
    error = workspace.refused("inventory.create_product", {"id": new_id()})
    named = {problem["field"] for problem in error.details["errors"]}
    assert named == {"sku", "name", "sale_price", "currency"}


def test_args_must_be_an_object_and_the_command_must_exist(workspace: Workspace) -> None:
    assert workspace.refused("inventory.create_product", ["not", "an", "object"]).field == "args"  # type: ignore[arg-type]
    assert workspace.refused("inventory.drop_everything", {}).code == "unknown_command"


def test_a_role_without_inventory_write_is_refused(workspace: Workspace) -> None:
    error = workspace.refused("inventory.create_product", _product_args(), permissions=BUILTIN_ROLES["sales"])
    assert error.code == "forbidden" and "inventory.write" in error.message
    workspace.apply("inventory.create_product", _product_args(), permissions=BUILTIN_ROLES["warehouse"])


def test_update_applies_when_base_matches(workspace: Workspace) -> None:
    product_id = _product(workspace, reorder_point="10")
    workspace.apply(
        "inventory.update_product",
        {
            "id": product_id,
            "changes": {"name": "Hex bolt M8 zinc", "reorder_point": "4"},
            "base": {"name": "Hex bolt M8", "reorder_point": "10.000"},
        },
    )
    product = _row(workspace, Product, product_id)
    assert (product["name"], product["reorder_point"]) == ("Hex bolt M8 zinc", Decimal(4))


def test_update_with_a_stale_base_is_a_conflict_carrying_the_current_values(workspace: Workspace) -> None:
    product_id = _product(workspace)
    workspace.apply(
        "inventory.update_product",
        {"id": product_id, "changes": {"sale_price": 150}, "base": {"sale_price": 120}},
    )
    error = workspace.refused(
        "inventory.update_product",
        {"id": product_id, "changes": {"sale_price": 130}, "base": {"sale_price": 120}},
    )
    assert error.code == "conflict"
    assert error.server_values == {"sale_price": 150}
    assert error.details["fields"] == ["sale_price"]
    assert _row(workspace, Product, product_id)["sale_price"] == 150


def test_updates_of_different_fields_of_one_record_merge(workspace: Workspace) -> None:
    product_id = _product(workspace)
    # Two users both read the original record; one renames it, the other reprices it.
    workspace.apply(
        "inventory.update_product",
        {"id": product_id, "changes": {"name": "Renamed"}, "base": {"name": "Hex bolt M8"}},
    )
    workspace.apply(
        "inventory.update_product",
        {"id": product_id, "changes": {"sale_price": 99}, "base": {"sale_price": 120}},
    )
    product = _row(workspace, Product, product_id)
    assert (product["name"], product["sale_price"]) == ("Renamed", 99)


@pytest.mark.parametrize(
    ("changes", "base", "field"),
    [
        ({}, {}, "changes"),
        ({"name": "X"}, {}, "base.name"),
        ({"name": "X"}, {"name": "Hex bolt M8", "sku": "A"}, "base.sku"),
        ({"name": ""}, {"name": "Hex bolt M8"}, "changes.name"),
        ({"name": None}, {"name": "Hex bolt M8"}, "changes.name"),
        ({"version": 5}, {"version": 0}, "changes.version"),
        ({"org_id": new_id()}, {"org_id": "x"}, "changes.org_id"),
    ],
)
def test_malformed_updates_are_refused_naming_the_field(
    workspace: Workspace, changes: dict[str, Any], base: dict[str, Any], field: str
) -> None:
    product_id = _product(workspace)
    error = workspace.refused(
        "inventory.update_product", {"id": product_id, "changes": changes, "base": base}
    )
    assert (error.code, error.field) == ("invalid", field)


def test_oversized_update_lists_are_refused(workspace: Workspace) -> None:
    changes = {f"f{i}": i for i in range(51)}
    error = workspace.refused(
        "inventory.update_product", {"id": new_id(), "changes": changes, "base": changes}
    )
    assert error.field == "changes"


def test_archive_product_and_warehouse(workspace: Workspace) -> None:
    product_id, warehouse_id = _product(workspace), _warehouse(workspace)
    workspace.apply(
        "inventory.update_product",
        {"id": product_id, "changes": {"archived": True}, "base": {"archived": False}},
    )
    workspace.apply(
        "inventory.update_warehouse",
        {"id": warehouse_id, "changes": {"archived": True}, "base": {"archived": False}},
    )
    assert _row(workspace, Product, product_id)["archived"] is True
    assert _row(workspace, Warehouse, warehouse_id)["archived"] is True


def test_update_of_an_unknown_record_is_not_found(workspace: Workspace) -> None:
    error = workspace.refused(
        "inventory.update_product", {"id": new_id(), "changes": {"name": "X"}, "base": {"name": "Y"}}
    )
    assert error.code == "not_found"


# -- stock moves -------------------------------------------------------------------------------


def _move(ws: Workspace, product_id: str, reason: str, quantity: str, **sides: str) -> dict[str, Any]:
    move_id = new_id()
    outcome = ws.apply(
        "inventory.record_stock_move",
        {"id": move_id, "product_id": product_id, "quantity": quantity, "reason": reason, **sides},
    )
    return {"id": move_id, "warnings": outcome.warnings}


def test_stock_is_the_sum_of_moves(workspace: Workspace) -> None:
    product_id, main, store = _product(workspace), _warehouse(workspace), _warehouse(workspace)
    _move(workspace, product_id, "receipt", "10.5", to_warehouse_id=main)
    _move(workspace, product_id, "transfer", "4", from_warehouse_id=main, to_warehouse_id=store)
    _move(workspace, product_id, "issue", "1.25", from_warehouse_id=store)
    _move(workspace, product_id, "count", "0.5", from_warehouse_id=main)
    _move(workspace, product_id, "adjustment", "2", to_warehouse_id=store)
    assert _on_hand(workspace, product_id, main) == Decimal("6")
    assert _on_hand(workspace, product_id, store) == Decimal("4.75")
    with workspace.store.read_session() as session:
        levels = stock_levels(session, workspace.org_id, [product_id])
    assert levels == {(product_id, main): Decimal(6), (product_id, store): Decimal("4.75")}


def test_a_move_below_zero_is_recorded_and_flagged_not_refused(workspace: Workspace) -> None:
    product_id, main = _product(workspace), _warehouse(workspace)
    _move(workspace, product_id, "receipt", "2", to_warehouse_id=main)
    issued = _move(workspace, product_id, "issue", "5", from_warehouse_id=main)
    assert _on_hand(workspace, product_id, main) == Decimal(-3)
    assert [w["code"] for w in issued["warnings"]] == ["negative_stock"]
    assert _row(workspace, StockMove, issued["id"])["negative_stock"] is True


@pytest.mark.parametrize(
    ("reason", "sides", "problem"),
    [
        ("receipt", {}, "to_warehouse_id is required"),
        ("receipt", {"from": True, "to": True}, "from_warehouse_id must be empty"),
        ("issue", {}, "from_warehouse_id is required"),
        ("transfer", {"from": True}, "to_warehouse_id is required"),
        ("transfer", {"from": True, "to": "same"}, "must differ"),
        ("count", {"from": True, "to": True}, "exactly one"),
        ("theft", {"to": True}, "reason must be one of"),
    ],
)
def test_move_sides_must_fit_the_reason(
    workspace: Workspace, reason: str, sides: dict[str, Any], problem: str
) -> None:
    product_id, a, b = _product(workspace), _warehouse(workspace), _warehouse(workspace)
    args: dict[str, Any] = {"id": new_id(), "product_id": product_id, "quantity": "1", "reason": reason}
    if sides.get("from"):
        args["from_warehouse_id"] = a
    if sides.get("to"):
        args["to_warehouse_id"] = a if sides["to"] == "same" else b
    error = workspace.refused("inventory.record_stock_move", args)
    assert error.code == "invalid" and problem in error.message


@pytest.mark.parametrize(
    ("quantity", "field"), [("0", "quantity"), ("-2", "quantity"), (1.5, "quantity"), ("1e20", "quantity")]
)
def test_move_quantity_must_be_positive_and_exact(workspace: Workspace, quantity: Any, field: str) -> None:
    product_id, main = _product(workspace), _warehouse(workspace)
    args = {
        "id": new_id(),
        "product_id": product_id,
        "quantity": quantity,
        "reason": "receipt",
        "to_warehouse_id": main,
    }
    assert workspace.refused("inventory.record_stock_move", args).field == field


def test_move_of_an_unknown_product_or_warehouse_names_it(workspace: Workspace) -> None:
    product_id, main = _product(workspace), _warehouse(workspace)
    unknown = new_id()
    args = {"id": new_id(), "quantity": "1", "reason": "receipt"}
    assert (
        workspace.refused(
            "inventory.record_stock_move", {**args, "product_id": unknown, "to_warehouse_id": main}
        ).field
        == "product_id"
    )
    assert (
        workspace.refused(
            "inventory.record_stock_move", {**args, "product_id": product_id, "to_warehouse_id": unknown}
        ).field
        == "to_warehouse_id"
    )


def test_a_move_is_corrected_by_reversal_once(workspace: Workspace) -> None:
    product_id, main = _product(workspace), _warehouse(workspace)
    received = _move(workspace, product_id, "receipt", "7", to_warehouse_id=main)
    workspace.apply("inventory.reverse_stock_move", {"id": new_id(), "move_id": received["id"]})
    assert _on_hand(workspace, product_id, main) == Decimal(0)
    again = workspace.refused("inventory.reverse_stock_move", {"id": new_id(), "move_id": received["id"]})
    assert again.field == "move_id" and "already been reversed" in again.message


def test_low_stock_lists_products_at_or_below_their_reorder_point(workspace: Workspace) -> None:
    main = _warehouse(workspace)
    low, fine = _product(workspace, reorder_point="5"), _product(workspace, reorder_point="5")
    _move(workspace, low, "receipt", "5", to_warehouse_id=main)
    _move(workspace, fine, "receipt", "6", to_warehouse_id=main)
    with workspace.store.read_session() as session:
        listed = {row["id"]: row for row in low_stock(session, workspace.org_id)}
    assert low in listed and fine not in listed
    assert listed[low]["on_hand"] == Decimal(5)


# -- suppliers and purchase orders -------------------------------------------------------------


def _supplier(ws: Workspace) -> str:
    supplier_id = new_id()
    ws.apply(
        "inventory.create_supplier",
        {"id": supplier_id, "name": "Bolts & Co", "email": "sales@bolts.example", "currency": "EUR"},
    )
    return supplier_id


def test_supplier_fields_are_validated(workspace: Workspace) -> None:
    error = workspace.refused(
        "inventory.create_supplier", {"id": new_id(), "name": "X", "email": "not-an-email", "currency": "EUR"}
    )
    assert error.field == "email"
    supplier_id = _supplier(workspace)
    workspace.apply(
        "inventory.update_supplier",
        {"id": supplier_id, "changes": {"phone": "+49 30 1234"}, "base": {"phone": None}},
    )


def _order(ws: Workspace, lines: list[tuple[str, str, int]]) -> tuple[str, str, list[str]]:
    order_id, warehouse_id = new_id(), _warehouse(ws)
    line_ids = [new_id() for _ in lines]
    ws.apply(
        "inventory.create_purchase_order",
        {
            "id": order_id,
            "supplier_id": _supplier(ws),
            "warehouse_id": warehouse_id,
            "lines": [
                {"id": line_id, "product_id": p, "quantity": q, "unit_cost": c}
                for line_id, (p, q, c) in zip(line_ids, lines, strict=True)
            ],
        },
    )
    return order_id, warehouse_id, line_ids


def test_purchase_order_draft_ordered_received_creates_the_stock_moves(workspace: Workspace) -> None:
    bolts, nuts = _product(workspace), _product(workspace)
    order_id, warehouse_id, (bolt_line, _nut_line) = _order(
        workspace, [(bolts, "10", 25), (nuts, "2.5", 199)]
    )
    order = _row(workspace, PurchaseOrder, order_id)
    assert order["status"] == "draft"
    # provisional on a client's copy; the server gives the legal number at once
    assert order["number"].startswith("DRAFT-" if workspace.store.side == "client" else "PO-")
    assert order["total"] == 10 * 25 + 498
    workspace.apply("inventory.order_purchase_order", {"id": order_id})
    # Partial receipt first: 4 bolts.
    workspace.apply(
        "inventory.receive_purchase_order",
        {"id": order_id, "lines": [{"line_id": bolt_line, "quantity": "4"}]},
    )
    assert _on_hand(workspace, bolts, warehouse_id) == Decimal(4)
    assert _row(workspace, PurchaseOrder, order_id)["status"] == "ordered"
    # Then the rest of everything.
    workspace.apply("inventory.receive_purchase_order", {"id": order_id})
    assert _on_hand(workspace, bolts, warehouse_id) == Decimal(10)
    assert _on_hand(workspace, nuts, warehouse_id) == Decimal("2.5")
    assert _row(workspace, PurchaseOrder, order_id)["status"] == "received"
    assert _row(workspace, PurchaseOrderLine, bolt_line)["received_quantity"] == Decimal(10)
    with workspace.store.read_session() as session:
        moves = session.execute(
            select(StockMove.reference, StockMove.unit_cost).where(StockMove.product_id == bolts)
        ).all()
    assert {(ref, cost) for ref, cost in moves} == {(order["number"], 25)}


def test_purchase_order_state_machine_is_enforced(workspace: Workspace) -> None:
    bolts = _product(workspace)
    order_id, _, _ = _order(workspace, [(bolts, "1", 10)])
    assert workspace.refused("inventory.receive_purchase_order", {"id": order_id}).code == "invalid_state"
    workspace.apply("inventory.order_purchase_order", {"id": order_id})
    error = workspace.refused("inventory.set_purchase_order_lines", {"id": order_id, "lines": []})
    assert error.code == "invalid_state" and "only a draft" in error.message
    assert workspace.refused("inventory.order_purchase_order", {"id": order_id}).code == "invalid_state"
    workspace.apply("inventory.receive_purchase_order", {"id": order_id})
    assert workspace.refused("inventory.cancel_purchase_order", {"id": order_id}).code == "invalid_state"


def test_draft_lines_can_be_replaced_and_empty_orders_cannot_be_sent(workspace: Workspace) -> None:
    bolts = _product(workspace)
    order_id, _, (line_id,) = _order(workspace, [(bolts, "1", 10)])
    workspace.apply("inventory.set_purchase_order_lines", {"id": order_id, "lines": []})
    assert _row(workspace, PurchaseOrderLine, line_id)["deleted"] is True
    assert _row(workspace, PurchaseOrder, order_id)["total"] == 0
    error = workspace.refused("inventory.order_purchase_order", {"id": order_id})
    assert error.field == "id" and "no lines" in error.message
    workspace.apply("inventory.cancel_purchase_order", {"id": order_id})
    assert _row(workspace, PurchaseOrder, order_id)["status"] == "cancelled"


def test_purchase_order_lines_are_validated_and_limited(workspace: Workspace) -> None:
    bolts = _product(workspace)
    supplier_id, warehouse_id = _supplier(workspace), _warehouse(workspace)
    base = {"id": new_id(), "supplier_id": supplier_id, "warehouse_id": warehouse_id}
    line = {"product_id": bolts, "quantity": "1", "unit_cost": 10}
    too_many = [{"id": new_id(), **line} for _ in range(501)]
    assert workspace.refused("inventory.create_purchase_order", {**base, "lines": too_many}).field == "lines"
    bad_qty = [{"id": new_id(), **line, "quantity": "0"}]
    assert (
        workspace.refused("inventory.create_purchase_order", {**base, "lines": bad_qty}).field
        == "lines.0.quantity"
    )
    unknown = [{"id": new_id(), **line, "product_id": new_id()}]
    assert (
        workspace.refused("inventory.create_purchase_order", {**base, "lines": unknown}).field
        == "lines.0.product_id"
    )
    assert (
        workspace.refused("inventory.create_purchase_order", {**base, "supplier_id": new_id()}).field
        == "supplier_id"
    )


def test_an_append_only_row_is_never_changed_by_any_command(workspace: Workspace) -> None:
    """``EntityInfo.append_only`` is enforced where every write goes (``CommandContext.update``)."""
    from common.commands import CommandError
    from common.local import client_context

    product_id, main = _product(workspace), _warehouse(workspace)
    move = _move(workspace, product_id, "receipt", "3", to_warehouse_id=main)
    with workspace.store.write_session() as session:
        ctx, _ = client_context(
            session,
            org_id=workspace.org_id,
            device_id=workspace.device_id,
            actor_id=workspace.actor_id,
            permissions=workspace.permissions,
        )
        with pytest.raises(CommandError, match="stock move is never changed") as refused:
            ctx.update(StockMove, move["id"], {"quantity": Decimal(30)})
        assert refused.value.code == "invalid_state"
        ctx.update(Product, product_id, {"name": "still editable"})
        session.rollback()
    assert _row(workspace, StockMove, move["id"])["quantity"] == Decimal(3)


def test_a_count_records_the_difference_to_the_stock_where_it_runs(workspace: Workspace) -> None:
    warehouse, product = _warehouse(workspace), _product(workspace)
    workspace.apply(
        "inventory.record_stock_move",
        {
            "id": new_id(),
            "product_id": product,
            "to_warehouse_id": warehouse,
            "quantity": "40",
            "reason": "receipt",
        },
    )
    count = {"product_id": product, "warehouse_id": warehouse}
    workspace.apply("inventory.record_stock_count", {"id": new_id(), **count, "counted": "33"})
    assert _on_hand(workspace, product, warehouse) == 33  # a count move of 7 out
    # another receipt arrives (synced meanwhile); the next count decides from the stock now
    workspace.apply(
        "inventory.record_stock_move",
        {
            "id": new_id(),
            "product_id": product,
            "to_warehouse_id": warehouse,
            "quantity": "10",
            "reason": "receipt",
        },
    )
    move_id = new_id()
    workspace.apply("inventory.record_stock_count", {"id": move_id, **count, "counted": "45.5"})
    assert _on_hand(workspace, product, warehouse) == Decimal("45.5")
    move = _row(workspace, StockMove, move_id)
    assert (
        move["reason"] == "count"
        and move["to_warehouse_id"] == warehouse
        and move["quantity"] == Decimal("2.5")
    )
    workspace.apply("inventory.record_stock_count", {"id": new_id(), **count, "counted": "45.5"})  # matches
    assert _on_hand(workspace, product, warehouse) == Decimal("45.5")
    refused = workspace.refused("inventory.record_stock_count", {"id": new_id(), **count, "counted": "-1"})
    assert refused.field == "counted"

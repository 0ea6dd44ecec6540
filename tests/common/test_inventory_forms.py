"""The inventory forms' builders (no Qt): typed text → command args and problems in words."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pytest

from common.ids import new_id
from common.inventory_forms import OrderLineInput, build_purchase_order, build_stock_move


def parse_quantity(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError("is not a number") from None


def parse_money(text: str, currency: str) -> int:
    return int(parse_quantity(text) * 100)


PRODUCT = {"id": new_id(), "currency": "EUR"}
MAIN, EAST, MOVE, ORDER = new_id(), new_id(), new_id(), new_id()


def move(
    raw: dict[str, str], product: dict[str, str] | None = PRODUCT, typed: str = ""
) -> tuple[str, dict, dict]:
    built = build_stock_move(MOVE, raw, product, typed, parse_quantity, parse_money)
    return built.command, built.args, built.problems


def test_a_receipt_with_a_cost() -> None:
    command, args, found = move(
        {
            "reason": "receipt",
            "to_warehouse_id": MAIN,
            "from_warehouse_id": EAST,
            "quantity": "12.50",
            "unit_cost": "9.95",
        }
    )
    assert command == "inventory.record_stock_move" and found == {}
    # the hidden "from" side of a receipt is not sent
    assert args == {
        "id": MOVE, "product_id": PRODUCT["id"], "reason": "receipt", "to_warehouse_id": MAIN,
        "quantity": "12.5", "unit_cost": 995,
    }  # fmt: skip


def test_a_count_sends_what_was_counted() -> None:
    command, args, found = move({"reason": "count", "warehouse_id": MAIN, "quantity": "33"})
    assert command == "inventory.record_stock_count" and found == {}
    assert args == {"id": MOVE, "product_id": PRODUCT["id"], "warehouse_id": MAIN, "counted": "33"}
    _, _, found = move({"reason": "count", "warehouse_id": MAIN, "quantity": "-2"})
    assert found == {"quantity": "must not be negative"}


@pytest.mark.parametrize(
    ("raw", "product", "typed", "expected"),
    [
        ({"reason": "issue", "quantity": ""}, PRODUCT, "", {"from_warehouse_id": "is required", "quantity": "is required"}),
        ({"reason": "transfer", "from_warehouse_id": MAIN, "to_warehouse_id": MAIN, "quantity": "2"}, PRODUCT, "", {"to_warehouse_id": "must differ from from_warehouse_id"}),
        ({"reason": "receipt", "to_warehouse_id": MAIN, "quantity": "x"}, PRODUCT, "", {"quantity": "is not a number"}),
        ({"reason": "receipt", "to_warehouse_id": MAIN, "quantity": "1"}, None, "NOPE", {"product_id": "no product has that SKU or barcode; pick one from the list"}),
        ({"reason": "count", "quantity": "1"}, PRODUCT, "", {"warehouse_id": "is required"}),
    ],
)  # fmt: skip
def test_stock_move_problems_name_the_field(
    raw: dict, product: dict | None, typed: str, expected: dict
) -> None:
    assert move(raw, product, typed)[2] == expected


def line(
    product_id: str | None = PRODUCT["id"], qty: str = "10", cost: str = "4.20", typed: str = ""
) -> OrderLineInput:
    return OrderLineInput(new_id(), product_id, typed, qty, cost)


def test_a_purchase_order_with_totals() -> None:
    raw = {"supplier_id": new_id(), "warehouse_id": MAIN, "expected_on": "2026-12-15", "note": " "}
    built = build_purchase_order(
        ORDER, raw, [line(), line(qty="100", cost="0.15")], "EUR", parse_quantity, parse_money
    )
    assert built.problems == {} and built.command == "inventory.create_purchase_order"
    assert built.extra == {"line_totals": [4200, 1500], "total": 5700}
    assert built.args["expected_on"] == "2026-12-15" and built.args["note"] is None
    assert [(entry["quantity"], entry["unit_cost"]) for entry in built.args["lines"]] == [
        ("10", 420),
        ("100", 15),
    ]


def test_purchase_order_problems_name_the_line() -> None:
    lines = [line(None, "", "", typed=""), line(qty="0"), line(None, typed="ZZZ")]
    built = build_purchase_order(ORDER, {}, lines, "EUR", parse_quantity, parse_money)
    assert built.problems == {
        "Line 1 product": "pick a product",
        "Line 1 quantity": "is required",
        "Line 1 unit cost": "is required",
        "Line 2 quantity": "must be greater than zero",
        "Line 3 product": "no product has that SKU",
        "supplier_id": "is required",
        "warehouse_id": "is required",
    }
    assert build_purchase_order(ORDER, {}, [], "EUR", parse_quantity, parse_money).problems[""] == (
        "Add at least one line (Add line)."
    )

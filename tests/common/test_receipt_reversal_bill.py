"""Reversing a purchase order's receipt takes it off the order line, so no bill can match it.

A receipt of an order line adds its quantity and value to the line (goods received not
invoiced); its reversal takes them back off, and the order is ``ordered`` again when it is no
longer received in full. A receipt already billed is not reversed: the ERP has no supplier
credit note to clear goods received not invoiced again, so the reversal is refused while its
quantity (or value) is more than the line's received and not billed yet. Figures by hand.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from common.ids import new_id
from common.reports import run_report
from common.schema import PurchaseOrder, PurchaseOrderLine, StockMove
from tests.common.business import EVERYTHING, Business


def balances(biz: Business) -> dict[str, str]:
    """Balance (debit minus credit) per account code."""
    with biz.session() as session:
        rows = run_report(session, biz.org_id, "trial_balance", {"as_of": "2099-12-31"}, EVERYTHING)["rows"]
    return {row["code"]: row["balance"] for row in rows}


def grni(biz: Business) -> tuple[str, str, str]:
    """Inventory, goods received not invoiced, payables (``0.00`` when never posted)."""
    found = balances(biz)
    return found.get("1300", "0.00"), found.get("2100", "0.00"), found.get("2000", "0.00")


class Order:
    """A supplier and an ordered purchase order of one line: 10 chairs at 30.00."""

    def __init__(self, biz: Business) -> None:
        self.biz = biz
        self.supplier, self.id, self.line = new_id(), new_id(), new_id()
        biz.apply("inventory.create_supplier", {"id": self.supplier, "name": "Chairs AB", "currency": "EUR"})
        biz.apply("inventory.create_purchase_order", {
            "id": self.id, "supplier_id": self.supplier, "warehouse_id": biz.warehouse(),
            "lines": [{"id": self.line, "product_id": biz.product(), "quantity": "10", "unit_cost": 3_000}],
        })  # fmt: skip
        biz.apply("inventory.order_purchase_order", {"id": self.id})

    def receive(self, quantity: str) -> str:
        """Receive ``quantity`` of the line; the id of its receipt move."""
        before = {move["id"] for move in self.biz.rows(StockMove)}
        self.biz.apply(
            "inventory.receive_purchase_order",
            {"id": self.id, "lines": [{"line_id": self.line, "quantity": quantity}]},
        )
        (move,) = [move for move in self.biz.rows(StockMove) if move["id"] not in before]
        return str(move["id"])

    def reverse(self, move_id: str) -> None:
        self.biz.apply("inventory.reverse_stock_move", {"id": new_id(), "move_id": move_id})

    def bill_args(self, quantity: str) -> dict[str, Any]:
        return {"id": new_id(), "supplier_id": self.supplier, "purchase_order_id": self.id, "lines": [
            {"id": new_id(), "purchase_order_line_id": self.line, "quantity": quantity, "unit_price": 3_000}]}  # fmt: skip

    def status(self) -> str:
        return str(self.biz.row(PurchaseOrder, self.id)["status"])

    def line_figures(self) -> tuple[Decimal, int, Decimal, int]:
        line = self.biz.row(PurchaseOrderLine, self.line)
        return (
            line["received_quantity"],
            line["received_value"],
            line["billed_quantity"],
            line["billed_value"],
        )


def test_a_reversed_receipt_is_off_the_order_and_cannot_be_billed(books: Business) -> None:
    order = Order(books)
    receipt = order.receive("10")
    # 10 × 30.00 = 300.00: inventory / goods received not invoiced; the order is received.
    assert grni(books) == ("300.00", "-300.00", "0.00")
    assert order.status() == "received"
    assert order.line_figures() == (10, 30_000, 0, 0)
    order.reverse(receipt)
    # The reversal takes the 300.00 back and the 10 off the line: the order waits for them again.
    assert grni(books) == ("0.00", "0.00", "0.00")
    assert order.line_figures() == (0, 0, 0, 0)
    assert order.status() == "ordered"
    assert books.row(PurchaseOrder, order.id)["received_at"] is None
    # A bill for the 10 returned is refused (before: accepted, leaving GRNI 300.00 debit).
    error = books.invalid("finance.record_supplier_bill", order.bill_args("10"), "lines.0.quantity")
    assert "only 0 received" in error.message
    assert grni(books) == ("0.00", "0.00", "0.00")
    # Nothing received: the order can be cancelled now.
    books.apply("inventory.cancel_purchase_order", {"id": order.id})
    assert order.status() == "cancelled"


def test_a_reversed_partial_receipt_leaves_the_rest_to_bill_and_to_receive(books: Business) -> None:
    order = Order(books)
    order.receive("4")
    second = order.receive("6")
    assert (order.status(), order.line_figures()) == ("received", (10, 30_000, 0, 0))
    order.reverse(second)
    # 4 × 30.00 = 120.00 stays received; the order is ordered again, 6 outstanding.
    assert grni(books) == ("120.00", "-120.00", "0.00")
    assert (order.status(), order.line_figures()) == ("ordered", (4, 12_000, 0, 0))
    books.invalid("finance.record_supplier_bill", order.bill_args("5"), "lines.0.quantity")
    books.apply("finance.record_supplier_bill", order.bill_args("4"))
    # Billed 4 × 30.00 = 120.00 clears GRNI exactly; payables 120.00.
    assert grni(books) == ("120.00", "0.00", "-120.00")
    assert order.line_figures() == (4, 12_000, 4, 12_000)
    # A receipt typed by hand naming the order is not the order's: its reversal leaves the line.
    number = books.row(PurchaseOrder, order.id)["number"]
    manual = new_id()
    books.apply("inventory.record_stock_move", {
        "id": manual, "product_id": books.row(PurchaseOrderLine, order.line)["product_id"],
        "to_warehouse_id": books.warehouse(), "quantity": "4", "unit_cost": 3_000, "reason": "receipt",
        "reference": number,
    })  # fmt: skip
    order.reverse(manual)
    assert (order.status(), order.line_figures()) == ("ordered", (4, 12_000, 4, 12_000))
    assert grni(books) == ("120.00", "0.00", "-120.00")
    # The 6 arrive again: received in full, 300.00 of stock, 180.00 not billed yet.
    order.receive("6")
    assert order.status() == "received"
    assert grni(books) == ("300.00", "-180.00", "-120.00")


def test_a_billed_receipt_is_not_reversed(books: Business) -> None:
    order = Order(books)
    receipt = order.receive("10")
    books.apply("finance.record_supplier_bill", order.bill_args("10"))
    assert grni(books) == ("300.00", "0.00", "-300.00")
    error = books.refused("inventory.reverse_stock_move", {"id": new_id(), "move_id": receipt})
    assert (error.code, error.field) == ("invalid_state", "move_id"), (error.code, error.field, error.message)
    assert "billed" in error.message
    # Nothing moved: GRNI never goes to a debit balance, the stock and the line are as billed.
    assert grni(books) == ("300.00", "0.00", "-300.00")
    assert order.line_figures() == (10, 30_000, 10, 30_000)
    assert order.status() == "received"


def test_a_receipt_is_reversed_only_within_what_is_not_billed(books: Business) -> None:
    order = Order(books)
    first = order.receive("4")
    second = order.receive("6")
    books.apply("finance.record_supplier_bill", order.bill_args("4"))
    # Billed 4 of 10: 300.00 × 4/10 = 120.00 cleared, 180.00 (6) received and not billed.
    assert grni(books) == ("300.00", "-180.00", "-120.00")
    # The receipt of 6 fits in the 6 not billed: reversed, GRNI is 0.00, not a debit.
    order.reverse(second)
    assert grni(books) == ("120.00", "0.00", "-120.00")
    assert (order.status(), order.line_figures()) == ("ordered", (4, 12_000, 4, 12_000))
    # The receipt of 4 is all billed now: refused.
    error = books.refused("inventory.reverse_stock_move", {"id": new_id(), "move_id": first})
    assert error.code == "invalid_state" and "billed" in error.message
    assert grni(books) == ("120.00", "0.00", "-120.00")


def test_a_partly_billed_single_receipt_is_not_reversed(books: Business) -> None:
    order = Order(books)
    receipt = order.receive("10")
    books.apply("finance.record_supplier_bill", order.bill_args("3"))
    # 3 of 10 billed: 90.00 cleared, 210.00 not billed; reversing 10 (300.00) would leave 90.00 debit.
    assert grni(books) == ("300.00", "-210.00", "-90.00")
    error = books.refused("inventory.reverse_stock_move", {"id": new_id(), "move_id": receipt})
    assert error.code == "invalid_state"
    assert grni(books) == ("300.00", "-210.00", "-90.00")


def test_a_receipt_whose_value_is_billed_though_a_unit_is_not_is_refused_saying_so(books: Business) -> None:
    """Two receipts of one desk at different rates, one desk billed at their average: the desk
    left unbilled is not worth the dearer receipt, which is refused naming the value."""
    supplier, order, line = new_id(), new_id(), new_id()
    books.apply("inventory.create_supplier", {"id": supplier, "name": "Desks Inc", "currency": "USD"})
    books.apply("inventory.create_purchase_order", {
        "id": order, "supplier_id": supplier, "warehouse_id": books.warehouse(),
        "lines": [{"id": line, "product_id": books.product(), "quantity": "2", "unit_cost": 1_000}],
    })  # fmt: skip
    books.apply("inventory.order_purchase_order", {"id": order})
    moves = []
    for rate in ("1.00", "1.20"):  # 10.00 USD at 1.00 = 10.00 EUR, then at 1.20 = 12.00 EUR
        before = {move["id"] for move in books.rows(StockMove)}
        books.apply("inventory.receive_purchase_order", {"id": order, "exchange_rate": rate,
                                                         "lines": [{"line_id": line, "quantity": "1"}]})  # fmt: skip
        moves += [move["id"] for move in books.rows(StockMove) if move["id"] not in before]
    books.apply("finance.record_supplier_bill", {
        "id": new_id(), "supplier_id": supplier, "purchase_order_id": order, "exchange_rate": "1.10",
        "lines": [{"id": new_id(), "purchase_order_line_id": line, "quantity": "1", "unit_price": 1_000}],
    })  # fmt: skip
    received_quantity, received_value, billed_quantity, billed_value = (
        books.row(PurchaseOrderLine, line)[key]
        for key in ("received_quantity", "received_value", "billed_quantity", "billed_value")
    )
    assert (received_quantity, received_value, billed_quantity) == (Decimal(2), 2_200, Decimal(1))
    # One desk is not billed, but 22.00 − billed 11.00 = 11.00 of value is, less than 12.00.
    assert billed_value == 1_100
    error = books.refused("inventory.reverse_stock_move", {"id": new_id(), "move_id": moves[1]})
    assert error.code == "invalid_state"
    assert "cleared more of its received value than reversing this receipt leaves" in error.message
    # The cheaper receipt (10.00 ≤ 11.00) comes off.
    books.apply("inventory.reverse_stock_move", {"id": new_id(), "move_id": moves[0]})
    assert books.row(PurchaseOrderLine, line)["received_value"] == 1_200

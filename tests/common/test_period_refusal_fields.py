"""A receipt or a shipment dated in a closed period is refused naming the field the user sent
(``received_at``, ``fulfilled_at``), not the stock moves' own ``moved_at``."""

from __future__ import annotations

from decimal import Decimal

from common.ids import new_id
from common.schema import PurchaseOrder, PurchaseOrderLine, SalesOrder, StockMove
from tests.common.business import Business

MARCH = "2031-03-15T12:00:00+00:00"


def _closed_march(biz: Business) -> str:
    period = new_id()
    biz.apply(
        "finance.create_fiscal_period",
        {"id": period, "name": "March 2031", "start_date": "2031-03-01", "end_date": "2031-03-31"},
    )
    biz.apply("finance.close_fiscal_period", {"id": period})
    return period


def _ordered(biz: Business) -> tuple[str, str]:
    supplier, order, line = new_id(), new_id(), new_id()
    biz.apply("inventory.create_supplier", {"id": supplier, "name": "Chairs AB", "currency": "EUR"})
    biz.apply("inventory.create_purchase_order", {
        "id": order, "supplier_id": supplier, "warehouse_id": biz.warehouse(),
        "lines": [{"id": line, "product_id": biz.product(), "quantity": "10", "unit_cost": 3_000}],
    })  # fmt: skip
    biz.apply("inventory.order_purchase_order", {"id": order})
    return order, line


def test_a_receipt_in_a_closed_period_names_received_at(books: Business) -> None:
    order, line = _ordered(books)
    period = _closed_march(books)
    error = books.refused("inventory.receive_purchase_order", {"id": order, "received_at": MARCH})
    assert (error.code, error.field) == ("period_closed", "received_at"), (
        error.code,
        error.field,
        error.message,
    )
    assert error.details["period"] == "March 2031" and error.details["field"] == "received_at"
    # Nothing was received.
    assert books.rows(StockMove) == []
    assert books.row(PurchaseOrderLine, line)["received_quantity"] == Decimal(0)
    assert books.row(PurchaseOrder, order)["status"] == "ordered"
    # Reopened, the same receipt is accepted.
    books.apply("finance.reopen_fiscal_period", {"id": period})
    books.apply("inventory.receive_purchase_order", {"id": order, "received_at": MARCH})
    assert books.row(PurchaseOrder, order)["status"] == "received"


def test_a_partial_receipt_in_a_closed_period_names_received_at(books: Business) -> None:
    order, line = _ordered(books)
    _closed_march(books)
    error = books.refused(
        "inventory.receive_purchase_order",
        {"id": order, "received_at": MARCH, "lines": [{"line_id": line, "quantity": "4"}]},
    )
    assert (error.code, error.field) == ("period_closed", "received_at")


def test_a_shipment_in_a_closed_period_names_fulfilled_at(books: Business) -> None:
    order = new_id()
    books.apply("sales.create_sales_order", {"id": order, "customer_id": books.customer(), "warehouse_id": books.warehouse(),
                                             "lines": [{"id": new_id(), "product_id": books.product(), "quantity": "2"}]})  # fmt: skip
    books.apply("sales.confirm_sales_order", {"id": order})
    period = _closed_march(books)
    error = books.refused("sales.fulfil_sales_order", {"id": order, "fulfilled_at": MARCH})
    assert (error.code, error.field) == ("period_closed", "fulfilled_at"), (
        error.code,
        error.field,
        error.message,
    )
    assert error.details["period"] == "March 2031" and error.details["field"] == "fulfilled_at"
    assert books.rows(StockMove) == [] and books.row(SalesOrder, order)["status"] == "confirmed"
    books.apply("finance.reopen_fiscal_period", {"id": period})
    books.apply("sales.fulfil_sales_order", {"id": order, "fulfilled_at": MARCH})
    assert books.row(SalesOrder, order)["status"] == "fulfilled" and len(books.rows(StockMove)) == 1

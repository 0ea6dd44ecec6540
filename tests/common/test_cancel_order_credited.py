"""Cancelling an invoiced sales order: refused while its invoice stands (a draft is deleted, a posted
invoice credited in full first), allowed once the invoice has been credited in full, whether or
not it had been paid. Invoices are never voided.

Figures (EUR, cents): one line of 2 × 1.20 (the product's sale price), no tax: 2.40.
"""

from __future__ import annotations

from typing import Any

from common.ids import new_id
from common.schema import Invoice, InvoiceLine, SalesOrder
from tests.common.business import Business


def _confirmed_order(biz: Business) -> str:
    order_id = new_id()
    biz.apply("sales.create_sales_order", {"id": order_id, "customer_id": biz.customer(),
                                           "lines": [{"id": new_id(), "product_id": biz.product(),
                                                      "quantity": "2"}]})  # fmt: skip
    biz.apply("sales.confirm_sales_order", {"id": order_id})
    return order_id


def _invoiced(biz: Business, order_id: str) -> dict[str, Any]:
    invoice_id = new_id()
    biz.apply(
        "sales.create_invoice", {"id": invoice_id, "sales_order_id": order_id, "issue_date": "2031-05-02"}
    )
    return biz.row(Invoice, invoice_id)


def _credit(biz: Business, invoice: dict[str, Any], **lines: Any) -> None:
    biz.apply("sales.issue_credit_note", {"id": new_id(), "invoice_id": invoice["id"], "issue_date": "2031-05-09",
                                          **lines})  # fmt: skip


def _refusal(biz: Business, order_id: str) -> str:
    error = biz.refused("sales.cancel_sales_order", {"id": order_id})
    assert error.code == "invalid_state"
    assert "void" not in error.message
    assert biz.row(SalesOrder, order_id)["status"] == "confirmed"
    return error.message


def test_an_order_whose_invoice_is_credited_in_full_may_be_cancelled(business: Business) -> None:
    order_id = _confirmed_order(business)
    invoice = _invoiced(business, order_id)
    assert invoice["total"] == 240  # 2 × 1.20
    # A draft invoice: delete it first (a draft is never credited).
    assert "delete the draft invoice first" in _refusal(business, order_id)
    business.apply("sales.post_invoice", {"id": invoice["id"]})
    assert "credit the invoice in full first" in _refusal(business, order_id)
    # One of the two units credited: 1.20 of 2.40; the invoice still stands.
    (line,) = business.rows(InvoiceLine, InvoiceLine.invoice_id == invoice["id"])
    _credit(business, invoice, lines=[{"invoice_line_id": line["id"], "quantity": "1"}])
    assert business.row(Invoice, invoice["id"])["amount_credited"] == 120
    assert "credit the invoice in full first" in _refusal(business, order_id)
    # The other unit: 2.40 credited, the invoice is credited and the order may be cancelled.
    _credit(business, invoice)
    assert business.row(Invoice, invoice["id"])["status"] == "credited"
    business.apply("sales.cancel_sales_order", {"id": order_id})
    assert business.row(SalesOrder, order_id)["status"] == "cancelled"


def test_a_paid_invoice_credited_in_full_lets_the_order_be_cancelled(business: Business) -> None:
    order_id = _confirmed_order(business)
    invoice = _invoiced(business, order_id)
    business.apply("sales.post_invoice", {"id": invoice["id"]})
    business.apply("sales.record_payment", {"id": new_id(), "invoice_id": invoice["id"], "amount": 240,
                                            "paid_on": "2031-05-03"})  # fmt: skip
    # Paid: the invoice stands (status paid, nothing credited).
    assert "credit the invoice in full first" in _refusal(business, order_id)
    # Credited in full after the payment: 2.40 credited, kept as the customer's credit; the
    # invoice stays paid, with amount_credited = total.
    _credit(business, invoice)
    paid = business.row(Invoice, invoice["id"])
    assert (paid["status"], paid["amount_paid"], paid["amount_credited"]) == ("paid", 240, 240)
    business.apply("sales.cancel_sales_order", {"id": order_id})
    assert business.row(SalesOrder, order_id)["status"] == "cancelled"

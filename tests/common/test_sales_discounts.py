"""Line discounts on orders, invoices and credit notes, and editing a draft invoice, on both
sides (a client's copy and the server's store). Figures are worked out by hand in the comments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from common.commands.postings import chart_account_id
from common.ids import new_id
from common.schema import (
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    JournalEntry,
    JournalLine,
    SalesOrder,
    SalesOrderLine,
)
from tests.common.business import Business, role

RECEIVABLES, REVENUE, OUTPUT_TAX = "1200", "4000", "2200"


def posted(biz: Business, source_id: str) -> dict[str, list[tuple[int, int]]]:
    """The (debit, credit) lines of the one entry posted for ``source_id``, per account code."""
    (entry,) = biz.rows(JournalEntry, JournalEntry.source_id == source_id)
    codes = {chart_account_id(biz.org_id, code): code for code in (RECEIVABLES, REVENUE, OUTPUT_TAX)}
    found: dict[str, list[tuple[int, int]]] = {}
    for line in sorted(
        biz.rows(JournalLine, JournalLine.journal_entry_id == entry["id"]), key=lambda r: r["line_no"]
    ):
        found.setdefault(codes.get(line["account_id"], line["account_id"]), []).append(
            (line["debit"], line["credit"])
        )
    return found


def test_a_discounted_invoice_posts_revenue_per_line_at_its_net_and_tax_on_the_net(books: Business) -> None:
    vat = books.tax_rate("20")
    invoice_id, pens, pads = new_id(), new_id(), new_id()
    books.apply(
        "sales.create_invoice",
        {"id": invoice_id, "customer_id": books.customer(), "issue_date": "2031-03-02", "lines": [
            {"id": pens, "description": "Pens", "quantity": "3", "unit_price": 1999,
             "discount_percent": "15", "tax_rate_id": vat},
            {"id": pads, "description": "Pads", "quantity": "2", "unit_price": 1000,
             "discount_percent": "12.5", "tax_rate_id": vat},
        ]},
    )  # fmt: skip
    # Pens: 3 × 19.99 = 59.97, less 15 % = 50.9745 → 50.97 (rounded once, on the line);
    # VAT 20 % of the net 50.97 = 10.194 → 10.19; line 61.16.
    # Pads: 2 × 10.00 = 20.00, less 12.5 % = 17.50; VAT 3.50; line 21.00.
    lines = {line["id"]: line for line in books.rows(InvoiceLine, InvoiceLine.invoice_id == invoice_id)}
    assert (lines[pens]["discount_percent"], lines[pens]["tax_amount"], lines[pens]["line_total"]) == (
        Decimal(15), 1019, 6116,
    )  # fmt: skip
    assert (lines[pads]["discount_percent"], lines[pads]["line_total"]) == (Decimal("12.5"), 2100)
    invoice = books.row(Invoice, invoice_id)
    # Net 50.97 + 17.50 = 68.47; tax 10.19 + 3.50 = 13.69; total 82.16.
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"]) == (6847, 1369, 8216)
    books.apply("sales.post_invoice", {"id": invoice_id})
    assert posted(books, invoice_id) == {
        RECEIVABLES: [(8216, 0)],
        REVENUE: [(0, 5097), (0, 1750)],
        OUTPUT_TAX: [(0, 1369)],
    }
    # Crediting one pen of three: a third of the line's net and tax, 16.99 and 3.3967 → 3.40.
    note_id = new_id()
    books.apply(
        "sales.issue_credit_note",
        {"id": note_id, "invoice_id": invoice_id, "issue_date": "2031-03-09",
         "lines": [{"invoice_line_id": pens, "quantity": "1"}]},
    )  # fmt: skip
    (credited,) = books.rows(CreditNoteLine, CreditNoteLine.credit_note_id == note_id)
    assert (credited["unit_price"], credited["discount_percent"]) == (1999, Decimal(15))
    assert (credited["line_total"] - credited["tax_amount"], credited["tax_amount"]) == (1699, 340)
    assert posted(books, note_id) == {REVENUE: [(1699, 0)], OUTPUT_TAX: [(340, 0)], RECEIVABLES: [(0, 2039)]}


def _order_line(product: str, **extra: Any) -> dict[str, Any]:
    return {"id": new_id(), "product_id": product, "quantity": "3", "unit_price": 1999, **extra}


def test_an_orders_discount_is_stored_and_copied_to_its_invoice(books: Business) -> None:
    vat, product = books.tax_rate("20"), books.product(sale_price=1999)
    order_id, line = new_id(), _order_line(books.product(), discount_percent="15", tax_rate_id=vat)
    books.apply(
        "sales.create_sales_order", {"id": order_id, "customer_id": books.customer(), "lines": [line]}
    )
    (stored,) = books.rows(SalesOrderLine, SalesOrderLine.sales_order_id == order_id)
    assert (stored["unit_price"], stored["discount_percent"]) == (1999, Decimal(15))
    assert books.row(SalesOrder, order_id)["total"] == 6116  # 50.97 + 10.19, as on the invoice above
    # Replacing the lines keeps the discount given; a line without one has none.
    plain = _order_line(product)
    books.apply("sales.set_sales_order_lines", {"id": order_id, "lines": [line, plain]})
    assert books.row(SalesOrder, order_id)["total"] == 6116 + 5997
    assert books.row(SalesOrderLine, plain["id"])["discount_percent"] == 0
    books.apply("sales.confirm_sales_order", {"id": order_id})
    invoice_id = new_id()
    books.apply("sales.create_invoice", {"id": invoice_id, "sales_order_id": order_id})
    copied = sorted(books.rows(InvoiceLine, InvoiceLine.invoice_id == invoice_id), key=lambda r: r["line_no"])
    assert [(c["unit_price"], c["discount_percent"], c["line_total"]) for c in copied] == [
        (1999, Decimal(15), 6116),
        (1999, Decimal(0), 5997),
    ]
    assert books.row(Invoice, invoice_id)["total"] == 6116 + 5997


@pytest.mark.parametrize("discount", ["100.01", "-1", "abc", 12.5])
def test_a_discount_outside_0_to_100_is_refused_naming_the_line(books: Business, discount: Any) -> None:
    customer, product = books.customer(), books.product()
    books.invalid(
        "sales.create_invoice",
        {"id": new_id(), "customer_id": customer, "lines": [
            {"id": new_id(), "description": "Pens", "quantity": "1", "unit_price": 100},
            {"id": new_id(), "description": "Pens", "quantity": "1", "unit_price": 100, "discount_percent": discount},
        ]},
        "lines.1.discount_percent",
    )  # fmt: skip
    books.invalid(
        "sales.create_sales_order",
        {"id": new_id(), "customer_id": customer, "lines": [_order_line(product, discount_percent=discount)]},
        "lines.0.discount_percent",
    )


def test_a_full_discount_is_a_free_line(books: Business) -> None:
    vat = books.tax_rate("20")
    invoice_id = new_id()
    books.apply(
        "sales.create_invoice",
        {"id": invoice_id, "customer_id": books.customer(), "lines": [
            {"id": new_id(), "description": "Sample", "quantity": "2", "unit_price": 1999,
             "discount_percent": "100", "tax_rate_id": vat},
        ]},
    )  # fmt: skip
    assert books.row(Invoice, invoice_id)["total"] == 0


# -- editing a draft invoice -------------------------------------------------------------------------


def _draft(biz: Business, **extra: Any) -> tuple[str, str]:
    invoice_id, line_id = new_id(), new_id()
    biz.apply(
        "sales.create_invoice",
        {"id": invoice_id, "customer_id": biz.customer(), "issue_date": "2031-04-01",
         "due_date": "2031-05-01", **extra,
         "lines": [{"id": line_id, "description": "Desk", "quantity": "2", "unit_price": 10_000}]},
    )  # fmt: skip
    return invoice_id, line_id


def test_a_draft_invoice_is_edited_header_and_lines_then_posted(books: Business) -> None:
    vat, other = books.tax_rate("20"), books.customer(name="Grace Hopper")
    invoice_id, desk = _draft(books)
    before = books.row(Invoice, invoice_id)
    books.apply(
        "sales.update_invoice",
        {"id": invoice_id, "changes": {"customer_id": other, "due_date": "2031-05-15"},
         "base": {"customer_id": before["customer_id"], "due_date": "2031-05-01"}},
    )  # fmt: skip
    chair = {"id": new_id(), "description": "Chair", "quantity": "4", "unit_price": 4_500,
             "discount_percent": "10", "tax_rate_id": vat}  # fmt: skip
    books.apply(
        "sales.set_invoice_lines",
        {"id": invoice_id, "lines": [
            {"id": desk, "description": "Desk, oak", "quantity": "1", "unit_price": 12_000, "tax_rate_id": vat},
            chair,
        ]},
    )  # fmt: skip
    invoice = books.row(Invoice, invoice_id)
    # Desk 120.00 + VAT 24.00; chairs 4 × 45.00 = 180.00 less 10 % = 162.00 + VAT 32.40.
    assert (invoice["customer_id"], str(invoice["due_date"])) == (other, "2031-05-15")
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"]) == (28_200, 5_640, 33_840)
    assert invoice["status"] == "draft" and invoice["number"] == before["number"]
    lines = sorted(books.rows(InvoiceLine, InvoiceLine.invoice_id == invoice_id), key=lambda r: r["line_no"])
    assert [(r["id"], r["description"], r["line_total"]) for r in lines] == [
        (desk, "Desk, oak", 14_400),
        (chair["id"], "Chair", 19_440),
    ]
    # Removing a line deletes it; the totals follow.
    books.apply("sales.set_invoice_lines", {"id": invoice_id, "lines": [chair]})
    assert books.row(InvoiceLine, desk)["deleted"] is True
    assert books.row(Invoice, invoice_id)["total"] == 19_440
    books.apply("sales.post_invoice", {"id": invoice_id})
    assert posted(books, invoice_id) == {
        RECEIVABLES: [(19_440, 0)],
        REVENUE: [(0, 16_200)],
        OUTPUT_TAX: [(0, 3_240)],
    }
    # Posted: never edited again (a credit note corrects it).
    for name, args in (
        ("sales.update_invoice", {"id": invoice_id, "changes": {"due_date": "2031-06-01"},
                                  "base": {"due_date": "2031-05-15"}}),
        ("sales.set_invoice_lines", {"id": invoice_id, "lines": [chair]}),
    ):  # fmt: skip
        error = books.refused(name, args)
        assert error.code == "invalid_state" and "credit note" in error.message


def test_editing_a_draft_invoice_is_refused_naming_the_field(books: Business) -> None:
    invoice_id, desk = _draft(books)
    stale = books.refused(
        "sales.update_invoice",
        {"id": invoice_id, "changes": {"due_date": "2031-06-01"}, "base": {"due_date": "2031-04-30"}},
    )
    assert stale.code == "conflict" and stale.server_values == {"due_date": "2031-05-01"}
    books.invalid(
        "sales.update_invoice",
        {"id": invoice_id, "changes": {"due_date": "2031-03-01"}, "base": {"due_date": "2031-05-01"}},
        "changes.due_date",
    )
    books.invalid(
        "sales.update_invoice",
        {"id": invoice_id, "changes": {"exchange_rate": "1.1"}, "base": {"exchange_rate": "1"}},
        "changes.exchange_rate",
    )
    books.invalid(
        "sales.update_invoice",
        {"id": invoice_id, "changes": {"customer_id": new_id()}, "base": {"customer_id": None}},
        "changes.customer_id",
    )
    books.invalid(
        "sales.update_invoice",
        {"id": invoice_id, "changes": {"currency": "USD"}, "base": {"currency": "EUR"}},
        "changes.currency",
    )
    other_invoice, used = _draft(books)
    books.invalid(
        "sales.set_invoice_lines",
        {"id": invoice_id, "lines": [{"id": used, "description": "x", "quantity": "1", "unit_price": 1}]},
        "lines.0.id",
    )
    books.invalid(
        "sales.set_invoice_lines",
        {"id": invoice_id, "lines": [
            {"id": desk, "description": "x", "quantity": "1", "unit_price": 1, "discount_percent": "101"}
        ]},
        "lines.0.discount_percent",
    )  # fmt: skip
    assert books.row(Invoice, invoice_id)["total"] == 20_000  # nothing refused was kept
    assert books.row(Invoice, other_invoice)["total"] == 20_000


def test_an_order_invoice_keeps_the_orders_customer(books: Business) -> None:
    customer = books.customer()
    order_id = new_id()
    books.apply(
        "sales.create_sales_order",
        {"id": order_id, "customer_id": customer, "lines": [_order_line(books.product())]},
    )
    books.apply("sales.confirm_sales_order", {"id": order_id})
    invoice_id = new_id()
    books.apply("sales.create_invoice", {"id": invoice_id, "sales_order_id": order_id})
    books.invalid(
        "sales.update_invoice",
        {"id": invoice_id, "changes": {"customer_id": books.customer()}, "base": {"customer_id": customer}},
        "changes.customer_id",
    )


def test_a_line_that_bills_project_time_stays_on_the_draft(books: Business) -> None:
    customer = books.customer(name="Client Oy")
    project = books.project(customer_id=customer, currency="EUR", hourly_rate=9_000)
    user = new_id()
    employee = books.employee(name="Tim Timesheet", user_id=user)
    books.apply(
        "projects.log_time",
        {
            "id": new_id(),
            "employee_id": employee,
            "project_id": project,
            "work_date": "2031-06-02",
            "hours": "3",
        },
        permissions=role("employee"),
        actor_id=user,
    )
    invoice_id = new_id()
    books.apply(
        "projects.invoice_time", {"id": invoice_id, "project_id": project, "through_date": "2031-06-30"}
    )
    (billed,) = books.rows(InvoiceLine, InvoiceLine.invoice_id == invoice_id)
    extra = {"id": new_id(), "description": "Travel", "quantity": "1", "unit_price": 4_000}
    error = books.invalid("sales.set_invoice_lines", {"id": invoice_id, "lines": [extra]}, "lines")
    assert "bills project time" in error.message
    # Kept, it may be given a discount, and more lines added.
    kept = {k: str(billed[k]) for k in ("id", "description", "quantity")}
    books.apply(
        "sales.set_invoice_lines",
        {"id": invoice_id, "lines": [{**kept, "unit_price": 9_000, "discount_percent": "10"}, extra]},
    )
    # 3 h × 90.00 = 270.00 less 10 % = 243.00, and 40.00 travel.
    assert books.row(Invoice, invoice_id)["total"] == 24_300 + 4_000

"""Crediting an invoice line in several parts: the parts add up to exactly the line, on both sides.

Each part takes its share of what is still uncredited on the line (rounded half up), and the part
that credits the last units takes all that is left of the line's net and tax, so no cent is left
on receivables or output tax, and the invoice ends ``credited`` as one full credit note leaves it.

Figures are worked out by hand (EUR, cents).
"""

from __future__ import annotations

from typing import Any

from common.ids import new_id
from common.schema import CreditNote, Invoice
from tests.common.business import Business, report


def _balances(biz: Business, codes: tuple[str, ...] = ("1200", "2200", "2300", "4000")) -> dict[str, str]:
    """Receivables, output tax, customer credit and revenue (0.00 where nothing was posted)."""
    rows = report(biz, "trial_balance", as_of="2099-12-31")["rows"]
    found = {row["code"]: row["balance"] for row in rows}
    return {code: found.get(code, "0.00") for code in codes}


def _invoice(biz: Business, vat: str, quantity: str, unit_price: int, **extra: Any) -> tuple[str, str]:
    invoice_id, line_id = new_id(), new_id()
    customer = biz.customer(**({"currency": "USD"} if "exchange_rate" in extra else {}))
    biz.apply("sales.create_invoice", {"id": invoice_id, "customer_id": customer, "issue_date": "2031-05-02",
                                       "lines": [{"id": line_id, "description": "Widget", "quantity": quantity,
                                                  "unit_price": unit_price, "tax_rate_id": vat}], **extra})  # fmt: skip
    biz.apply("sales.post_invoice", {"id": invoice_id})
    return invoice_id, line_id


def _credit(
    biz: Business, invoice_id: str, line_id: str | None = None, quantity: str = "1"
) -> dict[str, Any]:
    note_id = new_id()
    args: dict[str, Any] = {"id": note_id, "invoice_id": invoice_id, "issue_date": "2031-05-09"}
    if line_id is not None:
        args["lines"] = [{"invoice_line_id": line_id, "quantity": quantity}]
    biz.apply("sales.issue_credit_note", args)
    return biz.row(CreditNote, note_id)


def _state(invoice: dict[str, Any]) -> tuple[str, int, int]:
    return invoice["status"], invoice["amount_credited"], invoice["total"]


def test_a_line_credited_in_three_parts_credits_exactly_the_line(books: Business) -> None:
    vat = books.tax_rate("25")
    invoice_id, line_id = _invoice(books, vat, "3", 417)
    # 3 × 4.17 = 12.51 net; 25 % of it is 3.1275 → 3.13 tax; 15.64 owed.
    assert _state(books.row(Invoice, invoice_id)) == ("posted", 0, 1_564)
    notes = [_credit(books, invoice_id, line_id) for _ in range(3)]
    # Net: 12.51 / 3 = 4.17 for each unit, exactly.
    # Tax, each part its share of the tax not credited yet:
    #   1st: 3.13 × 1/3 = 1.0433 → 1.04 (2.09 left on 2 units)
    #   2nd: 2.09 × 1/2 = 1.045 → 1.05 (half up; 1.04 left on 1 unit)
    #   3rd: the last unit takes what is left, 1.04.
    # 1.04 + 1.05 + 1.04 = 3.13: all of the tax. (Before: 1.04 each, 3.12, a cent never credited.)
    assert [(n["subtotal"], n["tax_total"], n["total"]) for n in notes] == [
        (417, 104, 521),
        (417, 105, 522),
        (417, 104, 521),
    ]
    # 5.21 + 5.22 + 5.21 = 15.64: nothing is owed, nothing is left on output tax or revenue.
    assert _state(books.row(Invoice, invoice_id)) == ("credited", 1_564, 1_564)
    assert _balances(books) == {
        "1200": "0.00",
        "2200": "0.00",
        "2300": "0.00",
        "4000": "0.00",
    }
    again = books.refused("sales.issue_credit_note", {"id": new_id(), "invoice_id": invoice_id})
    assert (again.code, again.field) == ("invalid_state", "invoice_id")
    # The same state as an invoice credited by one note: 15.64 credited, credited.
    whole_id, _ = _invoice(books, vat, "3", 417)
    whole = _credit(books, whole_id)
    assert (whole["subtotal"], whole["tax_total"], whole["total"]) == (1_251, 313, 1_564)
    assert _state(books.row(Invoice, whole_id)) == _state(books.row(Invoice, invoice_id))
    # The tax summary nets all four notes off both invoices: nothing due for May.
    totals = report(books, "tax_summary", **{"from": "2031-05-01", "to": "2031-05-31"})["totals"]
    assert (totals["output_base"], totals["output_tax"]) == ("0.00", "0.00")


def test_small_parts_never_credit_more_than_the_line_charged(books: Business) -> None:
    vat = books.tax_rate("25")
    invoice_id, line_id = _invoice(books, vat, "7", 3)
    # 7 × 0.03 = 0.21 net; 25 % = 0.0525 → 0.05 tax; 0.26 owed. Credited a unit at a time, the
    # line's 0.05 tax rounded per unit (5/7 = 0.71 → 0.01 each) would credit 0.07 of tax.
    # Each part takes its share of the tax not credited yet instead:
    #   5 × 1/7 = 0.71 → 1; 4 × 1/6 = 0.67 → 1; 3 × 1/5 = 0.6 → 1; 2 × 1/4 = 0.5 → 1 (half up);
    #   1 × 1/3 = 0.33 → 0; 1 × 1/2 = 0.5 → 1; the last unit: what is left, 0.
    # Net 0.03 a unit exactly.
    notes = [_credit(books, invoice_id, line_id) for _ in range(7)]
    assert [n["tax_total"] for n in notes] == [1, 1, 1, 1, 0, 1, 0]
    assert [n["subtotal"] for n in notes] == [3] * 7
    # 0.21 + 0.05 = 0.26 credited: the invoice is credited, with no credit left to the customer.
    assert _state(books.row(Invoice, invoice_id)) == ("credited", 26, 26)
    assert _balances(books) == {
        "1200": "0.00",
        "2200": "0.00",
        "2300": "0.00",
        "4000": "0.00",
    }


def test_in_a_foreign_currency_the_parts_give_back_the_revenue_and_tax_the_invoice_posted(
    books: Business,
) -> None:
    vat = books.tax_rate("25")
    invoice_id, line_id = _invoice(books, vat, "3", 417, exchange_rate="0.917")
    # 12.51 USD net, 3.13 USD tax, 15.64 USD at 0.917 EUR: revenue 11.4717 → 11.47, output tax
    # 2.8702 → 2.87, receivables 14.3419 → 14.34.
    assert _balances(books, ("1200", "2200", "4000")) == {"1200": "14.34", "2200": "-2.87", "4000": "-11.47"}
    notes = [_credit(books, invoice_id, line_id) for _ in range(3)]
    # In USD: 4.17 + 1.04, 4.17 + 1.05, 4.17 + 1.04 (as in the first test). In EUR each note
    # takes the converted amount credited after it less the one before:
    #   revenue: 4.17 → 3.8239 → 3.82; 8.34 → 7.6478 → 7.65 (3.83); 12.51 → 11.47 (3.82)
    #   tax:     1.04 → 0.9537 → 0.95; 2.09 → 1.9165 → 1.92 (0.97); 3.13 → 2.87 (0.95)
    #   receivables (as payments do): 5.21 → 4.78; 10.43 → 9.56 (4.78); 15.64 → 14.34 (4.78)
    # Each note's difference (+0.01, −0.02, +0.01) goes to rounding, 0.00 in all. Converting
    # each part on its own (3.82 + 3.82 + 3.82 = 11.46 revenue, 0.95 + 0.96 + 0.95 = 2.86 tax)
    # left a cent on revenue and on output tax and 0.02 on rounding.
    assert [n["tax_total"] for n in notes] == [104, 105, 104]
    assert _state(books.row(Invoice, invoice_id)) == ("credited", 1_564, 1_564)
    assert _balances(books, ("1200", "2200", "4000", "7900")) == {
        "1200": "0.00",
        "2200": "0.00",
        "4000": "0.00",
        "7900": "0.00",
    }

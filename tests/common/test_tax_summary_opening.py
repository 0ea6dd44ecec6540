"""Open items brought from the old system are not sales or purchases of the period: the tax summary
leaves opening invoices out of its output side and opening bills out of its input side, as the
profit and loss leaves them out of income and expenses.

Figures are worked out by hand (EUR, cents), all in January 2031:
- opening invoice OLD-77, 1,200.00 owed (receivables / temporary opening, no revenue, no tax);
- opening bill S-9, 450.00 owed (temporary opening / payables, no expense, no tax);
- an invoice of 2 × 50.00 at 20 % VAT: 100.00 net, 20.00 output tax;
- a bill for rent of 50.00 at 20 % VAT: 50.00 net, 10.00 input tax.
Tax summary: output base 100.00, output tax 20.00, input base 50.00, input tax 10.00, payable 10.00
(with the open items counted it showed 1,300.00 and 500.00 as taxable bases).
"""

from __future__ import annotations

from common.commands.postings import chart_account_id
from common.ids import new_id
from tests.common.business import Business, report

JANUARY = {"from": "2031-01-01", "to": "2031-01-31"}


def test_opening_invoices_and_bills_are_left_out_of_the_tax_summary(books: Business) -> None:
    customer, supplier, vat = books.customer(), new_id(), books.tax_rate("20")
    books.apply("inventory.create_supplier", {"id": supplier, "name": "Parts AB", "currency": "EUR"})
    books.apply("finance.record_opening_invoice", {"id": new_id(), "customer_id": customer, "number": "OLD-77",
                                                   "issue_date": "2031-01-15", "amount": 120_000})  # fmt: skip
    books.apply("finance.record_opening_bill", {"id": new_id(), "supplier_id": supplier, "supplier_reference": "S-9",
                                                "bill_date": "2031-01-15", "amount": 45_000})  # fmt: skip
    # The open items alone: nothing in the tax summary, as nothing is in the profit and loss.
    assert report(books, "tax_summary", **JANUARY)["rows"] == []
    assert report(books, "profit_and_loss", **JANUARY)["totals"]["income"] == "0.00"

    invoice = new_id()
    books.apply("sales.create_invoice", {"id": invoice, "customer_id": customer, "issue_date": "2031-01-20",
                                         "lines": [{"id": new_id(), "description": "Desk", "quantity": "2",
                                                    "unit_price": 5_000, "tax_rate_id": vat}]})  # fmt: skip
    books.apply("sales.post_invoice", {"id": invoice})
    rent = chart_account_id(books.org_id, "6500")
    books.apply("finance.record_supplier_bill", {"id": new_id(), "supplier_id": supplier, "bill_date": "2031-01-20",
                                                 "lines": [{"id": new_id(), "account_id": rent, "description": "Rent",
                                                            "quantity": "1", "unit_price": 5_000,
                                                            "tax_rate_id": vat}]})  # fmt: skip
    summary = report(books, "tax_summary", **JANUARY)
    # One row, the 20 % rate: the sale and the purchase of the month, not the open items.
    assert [(row["code"] is not None, row["rate"]) for row in summary["rows"]] == [(True, "20")]
    assert summary["totals"] == {
        "output_base": "100.00",
        "output_tax": "20.00",
        "input_base": "50.00",
        "input_tax": "10.00",
        "payable": "10.00",
    }
    # The same income as the profit and loss: the 100.00 of the desks.
    assert report(books, "profit_and_loss", **JANUARY)["totals"]["income"] == "100.00"


def test_the_report_names_the_opening_role_the_commands_post_to() -> None:
    from common.commands.opening_items import OPENING_ROLE
    from common.reports import tax

    assert tax.OPENING_ROLE == OPENING_ROLE

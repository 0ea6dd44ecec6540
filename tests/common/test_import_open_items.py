"""Open customer invoices and supplier bills from the old system, imported on both sides: problems
named by row and column, each row one posted document against the temporary opening account,
the same file again changes nothing; aging, statements and payments treat them like any other;
with the account-level opening balances naming the temporary opening account in place of
receivables and payables, the temporary opening account ends at zero.

Every figure below is worked out by hand (ledger in EUR, cents):
- invoices: A-1001 Initech 1,200.00; A-1002 Umbrella 800.50; A-1003 Initech 300.00;
  A-1004 Globex 1,000.00 USD at 0.9 = 900.00 EUR. Receivables 3,200.50.
- bills: S-77 Acme 450.00; H-9 Hooli 1,049.50. Payables 1,499.50.
- the old trial balance on 2030-12-31: bank 5,000.00 Dr, receivables 3,200.50 Dr, payables
  1,499.50 Cr, capital 6,701.00 Cr (5,000.00 + 3,200.50 − 1,499.50). The opening balances file
  names 3900 Temporary opening in place of 1200 and 2000.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from common.commands.postings import chart_account_id, mapping_id
from common.documents.loaders import Period, load_statement
from common.ids import new_id
from common.imports import KINDS, ImportPlan, match_columns, plan_import, read_table, run_plan
from common.reports import run_report, trial_balance
from common.schema import (
    Account,
    AccountMapping,
    Customer,
    Invoice,
    InvoiceLine,
    JournalEntry,
    JournalLine,
    Supplier,
    SupplierBill,
)
from tests.common.business import EVERYTHING, Business
from tests.common.sides import SIDES, open_side

OPENED = date(2030, 12, 31)

INVOICES_WRONG = """Customer,Invoice number,Issue date,Due date,Open amount,Currency,Exchange rate,Description
nobody@example.com,A-1001,2030-10-15,2030-11-14,1200.00,,,
Umbrella Corp,A-1002,2030-12-01,2031-01-31,,,,
initech@example.com,A-1003,2030-13-01,,300.00,,,Old balance
globex@example.com,A-1004,2030-12-10,2031-01-09,1000.00,USD,,
initech@example.com,INV-000007,2030-12-10,2030-12-01,10.00,,,
"""
INVOICES = """Customer,Invoice number,Issue date,Due date,Open amount,Currency,Exchange rate,Description
initech@example.com,A-1001,2030-10-15,2030-11-14,1200.00,,,
Umbrella Corp,A-1002,2030-12-01,2031-01-31,800.50,,,
initech@example.com,A-1003,2030-08-01,,300.00,,,Old balance
globex@example.com,A-1004,2030-12-10,2031-01-09,1000.00,USD,0.9,
"""
BILLS = """Supplier,Bill number,Bill date,Due date,Open amount
acme@example.com,S-77,2030-11-20,2030-12-20,450.00
Hooli,H-9,2030-12-15,2031-02-15,1049.50
"""
BALANCES = """Account,Debit,Credit,Description
1000,5000.00,,Bank
3900,3200.50,,Receivables: their invoices are imported as open customer invoices
3900,,1499.50,Payables: their bills are imported as open supplier bills
3000,,6701.00,Capital
"""


def plan(business: Business, kind: str, text: str, **options: Any) -> ImportPlan:
    table = read_table(text.encode("utf-8"), f"{kind}.csv")
    with business.session() as session:
        return plan_import(
            session,
            business.org_id,
            kind,
            table,
            match_columns(table.header, KINDS[kind]),
            default_currency="EUR",
            **options,
        )


def apply(business: Business, planned: ImportPlan) -> list[str]:
    assert planned.ok, [str(p) for p in planned.problems]
    return [str(p) for p in run_plan(planned, lambda name, args: business.apply(name, args))]


def problems(planned: ImportPlan) -> list[str]:
    return [str(p) for p in planned.problems]


def balances(business: Business, as_of: date) -> dict[str, int]:
    with business.session() as session:
        rows = trial_balance(session, business.org_id, as_of).rows
    return {row.code: row.balance for row in rows if row.balance}


def report(business: Business, name: str, **params: str) -> dict[str, Any]:
    with business.session() as session:
        return run_report(session, business.org_id, name, params, EVERYTHING)


def aging(business: Business, name: str, as_of: str) -> dict[str, dict[str, str]]:
    rows = report(business, name, as_of=as_of)["rows"]
    return {
        row["name"]: {key: value for key, value in row.items() if key not in ("party_id", "name")}
        for row in rows
    }


def partners(business: Business) -> dict[str, str]:
    """The customers and suppliers of the files (made once per store)."""
    found = {row["name"]: row["id"] for row in business.rows(Customer)}
    found.update({row["name"]: row["id"] for row in business.rows(Supplier)})
    ids = {}
    for name, email, currency in (
        ("Initech", "initech@example.com", "EUR"),
        ("Umbrella Corp", "umbrella@example.com", "EUR"),
        ("Globex", "globex@example.com", "USD"),
    ):
        ids[name] = found.get(name) or business.customer(name=name, email=email, currency=currency)
    for name, email in (("Acme Supplies", "acme@example.com"), ("Hooli", "hooli@example.com")):
        if name not in found:
            found[name] = new_id()
            business.apply(
                "inventory.create_supplier",
                {"id": found[name], "name": name, "email": email, "currency": "EUR"},
            )
        ids[name] = found[name]
    return ids


def opened(business: Business) -> None:
    """The files imported (nothing changes when a test before did it on this store: tests of
    this module may run on different workers, each with its own store)."""
    partners(business)
    for kind, text in (("open_invoices", INVOICES), ("open_bills", BILLS)):
        assert apply(business, plan(business, kind, text)) == []
    assert apply(business, plan(business, "opening_balances", BALANCES, opening_date=OPENED)) == []


def test_open_items_named_by_row_and_column_then_posted_once_and_the_temporary_account_nets_to_zero(
    business: Business,
) -> None:
    ids = partners(business)
    assert problems(plan(business, "open_invoices", INVOICES_WRONG)) == [
        "Row 2, Customer: no customer has the e-mail or name “nobody@example.com” (import customers first)",
        "Row 3, Open amount: is required",
        "Row 4, Issue date: “2030-13-01” is not a date (YYYY-MM-DD)",
        "Row 5, Exchange rate: is required: the USD amount needs the rate to EUR, the ledger's currency "
        "(EUR per 1 USD)",
        "Row 6, Invoice number: “INV-000007” is a number of this system's own series; "
        "give the old system's number",
        "Row 6, Due date: 2030-12-01 is before the Issue date 2030-12-10",
    ]
    # A foreign amount in a file without an exchange-rate column: the column is named all the same.
    no_rate = "Customer,Invoice number,Issue date,Open amount\nGlobex,G-1,2030-12-01,5.00\n"
    assert problems(plan(business, "open_invoices", no_rate)) == [
        "Row 2, Exchange rate: is required: the USD amount needs the rate to EUR, the ledger's currency "
        "(EUR per 1 USD)"
    ]

    planned = plan(business, "open_invoices", INVOICES)
    assert planned.ok and planned.created == 4
    assert planned.summary() == (
        "4 open invoices of 3 customers (2,300.50 EUR, 1,000.00 USD); 0 already in the books or with nothing open"
    )
    assert apply(business, planned) == []
    bills = plan(business, "open_bills", BILLS)
    assert bills.ok and apply(business, bills) == []

    # Each row is an ordinary posted document: the old number is the invoice's number, the
    # supplier's number the bill's reference; one line, no tax.
    invoices = {row["number"]: row for row in business.rows(Invoice, Invoice.number.like("A-%"))}
    assert sorted(invoices) == ["A-1001", "A-1002", "A-1003", "A-1004"]
    first = invoices["A-1001"]
    assert (first["status"], first["customer_id"], first["total"], first["tax_total"]) == (
        "posted", ids["Initech"], 120_000, 0
    )  # fmt: skip
    assert (invoices["A-1004"]["currency"], invoices["A-1004"]["exchange_rate"]) == ("USD", Decimal("0.9"))
    (line,) = business.rows(InvoiceLine, InvoiceLine.invoice_id == invoices["A-1003"]["id"])
    assert (line["description"], line["line_total"], line["tax_rate_id"]) == ("Old balance", 30_000, None)
    by_reference = {row["supplier_reference"]: row for row in business.rows(SupplierBill)}
    assert by_reference["S-77"]["number"].startswith(business.number_prefix("BILL"))
    assert (by_reference["H-9"]["supplier_id"], by_reference["H-9"]["total"]) == (ids["Hooli"], 104_950)

    # The entries: receivables against the temporary opening account, no revenue, no expense.
    accounts = {row["id"]: row["code"] for row in business.rows(Account)}
    entry = business.rows(JournalEntry, JournalEntry.source_id == first["id"])[0]
    lines = business.rows(JournalLine, JournalLine.journal_entry_id == entry["id"])
    assert sorted((accounts[ln["account_id"]], ln["debit"], ln["credit"]) for ln in lines) == [
        ("1200", 120_000, 0),
        ("3900", 0, 120_000),
    ]
    assert balances(business, OPENED) == {"1200": 320_050, "2000": -149_950, "3900": -170_100}

    # The same files again: nothing to do.
    again = plan(business, "open_invoices", INVOICES)
    assert again.ok and again.commands == [] and again.unchanged == 4
    again_bills = plan(business, "open_bills", BILLS)
    assert again_bills.ok and again_bills.commands == [] and again_bills.unchanged == 2
    # ...and the commands refuse a second copy (another workstation's import of the same file).
    refused = business.invalid("finance.record_opening_invoice", {**planned.commands[0].args, "id": new_id()},
                               "number")  # fmt: skip
    assert refused.message == "number: 'A-1001' is already used by another invoice"
    business.invalid(
        "finance.record_opening_bill", {**bills.commands[0].args, "id": new_id()}, "supplier_reference"
    )

    # The account-level opening balances name the temporary account where receivables and
    # payables were: after both imports it is zero, and the trial balance is the old one.
    opening = plan(business, "opening_balances", BALANCES, opening_date=OPENED)
    assert apply(business, opening) == []
    assert balances(business, OPENED) == {
        "1000": 500_000,
        "1200": 320_050,
        "2000": -149_950,
        "3000": -670_100,
    }


def test_aging_statement_and_payments_treat_open_items_like_any_document(business: Business) -> None:
    opened(business)
    invoices = {row["number"]: row for row in business.rows(Invoice, Invoice.number.like("A-%"))}
    bills = {row["supplier_reference"]: row for row in business.rows(SupplierBill)}
    assert len(invoices) == 4 and len(bills) == 2

    # Initech pays 500.00 of A-1001; 200.00 of S-77 is paid to Acme.
    business.apply("sales.record_payment", {"id": new_id(), "invoice_id": invoices["A-1001"]["id"],
                                            "amount": 50_000, "paid_on": "2031-01-10"})  # fmt: skip
    business.apply("finance.record_supplier_payment", {"id": new_id(), "supplier_bill_id": bills["S-77"]["id"],
                                                       "amount": 20_000, "paid_on": "2031-01-12"})  # fmt: skip
    paid = business.row(Invoice, invoices["A-1001"]["id"])
    assert (paid["status"], paid["amount_paid"]) == ("posted", 50_000)

    # As of 2031-01-20: A-1001 due 2030-11-14 is 67 days overdue (700.00 left); A-1003 has no
    # due date and was issued 2030-08-01, 172 days before; A-1004 due 2031-01-09, 11 days;
    # A-1002 is not due yet. S-77 due 2030-12-20: 31 days (250.00 left); H-9 not due.
    zero = "0.00"
    assert aging(business, "ar_aging", "2031-01-20") == {
        "Globex": {"current": zero, "days_1_30": "900.00", "days_31_60": zero, "days_61_90": zero,
                   "over_90": zero, "total": "900.00"},
        "Initech": {"current": zero, "days_1_30": zero, "days_31_60": zero, "days_61_90": "700.00",
                    "over_90": "300.00", "total": "1000.00"},
        "Umbrella Corp": {"current": "800.50", "days_1_30": zero, "days_31_60": zero, "days_61_90": zero,
                          "over_90": zero, "total": "800.50"},
    }  # fmt: skip
    assert aging(business, "ap_aging", "2031-01-20") == {
        "Acme Supplies": {"current": zero, "days_1_30": zero, "days_31_60": "250.00", "days_61_90": zero,
                          "over_90": zero, "total": "250.00"},
        "Hooli": {"current": "1049.50", "days_1_30": zero, "days_31_60": zero, "days_61_90": zero,
                  "over_90": zero, "total": "1049.50"},
    }  # fmt: skip

    # Initech's statement for January: 1,500.00 brought forward, the payment, 1,000.00 due.
    with business.session() as session:
        statement = load_statement(
            session,
            business.org_id,
            invoices["A-1001"]["customer_id"],
            Period(date(2031, 1, 1), date(2031, 1, 31)),
        )
    assert [(t.label, t.amount) for t in statement.totals] == [
        ("Balance brought forward", Decimal("1500.00")),
        ("Charges", Decimal("0.00")),
        ("Payments and credits", Decimal("500.00")),
        ("Balance due EUR", Decimal("1000.00")),
    ]
    assert [line["document"] for line in statement.lines] == [
        "Balance brought forward",
        "Payment of invoice A-1001",
    ]

    # The ledger agrees: bank 5,000.00 + 500.00 − 200.00; receivables 3,200.50 − 500.00;
    # payables 1,499.50 − 200.00; the temporary opening account stays at zero.
    assert balances(business, date(2031, 1, 20)) == {
        "1000": 530_000, "1200": 270_050, "2000": -129_950, "3000": -670_100
    }  # fmt: skip

    # Paid in full, an opening invoice is paid like any other.
    business.apply("sales.record_payment", {"id": new_id(), "invoice_id": invoices["A-1001"]["id"],
                                            "amount": 70_000, "paid_on": "2031-01-21"})  # fmt: skip
    assert business.row(Invoice, invoices["A-1001"]["id"])["status"] == "paid"


def test_open_items_in_a_closed_period_are_refused(business: Business) -> None:
    opened(business)
    period = new_id()
    business.apply(
        "finance.create_fiscal_period",
        {"id": period, "name": "FY2029", "start_date": "2029-01-01", "end_date": "2029-12-31"},
    )
    business.apply("finance.close_fiscal_period", {"id": period})
    old = "Customer,Invoice number,Issue date,Open amount\nInitech,Z-1,2029-06-01,10.00\n"
    assert problems(plan(business, "open_invoices", old)) == [
        "Row 2, Issue date: 2029-06-01 falls in fiscal period FY2029, which is closed"
    ]
    customer = business.rows(Invoice, Invoice.number == "A-1001")[0]["customer_id"]
    error = business.refused(
        "finance.record_opening_invoice",
        {
            "id": new_id(),
            "customer_id": customer,
            "number": "Z-1",
            "issue_date": "2029-06-01",
            "amount": 1000,
        },
    )
    assert (error.code, error.details["period"]) == ("period_closed", "FY2029")
    supplier = business.rows(SupplierBill)[0]["supplier_id"]
    error = business.refused(
        "finance.record_opening_bill",
        {"id": new_id(), "supplier_id": supplier, "supplier_reference": "Z-1", "bill_date": "2029-06-01",
         "amount": 1000},
    )  # fmt: skip
    assert error.code == "period_closed"

    # Documents already imported stay unchanged once their period is closed: the file again is no problem.
    year = new_id()
    business.apply(
        "finance.create_fiscal_period",
        {"id": year, "name": "FY2030", "start_date": "2030-01-01", "end_date": "2030-12-31"},
    )
    business.apply("finance.close_fiscal_period", {"id": year})
    again = plan(business, "open_invoices", INVOICES)
    assert again.ok and again.commands == [] and again.unchanged == 4


@pytest.mark.parametrize("side", SIDES)
def test_books_set_up_before_the_opening_role_get_it_when_first_needed(
    tmp_path: Path, server_store_template: Path, side: str
) -> None:
    """An organization whose chart predates the temporary opening account: its first opening
    invoice creates 3900 Temporary opening and the setting (same ids everywhere); an emptied
    setting is refused, naming it, by the plan and by the command."""
    store = open_side(side, tmp_path / "store", server_store_template)
    try:
        old = Business(store, new_id()).set_up_books()
        with store.write_session() as session:  # as set up by a release without the role
            session.execute(delete(AccountMapping).where(AccountMapping.role == "opening"))
            session.execute(delete(Account).where(Account.code == "3900"))
        assert old.rows(AccountMapping, AccountMapping.role == "opening") == []
        customer = old.customer(email="ada@example.com")
        args = {"customer_id": customer, "number": "X-1", "issue_date": "2030-06-01", "amount": 1_000}
        old.apply("finance.record_opening_invoice", {"id": new_id(), **args})
        (setting,) = old.rows(AccountMapping, AccountMapping.role == "opening")
        (account,) = old.rows(Account, Account.code == "3900")
        assert (account["id"], account["name"], account["type"]) == (
            chart_account_id(old.org_id, "3900"), "Temporary opening", "equity"
        )  # fmt: skip
        assert (setting["id"], setting["account_id"]) == (mapping_id(old.org_id, "opening"), account["id"])
        assert balances(old, date(2030, 6, 1)) == {"1200": 1_000, "3900": -1_000}

        old.apply("finance.update_account_mapping", {"id": setting["id"], "changes": {"account_id": None},
                                                     "base": {"account_id": account["id"]}})  # fmt: skip
        assert problems(
            plan(
                old,
                "open_invoices",
                "Customer,Invoice number,Issue date,Open amount\nada@example.com,X-2,2030-06-01,5.00\n",
            )
        ) == [
            "Whole file, Open customer invoices: the posting role Temporary opening has no account: "
            "choose one in Finance › Account mapping"
        ]
        error = old.refused("finance.record_opening_invoice", {"id": new_id(), **args, "number": "X-2"})
        assert (error.code, error.details["setting"]) == ("mapping_missing", "opening")
    finally:
        store.close()

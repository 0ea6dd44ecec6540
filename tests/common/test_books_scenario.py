"""The books in a user's month, on a real encrypted desktop store (Tryton-style scenarios).

Figures are worked out by hand in the comments; the statements come from the one report code
the server runs too (``common.reports``).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from common.commands.postings import chart_account_id, mapping_id
from common.ids import new_id
from common.reports import run_report, stock_valuation
from common.schema import Invoice, JournalEntry, JournalLine, ProductCost, StockMove
from tests.common.business import EVERYTHING, Business, report
from tests.common.plans import plans_of, statements_on
from tests.common.sides import SIDES, open_side
from tests.common.textbook_month import END, START, Month, check_statements


def balances(biz: Business, as_of: str = "2099-12-31") -> dict[str, str]:
    """Balance (debit minus credit) per account code."""
    return {row["code"]: row["balance"] for row in report(biz, "trial_balance", as_of=as_of)["rows"]}


def entries_of(biz: Business, source_id: str) -> list[dict[str, Any]]:
    return biz.rows(JournalEntry, JournalEntry.source_id == source_id)


def test_the_textbook_month_on_an_encrypted_desktop_store(books: Business) -> None:
    month = Month()
    for _, name, args in month.steps(books.org_id):
        books.apply(name, args)
    check_statements(
        report(books, "trial_balance", as_of=END),
        report(books, "profit_and_loss", **{"from": START, "to": END}),
        report(books, "balance_sheet", as_of=END),
    )
    # Every posting is linked to its source document, one entry each.
    for key, sources in (("invoice", ["invoice"]), ("payment", ["payment"]), ("bill", ["supplier_bill"]),
                         ("supplier_payment", ["supplier_payment"]),
                         ("payroll", ["payroll_payment", "payroll_run"])):  # fmt: skip
        assert sorted(e["source"] for e in entries_of(books, month.ids[key])) == sources
    # The 40 chairs left are worth 40 × 30.00 in the stock valuation and the inventory account.
    with books.session() as session:
        (valued,) = stock_valuation(session, books.org_id)
    assert (valued.quantity, valued.value) == (40, 120_000)
    assert report(books, "stock_valuation")["totals"] == {"value": "1200.00"}
    # The invoice got its number when posted (provisional offline), and is paid.
    invoice = books.row(Invoice, month.ids["invoice"])
    assert invoice["status"] == "paid" and invoice["number"].startswith(books.number_prefix("INV"))


def test_moving_average_over_two_lots(books: Business) -> None:
    warehouse, chair = books.warehouse(), books.product(cost_price=2_500)

    def receive(quantity: str, unit_cost: int) -> None:
        books.apply("inventory.record_stock_move", {"id": new_id(), "product_id": chair, "to_warehouse_id": warehouse,
                                                    "quantity": quantity, "unit_cost": unit_cost, "reason": "receipt"})  # fmt: skip

    receive("100", 3_000)  # 100 @ 30.00 = 3,000.00
    receive("100", 3_600)  # 100 @ 36.00 = 3,600.00 → 200 worth 6,600.00: 33.00 each
    cost = books.row(ProductCost, chair)
    assert (cost["quantity"], cost["value"], cost["average_cost"]) == (200, 660_000, 3_300)
    issue_id = new_id()
    books.apply("inventory.record_stock_move", {"id": issue_id, "product_id": chair, "from_warehouse_id": warehouse,
                                                "quantity": "50", "reason": "issue"})  # fmt: skip
    # 50 leave at 33.00 = 1,650.00 (at the typed cost price 25.00 it would be 1,250.00; at the
    # first lot's 30.00, 1,500.00).
    assert books.row(StockMove, issue_id)["value"] == 165_000
    assert balances(books)["5000"] == "1650.00"
    assert balances(books)["1300"] == "4950.00"  # 150 × 33.00
    with books.session() as session:
        (valued,) = stock_valuation(session, books.org_id)
    assert (valued.quantity, valued.unit_cost, valued.value) == (150, 3_300, 495_000)
    # A third lot at 40.00 moves the average: (4,950 + 2,000) / 200 = 34.75.
    receive("50", 4_000)
    assert books.row(ProductCost, chair)["average_cost"] == 3_475
    # A transfer changes no value; selling everything leaves exactly nothing in inventory.
    other = books.warehouse()
    books.apply("inventory.record_stock_move", {"id": new_id(), "product_id": chair, "from_warehouse_id": warehouse,
                                                "to_warehouse_id": other, "quantity": "20", "reason": "transfer"})  # fmt: skip
    for source, quantity in ((warehouse, "180"), (other, "20")):
        books.apply("inventory.record_stock_move", {"id": new_id(), "product_id": chair, "from_warehouse_id": source,
                                                    "quantity": quantity, "reason": "issue"})  # fmt: skip
    assert books.row(ProductCost, chair)["value"] == 0
    assert balances(books)["1300"] == "0.00"
    assert balances(books)["5000"] == "8600.00"  # all 250 units: 3,000 + 3,600 + 2,000


def test_adjustments_counts_and_reversals_post_to_stock_adjustments(books: Business) -> None:
    warehouse, bolt = books.warehouse(), books.product()
    books.apply("inventory.record_stock_move", {"id": new_id(), "product_id": bolt, "to_warehouse_id": warehouse,
                                                "quantity": "10", "unit_cost": 200, "reason": "receipt"})  # fmt: skip
    lost = new_id()
    books.apply("inventory.record_stock_move", {"id": lost, "product_id": bolt, "from_warehouse_id": warehouse,
                                                "quantity": "3", "reason": "count"})  # fmt: skip
    # 3 lost at 2.00: stock adjustments 6.00 Dr, inventory 20.00 − 6.00 = 14.00.
    assert (balances(books)["5100"], balances(books)["1300"]) == ("6.00", "14.00")
    books.apply("inventory.reverse_stock_move", {"id": new_id(), "move_id": lost})
    # Found again: exactly the value that left comes back.
    assert (balances(books)["5100"], balances(books)["1300"]) == ("0.00", "20.00")


def test_a_credit_note_restores_receivables(books: Business) -> None:
    vat, customer = books.tax_rate("20"), books.customer()
    invoice_id, line_id = new_id(), new_id()
    books.apply("sales.create_invoice", {"id": invoice_id, "customer_id": customer, "issue_date": "2031-05-02",
                                         "lines": [{"id": line_id, "description": "Desk", "quantity": "2",
                                                    "unit_price": 10_000, "tax_rate_id": vat}]})  # fmt: skip
    books.apply("sales.post_invoice", {"id": invoice_id})
    # 2 × 100.00 + 20 % = 240.00 owed.
    assert balances(books)["1200"] == "240.00"
    first = new_id()
    outcome = books.apply("sales.issue_credit_note", {"id": first, "invoice_id": invoice_id, "issue_date": "2031-05-09",
                                                      "lines": [{"invoice_line_id": line_id, "quantity": "1"}]})  # fmt: skip
    assert outcome.data["number"].startswith(books.number_prefix("CN"))
    # One desk credited: receivables 240 − 120 = 120.00; revenue 200 − 100; output tax 40 − 20.
    assert (balances(books)["1200"], balances(books)["4000"], balances(books)["2200"]) == (
        "120.00",
        "-100.00",
        "-20.00",
    )
    assert books.row(Invoice, invoice_id)["status"] == "posted"
    error = books.invalid("sales.issue_credit_note", {"id": new_id(), "invoice_id": invoice_id,
                                                      "lines": [{"invoice_line_id": line_id, "quantity": "2"}]},
                          "lines.0.quantity")  # fmt: skip
    assert "only 1" in error.message
    books.apply(
        "sales.issue_credit_note", {"id": new_id(), "invoice_id": invoice_id, "issue_date": "2031-05-10"}
    )
    assert balances(books)["1200"] == "0.00"
    assert books.row(Invoice, invoice_id)["status"] == "credited"
    again = books.refused("sales.issue_credit_note", {"id": new_id(), "invoice_id": invoice_id})
    assert (again.code, again.field) == ("invalid_state", "invoice_id")
    # The tax summary nets the credit notes off the invoice: nothing due for May.
    summary = report(books, "tax_summary", **{"from": "2031-05-01", "to": "2031-05-31"})
    assert summary["totals"]["output_tax"] == "0.00" and summary["totals"]["output_base"] == "0.00"


def test_a_credit_note_on_a_paid_invoice_becomes_the_customers_credit(books: Business) -> None:
    customer = books.customer()
    invoice_id = new_id()
    books.apply("sales.create_invoice", {"id": invoice_id, "customer_id": customer, "issue_date": "2031-06-01",
                                         "lines": [{"id": new_id(), "description": "Fee", "quantity": "1",
                                                    "unit_price": 5_000}]})  # fmt: skip
    books.apply("sales.post_invoice", {"id": invoice_id})
    books.apply(
        "sales.record_payment",
        {"id": new_id(), "invoice_id": invoice_id, "amount": 5_000, "paid_on": "2031-06-02"},
    )
    books.apply(
        "sales.issue_credit_note", {"id": new_id(), "invoice_id": invoice_id, "issue_date": "2031-06-03"}
    )
    # Paid 50.00, then credited 50.00: receivables stay 0, the customer has 50.00 to their credit.
    assert (balances(books)["1200"], balances(books)["2300"], balances(books)["1000"]) == (
        "0.00",
        "-50.00",
        "50.00",
    )


def test_a_partial_payment_in_a_foreign_currency_posts_its_exchange_difference(books: Business) -> None:
    customer = books.customer(currency="USD")
    invoice_id = new_id()
    books.invalid("sales.create_invoice", {"id": new_id(), "customer_id": customer, "lines": [
        {"id": new_id(), "description": "Consulting", "quantity": "1", "unit_price": 100_000}]}, "exchange_rate")  # fmt: skip
    books.apply("sales.create_invoice", {"id": invoice_id, "customer_id": customer, "issue_date": "2031-07-01",
                                         "exchange_rate": "0.9", "lines": [{"id": new_id(), "description": "Consulting",
                                                                            "quantity": "1", "unit_price": 100_000}]})  # fmt: skip
    books.apply("sales.post_invoice", {"id": invoice_id})
    # 1,000.00 USD at 0.90 EUR: receivables and revenue 900.00 EUR.
    assert (balances(books)["1200"], balances(books)["4000"]) == ("900.00", "-900.00")
    first = new_id()
    books.apply("sales.record_payment", {"id": first, "invoice_id": invoice_id, "amount": 40_000,
                                         "paid_on": "2031-07-10", "exchange_rate": "0.95"})  # fmt: skip
    # 400.00 USD at 0.95 = 380.00 EUR in the bank; it settles 400 × 0.90 = 360.00 of receivables;
    # the 20.00 EUR more is an exchange gain (a credit on exchange differences).
    assert (balances(books)["1000"], balances(books)["1200"], balances(books)["7910"]) == (
        "380.00",
        "540.00",
        "-20.00",
    )
    (entry,) = entries_of(books, first)
    with books.session() as session:
        lines = session.execute(select(JournalLine.debit, JournalLine.credit).where(
            JournalLine.org_id == books.org_id, JournalLine.journal_entry_id == entry["id"])).all()  # fmt: skip
    assert sorted(lines) == [(0, 2_000), (0, 36_000), (38_000, 0)]
    books.apply("sales.record_payment", {"id": new_id(), "invoice_id": invoice_id, "amount": 60_000,
                                         "paid_on": "2031-07-20", "exchange_rate": "0.85"})  # fmt: skip
    # 600.00 USD at 0.85 = 510.00 EUR settles the remaining 540.00: a 30.00 loss. Net: −10.00 (a loss).
    assert (balances(books)["1000"], balances(books)["1200"], balances(books)["7910"]) == (
        "890.00",
        "0.00",
        "10.00",
    )
    assert books.row(Invoice, invoice_id)["status"] == "paid"


def test_a_converted_entry_that_misses_by_a_minor_unit_goes_to_rounding(books: Business) -> None:
    customer, vat = books.customer(currency="USD"), books.tax_rate("20")
    invoice_id = new_id()
    books.apply("sales.create_invoice", {"id": invoice_id, "customer_id": customer, "issue_date": "2031-07-01",
                                         "exchange_rate": "0.333333", "lines": [
        {"id": new_id(), "description": "A", "quantity": "1", "unit_price": 1_000, "tax_rate_id": vat},
        {"id": new_id(), "description": "B", "quantity": "1", "unit_price": 1_000, "tax_rate_id": vat}]})  # fmt: skip
    books.apply("sales.post_invoice", {"id": invoice_id})
    # 24.00 USD × 0.333333 = 7.999992 → 8.00 EUR receivable (debit); each line's 10.00 → 3.33
    # (6.66 revenue) and the 4.00 tax → 1.33: credits 7.99, a cent short of 8.00 → 0.01 credited
    # to rounding.
    assert (balances(books)["1200"], balances(books)["4000"], balances(books)["2200"], balances(books)["7900"]) == (
        "8.00", "-6.66", "-1.33", "-0.01",
    )  # fmt: skip


def test_supplier_bill_price_difference_goes_to_purchase_price_variance(books: Business) -> None:
    warehouse, part = books.warehouse(), books.product()
    supplier, order, line = new_id(), new_id(), new_id()
    books.apply("inventory.create_supplier", {"id": supplier, "name": "Parts AB", "currency": "EUR"})
    books.apply("inventory.create_purchase_order", {"id": order, "supplier_id": supplier, "warehouse_id": warehouse,
                                                    "lines": [{"id": line, "product_id": part, "quantity": "10",
                                                               "unit_cost": 3_000}]})  # fmt: skip
    books.apply("inventory.order_purchase_order", {"id": order})
    books.apply(
        "inventory.receive_purchase_order", {"id": order, "lines": [{"line_id": line, "quantity": "6"}]}
    )
    # 6 received at 30.00: inventory and GRNI 180.00.
    assert (balances(books)["1300"], balances(books)["2100"]) == ("180.00", "-180.00")
    books.invalid("finance.record_supplier_bill", {"id": new_id(), "supplier_id": supplier, "purchase_order_id": order,
                                                   "lines": [{"id": new_id(), "purchase_order_line_id": line,
                                                              "quantity": "7", "unit_price": 3_200}]},
                  "lines.0.quantity")  # only 6 were received  # fmt: skip
    bill = new_id()
    books.apply("finance.record_supplier_bill", {"id": bill, "supplier_id": supplier, "purchase_order_id": order,
                                                 "lines": [{"id": new_id(), "purchase_order_line_id": line,
                                                            "quantity": "6", "unit_price": 3_200}]})  # fmt: skip
    # Billed 6 × 32.00 = 192.00: GRNI cleared at the order's 180.00, 12.00 price variance.
    assert (balances(books)["2100"], balances(books)["5200"], balances(books)["2000"]) == (
        "0.00",
        "12.00",
        "-192.00",
    )
    books.invalid(
        "finance.record_supplier_payment",
        {"id": new_id(), "supplier_bill_id": bill, "amount": 19_201},
        "amount",
    )
    books.apply(
        "finance.record_supplier_payment", {"id": new_id(), "supplier_bill_id": bill, "amount": 19_200}
    )
    assert balances(books)["2000"] == "0.00"
    # A direct bill for rent names its account.
    rent = chart_account_id(books.org_id, "6500")
    books.apply("finance.record_supplier_bill", {"id": new_id(), "supplier_id": supplier, "lines": [
        {"id": new_id(), "account_id": rent, "description": "Rent June", "quantity": "1", "unit_price": 80_000}]})  # fmt: skip
    assert (balances(books)["6500"], balances(books)["2000"]) == ("800.00", "-800.00")


def test_every_dated_document_in_a_closed_period_is_refused_offline(books: Business) -> None:
    month = Month()
    steps = month.steps(books.org_id)
    for _, name, args in steps[:16]:  # up to the customer's payment
        books.apply(name, args)
    period = new_id()
    books.apply(
        "finance.create_fiscal_period",
        {"id": period, "name": "March 2031", "start_date": START, "end_date": END},
    )
    books.apply("finance.close_fiscal_period", {"id": period})
    refused = {
        "finance.record_supplier_payment": steps[16][2],
        "sales.create_invoice": {"id": new_id(), "customer_id": month.ids["customer"], "issue_date": "2031-03-30",
                                 "lines": [{"id": new_id(), "description": "x", "quantity": "1", "unit_price": 1}]},
        "sales.issue_credit_note": {"id": new_id(), "invoice_id": month.ids["invoice"], "issue_date": "2031-03-31"},
        "inventory.record_stock_move": {"id": new_id(), "product_id": month.ids["product"], "quantity": "1",
                                        "to_warehouse_id": month.ids["warehouse"], "reason": "receipt",
                                        "moved_at": "2031-03-15T12:00:00+00:00"},
        "finance.post_journal_entry": {**steps[0][2], "id": new_id()},
    }  # fmt: skip
    books.apply("hr.create_employee", steps[17][2])
    refused["hr.run_payroll"] = steps[18][2]
    for name, args in refused.items():
        error = books.refused(name, args)
        assert error.code == "period_closed", (name, error.code, error.message)
        assert "March 2031" in error.message and error.details["period"] == "March 2031"
    # A transfer posts nothing and is not a dated document of the books.
    books.apply("inventory.record_stock_move", {"id": new_id(), "product_id": month.ids["product"], "quantity": "1",
                                                "from_warehouse_id": month.ids["warehouse"],
                                                "to_warehouse_id": books.warehouse(), "reason": "transfer",
                                                "moved_at": "2031-03-15T12:00:00+00:00"})  # fmt: skip
    # Reopened, the same payment is accepted.
    books.apply("finance.reopen_fiscal_period", {"id": period})
    books.apply("finance.record_supplier_payment", steps[16][2])


def test_year_end_close_moves_the_result_to_retained_earnings(books: Business) -> None:
    for _, name, args in Month().steps(books.org_id):
        books.apply(name, args)
    books.apply("finance.close_year", {"id": new_id(), "start_date": "2031-01-01", "end_date": "2031-12-31"})
    # The year's loss of 800.00 now sits in retained earnings; income and expenses are closed.
    sheet = report(books, "balance_sheet", as_of="2031-12-31")
    assert sheet["totals"] == {"assets": "10000.00", "liabilities": "800.00", "equity": "9200.00"}
    equity = {row["name"]: row["amount"] for row in sheet["rows"] if row["type"] == "equity"}
    assert equity == {
        "Owner's capital": "10000.00",
        "Retained earnings": "-800.00",
        "Result not yet closed": "0.00",
    }
    # Profit and loss still reports what the year earned (the closing entry is left out).
    assert (
        report(books, "profit_and_loss", **{"from": "2031-01-01", "to": "2031-12-31"})["totals"]["result"]
        == "-800.00"
    )
    # Beside the next year, the closed year is the previous period, its closing entry left out too.
    following = report(books, "profit_and_loss", **{"from": "2032-01-01", "to": "2032-12-31"})
    previous = {row["type"]: Decimal(0) for row in following["rows"]}
    for row in following["rows"]:
        previous[row["type"]] += Decimal(row["previous"])
    assert previous["income"] - previous["expense"] == Decimal("-800.00")
    assert all(row["amount"] == "0.00" for row in following["rows"])
    books.invalid(
        "finance.close_year",
        {"id": new_id(), "start_date": "2031-01-01", "end_date": "2031-12-31"},
        "end_date",
    )


def test_profit_and_loss_reads_its_lines_by_index_after_a_year_end_close(books: Business) -> None:
    """The query plans, not the time (bench_reports times them over a million lines): each
    period's sums read only the result accounts' balances in that period, each account a range
    of the balance table's key; the closing entries are found by the source index and their
    lines read from those entries alone. A plan that walked every line for the closing lines
    took 5 s over a million lines."""
    for _, name, args in Month().steps(books.org_id):
        books.apply(name, args)
    books.apply("finance.close_year", {"id": new_id(), "start_date": "2031-01-01", "end_date": "2031-12-31"})
    with books.session() as session:
        connection = session.connection()
        with statements_on(connection) as statements:
            params = {"from": "2032-01-01", "to": "2032-12-31"}
            run_report(session, books.org_id, "profit_and_loss", params, EVERYTHING)
        sums = plans_of(connection, statements, "journal_balance")
        closing = plans_of(connection, statements, "journal_entry")
        lines = plans_of(connection, statements, "journal_line")
    # The closing entries by the source index's prefix (a handful of year-end entries), not a
    # walk of the organization's entries.
    assert closing == ["SEARCH journal_entry USING INDEX ix_journal_entry_source (org_id=? AND source=?)"]
    by_account = (
        "SEARCH journal_balance USING PRIMARY KEY"
        " (org_id=? AND account_id=? AND currency=? AND entry_date>? AND entry_date<?)"
    )
    assert sums == [by_account, by_account]
    # The closing entry's lines: that entry by its key, then its lines from its own JSON.
    assert lines[0] == "SEARCH e USING PRIMARY KEY (org_id=? AND id=?)" or lines[0].startswith(
        "SEARCH e USING INDEX sqlite_autoindex_journal_entry_1 (org_id=? AND id=?)"
    ), lines
    assert all("SCAN e" not in plan for plan in lines), lines


def test_a_missing_mapping_is_refused_naming_the_setting(books: Business) -> None:
    receivables = mapping_id(books.org_id, "receivables")
    books.apply("finance.update_account_mapping", {"id": receivables, "changes": {"account_id": None},
                                                   "base": {"account_id": chart_account_id(books.org_id, "1200")}})  # fmt: skip
    invoice_id = new_id()
    books.apply("sales.create_invoice", {"id": invoice_id, "customer_id": books.customer(), "lines": [
        {"id": new_id(), "description": "x", "quantity": "1", "unit_price": 100}]})  # fmt: skip
    error = books.refused("sales.post_invoice", {"id": invoice_id})
    assert (error.code, error.details["setting"]) == ("mapping_missing", "receivables")
    assert "receivables" in error.message
    assert books.row(Invoice, invoice_id)["status"] == "draft"  # nothing half-written
    # Pointed at another account, the same invoice posts there.
    other = books.account("asset")
    books.apply("finance.update_account_mapping", {"id": receivables, "changes": {"account_id": other},
                                                   "base": {"account_id": None}})  # fmt: skip
    books.apply("sales.post_invoice", {"id": invoice_id})
    with books.session() as session:
        assert (
            session.execute(
                select(func.sum(JournalLine.debit)).where(JournalLine.account_id == other)
            ).scalar()
            == 100
        )


@pytest.mark.parametrize("side", SIDES)
def test_before_the_books_are_set_up_nothing_is_posted_and_then_everything_is(
    tmp_path: Path, server_store_template: Path, side: str
) -> None:
    """An organization from before the books (until finance.set_up_books) keeps working and
    posts nothing; once its books are set up, every event posts."""
    store = open_side(side, tmp_path / "store", server_store_template)
    try:
        old = Business(store, new_id())
        customer = old.customer()

        def invoice() -> str:
            invoice_id = new_id()
            old.apply("sales.create_invoice", {"id": invoice_id, "customer_id": customer, "lines": [
                {"id": new_id(), "description": "x", "quantity": "1", "unit_price": 100}]})  # fmt: skip
            old.apply("sales.post_invoice", {"id": invoice_id})
            return invoice_id

        before = invoice()
        assert old.rows(JournalEntry) == []
        supplier = new_id()
        old.apply("inventory.create_supplier", {"id": supplier, "name": "S", "currency": "EUR"})
        error = old.refused("finance.record_supplier_bill", {"id": new_id(), "supplier_id": supplier, "lines": [
            {"id": new_id(), "account_id": new_id(), "description": "x", "quantity": "1", "unit_price": 1}]})  # fmt: skip
        assert (error.code, error.details["setting"]) == ("mapping_missing", "ledger")
        old.set_up_books("EUR")
        assert old.refused("finance.set_up_books", {"currency": "USD"}).code == "invalid_state"
        after = invoice()
        assert [e["source_id"] for e in old.rows(JournalEntry)] == [after]
        assert before != after
    finally:
        store.close()


def test_aging_buckets_and_the_general_ledger(books: Business) -> None:
    customer = books.customer()
    due_dates = {
        "2031-09-30": 100,
        "2031-09-20": 200,
        "2031-08-20": 400,
        "2031-07-20": 800,
        "2031-05-01": 1_600,
    }
    for due, amount in due_dates.items():
        invoice_id = new_id()
        books.apply("sales.create_invoice", {"id": invoice_id, "customer_id": customer, "issue_date": "2031-01-02",
                                             "due_date": due, "lines": [{"id": new_id(), "description": "x",
                                                                         "quantity": "1", "unit_price": amount}]})  # fmt: skip
        books.apply("sales.post_invoice", {"id": invoice_id})
    aging = report(books, "ar_aging", as_of="2031-09-30")
    # Due today: current; 10 days late: 1–30; 41: 31–60; 72: 61–90; 152: over 90.
    (row,) = aging["rows"]
    assert (row["current"], row["days_1_30"], row["days_31_60"], row["days_61_90"], row["over_90"], row["total"]) == (
        "1.00", "2.00", "4.00", "8.00", "16.00", "31.00",
    )  # fmt: skip
    assert row["name"] == "Ada Lovelace"
    # Without the right to read customers, the name (personal data) is not shown.
    with books.session() as session:
        masked = run_report(
            session, books.org_id, "ar_aging", {"as_of": "2031-09-30"}, frozenset({"finance.read"})
        )
    assert masked["rows"][0]["name"] is None and masked["rows"][0]["total"] == "31.00"
    ledger = report(
        books, "general_ledger", account=chart_account_id(books.org_id, "1200"), **{"from": "2031-01-02"}
    )
    running = Decimal(ledger["totals"]["opening"])
    for line in ledger["rows"]:  # each balance is the one before plus this line
        running += Decimal(line["debit"]) - Decimal(line["credit"])
        assert Decimal(line["balance"]) == running
    assert sorted(line["debit"] for line in ledger["rows"]) == ["1.00", "16.00", "2.00", "4.00", "8.00"]
    assert (ledger["totals"]["opening"], ledger["totals"]["closing"]) == ("0.00", "31.00")

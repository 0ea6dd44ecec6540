"""Finance report screens (issue 14): trial balance, profit and loss beside the previous period,
balance sheet, general ledger and tax summary, with drill-down from a figure to its journal
lines and from a line to its source document — on a real encrypted store, real widgets.

The books are the textbook month of issue 12 (tests/common/textbook_month.py: every figure
worked out by hand there), plus one hand-typed February entry so that profit and loss has a
previous period: Dr 6000 Wages 500.00 / Cr 1000 Bank 500.00 on 2031-02-15. With it, as of
2031-03-31: Bank debit 13,600.00, credit 5,400.00 + 500.00 = 5,900.00 (balance 7,700.00);
Wages debit 2,000.00 + 500.00 = 2,500.00; debits and credits 33,000.00 + 500.00 = 33,500.00.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from common.commands.postings import chart_account_id
from common.ids import new_id
from common.permissions import ALL_PERMISSIONS, permissions_for_roles
from common.schema import InvoiceLine, JournalEntry
from desktop import background
from desktop.qt import Qt
from desktop.session import UserSession
from desktop.ui.finance_reports import (
    BalanceSheetPage,
    GeneralLedgerPage,
    LedgerDialog,
    ProfitAndLossPage,
    TaxSummaryPage,
    TrialBalancePage,
)
from desktop.ui.main_window import MainWindow
from desktop.ui.printing import PrintPreview
from desktop.ui.reports_data import preset_of, preset_range, source_document
from desktop.ui.reports_drill import SourceDocumentDialog, TaxLinesDialog
from desktop.ui.reports_view import ReportPage
from desktop.ui.window_tools import print_current
from tests.common.plans import plans_while
from tests.common.textbook_month import Month
from tests.desktop.seed import offline_session

MARCH = (date(2031, 3, 1), date(2031, 3, 31))
FEBRUARY = (date(2031, 2, 1), date(2031, 2, 28))
REPORT_PAGES = {"trial_balance", "profit_and_loss", "balance_sheet", "general_ledger", "tax_summary"}


@pytest.fixture
def month(session: UserSession, use_locale: Any) -> tuple[UserSession, Month]:
    """The textbook month and the February wages entry, posted through the real commands."""
    use_locale("en_US")
    books = Month()
    for _role, name, args in books.steps(session.org_id):  # HR's salary needs hr.sensitive.read
        session.store.apply(name, args, actor_id=session.user.id, permissions=ALL_PERMISSIONS)
    org = session.org_id
    books.ids["february"] = new_id()
    session.apply("finance.post_journal_entry", {
        "id": books.ids["february"], "entry_date": "2031-02-15", "currency": "EUR", "memo": "Advance on wages",
        "lines": [{"account_id": chart_account_id(org, "6000"), "debit": 50_000},
                  {"account_id": chart_account_id(org, "1000"), "credit": 50_000}]})  # fmt: skip
    return session, books


@pytest.fixture
def window(qtbot: QtBot, month: tuple[UserSession, Month]) -> Iterator[MainWindow]:
    win = MainWindow(month[0])
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    idle(qtbot)
    yield win
    win.leaving_confirmed = True


def idle(qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: background.active_count() == 0, timeout=20_000)


def open_report(
    qtbot: QtBot, window: MainWindow, key: str, period: tuple[date, date] = MARCH, *, made: bool = True
) -> Any:
    page = window.open_page(key)
    assert isinstance(page, ReportPage)
    page.period.set_range(*period)
    page.compute()  # at once: no waiting for the typing delay
    idle(qtbot)
    assert (page.last_error is None) is made, page.last_error
    return page


def shown(page: ReportPage, key: str, **match: Any) -> str:
    return page.model.text(page.row_index(**match), key)


def test_trial_balance_drills_down_to_an_accounts_lines_and_then_to_the_invoice(
    qtbot: QtBot, window: MainWindow
) -> None:
    page = open_report(qtbot, window, "trial_balance")
    assert isinstance(page, TrialBalancePage)
    assert page.made is not None and page.made["params"] == {"as_of": "2031-03-31"}
    # As worked out above, in the user's locale (en_US), never minor units.
    assert (shown(page, "debit", code="1000"), shown(page, "credit", code="1000")) == (
        "13,600.00",
        "5,900.00",
    )
    assert shown(page, "balance", code="1000") == "7,700.00"
    assert (shown(page, "debit", code="6000"), shown(page, "balance", code="4000")) == (
        "2,500.00",
        "-3,000.00",
    )
    assert [shown(page, key, name="Total") for key in ("debit", "credit", "balance")] == [
        "33,500.00", "33,500.00", "0.00"
    ]  # fmt: skip
    assert "balanced" in page.summary_label.text() and "NOT" not in page.summary_label.text()
    assert page.currency_label.text() == "Amounts in EUR."

    # Receivables: the invoice (3,600.00 in) and the customer's payment (3,600.00 out) in March.
    ledger = page.drill_row(page.row_index(code="1200"), "balance")
    assert isinstance(ledger, LedgerDialog)
    idle(qtbot)
    lines = ledger.ledger
    assert lines.made is not None
    assert lines.made["params"] == {"from": "2031-03-01", "to": "2031-03-31", "account": chart_account_id(
        window.session.org_id, "1200")}  # fmt: skip
    body = [row for row in lines.model.rows if not row.get("_style")]
    assert [(lines.model.text(lines.model.rows.index(r), "source"), r["debit"], r["credit"]) for r in body] == [
        ("Invoice", "3600.00", "0.00"), ("Payment received", "0.00", "3600.00")
    ]  # fmt: skip
    assert shown(lines, "balance", memo="Opening balance") == "0.00"
    assert shown(lines, "balance", memo="Total and closing balance") == "0.00"
    assert shown(lines, "debit", memo="Total and closing balance") == "3,600.00"
    assert lines.model.text(lines.model.rows.index(body[0]), "date") == "3/5/2031"  # en_US short date

    # The invoice's line → the invoice, read-only, with its lines and the entry it posted.
    document = lines.drill_row(lines.model.rows.index(body[0]), "memo")
    assert isinstance(document, SourceDocumentDialog)
    idle(qtbot)
    doc = document.document
    assert doc is not None and doc.source == "invoice" and doc.title.startswith("Invoice DRAFT-")
    assert document.findChild(type(document.title), "field_customer_id").text() == "Office Oy"
    assert document.findChild(type(document.title), "field_total").text() == "3,600.00 EUR"
    assert document.findChild(type(document.title), "field_status").text() == "Paid"
    assert document.lines_table is not None and document.entry_table is not None
    line_model = document.lines_table.model()
    assert [line_model.data(line_model.index(0, c)) for c in range(line_model.columnCount())][1:] == [
        "Chair", "60", "50.00 EUR", doc.lines[0]["tax_rate_id"], "600.00 EUR", "3,600.00 EUR"
    ]  # fmt: skip
    assert doc.lines[0]["tax_rate_id"].startswith("VAT")  # the rate's code, not its id
    posting = [(row["code"], row["debit"], row["credit"]) for row in doc.entry_lines]
    assert sorted(posting) == [("1200", 360_000, 0), ("2200", 0, 60_000), ("4000", 0, 300_000)]
    document.close()
    ledger.close()


def test_profit_and_loss_shows_the_previous_period_and_drills_into_either(
    qtbot: QtBot, window: MainWindow
) -> None:
    page = open_report(qtbot, window, "profit_and_loss")
    assert isinstance(page, ProfitAndLossPage)
    assert page.made is not None
    assert (page.made["params"]["previous_from"], page.made["params"]["previous_to"]) == (
        "2031-02-01", "2031-02-28"
    )  # the month before March  # fmt: skip
    header = [page.model.headerData(c, Qt.Orientation.Horizontal) for c in range(page.model.columnCount())]
    assert header == ["Account", "Name", "This period", "Previous period"]
    # Income 3,000.00 (none before); expenses COGS 1,800.00 and wages 2,000.00 (500.00 in February).
    assert (shown(page, "amount", code="4000"), shown(page, "previous", code="4000")) == ("3,000.00", "0.00")
    assert (shown(page, "amount", code="6000"), shown(page, "previous", code="6000")) == (
        "2,000.00",
        "500.00",
    )
    assert (shown(page, "amount", name="Total expenses"), shown(page, "previous", name="Total expenses")) == (
        "3,800.00", "500.00"
    )  # fmt: skip
    assert (shown(page, "amount", name="Result"), shown(page, "previous", name="Result")) == (
        "-800.00",
        "-500.00",
    )
    assert page.summary_label.text() == "Loss 800.00 EUR; previous period 2/1/2031 – 2/28/2031."
    # A double-click on the previous period's figure shows February's wages line.
    ledger = page.drill_row(page.row_index(code="6000"), "previous")
    assert isinstance(ledger, LedgerDialog)
    idle(qtbot)
    made = ledger.ledger.made
    assert made is not None and (made["params"]["from"], made["params"]["to"]) == ("2031-02-01", "2031-02-28")
    assert [(row["memo"], row["debit"]) for row in made["rows"]] == [("Advance on wages", "500.00")]
    # …and that line's source is the manual entry itself, with its two lines.
    entry = ledger.ledger.drill_row(1, "memo")
    assert isinstance(entry, SourceDocumentDialog)
    idle(qtbot)
    assert entry.document is not None and entry.document.title.startswith("Manual entry ")
    assert [(r["code"], r["debit"], r["credit"]) for r in entry.document.entry_lines] == [
        ("6000", 50_000, 0), ("1000", 0, 50_000)
    ]  # fmt: skip
    entry.close()
    ledger.close()


def test_balance_sheet_and_tax_summary_in_german(qtbot: QtBot, window: MainWindow, use_locale: Any) -> None:
    use_locale("de_DE")
    page = open_report(qtbot, window, "balance_sheet")
    assert isinstance(page, BalanceSheetPage)
    # Assets 7,700 + 1,200 + 600 = 9,500; liabilities 600 + 200 = 800; equity 10,000 − 1,300 = 8,700
    # (the result not yet closed: −800 in March, −500 in February).
    assert shown(page, "amount", name="Total assets") == "9.500,00"
    assert shown(page, "amount", name="Total liabilities") == "800,00"
    assert shown(page, "amount", name="Result not yet closed") == "-1.300,00"
    assert shown(page, "amount", name="Total equity") == "8.700,00"
    assert shown(page, "amount", name="Liabilities and equity") == "9.500,00"
    assert "balances" in page.summary_label.text() and "31.03.2031" in page.summary_label.text()
    # Headings are not drillable; the result row has no account.
    assert page.drill_row(page.row_index(name="Assets"), "amount") is None
    assert page.drill_row(page.row_index(name="Result not yet closed"), "amount") is None

    tax = open_report(qtbot, window, "tax_summary")
    assert isinstance(tax, TaxSummaryPage)
    # 20 % VAT: sales 3,000.00 taxed 600.00; purchases 3,000.00 taxed 600.00; nothing payable.
    row = tax.row_index(period="2031-03")
    assert [tax.model.text(row, k) for k in ("period", "rate", "output_base", "output_tax", "input_base", "input_tax")] == [
        "März 2031", "20 %", "3.000,00", "600,00", "3.000,00", "600,00"
    ]  # fmt: skip
    assert tax.summary_label.text() == "Tax payable: 0,00 EUR."
    lines = tax.drill_row(row, "output_tax")
    assert isinstance(lines, TaxLinesDialog)
    idle(qtbot)
    body = [r for r in lines.model.rows if not r.get("_style")]
    assert [(r["source"], r["description"], r["base"], r["tax"]) for r in body] == [
        ("invoice", "Chair", 300_000, 60_000)
    ]  # fmt: skip
    assert lines.model.text(len(lines.model.rows) - 1, "tax") == "600,00"  # the figure drilled into
    document = lines.open_line(0)
    assert isinstance(document, SourceDocumentDialog)
    idle(qtbot)
    assert document.document is not None and document.document.source == "invoice"
    assert document.findChild(type(document.title), "field_issue_date").text() == "05.03.2031"
    document.close()
    lines.close()


def test_general_ledger_page_asks_for_an_account_then_shows_its_lines(
    qtbot: QtBot, window: MainWindow
) -> None:
    page = open_report(qtbot, window, "general_ledger", made=False)
    assert isinstance(page, GeneralLedgerPage)
    assert page.last_error == "Choose an account to see its lines." and page.made is None
    assert not page.export_button.isEnabled()
    page.account.setCurrentIndex(page.account.findData(chart_account_id(window.session.org_id, "1000")))
    page.compute()
    idle(qtbot)
    assert page.made is not None
    # Bank in March: capital 10,000 in, customer 3,600 in, supplier 3,600 out, wages 1,800 out;
    # opening 500.00 out in February → closing −500 + 10,000 + 3,600 − 3,600 − 1,800 = 7,700.00.
    assert shown(page, "balance", memo="Opening balance") == "-500.00"
    assert [page.model.text(i, "balance") for i in range(1, 5)] == [
        "9,500.00",
        "13,100.00",
        "9,500.00",
        "7,700.00",
    ]
    assert page.summary_label.text() == "4 lines; closing balance 7,700.00."
    assert page.drill_row(page.row_index(memo="Opening balance"), "balance") is None
    # A change made in the app (here: a new account and an entry on it) shows without reopening.
    petty = new_id()
    page.ctx.apply(
        page, "finance.create_account", {"id": petty, "code": "1015", "name": "Petty cash", "type": "asset"}
    )
    idle(qtbot)
    page.ctx.apply(page, "finance.post_journal_entry", {
        "id": new_id(), "entry_date": "2031-03-31", "currency": "EUR", "memo": "Float",
        "lines": [{"account_id": petty, "debit": 10_000},
                  {"account_id": chart_account_id(window.session.org_id, "1000"), "credit": 10_000}]})  # fmt: skip
    qtbot.waitUntil(lambda: page.model.rowCount() == 7 and not page.computing, timeout=10_000)
    idle(qtbot)
    assert shown(page, "balance", memo="Total and closing balance") == "7,600.00"  # 7,700 − 100
    # April has no lines on the bank, but its opening balance is worth showing; January 2030 has nothing.
    page.period.set_range(date(2031, 4, 1), date(2031, 4, 30))
    page.compute()
    idle(qtbot)
    assert (
        page.stack.currentWidget() is page.table
        and shown(page, "balance", memo="Opening balance") == "7,600.00"
    )
    page.period.set_range(date(2030, 1, 1), date(2030, 1, 31))
    page.compute()
    idle(qtbot)
    assert page.stack.currentWidget() is page.empty and page.empty.title.text() == "No lines in this period"
    assert page.account.findData(petty) > 0 and page.account.currentData() == chart_account_id(
        window.session.org_id, "1000"
    )  # fmt: skip


def test_reports_export_and_print_through_the_shared_tools(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    page = open_report(qtbot, window, "trial_balance")
    job = page.export_shown("csv", str(tmp_path / "tb.csv"))
    assert job is not None
    qtbot.waitUntil(lambda: job.finished, timeout=10_000)
    with open(tmp_path / "tb.csv", newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["code"]: row["balance"] for row in rows if row.get("code")}["1000"] == "7700.00"
    preview = print_current(window)  # Ctrl+P on a report page prints the report
    assert isinstance(preview, PrintPreview)
    qtbot.waitUntil(lambda: preview.dialog is not None, timeout=10_000)
    assert "Trial balance" in preview.html and "33,500.00" in preview.html
    preview.dialog.close()


def test_report_pages_need_the_finance_read_permission(qtbot: QtBot, data_root: Path) -> None:
    for roles, expected in ((("warehouse",), set()), (("accountant",), REPORT_PAGES), (("sales",), set())):
        session = offline_session(data_root / "-".join(roles), roles=roles)
        try:
            win = MainWindow(session)
            qtbot.addWidget(win)
            assert REPORT_PAGES & set(win.page_keys()) == expected, roles
            assert ("finance.read" in session.permissions) == bool(expected)
            win.leaving_confirmed = True
            win.close()
        finally:
            idle(qtbot)
            session.close()


def test_a_payroll_posting_opens_for_the_accountant_without_the_payslips_figures(
    month: tuple[UserSession, Month],
) -> None:
    session, books = month
    accountant = permissions_for_roles(("accountant",))
    with session.store.read_session() as db:
        doc = source_document(
            db, session.org_id, accountant, source="payroll_run", source_id=books.ids["payroll"]
        )
        full = source_document(db, session.org_id, ALL_PERMISSIONS, source="payroll_run",
                               source_id=books.ids["payroll"])  # fmt: skip
    # The accountant reads the posting (finance.read) but not the run (payroll.run): withheld.
    assert doc.header == {} and doc.withheld is not None and "payroll run" in doc.withheld
    assert sorted((r["code"], r["debit"], r["credit"]) for r in doc.entry_lines) == [
        ("2400", 0, 20_000), ("2420", 0, 180_000), ("6000", 200_000, 0)
    ]  # fmt: skip
    # Payroll with hr.sensitive.read sees the run's totals.
    assert full.header["total_gross"] == 200_000 and full.withheld is None


def test_period_presets() -> None:
    today = date(2031, 11, 17)
    assert preset_range("this_month", today) == (date(2031, 11, 1), date(2031, 11, 30))
    assert preset_range("last_month", today) == (date(2031, 10, 1), date(2031, 10, 31))
    assert preset_range("this_quarter", today) == (date(2031, 10, 1), date(2031, 12, 31))
    assert preset_range("this_year", today) == (date(2031, 1, 1), date(2031, 12, 31))
    assert preset_range("last_month", date(2032, 1, 5)) == (date(2031, 12, 1), date(2031, 12, 31))
    assert preset_range("this_month", date(2032, 2, 29)) == (date(2032, 2, 1), date(2032, 2, 29))
    assert preset_range("this_quarter", date(2031, 3, 31)) == (date(2031, 1, 1), date(2031, 3, 31))
    assert preset_of(date(2031, 10, 1), date(2031, 10, 31), today) == "last_month"
    assert preset_of(date(2031, 10, 1), date(2031, 10, 30), today) == "custom"
    with pytest.raises(ValueError, match="period"):
        preset_range("custom", today)


def test_screenshots_of_the_statements_fit_their_text(qtbot: QtBot, qapp: Any, window: MainWindow) -> None:
    """TB, P&L and BS at 1280×800 as the app looks: nothing clipped (PNGs kept as artifacts)."""
    from desktop.ui.theme import apply_theme
    from tests.desktop.test_screenshots import clipped_texts

    apply_theme(qapp)
    window.resize(1280, 800)
    root = os.environ.get("OPS_TEST_ARTIFACTS")
    directory = Path(root) / "screenshots" if root else Path(tempfile.mkdtemp(prefix="report-screens-"))
    directory.mkdir(parents=True, exist_ok=True)
    problems = {}
    for key in ("trial_balance", "profit_and_loss", "balance_sheet", "general_ledger", "tax_summary"):
        page = open_report(qtbot, window, key, made=key != "general_ledger")
        if key == "general_ledger":
            page.account.setCurrentIndex(
                page.account.findData(chart_account_id(window.session.org_id, "1000"))
            )
            page.compute()
            idle(qtbot)
        qtbot.wait(50)
        assert window.width() == 1280, f"{key}: the window grew to {window.width()}"
        assert window.grab().save(str(directory / f"1280x800-report-{key}.png"))
        if found := clipped_texts(window):
            problems[key] = found
    # The drill-down: the receivables' lines, then the invoice.
    page = open_report(qtbot, window, "trial_balance")
    ledger = page.drill_row(page.row_index(code="1200"), "balance")
    idle(qtbot)
    body = next(i for i, r in enumerate(ledger.ledger.model.rows) if r.get("source") == "invoice")
    document = ledger.ledger.drill_row(body, "memo")
    idle(qtbot)
    for name, dialog in (("ledger", ledger), ("invoice", document)):
        qtbot.waitExposed(dialog)
        qtbot.wait(50)
        assert dialog.grab().save(str(directory / f"report-drill-{name}.png"))
        if found := clipped_texts(dialog):
            problems[name] = found
    document.close()
    ledger.close()
    print(f"\nscreenshots: {directory}")
    assert problems == {}


def test_a_documents_posting_is_found_by_the_document_not_by_walking_the_journal(
    month: tuple[UserSession, Month],
) -> None:
    """The drill-down from a tax line opens the document and its posting by ``source`` and
    ``source_id``: looked up in ``ix_journal_entry_source`` (revision 0017), not by walking the
    organization's entries in number order (190 ms for a late invoice among 250,000 entries)."""
    session, books = month
    with session.store.read_session() as db:
        doc, plans = plans_while(
            db.connection(),
            lambda: source_document(
                db, session.org_id, ALL_PERMISSIONS, source="invoice", source_id=books.ids["invoice"]
            ),
            "journal_entry",
        )
    assert doc.entry_lines
    assert (
        "SEARCH journal_entry USING INDEX ix_journal_entry_source (org_id=? AND source=? AND source_id=?)"
        in plans
    )
    assert not [plan for plan in plans if "sqlite_autoindex_journal_entry_2" in plan or "SCAN" in plan]


def test_every_posting_of_the_month_opens_its_source_document(month: tuple[UserSession, Month]) -> None:
    """Bill, supplier payment, customer payment, stock move and a credit note: each with its
    fields, lines and posting, as an accountant reads them (finance, sales and inventory)."""
    session, books = month
    credit_note = new_id()
    # Ten chairs come back: 10 × 50.00 = 500.00 + 20 % = 600.00 credited.
    with session.store.read_session() as db:
        line_id = db.execute(
            select(InvoiceLine.id).where(InvoiceLine.invoice_id == books.ids["invoice"])
        ).scalar_one()
    session.store.apply("sales.issue_credit_note", {"id": credit_note, "invoice_id": books.ids["invoice"],
                        "issue_date": "2031-03-28", "reason": "Ten chairs returned",
                        "lines": [{"invoice_line_id": line_id, "quantity": "10"}]},
                        actor_id=session.user.id, permissions=ALL_PERMISSIONS)  # fmt: skip
    accountant = permissions_for_roles(("accountant",))

    def open_(source: str, key: str) -> Any:
        with session.store.read_session() as db:
            return source_document(db, session.org_id, accountant, source=source, source_id=books.ids[key])

    bill = open_("supplier_bill", "bill")
    assert bill.title.startswith("Supplier bill ") and bill.withheld is None
    assert (bill.header["supplier_id"], bill.header["supplier_reference"], bill.header["total"]) == (
        "Chairs Ltd", "CL-1001", 360_000
    )  # fmt: skip
    assert [(line["quantity"], line["unit_price"], line["tax_amount"]) for line in bill.lines] == [
        (100, 3_000, 60_000)
    ]
    assert sorted((r["code"], r["debit"], r["credit"]) for r in bill.entry_lines) == [
        ("1400", 60_000, 0), ("2000", 0, 360_000), ("2100", 300_000, 0)
    ]  # fmt: skip
    paid = open_("supplier_payment", "supplier_payment")
    assert (paid.title, paid.header["supplier_bill_id"], paid.header["amount"]) == (
        "Supplier payment (entry " + paid.entry["number"] + ")", bill.header["number"], 360_000
    )  # fmt: skip
    received = open_("payment", "payment")
    assert (received.header["customer_id"], received.header["amount"]) == ("Office Oy", 360_000)
    assert sorted((r["code"], r["debit"], r["credit"]) for r in received.entry_lines) == [
        ("1000", 360_000, 0), ("1200", 0, 360_000)
    ]  # fmt: skip
    with session.store.read_session() as db:
        note = source_document(db, session.org_id, accountant, source="credit_note", source_id=credit_note)
        receipt_entry = (
            db.execute(
                select(JournalEntry.number)
                .where(JournalEntry.source == "stock_move")
                .order_by(JournalEntry.entry_date)
            )
            .scalars()
            .first()
        )
        receipt = source_document(db, session.org_id, accountant, entry_number=receipt_entry)
    # The receipt of 100 chairs at 30.00, valued 3,000.00 into inventory.
    assert receipt.source == "stock_move" and receipt.withheld is None
    assert {k: receipt.header[k] for k in ("product_id", "reason", "quantity", "to_warehouse_id", "value")} == {
        "product_id": "Chair", "reason": "receipt", "quantity": 100, "to_warehouse_id": "Main", "value": 300_000
    }  # fmt: skip
    assert note.title.startswith("Credit note ") and note.header["reason"] == "Ten chairs returned"
    assert (note.header["total"], note.header["invoice_id"][:6]) == (60_000, "DRAFT-")
    assert [(line["quantity"], line["line_total"]) for line in note.lines] == [(10, 60_000)]
    # The invoice was paid in full: the 600.00 becomes the customer's credit (2300), not less
    # receivables; revenue 500.00 and output tax 100.00 come back.
    assert sorted((r["code"], r["debit"], r["credit"]) for r in note.entry_lines) == [
        ("2200", 10_000, 0), ("2300", 0, 60_000), ("4000", 50_000, 0)
    ]  # fmt: skip


def test_every_dashboard_card_opens_a_page_the_user_has(qtbot: QtBot, window: MainWindow) -> None:
    """The cash and receivables cards opened the finance overview, which finance's pages replace."""
    dashboard = window.open_page("dashboard")
    qtbot.waitUntil(lambda: bool(dashboard.cards), timeout=10_000)
    opens = {card.tile.key: card.tile.opens for card in dashboard.cards}
    assert opens["cash_position"] == opens["receivables_aging"] == "balance_sheet"
    for card in dashboard.cards:
        if card.tile.opens:
            card.clicked.emit(card.tile.opens)
            assert window.current_page() is window.pages[card.tile.opens]
    idle(qtbot)


def test_each_report_exports_as_pdf_with_its_figures(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    expected = {  # a figure of each report, worked out in the tests above
        "trial_balance": ("Trial balance", "33,500.00"),
        "profit_and_loss": ("Profit and loss", "-800.00"),
        "balance_sheet": ("Balance sheet", "9,500.00"),
        "general_ledger": ("General ledger", "7,700.00"),
        "tax_summary": ("Tax summary", "600.00"),
    }
    for key, (title, figure) in expected.items():
        page = open_report(qtbot, window, key, made=key != "general_ledger")
        if key == "general_ledger":
            page.account.setCurrentIndex(
                page.account.findData(chart_account_id(window.session.org_id, "1000"))
            )
            page.compute()
            idle(qtbot)
        job = page.export_shown("pdf", str(tmp_path / f"{key}.pdf"))
        assert job is not None
        qtbot.waitUntil(lambda job=job: job.finished, timeout=20_000)
        text = " ".join(p.extract_text() for p in PdfReader(str(tmp_path / f"{key}.pdf")).pages)
        assert title in text and figure in text, (key, text[:400])

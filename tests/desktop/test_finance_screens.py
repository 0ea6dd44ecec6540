"""Finance screens on real widgets over a real encrypted store (and a real server for sync):
the chart of accounts, the journal grid, supplier bills and payments, periods, settings."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from common.commands import CommandError
from common.ids import new_id
from common.permissions import BUILTIN_ROLES
from common.schema import Account, JournalEntry, JournalLine, Ledger, SupplierBill
from desktop import background
from desktop.attention import attention_items
from desktop.qt import QApplication, QComboBox, Qt
from desktop.ui.finance_accounts import AccountsPage
from desktop.ui.finance_bills import BillDialog
from desktop.ui.finance_common import accounts
from desktop.ui.finance_journal import START_ROWS, JournalEntryDialog
from desktop.ui.finance_settings import AccountMappingPage
from desktop.ui.forms import DateInput, FormDialog
from desktop.ui.main_window import MainWindow
from desktop.ui.theme import apply_theme
from sync_server import admin_ops
from tests.desktop.conftest import LiveServer
from tests.desktop.seed import offline_session
from tests.desktop.test_inventory_screens import open_dialog, save_with_keyboard, type_into
from tests.desktop.test_screenshots import clipped_texts
from tests.desktop.test_sync_ui import command, open_window, press_f5, server_push, sign_in


def idle(qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: background.active_count() == 0, timeout=10_000)


def new_dialog(qtbot: QtBot, window: MainWindow, key: str) -> Any:
    """Ctrl+N on page ``key`` with the window active again (after a question box or a dialog)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    return open_dialog(qtbot, window, key)


def open_finance(qtbot: QtBot, window: MainWindow, key: str) -> Any:
    page = window.open_page(key)
    idle(qtbot)
    return page


def tree_row(page: AccountsPage, code: str) -> list[str]:
    item = next(i for i in page.items() if i.text(0).startswith(f"{code}  "))
    return [item.text(c) for c in range(4)]


def test_the_chart_is_a_tree_with_balances_and_a_new_account_goes_under_its_parent(
    qtbot: QtBot, window: MainWindow
) -> None:
    # the dashboard's finance cards still open "finance.overview": the chart stands for it now
    page = window.open_page("finance.overview")
    idle(qtbot)
    assert isinstance(page, AccountsPage) and window.current_page() is page
    assert tree_row(page, "1000")[:2] == ["1000  Bank", "Asset"]
    assert page.select_id(next(r["id"] for r in page.rows.values() if r["code"] == "6500"))
    dialog = new_dialog(qtbot, window, "accounts")
    assert dialog.inputs["parent_id"].currentText() == "6500 — Rent"  # new under the selected one
    type_into(qtbot, dialog, "code", "6510")
    type_into(qtbot, dialog, "name", "Office rent")
    save_with_keyboard(qtbot, dialog)
    idle(qtbot)
    rent = page.item_of(next(r["id"] for r in page.rows.values() if r["code"] == "6500"))
    assert rent is not None and rent.child(0).text(0) == "6510  Office rent"
    # archived: gone from the tree (and the pickers) until Show archived
    office = next(r["id"] for r in page.rows.values() if r["code"] == "6510")
    assert page.select_id(office) and page.archive_button.text() == "Archive"
    qtbot.mouseClick(page.archive_button, Qt.MouseButton.LeftButton)
    idle(qtbot)
    assert page.item_of(office) is None
    page.archived_box.setChecked(True)
    idle(qtbot)
    assert (
        page.item_of(office) is not None and page.item_of(office).text(0) == "6510  Office rent  (archived)"
    )
    QApplication.processEvents()
    assert isinstance(dialog, FormDialog) and Qt is not None


def account_id(window: MainWindow, code: str) -> str:
    from desktop.ui.finance_common import accounts

    return next(r["id"] for r in accounts(window.session) if r["code"] == code)


def test_a_journal_entry_typed_in_the_grid_posts_only_once_balanced(
    qtbot: QtBot, window: MainWindow, use_locale: Any
) -> None:
    use_locale("de_DE")
    dialog = new_dialog(qtbot, window, "journal")
    assert isinstance(dialog, JournalEntryDialog) and dialog.grid is not None
    grid = dialog.grid
    type_into(qtbot, dialog, "memo", "Owner's capital paid in")
    grid.combo(0).setCurrentIndex(grid.combo(0).findData(account_id(window, "1000")))
    qtbot.keyClicks(grid.cell(0, 1), "1.000,50")  # German: one thousand and fifty cents
    grid.combo(1).setCurrentIndex(grid.combo(1).findData(account_id(window, "3000")))
    qtbot.keyClicks(grid.cell(1, 2), "1.000,05")
    assert dialog.totals_label.text() == (
        "Debit 1.000,50 EUR   Credit 1.000,05 EUR   Difference 0,45 EUR (more debit)"
    )
    assert not dialog.save_button.isEnabled()
    dialog.try_save()  # Ctrl+S on an unbalanced entry: refused, nothing written
    assert dialog.isVisible() and "Debits and credits differ by 0,45 EUR." in dialog.form_error.text()
    grid.cell(1, 2).clear()
    qtbot.keyClicks(grid.cell(1, 2), "1,000.50")  # the English way: ambiguous in German
    assert "Line 2 credit: is ambiguous here" in dialog.form_error.text()
    assert not dialog.save_button.isEnabled()
    grid.cell(1, 2).clear()
    qtbot.keyClicks(grid.cell(1, 2), "1000,50")
    assert dialog.totals_label.text() == "Debit 1.000,50 EUR   Credit 1.000,50 EUR   Balanced"
    assert dialog.save_button.isEnabled() and grid.rowCount() == START_ROWS  # a spare row is always there
    before = window.session.store.pending_count()
    save_with_keyboard(qtbot, dialog)
    assert window.session.store.pending_count() == before + 1
    last = window.session.store.outbox()[-1]
    assert last["name"] == "finance.post_journal_entry"
    assert [(x["debit"], x["credit"]) for x in last["args"]["lines"]] == [(100050, 0), (0, 100050)]
    page = window.pages["journal"]
    idle(qtbot)
    row = next(r for r in page.model.rows if r["memo"] == "Owner's capital paid in")
    assert row["amount"] == 100050 and row["source_title"] == "Manual"
    page.source_box.setCurrentIndex(page.source_box.findData("manual"))  # only entries typed by hand
    idle(qtbot)
    assert [r["memo"] for r in page.model.rows] == ["Owner's capital paid in"]
    page.source_box.setCurrentIndex(0)
    idle(qtbot)
    # the chart shows it: bank up by 1.000,50 on the debit side, capital on the credit side
    chart = open_finance(qtbot, window, "accounts")
    assert tree_row(chart, "3000") == ["3000  Owner's capital", "Equity", "", "1.000,50"]
    # reversing posts the opposite and the entry can be reversed only once
    page = open_finance(qtbot, window, "journal")
    assert page.select_id(row["id"])
    reverse = page.reverse(page.current_row())
    save_with_keyboard(qtbot, reverse)
    idle(qtbot)
    reversal = window.session.store.outbox()[-1]
    assert reversal["name"] == "finance.reverse_journal_entry" and reversal["args"]["entry_id"] == row["id"]
    assert page.select_id(row["id"]) and not page.reverse_button.isEnabled()
    assert next(r for r in page.model.rows if r["id"] == row["id"])["reversed_by"]
    chart = open_finance(qtbot, window, "accounts")
    assert tree_row(chart, "3000")[2:] == ["", ""]


def choose_data(dialog: FormDialog, key: str, value: Any) -> None:
    combo = dialog.inputs[key]
    assert isinstance(combo, QComboBox)
    index = combo.findData(value)
    assert index >= 0, (key, value)
    combo.setCurrentIndex(index)


def set_date(dialog: FormDialog, key: str, text: str) -> None:
    widget = dialog.inputs[key]
    assert isinstance(widget, DateInput)
    widget.set_value(text)


def test_an_accountants_month(qtbot: QtBot, window: MainWindow, seeded: tuple[Any, dict[str, Any]]) -> None:
    """Bill a received order, pay it, post a journal entry in the grid, close the month (its draft
    invoice named first), then a document dated in the closed month is refused with its name.

    By hand: 40 cushions received at 9.50 = 380.00 (inventory / goods received not invoiced).
    The bill: 40 × 10.00 = 400.00 + 20 % tax 80.00 = 480.00, and freight 25.00 without tax on
    6900 General expenses: total 505.00. It clears GRNI 380.00, price variance 20.00, input tax
    80.00, general expenses 25.00 / payables 505.00. Paying 505.00: payables / bank. Rent 1,200.00
    by journal entry: rent / bank. Bank ends 1,705.00 on the credit side; payables at zero.
    """
    session, ids = seeded
    timber = ids["suppliers"]["Nordic Timber AB"]
    order_id = ids["orders"][1]  # ordered: 40 CUSHION-GREY at 9.50
    vat, customer, period = new_id(), new_id(), new_id()
    session.apply(
        "finance.create_tax_rate", {"id": vat, "code": "VAT20", "name": "Standard rate", "rate": "20"}
    )
    session.apply("finance.create_fiscal_period", {"id": period, "name": "November 2026",
                                                   "start_date": "2026-11-01", "end_date": "2026-11-30"})  # fmt: skip
    session.apply(
        "inventory.receive_purchase_order", {"id": order_id, "received_at": "2026-11-05T10:00:00+00:00"}
    )
    session.apply("sales.create_customer", {"id": customer, "name": "Fjord Interiors AS"})
    session.apply(
        "sales.create_invoice",
        {"id": new_id(), "customer_id": customer, "issue_date": "2026-11-25",
         "lines": [{"id": new_id(), "description": "Consulting", "quantity": "1", "unit_price": 10000}]},
    )  # fmt: skip
    window.ctx.data_changed.emit()

    # -- the supplier bill, from the received order --------------------------------------------
    bills = open_finance(qtbot, window, "supplier_bills")
    dialog = new_dialog(qtbot, window, "supplier_bills")
    assert isinstance(dialog, BillDialog) and dialog.lines is not None
    choose_data(dialog, "supplier_id", timber)
    choose_data(dialog, "purchase_order_id", order_id)  # the received order brings its lines
    lines = dialog.lines
    assert lines.rowCount() == 1 and lines.item(0, 0).text() == "Seat cushion, grey (CUSHION-GREY)"
    assert lines.line_edit(0, 2).text() == "40" and lines.line_edit(0, 3).text() == "9.50"
    lines.line_edit(0, 2).setText("41")  # more than was received: the command refuses, naming the line
    dialog.try_save()
    idle(qtbot)
    assert dialog.isVisible() and dialog.form_error.text() == (
        "Line 1 quantity: only 40 received on this order line is not billed yet"
    )
    assert "lines." not in dialog.form_error.text()
    lines.line_edit(0, 2).setText("40")
    lines.line_edit(0, 3).clear()
    qtbot.keyClicks(lines.line_edit(0, 3), "10.00")  # the supplier's price differs from the order's
    lines.combo(0, 4).setCurrentIndex(lines.combo(0, 4).findData(vat))
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)  # freight, on an account
    qtbot.keyClicks(lines.line_edit(1, 0), "Freight")
    lines.combo(1, 1).setCurrentIndex(lines.combo(1, 1).findData(account_id(window, "6900")))
    qtbot.keyClicks(lines.line_edit(1, 2), "1")
    qtbot.keyClicks(lines.line_edit(1, 3), "25")
    type_into(qtbot, dialog, "supplier_reference", "NT-2026-1187")
    set_date(dialog, "bill_date", "2026-11-10")
    set_date(dialog, "due_date", "2026-12-10")
    assert dialog.total_label.text() == "Net 425.00 EUR   Tax 80.00 EUR   Total 505.00 EUR"
    assert lines.item(0, 5).text() == "400.00 EUR"
    save_with_keyboard(qtbot, dialog)
    idle(qtbot)
    bill = next(r for r in bills.model.rows if r["supplier_reference"] == "NT-2026-1187")
    assert (bill["total"], bill["open_amount"], bill["status"]) == (50500, 50500, "posted")
    assert bill["number"].startswith("DRAFT-")  # a provisional number until the server gives its own

    # -- pay it (Supplier payments → New payment → the bill) -----------------------------------
    assert bills.select_id(bill["id"]) and bills.pay_button.isEnabled()
    payments = open_finance(qtbot, window, "supplier_payments")
    chooser = new_dialog(qtbot, window, "supplier_payments")
    choose_data(chooser, "supplier_bill_id", bill["id"])
    assert chooser.inputs["supplier_bill_id"].currentText().endswith("still due 505.00 EUR")
    save_with_keyboard(qtbot, chooser)
    pay = payments.payment_dialog
    assert pay.inputs["amount"].text() == "505.00"  # type: ignore[attr-defined]
    type_into(qtbot, pay, "amount", "505.01")
    assert pay.field_problem("amount") == "Amount: is more than is still due on the bill"
    type_into(qtbot, pay, "amount", "505.00")
    set_date(pay, "paid_on", "2026-11-20")
    type_into(qtbot, pay, "reference", "SEPA 4471")
    save_with_keyboard(qtbot, pay)
    idle(qtbot)
    bills = open_finance(qtbot, window, "supplier_bills")
    bill = next(r for r in bills.model.rows if r["id"] == bill["id"])
    assert (bill["status"], bill["open_amount"]) == ("paid", 0)
    payments = open_finance(qtbot, window, "supplier_payments")
    assert [(p["bill_number"], p["amount"], p["reference"]) for p in payments.model.rows] == [
        (bill["number"], 50500, "SEPA 4471")
    ]

    # -- rent by journal entry, typed in the grid ----------------------------------------------
    entry = new_dialog(qtbot, window, "journal")
    assert isinstance(entry, JournalEntryDialog) and entry.grid is not None
    set_date(entry, "entry_date", "2026-11-30")
    type_into(qtbot, entry, "memo", "November rent")
    entry.grid.set_line(0, account_id(window, "6500"), "1200")
    entry.grid.set_line(1, account_id(window, "1000"), "", "1100")
    assert not entry.save_button.isEnabled()  # 100.00 apart
    entry.grid.cell(1, 2).setText("1200")
    assert entry.save_button.isEnabled()
    save_with_keyboard(qtbot, entry)

    chart = open_finance(qtbot, window, "accounts")
    assert tree_row(chart, "2000")[2:] == ["", ""]  # payables: billed 505.00, paid 505.00
    assert tree_row(chart, "1000")[2:] == ["", "1,705.00"]  # bank: 505.00 + 1,200.00 out
    assert tree_row(chart, "1400")[2:] == ["80.00", ""]  # input tax
    assert tree_row(chart, "5200")[2:] == ["20.00", ""]  # purchase price variance
    assert tree_row(chart, "6500")[2:] == ["1,200.00", ""]
    assert tree_row(chart, "6900")[2:] == ["25.00", ""]

    # -- close the month: the draft invoice is named first -------------------------------------
    periods = open_finance(qtbot, window, "fiscal_periods")
    assert periods.select_id(period) and periods.close_button.isEnabled()
    question = periods.close_period(periods.current_row())
    assert question is not None
    assert "Still unposted in November 2026:\n• Invoice DRAFT-" in question.text()
    assert "of 2026-11-25 (draft)" in question.text()
    next(b for b in question.buttons() if b.text() == "Close period").click()
    idle(qtbot)
    assert next(r for r in periods.model.rows if r["id"] == period)["status"] == "closed"
    assert periods.reopen_button.isEnabled() and not periods.close_button.isEnabled()

    # -- a document dated in the closed month is refused with the period's name ----------------
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    late = new_dialog(qtbot, window, "journal")
    set_date(late, "entry_date", "2026-11-15")
    late.grid.set_line(0, account_id(window, "6500"), "10")
    late.grid.set_line(1, account_id(window, "1000"), "", "10")
    before = window.session.store.pending_count()
    late.try_save()
    idle(qtbot)
    assert late.isVisible() and window.session.store.pending_count() == before
    assert late.field_problem("entry_date") == (
        "Date: 2026-11-15 falls in fiscal period November 2026, which is closed"
    )
    late.discard_confirmed = True
    late.reject()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    late_bill = new_dialog(qtbot, window, "supplier_bills")
    choose_data(late_bill, "supplier_id", timber)
    late_bill.lines.combo(0, 1).setCurrentIndex(1)
    qtbot.keyClicks(late_bill.lines.line_edit(0, 0), "Late freight")
    qtbot.keyClicks(late_bill.lines.line_edit(0, 2), "1")
    qtbot.keyClicks(late_bill.lines.line_edit(0, 3), "5")
    set_date(late_bill, "bill_date", "2026-11-29")
    late_bill.try_save()
    idle(qtbot)
    assert late_bill.field_problem("bill_date") == (
        "Bill date: 2026-11-29 falls in fiscal period November 2026, which is closed"
    )
    late_bill.discard_confirmed = True
    late_bill.reject()


def test_mapping_names_what_is_missing_and_changes_one_role(qtbot: QtBot, window: MainWindow) -> None:
    page = open_finance(qtbot, window, "account_mapping")
    assert isinstance(page, AccountMappingPage)
    assert not page.missing.isVisibleTo(page)  # the default chart maps every role
    combo = page.combo("payables")
    assert combo.currentText() == "2000 — Accounts payable"
    combo.setCurrentIndex(0)  # no account: the setting is missing
    idle(qtbot)
    last = window.session.store.outbox()[-1]
    assert last["name"] == "finance.update_account_mapping"
    assert last["args"]["changes"] == {"account_id": None}
    assert last["args"]["base"] == {"account_id": account_id(window, "2000")}
    qtbot.waitUntil(lambda: page.missing.isVisibleTo(page))
    assert page.missing.text() == (
        "No account is set for: Payables. Events that post there are refused until one is chosen."
    )
    # a bill now is refused, naming the setting
    session = window.session
    with pytest.raises(CommandError, match="payables"):
        session.apply(
            "finance.record_supplier_bill",
            {"id": new_id(), "supplier_id": next(iter(supplier_ids(window))),
             "lines": [{"id": new_id(), "account_id": account_id(window, "6900"), "description": "Paper",
                        "quantity": "1", "unit_price": 500}]},
        )  # fmt: skip
    page.combo("payables").setCurrentIndex(page.combo("payables").findData(account_id(window, "2000")))
    idle(qtbot)
    qtbot.waitUntil(lambda: not page.missing.isVisibleTo(page))


def supplier_ids(window: MainWindow) -> list[str]:
    from desktop.ui.pickers import supplier_choices

    return [value for value, _text in supplier_choices(window.session)]


def test_tax_rates_are_created_and_edited_in_the_users_locale(
    qtbot: QtBot, window: MainWindow, use_locale: Any
) -> None:
    use_locale("de_DE")
    page = open_finance(qtbot, window, "tax_rates")
    dialog = new_dialog(qtbot, window, "tax_rates")
    type_into(qtbot, dialog, "code", "VAT7")
    type_into(qtbot, dialog, "name", "Reduced rate")
    type_into(qtbot, dialog, "rate", "7.5")  # a point is no decimal separator in German
    assert "Rate (%): is ambiguous here" in dialog.field_problem("rate")
    type_into(qtbot, dialog, "rate", "7,5")
    save_with_keyboard(qtbot, dialog)
    idle(qtbot)
    row = next(r for r in page.model.rows if r["code"] == "VAT7")
    assert row["rate_text"] == "7,5 %"
    assert page.select_id(row["id"])
    edit = page.open_row(row)
    assert edit.inputs["rate"].text() == "7,5"
    type_into(qtbot, edit, "rate", "8")
    save_with_keyboard(qtbot, edit)
    last = window.session.store.outbox()[-1]
    assert last["name"] == "finance.update_tax_rate"
    assert last["args"]["changes"] == {"rate": "8"} and last["args"]["base"] == {"rate": "7.5"}


FINANCE_PAGES = {
    "accounts",
    "journal",
    "supplier_bills",
    "supplier_payments",
    "payables_aging",
    "fiscal_periods",
    "account_mapping",
    "tax_rates",
}


def test_a_sales_clerk_sees_no_ledger_and_a_reader_cannot_write(qtbot: QtBot, data_root: Any) -> None:
    clerk = offline_session(data_root / "clerk", roles=("sales",))
    try:
        win = MainWindow(clerk)
        qtbot.addWidget(win)
        assert not (FINANCE_PAGES & set(win.page_keys()))
    finally:
        clerk.close()
    reader = offline_session(data_root / "reader", roles=("auditor",))  # reads everything, writes nothing
    assert "finance.read" in BUILTIN_ROLES["auditor"] and "finance.post" not in BUILTIN_ROLES["auditor"]
    try:
        win = MainWindow(reader)
        qtbot.addWidget(win)
        assert set(win.page_keys()) >= FINANCE_PAGES
        chart = win.open_page("accounts")
        idle(qtbot)
        assert not chart.new_button.isVisibleTo(chart) and chart.new_item() is None
        journal = win.open_page("journal")
        assert not journal.new_button.isVisibleTo(journal) and journal.new_item() is None
        assert not journal.reverse_button.isVisibleTo(journal)
        bills = win.open_page("supplier_bills")
        assert not bills.new_button.isVisibleTo(bills) and not bills.pay_button.isVisibleTo(bills)
        periods = win.open_page("fiscal_periods")
        assert not periods.close_button.isVisibleTo(periods) and periods.new_item() is None
        mapping = win.open_page("account_mapping")
        idle(qtbot)
        assert not mapping.combo("payables").isEnabled()
    finally:
        reader.close()
    QApplication.processEvents()


def test_an_accountant_bills_offline_syncs_and_the_server_refuses_a_closed_month(
    qtbot: QtBot, live_server: LiveServer, data_root: Path
) -> None:
    """Over HTTP, as the accountant role: a bill made from a received order gets the server's
    number at sync and the same postings there; an entry typed for November after another desk
    closed it (unknown here until the next pull) is refused by the server, naming the period."""
    org_id = admin_ops.create_org(live_server.services.store, "Books Ltd")  # with its chart of accounts
    live_server.orgs["Books Ltd"] = org_id
    live_server.add_user("boss@books.test", ("Books Ltd", "admin"))
    live_server.add_user("accountant@books.test", ("Books Ltd", "accountant"))
    warehouse, supplier, product, order, line, period = (new_id() for _ in range(6))
    server_push(
        live_server,
        "boss@books.test",
        org_id,
        command("inventory.create_warehouse", id=warehouse, code="MAIN", name="Main warehouse"),
        command("inventory.create_supplier", id=supplier, name="Nordic Timber AB", currency="EUR"),
        command("inventory.create_product", id=product, sku="CUSHION-GREY", name="Seat cushion, grey",
                unit="pcs", sale_price=1990, currency="EUR"),
        command("finance.create_fiscal_period", id=period, name="November 2026", start_date="2026-11-01",
                end_date="2026-11-30"),
        command("inventory.create_purchase_order", id=order, supplier_id=supplier, warehouse_id=warehouse,
                lines=[{"id": line, "product_id": product, "quantity": "40", "unit_cost": 950}]),
        command("inventory.order_purchase_order", id=order),
        command("inventory.receive_purchase_order", id=order, received_at="2026-11-05T10:00:00+00:00"),
    )  # fmt: skip
    session = sign_in(data_root, live_server.url, "accountant@books.test", live_server.password)
    try:
        window = open_window(qtbot, session)
        press_f5(qtbot, window)  # pull the order, the chart and the period
        bills = open_finance(qtbot, window, "supplier_bills")
        dialog = new_dialog(qtbot, window, "supplier_bills")
        choose_data(dialog, "supplier_id", supplier)
        choose_data(dialog, "purchase_order_id", order)
        dialog.lines.line_edit(0, 3).setText("10.00")
        set_date(dialog, "bill_date", "2026-11-10")
        type_into(qtbot, dialog, "supplier_reference", "NT-77")
        save_with_keyboard(qtbot, dialog)
        press_f5(qtbot, window)
        assert window.sync_label.text().startswith("Synced just now"), window.sync.last_error
        idle(qtbot)
        bill = next(r for r in bills.model.rows if r["supplier_reference"] == "NT-77")
        assert bill["number"].startswith("BILL-") and bill["total"] == 40000  # 40 × 10.00, no tax
        with live_server.services.store.session(org_id) as db:
            lines = db.execute(
                select(Account.code, JournalLine.debit, JournalLine.credit)
                .join(JournalEntry, JournalEntry.id == JournalLine.journal_entry_id)
                .join(Account, Account.id == JournalLine.account_id)
                .where(JournalLine.org_id == org_id, JournalEntry.source == "supplier_bill")
                .order_by(Account.code)
            ).all()
        # GRNI cleared at the order's 380.00, 20.00 price variance, payables 400.00
        assert [tuple(r) for r in lines] == [("2000", 0, 40000), ("2100", 38000, 0), ("5200", 2000, 0)]

        # paid in part offline, then synced: the server holds the payment and what is still due
        pay = bills.pay(bill)
        assert pay is not None
        type_into(qtbot, pay, "amount", "150.00")
        set_date(pay, "paid_on", "2026-11-20")
        save_with_keyboard(qtbot, pay)
        press_f5(qtbot, window)
        assert window.sync_label.text().startswith("Synced just now"), window.sync.last_error
        with live_server.services.store.session(org_id) as db:
            on_server = db.execute(
                select(SupplierBill.number, SupplierBill.amount_paid, SupplierBill.status).where(
                    SupplierBill.org_id == org_id, SupplierBill.supplier_reference == "NT-77"
                )
            ).one()
        assert tuple(on_server) == (bill["number"], 15000, "posted")
        server_push(live_server, "boss@books.test", org_id, command("finance.close_fiscal_period", id=period))
        entry = new_dialog(qtbot, window, "journal")
        set_date(entry, "entry_date", "2026-11-28")
        entry.grid.set_line(0, account_id(window, "6500"), "300")
        entry.grid.set_line(1, account_id(window, "1000"), "", "300")
        save_with_keyboard(qtbot, entry)  # accepted here: this computer still has November open
        press_f5(qtbot, window)
        (item,) = attention_items(session)
        assert item.name == "finance.post_journal_entry" and item.code == "period_closed"
        assert "2026-11-28 falls in fiscal period November 2026, which is closed" in item.message
        periods = open_finance(qtbot, window, "fiscal_periods")
        assert next(r for r in periods.model.rows if r["id"] == period)["status"] == "closed"
    finally:
        session.close()
    QApplication.processEvents()


def test_screenshots_of_the_chart_the_journal_grid_and_the_bills_with_data(
    qtbot: QtBot, qapp: Any, seeded: tuple[Any, dict[str, Any]], tmp_path: Path
) -> None:
    """1280×800 with demo-like data, nothing clipped (tests/desktop/test_screenshots.py's check);
    the PNGs are kept under ``$OPS_TEST_ARTIFACTS/screenshots`` (else the test's tmp dir)."""
    apply_theme(qapp)
    session, ids = seeded
    root = os.environ.get("OPS_TEST_ARTIFACTS")
    shots = Path(root) / "screenshots" if root else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    vat, group = new_id(), new_id()
    session.apply(
        "finance.create_tax_rate", {"id": vat, "code": "VAT20", "name": "Standard rate", "rate": "20"}
    )
    session.apply(
        "finance.create_account", {"id": group, "code": "6000G", "name": "Premises", "type": "expense"}
    )
    for code in ("6500", "6900"):
        account = next(r for r in accounts(session) if r["code"] == code)
        session.apply("finance.update_account", {"id": account["id"], "changes": {"parent_id": group},
                                                 "base": {"parent_id": None}})  # fmt: skip
    session.apply("inventory.receive_purchase_order", {"id": ids["orders"][1]})
    timber, hansa = ids["suppliers"]["Nordic Timber AB"], ids["suppliers"]["Hansa Hardware GmbH"]
    order_line = unbilled_lines_of(session, ids["orders"][1])
    expense = {r["code"]: r["id"] for r in accounts(session)}
    bills = [
        (timber, ids["orders"][1], [{"id": new_id(), "purchase_order_line_id": order_line, "quantity": "40",
                                      "unit_price": 1000, "tax_rate_id": vat}], "NT-2026-1187", "2026-11-10"),
        (hansa, None, [{"id": new_id(), "account_id": expense["6900"], "description": "Hinges and screws",
                        "quantity": "3", "unit_price": 4590, "tax_rate_id": vat}], "HH-88121", "2026-09-02"),
        (hansa, None, [{"id": new_id(), "account_id": expense["6500"], "description": "Workshop rent, December",
                        "quantity": "1", "unit_price": 120000}], "HH-88277", "2026-12-01"),
    ]  # fmt: skip
    for supplier, order, lines, reference, day in bills:
        args = {"id": new_id(), "supplier_id": supplier, "lines": lines, "supplier_reference": reference,
                "bill_date": day, "due_date": day}  # fmt: skip
        if order:
            args["purchase_order_id"] = order
        session.apply("finance.record_supplier_bill", args)
    for month, status in (("09", "closed"), ("10", "closed"), ("11", "open")):
        period = new_id()
        last = {"09": 30, "10": 31, "11": 30}[month]
        session.apply("finance.create_fiscal_period", {"id": period, "name": f"2026-{month}",
                      "start_date": f"2026-{month}-01", "end_date": f"2026-{month}-{last}"})  # fmt: skip
        if status == "closed":
            session.apply("finance.close_fiscal_period", {"id": period})
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    idle(qtbot)
    problems = {}
    for key in ("accounts", "supplier_bills", "payables_aging", "tax_rates", "fiscal_periods"):
        page = window.open_page(key)
        idle(qtbot)
        if key == "payables_aging":
            page.as_of.set_value("2026-12-31")
            idle(qtbot)
            # by hand, as of 2026-12-31: Hansa's hinges 3 × 45.90 = 137.70 + 20 % = 165.24, due
            # 2026-09-02 (120 days: over 90) and its rent 1,200.00 due 2026-12-01 (30 days);
            # Nordic Timber's 40 × 10.00 + 20 % = 480.00 due 2026-11-10 (51 days: 31–60)
            shown = [[page.table.item(r, c).text() for c in range(7)] for r in range(page.table.rowCount())]
            assert shown == [
                ["Hansa Hardware GmbH", "", "1,200.00", "", "", "165.24", "1,365.24"],
                ["Nordic Timber AB", "", "", "480.00", "", "", "480.00"],
                ["Total", "", "1,200.00", "480.00", "", "165.24", "1,845.24"],
            ]
            page.table.setCurrentCell(0, 0)  # drill down: Hansa's open bills, oldest due first
            assert [(b["supplier_reference"], b["still_due"]) for b in page.bill_rows] == [
                ("HH-88121", 16524),
                ("HH-88277", 120000),
            ]
            assert page.bills.item(0, 3).text() == "120"
            view = page.open_bill(0)
            assert view is not None and view.lines_table.item(0, 0).text() == "Hinges and screws"
            view.close()
        qtbot.wait(50)
        if key == "accounts":
            assert [page.tree.topLevelItem(i).text(0) for i in range(page.tree.topLevelItemCount())] == [
                "Assets",
                "Liabilities",
                "Equity",
                "Income",
                "Expenses",
            ]
            premises = page.item_of(group)
            assert premises is not None and premises.parent().text(0) == "Expenses"
            assert [premises.child(i).text(0) for i in range(premises.childCount())] == [
                "6500  Rent",
                "6900  General expenses",
            ]
            # rent 1,200.00 and hinges 137.70 roll up to Premises
            assert premises.text(2) == "1,337.70"
        assert window.grab().save(str(shots / f"finance-1280x800-{key}.png"))
        problems[key] = clipped_texts(window)
    periods = window.open_page("fiscal_periods")
    idle(qtbot)
    new_period = new_dialog(qtbot, window, "fiscal_periods")  # the month after the last one
    assert new_period.raw() == {"name": "2026-12", "start_date": "2026-12-01", "end_date": "2026-12-31"}
    new_period.discard_confirmed = True
    new_period.reject()
    assert periods.select_id(next(r["id"] for r in periods.model.rows if r["name"] == "2026-11"))
    question = periods.close_period(periods.current_row())
    assert question is not None and question.text().startswith("Nothing is left unposted in 2026-11.")
    next(b for b in question.buttons() if b.text() == "Keep it open").click()
    bills_page = window.open_page("supplier_bills")
    idle(qtbot)
    bill_dialog = new_dialog(qtbot, window, "supplier_bills")
    choose_data(bill_dialog, "supplier_id", hansa)
    lines = bill_dialog.lines
    qtbot.keyClicks(lines.line_edit(0, 0), "Sanding discs P120")
    lines.combo(0, 1).setCurrentIndex(lines.combo(0, 1).findData(expense["6900"]))
    qtbot.keyClicks(lines.line_edit(0, 2), "12")
    qtbot.keyClicks(lines.line_edit(0, 3), "1.85")
    lines.combo(0, 4).setCurrentIndex(lines.combo(0, 4).findData(vat))
    type_into(qtbot, bill_dialog, "supplier_reference", "HH-88301")
    assert bill_dialog.total_label.text() == "Net 22.20 EUR   Tax 4.44 EUR   Total 26.64 EUR"
    bill_dialog.resize(1040, 720)
    qtbot.wait(50)
    assert bill_dialog.grab().save(str(shots / "finance-1280x800-bill-dialog.png"))
    problems["bill dialog"] = clipped_texts(bill_dialog)
    bill_dialog.discard_confirmed = True
    bill_dialog.reject()
    assert bills_page.select_id(
        next(r["id"] for r in bills_page.model.rows if r["supplier_reference"] == "NT-2026-1187")
    )
    view = bills_page.open_row(bills_page.current_row())
    qtbot.wait(50)
    assert view.grab().save(str(shots / "finance-1280x800-bill-view.png"))
    problems["bill view"] = clipped_texts(view)
    view.close()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    dialog = new_dialog(qtbot, window, "journal")
    dialog.resize(1000, 640)
    type_into(qtbot, dialog, "memo", "Office rent, December")
    dialog.grid.set_line(0, expense["6500"], "1200.00", "", "December")
    dialog.grid.set_line(1, expense["1000"], "", "1000")
    dialog.grid.set_line(2, expense["1010"], "", "200", "Petty cash")
    assert dialog.totals_label.text() == "Debit 1,200.00 EUR   Credit 1,200.00 EUR   Balanced"
    qtbot.wait(50)
    assert dialog.grab().save(str(shots / "finance-1280x800-journal-grid.png"))
    problems["journal grid"] = clipped_texts(dialog)
    dialog.discard_confirmed = True
    dialog.reject()
    window.leaving_confirmed = True
    assert {k: v for k, v in problems.items() if v} == {}
    print(f"\nfinance screenshots: {shots}")


def unbilled_lines_of(session: Any, order_id: str) -> str:
    from common.schema import PurchaseOrderLine

    with session.store.read_session() as db:
        return str(
            db.execute(
                select(PurchaseOrderLine.id).where(PurchaseOrderLine.purchase_order_id == order_id)
            ).scalar()
        )


def test_a_bill_in_dollars_carries_its_rate_and_paying_at_another_posts_the_difference(
    qtbot: QtBot, window: MainWindow, seeded: tuple[Any, dict[str, Any]]
) -> None:
    """By hand: 100.00 USD of office paper at 0.92 = 92.00 EUR (general expenses / payables);
    paid at 0.95 = 95.00 EUR from the bank, payables relieved by 92.00: 3.00 EUR exchange loss."""
    _session, ids = seeded
    pacific = ids["suppliers"]["Pacific Office Supply"]
    bills = open_finance(qtbot, window, "supplier_bills")
    dialog = new_dialog(qtbot, window, "supplier_bills")
    assert not dialog.form.isRowVisible(dialog.rows["exchange_rate"])  # a EUR supplier needs none
    choose_data(dialog, "supplier_id", pacific)
    assert dialog.form.isRowVisible(dialog.rows["exchange_rate"])
    lines = dialog.lines
    qtbot.keyClicks(lines.line_edit(0, 0), "Office paper")
    lines.combo(0, 1).setCurrentIndex(lines.combo(0, 1).findData(account_id(window, "6900")))
    qtbot.keyClicks(lines.line_edit(0, 2), "1")
    qtbot.keyClicks(lines.line_edit(0, 3), "100")
    type_into(qtbot, dialog, "supplier_reference", "PO-USD-1")
    assert dialog.total_label.text() == "Net 100.00 USD   Tax 0.00 USD   Total 100.00 USD"
    dialog.try_save()  # no rate yet: the command names the field
    idle(qtbot)
    assert dialog.isVisible()
    assert dialog.field_problem("exchange_rate") == (
        "Exchange rate: is required: the document is in USD, the ledger in EUR"
    )
    type_into(qtbot, dialog, "exchange_rate", "0.92")
    save_with_keyboard(qtbot, dialog)
    idle(qtbot)
    bill = next(r for r in bills.model.rows if r["supplier_reference"] == "PO-USD-1")
    assert (bill["currency"], bill["total"], bill["exchange_rate"]) == ("USD", 10000, Decimal("0.92"))
    pay = bills.pay(bill)
    assert pay is not None and pay.form.isRowVisible(pay.rows["exchange_rate"])
    type_into(qtbot, pay, "exchange_rate", "0.95")
    save_with_keyboard(qtbot, pay)
    chart = open_finance(qtbot, window, "accounts")
    assert tree_row(chart, "2000")[2:] == ["", ""]
    assert tree_row(chart, "1000")[2:] == ["", "95.00"]
    assert tree_row(chart, "6900")[2:] == ["92.00", ""]
    assert tree_row(chart, "7910")[2:] == ["3.00", ""]


def test_a_posted_entry_opens_read_only_and_a_closed_period_reopens(qtbot: QtBot, window: MainWindow) -> None:
    session = window.session
    entry, period = new_id(), new_id()
    session.apply("finance.create_fiscal_period", {"id": period, "name": "2026-10",
                                                   "start_date": "2026-10-01", "end_date": "2026-10-31"})  # fmt: skip
    session.apply(
        "finance.post_journal_entry",
        {"id": entry, "entry_date": "2026-10-31", "currency": "EUR", "memo": "Accrued rent",
         "lines": [{"account_id": account_id(window, "6500"), "debit": 80000},
                   {"account_id": account_id(window, "2000"), "credit": 80000, "memo": "Landlord"}]},
    )  # fmt: skip
    session.apply("finance.close_fiscal_period", {"id": period})
    journal = open_finance(qtbot, window, "journal")
    row = next(r for r in journal.model.rows if r["id"] == entry)
    view = journal.open_row(row)
    grid = view.grid
    assert [grid.combo(r).currentText() for r in range(grid.rowCount())] == [
        "6500 — Rent",
        "2000 — Accounts payable",
    ]
    assert [(grid.cell(r, 1).text(), grid.cell(r, 2).text(), grid.cell(r, 3).text()) for r in range(2)] == [
        ("800.00", "", ""),
        ("", "800.00", "Landlord"),
    ]
    assert not grid.cell(0, 1).isEnabled() and not view.save_button.isVisibleTo(view)
    view.close()
    # reversing into the closed month is refused with its name; the period reopens, then it is accepted
    reverse = journal.reverse(row)
    set_date(reverse, "entry_date", "2026-10-31")
    reverse.try_save()
    idle(qtbot)
    assert (
        reverse.field_problem("entry_date")
        == "Date: 2026-10-31 falls in fiscal period 2026-10, which is closed"
    )
    reverse.discard_confirmed = True
    reverse.reject()
    periods = open_finance(qtbot, window, "fiscal_periods")
    assert periods.select_id(period) and periods.reopen_button.isEnabled()
    qtbot.mouseClick(periods.reopen_button, Qt.MouseButton.LeftButton)
    idle(qtbot)
    assert next(r for r in periods.model.rows if r["id"] == period)["status"] == "open"
    journal = open_finance(qtbot, window, "journal")
    again = journal.reverse(next(r for r in journal.model.rows if r["id"] == entry))
    set_date(again, "entry_date", "2026-10-31")
    save_with_keyboard(qtbot, again)
    assert window.session.store.outbox()[-1]["name"] == "finance.reverse_journal_entry"


def mapping_page(qtbot: QtBot, session: Any) -> tuple[MainWindow, AccountMappingPage]:
    """The main window over ``session``, shown, on Finance → Account mapping."""
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    page = open_finance(qtbot, window, "account_mapping")
    assert isinstance(page, AccountMappingPage)
    return window, page


def test_an_organization_from_before_the_books_sets_them_up_from_the_mapping_page(
    qtbot: QtBot, data_root: Path
) -> None:
    """Its documents post nothing, silently, until the books are set up: the page says so and
    sets them up in the currency its customers are mostly invoiced in."""
    from common.permissions import ALL_PERMISSIONS
    from desktop.session import local_session
    from tests.desktop.seed import UNREACHABLE_SERVER

    session = local_session(data_root, UNREACHABLE_SERVER, "acc@old.test", "correct horse battery staple",
                            roles=("accountant",), org_name="Old Trading Ltd")  # fmt: skip
    try:
        for name, currency in (("Leeds Ltd", "GBP"), ("York plc", "GBP"), ("Lille SA", "EUR")):
            session.store.apply(
                "sales.create_customer",
                {"id": new_id(), "name": name, "currency": currency},
                actor_id=session.user.id,
                permissions=ALL_PERMISSIONS,
            )  # by the sales staff
        window, page = mapping_page(qtbot, session)
        assert page.missing.isVisibleTo(page) and "not set up" in page.missing.text()
        assert "post nothing to the ledger" in page.missing.text()
        assert page.set_up.isVisibleTo(page) and not page.table.isVisibleTo(page)
        assert page.currency.text() == "GBP" and page.set_up_button.isEnabled()
        qtbot.mouseClick(page.set_up_button, Qt.MouseButton.LeftButton)
        # Asked first: the ledger currency is for good. "Not now" leaves everything as it was.
        assert "Keep the books in GBP?" in page.question.text()
        next(b for b in page.question.buttons() if b.text() == "Not now").click()
        idle(qtbot)
        assert page.set_up.isVisibleTo(page) and session.store.pending_count() == 3  # the customers
        qtbot.mouseClick(page.set_up_button, Qt.MouseButton.LeftButton)
        next(b for b in page.question.buttons() if b.text() == "Set up the books").click()
        idle(qtbot)
        qtbot.waitUntil(lambda: page.table.isVisibleTo(page))
        with session.store.read_session() as db:
            ledger = db.get(Ledger, (session.org_id, session.org_id))
        assert ledger is not None and ledger.currency == "GBP"
        assert session.store.outbox()[-1]["name"] == "finance.set_up_books"
        assert not page.set_up.isVisibleTo(page) and not page.missing.isVisibleTo(page)
        assert page.combo("payables").currentText() == "2000 — Accounts payable"
        assert page.status.text() == "The books are set up, kept in GBP."
        window.leaving_confirmed = True
    finally:
        session.close()


def test_a_year_end_closing_is_reversed_on_its_own_date_by_who_may_close(
    qtbot: QtBot, window: MainWindow, monkeypatch: Any
) -> None:
    session = window.session
    session.apply("finance.post_journal_entry", {
        "id": new_id(), "entry_date": "2031-06-01", "currency": "EUR", "memo": "Sales",
        "lines": [{"account_id": account_id(window, "1000"), "debit": 10_000},
                  {"account_id": account_id(window, "4000"), "credit": 10_000}]})  # fmt: skip
    session.apply(
        "finance.close_year", {"id": new_id(), "start_date": "2031-01-01", "end_date": "2031-12-31"}
    )
    page = open_finance(qtbot, window, "journal")
    closing = next(r for r in page.model.rows if r["source"] == "year_end")
    assert page.select_id(closing["id"]) and page.reverse_button.isEnabled()
    dialog = page.reverse(page.current_row())
    # The date is the closing's and cannot be changed: any other would move the year's result.
    date_input = dialog.inputs["entry_date"]
    assert not date_input.isEnabled() and date_input.date().toString("yyyy-MM-dd") == "2031-12-31"
    save_with_keyboard(qtbot, dialog)
    idle(qtbot)
    reversal = session.store.outbox()[-1]
    assert (
        reversal["name"] == "finance.reverse_journal_entry" and reversal["args"]["entry_date"] == "2031-12-31"
    )
    # Someone who may post but not close years sees the button disabled, and why.
    session.apply(
        "finance.close_year", {"id": new_id(), "start_date": "2031-01-01", "end_date": "2031-12-31"}
    )
    page.model.reload()
    idle(qtbot)
    again = next(r for r in page.model.rows if r["source"] == "year_end" and not r.get("reversed_by"))
    monkeypatch.setattr(page.ctx, "can", lambda permission: permission != "finance.close_period")
    assert page.select_id(again["id"]) and not page.reverse_button.isEnabled()
    assert "finance.close_period" in page.reverse_button.toolTip()


def test_who_may_not_post_is_told_who_can_set_the_books_up(qtbot: QtBot, data_root: Path) -> None:
    from desktop.session import local_session
    from tests.desktop.seed import UNREACHABLE_SERVER

    session = local_session(data_root, UNREACHABLE_SERVER, "audit@old.test", "correct horse battery staple",
                            roles=("auditor",), org_name="Old Trading Ltd")  # fmt: skip
    try:
        window, page = mapping_page(qtbot, session)
        assert "Someone with the permission finance.post can set them up here." in page.missing.text()
        assert page.set_up.isVisibleTo(page) and not page.set_up_button.isEnabled()
        assert page.currency.text() == "EUR"  # no customers to go by
        window.leaving_confirmed = True
    finally:
        session.close()


def test_a_year_is_closed_from_the_fiscal_periods_page_and_its_result_told(
    qtbot: QtBot, window: MainWindow, use_locale: Any
) -> None:
    """Revenue 250.00 and rent 100.00 in 2031: closing 2031 moves the 150.00 profit to retained
    earnings; closing it again, with nothing posted since, is refused under its date."""
    use_locale("de_DE")  # the result as a German clerk reads amounts
    session = window.session
    for debit, credit, amount in (("1000", "4000", 25_000), ("6500", "1000", 10_000)):
        session.apply("finance.post_journal_entry", {
            "id": new_id(), "entry_date": "2031-05-01", "currency": "EUR", "memo": "Year",
            "lines": [{"account_id": account_id(window, debit), "debit": amount},
                      {"account_id": account_id(window, credit), "credit": amount}]})  # fmt: skip
    page = open_finance(qtbot, window, "fiscal_periods")
    assert page.year_button.isVisibleTo(page)
    dialog = page.close_year()
    assert dialog is not None
    last = date.today().year - 1  # last calendar year is offered
    assert dialog.inputs["start_date"].date().toString("yyyy-MM-dd") == f"{last}-01-01"
    set_date(dialog, "start_date", "2031-01-01")
    set_date(dialog, "end_date", "2031-12-31")
    save_with_keyboard(qtbot, dialog)
    idle(qtbot)
    qtbot.waitUntil(lambda: hasattr(page, "year_result"))
    assert page.year_result.text() == "The year's result, 150,00 EUR, is now in retained earnings."
    assert session.store.outbox()[-1]["name"] == "finance.close_year"
    page.year_result.close()
    again = page.close_year()
    assert again is not None
    set_date(again, "start_date", "2031-01-01")
    set_date(again, "end_date", "2031-12-31")
    again.try_save()
    idle(qtbot)
    qtbot.waitUntil(lambda: "already been closed" in again.error_labels["end_date"].text())
    again.discard_confirmed = True
    again.reject()

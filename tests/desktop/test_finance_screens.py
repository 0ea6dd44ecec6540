"""Finance screens on real widgets over a real encrypted store (and a real server for sync):
the chart of accounts, the journal grid, supplier bills and payments, periods, settings."""

from __future__ import annotations

from typing import Any

from pytestqt.qtbot import QtBot

from desktop import background
from desktop.qt import QApplication, Qt
from desktop.ui.finance_accounts import AccountsPage
from desktop.ui.finance_journal import START_ROWS, JournalEntryDialog
from desktop.ui.forms import FormDialog
from desktop.ui.main_window import MainWindow
from tests.desktop.test_inventory_screens import open_dialog, save_with_keyboard, type_into


def idle(qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: background.active_count() == 0, timeout=10_000)


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
    page = open_finance(qtbot, window, "accounts")
    assert isinstance(page, AccountsPage)
    assert tree_row(page, "1000")[:2] == ["1000  Bank", "Asset"]
    assert page.select_id(next(r["id"] for r in page.rows.values() if r["code"] == "6500"))
    dialog = open_dialog(qtbot, window, "accounts")
    assert dialog.inputs["parent_id"].currentText() == "6500 — Rent"  # new under the selected one
    type_into(qtbot, dialog, "code", "6510")
    type_into(qtbot, dialog, "name", "Office rent")
    save_with_keyboard(qtbot, dialog)
    idle(qtbot)
    rent = page.item_of(next(r["id"] for r in page.rows.values() if r["code"] == "6500"))
    assert rent is not None and rent.child(0).text(0) == "6510  Office rent"
    QApplication.processEvents()
    assert isinstance(dialog, FormDialog) and Qt is not None


def account_id(window: MainWindow, code: str) -> str:
    from desktop.ui.finance_common import accounts

    return next(r["id"] for r in accounts(window.session) if r["code"] == code)


def test_a_journal_entry_typed_in_the_grid_posts_only_once_balanced(
    qtbot: QtBot, window: MainWindow, use_locale: Any
) -> None:
    use_locale("de_DE")
    dialog = open_dialog(qtbot, window, "journal")
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

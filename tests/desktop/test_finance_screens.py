"""Finance screens on real widgets over a real encrypted store (and a real server for sync):
the chart of accounts, the journal grid, supplier bills and payments, periods, settings."""

from __future__ import annotations

from typing import Any

from pytestqt.qtbot import QtBot

from desktop import background
from desktop.qt import QApplication, Qt
from desktop.ui.finance_accounts import AccountsPage
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

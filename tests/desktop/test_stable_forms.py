"""Stable forms (issue 13): messages have their space reserved (nothing moves while typing),
problems show only after a field is touched or on Save, Esc/Cancel/close ask before discarding
changes, and dates come from a calendar in the user's locale. Real widgets, offscreen."""

from __future__ import annotations

from typing import Any

from pytestqt.qtbot import QtBot

from desktop.qt import QApplication, QDate, QLineEdit, QMessageBox, Qt
from desktop.ui.forms import DateInput, FormDialog
from desktop.ui.main_window import MainWindow
from desktop.ui.purchase_orders import PurchaseOrderDialog
from tests.desktop.test_inventory_screens import choose, open_dialog, type_into


def shown_problems(dialog: FormDialog) -> list[str]:
    return [t for t in (*(e.text() for e in dialog.error_labels.values()), dialog.form_error.text()) if t]


def discard_prompt(dialog: FormDialog) -> QMessageBox | None:
    box = dialog.discard_prompt
    return box if isinstance(box, QMessageBox) and box.isVisible() else None


def test_a_new_purchase_order_shows_no_problem_before_typing(qtbot: QtBot, window: MainWindow) -> None:
    page = window.open_page("purchase_orders")
    dialog = page.new_item()
    assert isinstance(dialog, PurchaseOrderDialog)
    dialog.add_line()
    dialog.add_line()
    assert shown_problems(dialog) == []  # not "Line 1 product id: is required" before anything is typed
    assert dialog.lines is not None
    qtbot.keyClicks(dialog.lines.cellWidget(0, 1), "3")  # line 1 touched: its problems show, line 2's not
    text = dialog.form_error.text()
    assert "Line 1 product: pick a product" in text and "Line 2" not in text
    dialog.try_save()  # on Save every problem shows
    assert "Line 2 product: pick a product" in dialog.form_error.text()


def test_messages_have_their_space_reserved(qtbot: QtBot, window: MainWindow) -> None:
    dialog = open_dialog(qtbot, window, "products")
    below = dialog.inputs["description"]
    before = (below.mapTo(dialog, below.rect().topLeft()).y(), dialog.height())
    type_into(qtbot, dialog, "sku", "bad sku")
    qtbot.wait(0)
    assert dialog.field_problem("sku").startswith("SKU: may only contain")
    after = (below.mapTo(dialog, below.rect().topLeft()).y(), dialog.height())
    assert after == before  # the error took its reserved line; nothing was pushed down


def test_esc_with_changes_asks_before_discarding(qtbot: QtBot, window: MainWindow) -> None:
    dialog = open_dialog(qtbot, window, "products")
    type_into(qtbot, dialog, "name", "Half-typed")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    box = discard_prompt(dialog)
    assert (
        box is not None and box.text() == "You changed this form and it is not saved. Discard your changes?"
    )
    next(b for b in box.buttons() if b.text() == "Keep editing").click()
    assert dialog.isVisible()
    widget = dialog.inputs["name"]
    assert isinstance(widget, QLineEdit) and widget.text() == "Half-typed"
    dialog.cancel_button.click()  # Cancel asks too
    box = discard_prompt(dialog)
    assert box is not None
    next(b for b in box.buttons() if b.text() == "Discard changes").click()
    assert not dialog.isVisible()


def test_closing_with_changes_asks_and_without_changes_does_not(qtbot: QtBot, window: MainWindow) -> None:
    dialog = open_dialog(qtbot, window, "warehouses")
    dialog.close()
    assert not dialog.isVisible() and discard_prompt(dialog) is None  # nothing typed: closes at once
    # the keyboard goes back to the main window (the offscreen platform does not do it by itself)
    qtbot.waitUntil(window.isActiveWindow)
    focus = QApplication.focusWidget()
    assert focus is not None and window.isAncestorOf(focus)
    dialog = open_dialog(qtbot, window, "warehouses")
    type_into(qtbot, dialog, "code", "WEST")
    dialog.close()
    assert dialog.isVisible() and discard_prompt(dialog) is not None


def test_dates_are_picked_from_a_calendar_in_the_locale_format(
    qtbot: QtBot, window: MainWindow, use_locale: Any
) -> None:
    use_locale("de_DE")
    page = window.open_page("purchase_orders")
    dialog = page.new_item()
    assert isinstance(dialog, PurchaseOrderDialog)
    expected = dialog.inputs["expected_on"]
    assert isinstance(expected, DateInput) and expected.calendarPopup()
    assert expected.displayFormat() == "dd.MM.yyyy"
    assert dialog.raw()["expected_on"] == ""  # optional: empty until picked
    expected.setDate(QDate(2026, 12, 24))
    assert expected.text() == "24.12.2026"
    choose(dialog, "supplier_id", "Hansa")
    args, _found = dialog.validate()
    assert args["expected_on"] == "2026-12-24"
    use_locale("en_US")
    assert DateInput(optional=False).displayFormat() == "M/d/yyyy"  # never a two-digit year

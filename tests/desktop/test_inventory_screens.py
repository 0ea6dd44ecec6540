"""Inventory and purchasing screens on real widgets over a real encrypted store, offline."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from common.stock import stock_on_hand
from desktop import background
from desktop.qt import QApplication, QComboBox, QLineEdit, QMessageBox, Qt, QWidget
from desktop.ui.forms import FormDialog
from desktop.ui.main_window import MainWindow
from desktop.ui.purchase_orders import PurchaseOrderDialog, PurchaseOrdersPage, ReceiveDialog
from desktop.ui.stock_moves import StockMoveDialog
from tests.desktop.seed import offline_session


def open_dialog(qtbot: QtBot, window: MainWindow, page_key: str) -> Any:
    """Ctrl+N on a page, as the user presses it; returns the dialog that opened."""
    page = window.open_page(page_key)
    before = set(page.findChildren(FormDialog))
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    (dialog,) = set(page.findChildren(FormDialog)) - before
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def type_into(qtbot: QtBot, dialog: FormDialog, key: str, text: str) -> None:
    widget = dialog.inputs[key]
    assert isinstance(widget, QLineEdit)
    widget.clear()
    qtbot.keyClicks(widget, text)


def choose(dialog: FormDialog, key: str, text_part: str) -> None:
    combo = dialog.inputs[key]
    assert isinstance(combo, QComboBox)
    index = next(i for i in range(combo.count()) if text_part in combo.itemText(i))
    combo.setCurrentIndex(index)


def save_with_keyboard(qtbot: QtBot, dialog: QWidget) -> None:
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not dialog.isVisible() and background.active_count() == 0, timeout=10_000)


def pending(window: MainWindow) -> int:
    return window.session.store.pending_count()


def test_create_a_product_offline_with_the_keyboard(qtbot: QtBot, window: MainWindow) -> None:
    before = pending(window)
    dialog = open_dialog(qtbot, window, "products")
    type_into(qtbot, dialog, "sku", "STOOL-BAR-75")
    type_into(qtbot, dialog, "name", "Bar stool 75 cm")
    type_into(qtbot, dialog, "sale_price", "129.50")
    type_into(qtbot, dialog, "reorder_point", "6")
    save_with_keyboard(qtbot, dialog)
    page = window.pages["products"]
    row = next(r for r in page.model.rows if r["sku"] == "STOOL-BAR-75")
    assert row["sale_price"] == 12950 and row["currency"] == "EUR" and row["reorder_point"] == Decimal(6)
    assert page.current_row() is not None and page.current_row()["sku"] == "STOOL-BAR-75"  # type: ignore[index]
    assert pending(window) == before + 1
    window.update_sync_state()
    assert f"{before + 1} pending" in window.sync_label.text()


def test_keyboard_ctrl_f_finds_and_enter_opens(qtbot: QtBot, window: MainWindow) -> None:
    page = window.open_page("warehouses")
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert page.search.hasFocus()
    qtbot.keyClicks(page.search, "east")
    assert [r["code"] for r in page.model.rows] == ["EAST"]
    qtbot.keyClick(page.search, Qt.Key.Key_Tab)
    assert page.table.hasFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Down)
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    (dialog,) = page.findChildren(FormDialog)
    assert dialog.windowTitle() == "Edit warehouse: EAST — East depot"
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_invalid_input_is_refused_with_the_field_named(qtbot: QtBot, window: MainWindow) -> None:
    dialog = open_dialog(qtbot, window, "products")
    type_into(qtbot, dialog, "sku", "bad sku")
    assert dialog.field_problem("sku") == "SKU: may only contain letters, digits and . _ - / (no spaces)"
    assert not dialog.save_button.isEnabled()
    type_into(qtbot, dialog, "sku", "GOOD-1")
    assert dialog.field_problem("sku") == ""
    type_into(qtbot, dialog, "sale_price", "1.234")
    assert dialog.field_problem("sale_price") == "Sale price: has too many decimals (EUR has 2 decimals)"
    type_into(qtbot, dialog, "sale_price", "-5")
    assert dialog.field_problem("sale_price") == "Sale price: must not be negative"
    type_into(qtbot, dialog, "sale_price", "5")
    dialog.try_save()  # the name was never typed: saving names it
    assert dialog.field_problem("name") == "Name: is required"
    assert dialog.isVisible() and background.active_count() == 0
    # a problem only the command can see (the SKU is taken) comes back under the field too
    type_into(qtbot, dialog, "name", "Duplicate")
    type_into(qtbot, dialog, "sku", "CHAIR-OAK-01")
    before = pending(window)
    dialog.try_save()
    qtbot.waitUntil(lambda: background.active_count() == 0)
    assert dialog.isVisible()
    assert dialog.field_problem("sku") == "SKU: 'CHAIR-OAK-01' is already used by another product"
    assert pending(window) == before  # nothing written
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # typed but not saved: it asks before discarding
    assert dialog.isVisible() and dialog.discard_prompt is not None
    next(b for b in dialog.discard_prompt.buttons() if b.text() == "Discard changes").click()
    assert not dialog.isVisible()


def test_edit_a_product_sends_only_the_changed_field_with_its_old_value(
    qtbot: QtBot, window: MainWindow
) -> None:
    page = window.open_page("products")
    assert page.select_id(next(r["id"] for r in page.model.rows if r["sku"] == "LAMP-BRASS"))
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    (dialog,) = page.findChildren(FormDialog)
    assert not dialog.save_button.isEnabled() or dialog.validate()[1]  # nothing changed yet
    type_into(qtbot, dialog, "sale_price", "72.00")
    save_with_keyboard(qtbot, dialog)
    last = window.session.store.outbox()[-1]
    assert last["name"] == "inventory.update_product"
    assert last["args"]["changes"] == {"sale_price": 7200} and last["args"]["base"] == {"sale_price": 6900}
    row = next(r for r in page.model.rows if r["sku"] == "LAMP-BRASS")
    assert row["sale_price"] == 7200


def test_receive_stock_offline_and_see_it_on_hand(qtbot: QtBot, window: MainWindow) -> None:
    dialog = open_dialog(qtbot, window, "stock_moves")
    assert isinstance(dialog, StockMoveDialog)
    qtbot.keyClicks(dialog.picker, "CUSHION-GREY")  # typed or scanned: an exact SKU picks it
    assert dialog.picker.product is not None and dialog.picker.product["sku"] == "CUSHION-GREY"
    choose(dialog, "to_warehouse_id", "EAST")
    type_into(qtbot, dialog, "quantity", "25")
    type_into(qtbot, dialog, "unit_cost", "9.95")
    save_with_keyboard(qtbot, dialog)
    moves = window.pages["stock_moves"]
    newest = moves.model.rows[0]
    assert (newest["sku"], newest["to_code"], newest["quantity"], newest["unit_cost"]) == (
        "CUSHION-GREY",
        "EAST",
        Decimal(25),
        995,
    )
    stock = window.open_page("stock")
    line = next(r for r in stock.model.rows if r["sku"] == "CUSHION-GREY")
    assert line["on_hand"] == Decimal(25) and line["warehouse"].startswith("EAST")
    low = window.open_page("low_stock")
    assert "CUSHION-GREY" not in [r["sku"] for r in low.model.rows]  # 25 > reorder point 15
    assert "GLUE-PVA-1L" in [r["sku"] for r in low.model.rows]


def test_a_count_records_the_difference_to_the_stock_on_hand(qtbot: QtBot, window: MainWindow) -> None:
    session = window.session
    stock = window.open_page("stock")
    index = next(
        i for i, r in enumerate(stock.model.rows) if r["sku"] == "CHAIR-OAK-01" and "MAIN" in r["warehouse"]
    )
    stock.table.selectRow(index)
    dialog = stock.count_current()
    assert dialog.raw()["reason"] == "count" and dialog.picker.product["sku"] == "CHAIR-OAK-01"
    assert "On hand there now: 36" in dialog.stock_info.text()
    type_into(qtbot, dialog, "quantity", "33")
    args, found = dialog.validate()
    # the count is sent as counted: the command finds the difference to the stock where it runs
    assert found == {} and dialog.command == "inventory.record_stock_count"
    assert args["warehouse_id"] and args["counted"] == "33" and "quantity" not in args
    save_with_keyboard(qtbot, dialog)
    with session.store.read_session() as db:
        assert stock_on_hand(db, session.org_id, dialog.picker.product["id"], args["warehouse_id"]) == 33
    (entry,) = [e for e in session.store.outbox() if e["name"] == "inventory.record_stock_count"]
    assert entry["args"]["counted"] == "33"


def test_a_transfer_needs_two_different_warehouses(qtbot: QtBot, window: MainWindow) -> None:
    dialog = open_dialog(qtbot, window, "stock_moves")
    choose(dialog, "reason", "Transfer")
    qtbot.keyClicks(dialog.picker, "CHAIR-OAK-01")
    choose(dialog, "from_warehouse_id", "MAIN")
    choose(dialog, "to_warehouse_id", "MAIN")
    type_into(qtbot, dialog, "quantity", "2")
    dialog.try_save()
    assert dialog.isVisible()
    assert "To warehouse" in dialog.field_problem("to_warehouse_id") and "differ" in dialog.field_problem(
        "to_warehouse_id"
    )
    choose(dialog, "to_warehouse_id", "EAST")
    save_with_keyboard(qtbot, dialog)
    assert window.session.store.outbox()[-1]["args"]["reason"] == "transfer"


def test_purchase_order_draft_ordered_received(qtbot: QtBot, window: MainWindow) -> None:
    page = window.open_page("purchase_orders")
    assert isinstance(page, PurchaseOrdersPage)
    dialog = page.new_item()
    assert isinstance(dialog, PurchaseOrderDialog)
    qtbot.waitUntil(dialog.isActiveWindow)
    choose(dialog, "supplier_id", "Hansa")
    choose(dialog, "warehouse_id", "EAST")
    lines = dialog.lines
    assert lines is not None
    qtbot.keyClicks(lines.picker(0), "BOLT-M8")
    qtbot.keyClicks(lines.cellWidget(0, 1), "10")
    qtbot.keyClicks(lines.cellWidget(0, 2), "4.20")
    assert dialog.total_label.text() == "Total 42.00 EUR"
    dialog.add_line()
    qtbot.keyClicks(lines.picker(1), "HINGE-35MM")
    qtbot.keyClicks(lines.cellWidget(1, 1), "0")
    _, found = dialog.validate()
    assert found.get("Line 2 quantity") == "must be greater than zero"
    lines.cellWidget(1, 1).setText("100")
    qtbot.keyClicks(lines.cellWidget(1, 2), "0.15")
    save_with_keyboard(qtbot, dialog)
    order = next(r for r in page.model.rows if r["warehouse"] == "EAST")
    assert (
        order["status"] == "draft" and order["total"] == 4200 + 1500 and order["number"].startswith("DRAFT-")
    )
    page.select_id(order["id"])
    assert page.order_button.isEnabled() and not page.receive_button.isEnabled()
    page.order_button.click()
    qtbot.waitUntil(lambda: background.active_count() == 0)
    order = next(r for r in page.model.rows if r["id"] == order["id"])
    assert order["status"] == "ordered"
    page.select_id(order["id"])
    receive = page.receive(order)
    assert isinstance(receive, ReceiveDialog)
    save_with_keyboard(qtbot, receive)
    order = next(r for r in page.model.rows if r["id"] == order["id"])
    assert order["status"] == "received"
    stock = window.open_page("stock")
    east = {r["sku"]: r["on_hand"] for r in stock.model.rows if r["warehouse"].startswith("EAST")}
    assert east["BOLT-M8"] == 10 and east["HINGE-35MM"] == 100


def test_archiving_hides_a_product_until_show_archived(
    qtbot: QtBot, window: MainWindow, monkeypatch: Any
) -> None:
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    page = window.open_page("products")
    page.select_id(next(r["id"] for r in page.model.rows if r["sku"] == "CUSHION-GREY"))  # no stock
    page.archive_button.click()
    qtbot.waitUntil(lambda: background.active_count() == 0)
    assert "CUSHION-GREY" not in [r["sku"] for r in page.model.rows]
    page.archived_box.setChecked(True)
    assert "CUSHION-GREY" in [r["sku"] for r in page.model.rows]


@pytest.mark.parametrize(
    ("roles", "present", "absent"),
    [
        (("warehouse",), {"products", "purchase_orders", "stock"}, {"employees", "customers"}),
        (("hr",), {"employees", "payroll_runs"}, {"products", "stock", "finance.overview"}),
        (("sales",), {"customers", "products"}, {"employees"}),
    ],
)
def test_navigation_shows_only_the_modules_the_user_may_use(
    qtbot: QtBot, data_root: Any, roles: tuple[str, ...], present: set[str], absent: set[str]
) -> None:
    session = offline_session(data_root, roles=roles)
    try:
        win = MainWindow(session)
        qtbot.addWidget(win)
        keys = set(win.page_keys())
        assert present <= keys and not (absent & keys)
        assert "attention" in keys
    finally:
        session.close()


def test_a_reader_sees_lists_but_no_create_button(qtbot: QtBot, data_root: Any) -> None:
    session = offline_session(data_root, roles=("sales",))  # inventory.read only
    try:
        win = MainWindow(session)
        qtbot.addWidget(win)
        page = win.open_page("products")
        assert not page.new_button.isVisibleTo(page) and page.new_item() is None
    finally:
        session.close()
    QApplication.processEvents()

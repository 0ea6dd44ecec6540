"""Guardrails that warn, not block (issue 13): each asks once, with the numbers, and going on
records exactly what was typed; going back records nothing. Low stock → Order… is prefilled."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pytestqt.qtbot import QtBot

from common.stock import stock_on_hand
from desktop import background
from desktop.qt import QMessageBox
from desktop.ui.main_window import MainWindow
from desktop.ui.purchase_orders import PurchaseOrderDialog
from desktop.ui.stock_moves import StockMoveDialog
from tests.desktop.test_inventory_screens import choose, open_dialog, type_into


def guardrail(dialog_or_page: Any) -> QMessageBox:
    boxes = [
        b for b in dialog_or_page.findChildren(QMessageBox) if b.objectName() == "guardrail" and b.isVisible()
    ]
    assert len(boxes) == 1, boxes
    return boxes[0]


def click(box: QMessageBox, text: str) -> None:
    next(b for b in box.buttons() if b.text() == text).click()


def test_issuing_more_than_on_hand_asks_once_with_the_numbers(qtbot: QtBot, window: MainWindow) -> None:
    session = window.session
    before = session.store.pending_count()
    dialog = open_dialog(qtbot, window, "stock_moves")
    assert isinstance(dialog, StockMoveDialog)
    choose(dialog, "reason", "Issue")
    qtbot.keyClicks(dialog.picker, "VARNISH-MATT")  # 22 on hand in MAIN
    choose(dialog, "from_warehouse_id", "MAIN")
    type_into(qtbot, dialog, "quantity", "100")
    dialog.try_save()
    box = guardrail(dialog)
    assert box.text().startswith(
        "Only 22 pcs on hand in MAIN — Main warehouse; taking 100 pcs leaves -78 pcs. Record it anyway?"
    ), box.text()
    click(box, "Go back")
    assert dialog.isVisible() and dialog.save_button.isEnabled()
    assert session.store.pending_count() == before  # nothing recorded
    dialog.try_save()
    click(guardrail(dialog), "Record anyway")
    qtbot.waitUntil(lambda: not dialog.isVisible() and background.active_count() == 0)
    product, warehouse = dialog.picker.product["id"], dialog.raw()["from_warehouse_id"]  # type: ignore[index]
    with session.store.read_session() as db:
        assert stock_on_hand(db, session.org_id, product, warehouse) == Decimal(-78)


def test_an_issue_within_stock_asks_nothing(qtbot: QtBot, window: MainWindow) -> None:
    dialog = open_dialog(qtbot, window, "stock_moves")
    choose(dialog, "reason", "Issue")
    qtbot.keyClicks(dialog.picker, "VARNISH-MATT")
    choose(dialog, "from_warehouse_id", "MAIN")
    type_into(qtbot, dialog, "quantity", "22")
    dialog.try_save()
    qtbot.waitUntil(lambda: not dialog.isVisible() and background.active_count() == 0)
    assert not [b for b in dialog.findChildren(QMessageBox) if b.objectName() == "guardrail"]


def test_receiving_beyond_the_ordered_quantity_asks_once(qtbot: QtBot, window: MainWindow) -> None:
    page = window.open_page("purchase_orders")
    order = next(r for r in page.model.rows if r["status"] == "ordered")  # 40 × CUSHION-GREY
    page.select_id(order["id"])
    receive = page.receive(order)
    edit = receive.table.cellWidget(0, 4)
    edit.setText("60")
    receive.try_save()
    box = guardrail(receive)
    assert box.text() == (
        "More than ordered:\nCUSHION-GREY — Seat cushion, grey: 60 received against 40 ordered (20 more)\n"
        "Receive it anyway?"
    ), box.text()
    click(box, "Receive anyway")
    qtbot.waitUntil(lambda: not receive.isVisible() and background.active_count() == 0)
    order = next(r for r in page.model.rows if r["id"] == order["id"])
    assert order["status"] == "received"
    stock = window.open_page("stock")
    assert next(r for r in stock.model.rows if r["sku"] == "CUSHION-GREY")["on_hand"] == Decimal(60)


def test_archiving_a_product_with_stock_asks_once(qtbot: QtBot, window: MainWindow) -> None:
    page = window.open_page("products")
    page.select_id(next(r["id"] for r in page.model.rows if r["sku"] == "CHAIR-OAK-01"))
    page.archive_button.click()
    box = guardrail(page)
    assert box.text().startswith(
        "Oak dining chair (CHAIR-OAK-01) still has 48 pcs on hand (EAST 12, MAIN 36)."
    ), box.text()
    click(box, "Go back")
    assert "CHAIR-OAK-01" in [r["sku"] for r in page.model.rows]
    page.archive_button.click()
    click(guardrail(page), "Archive anyway")
    qtbot.waitUntil(lambda: background.active_count() == 0)
    assert "CHAIR-OAK-01" not in [r["sku"] for r in page.model.rows]


def test_low_stock_order_is_prefilled_with_supplier_and_cost(qtbot: QtBot, window: MainWindow) -> None:
    session = window.session
    product = next(r for r in window.open_page("products").model.rows if r["sku"] == "GLUE-PVA-1L")
    session.apply(
        "inventory.update_product",
        {"id": product["id"], "changes": {"cost_price": 545}, "base": {"cost_price": None}},
    )
    low = window.open_page("low_stock")
    low.select_id(product["id"])
    dialog = low.order_current()
    assert isinstance(dialog, PurchaseOrderDialog)
    supplier = dialog.inputs["supplier_id"]
    assert supplier.currentText().startswith("Nordic Timber AB")  # type: ignore[attr-defined]
    lines = dialog.lines
    assert lines is not None and lines.picker(0).product["sku"] == "GLUE-PVA-1L"  # type: ignore[index]
    assert lines.text(0, 1) == "4.5" and lines.text(0, 2) == "5.45"  # short by 4.5 l; the cost price
    args, found = dialog.validate()
    assert found == {} and args["lines"][0]["unit_cost"] == 545
    assert dialog.field_problem("supplier_id") == ""

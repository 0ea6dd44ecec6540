"""The command palette (Ctrl+K) and F1 on a real window over a real encrypted store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from common.commands import execute
from common.ids import new_id
from common.local import client_context
from common.permissions import ALL_PERMISSIONS
from desktop import background
from desktop.qt import QAction, QMessageBox, Qt
from desktop.search import search_records
from desktop.session import UserSession
from desktop.ui.forms import FormDialog
from desktop.ui.main_window import MainWindow
from desktop.ui.palette import CommandPalette, RecordCard
from tests.desktop.seed import offline_session, seed_inventory


def window_for(qtbot: QtBot, session: UserSession) -> MainWindow:
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: background.active_count() == 0)
    return win


def palette_of(qtbot: QtBot, win: MainWindow) -> CommandPalette:
    qtbot.keyClick(win, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    (palette,) = win.findChildren(CommandPalette)
    return palette


def type_and_wait(qtbot: QtBot, palette: CommandPalette, text: str) -> list[Any]:
    palette.input.clear()
    with qtbot.waitSignal(palette.results_shown, timeout=10_000, check_params_cb=lambda: True):
        qtbot.keyClicks(palette.input, text)
    qtbot.waitUntil(lambda: background.active_count() == 0)
    return palette.hits()


def test_the_palette_finds_a_customer_and_opens_it(qtbot: QtBot, seeded: tuple[UserSession, dict]) -> None:  # type: ignore[type-arg]
    session, _ids = seeded
    session.apply("sales.create_customer", {"id": new_id(), "name": "Initech Corp", "email": "ap@initech.test",
                                            "currency": "EUR"})  # fmt: skip
    win = window_for(qtbot, session)
    palette = palette_of(qtbot, win)
    hits = type_and_wait(qtbot, palette, "initech")
    assert hits[0].title == "Initech Corp" and hits[0].entity == "customer"
    qtbot.keyClick(palette.input, Qt.Key.Key_Return)
    form = palette.opened  # customers have their page: the record opens there, in its form
    assert isinstance(form, FormDialog) and form.isVisible()
    assert form.windowTitle() == "Edit customer: Initech Corp"
    assert win.pages["customers"].current_row()["name"] == "Initech Corp"
    form.close()
    # a record without a page of its own opens in a read-only card
    session.apply("projects.create_project", {"id": new_id(), "code": "INIT-1", "name": "Initech fit-out"})
    palette = palette_of(qtbot, win)
    hits = type_and_wait(qtbot, palette, "initech fit")
    assert hits[0].entity == "project"
    qtbot.keyClick(palette.input, Qt.Key.Key_Return)
    card = palette.opened
    assert isinstance(card, RecordCard) and card.isVisible()
    assert "Name" in card.shown and "Code" in card.shown
    card.close()


def test_a_scanned_barcode_opens_its_product_and_screens_are_found(
    qtbot: QtBot,
    seeded: tuple[UserSession, dict],  # type: ignore[type-arg]
) -> None:
    session, _ids = seeded
    win = window_for(qtbot, session)
    products = win.open_page("products")
    lamp = next(r for r in products.model.rows if r["sku"] == "LAMP-BRASS")
    palette = palette_of(qtbot, win)
    hits = type_and_wait(qtbot, palette, lamp["barcode"])
    assert (hits[0].entity, hits[0].entity_id, hits[0].rank) == ("product", lamp["id"], 0)
    qtbot.keyClick(palette.input, Qt.Key.Key_Return)  # the scanner's Enter
    assert isinstance(palette.opened, FormDialog)
    assert products.current_row()["id"] == lamp["id"]
    palette.opened.close()
    palette = palette_of(qtbot, win)
    assert type_and_wait(qtbot, palette, "low st")[0].action == "low_stock"
    qtbot.keyClick(palette.input, Qt.Key.Key_Return)
    assert win.stack.currentWidget() is win.pages["low_stock"]


def test_the_palette_finds_nothing_the_user_may_not_read(qtbot: QtBot, data_root: Path) -> None:
    warehouse = offline_session(data_root, roles=("warehouse",))
    try:
        seed_inventory(warehouse)
        # A customer in the store (say, from before a role change): a warehouse login reads no customers.
        store = warehouse.store
        with store.write_session() as db:
            ctx, _ = client_context(db, org_id=store.profile.org_id, device_id=store.device_id, actor_id="system",
                                    permissions=ALL_PERMISSIONS)  # fmt: skip
            execute(ctx, "sales.create_customer", {"id": new_id(), "name": "Initech Oak", "currency": "EUR"})
        assert [h.entity for h in search_records(warehouse, "Initech")] == []
        assert {h.entity for h in search_records(warehouse, "oak")} == {"product"}
    finally:
        warehouse.close()


def test_f1_lists_the_shortcuts(qtbot: QtBot, session: UserSession) -> None:
    win = window_for(qtbot, session)
    action = win.findChild(QAction, "helpAction")
    assert action is not None
    action.trigger()
    box = win.findChild(QMessageBox, "helpBox")
    assert box is not None and "Ctrl+K" in box.text() and "Ctrl+P" in box.text()
    box.close()

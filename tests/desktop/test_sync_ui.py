"""Sync in the interface, against a real server over HTTP: Sync now (F5) sends what was made
offline and the pending count drops; a conflict shows in the needs-attention panel and both ways
of resolving it sync cleanly. The network is cut and restored with a proxy in front of the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from common.ids import new_id
from common.schema import SCHEMA_VERSION, Product
from desktop import background
from desktop.api_client import ApiClient
from desktop.qt import QMessageBox, Qt
from desktop.session import UserSession
from desktop.signin import Credentials, SignIn
from desktop.sync import RetryPolicy, sync_function_for
from desktop.ui.attention import AttentionPage
from desktop.ui.main_window import MainWindow
from desktop.ui.stock_moves import StockMoveDialog
from tests.desktop.conftest import LiveServer
from tests.desktop.test_inventory_screens import choose, open_dialog, save_with_keyboard, type_into
from tests.e2e.proxy import DroppingProxy

FAST = RetryPolicy(attempts=2, base_s=0.01, cap_s=0.02, budget_s=0.5)


@pytest.fixture
def network(live_server: LiveServer) -> Iterator[DroppingProxy]:
    """The way to the server: ``network.offline = True`` cuts it."""
    with DroppingProxy(live_server.http.port) as proxy:
        yield proxy


def sign_in(data_root: Path, url: str, email: str, password: str) -> UserSession:
    result = SignIn(data_root, Credentials(url, email, password)).start()
    assert isinstance(result, UserSession)
    return result


def open_window(qtbot: QtBot, session: UserSession) -> MainWindow:
    window = MainWindow(session)
    window.sync.sync_function = sync_function_for(session, policy=FAST)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def press_f5(qtbot: QtBot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert window.sync.syncing  # started at once; the work runs off the GUI thread
    qtbot.waitUntil(lambda: not window.sync.syncing and background.active_count() == 0, timeout=30_000)


def server_push(live_server: LiveServer, email: str, org_id: str, *mutations: dict) -> None:
    api = ApiClient(live_server.url)
    api.login(email, live_server.password)
    results = api.push(org_id, list(mutations), client_id="other-desk", schema_version=SCHEMA_VERSION)
    assert [r["status"] for r in results] == ["applied"] * len(mutations), results


def command(command_name: str, **args: object) -> dict:
    return {"id": new_id(), "name": command_name, "args": args}


def test_made_offline_then_synced_and_the_pending_count_drops(
    qtbot: QtBot, live_server: LiveServer, network: DroppingProxy, data_root: Path
) -> None:
    org_id = live_server.orgs["Acme Trading"]
    server_push(
        live_server,
        "admin@acme.test",
        org_id,
        command("inventory.create_warehouse", id=new_id(), code="MAIN", name="Main warehouse"),
    )
    session = sign_in(data_root, network.url, "warehouse@acme.test", live_server.password)
    try:
        window = open_window(qtbot, session)
        press_f5(qtbot, window)
        assert window.sync_label.text().startswith("Synced just now"), window.sync.last_error

        network.offline = True
        dialog = open_dialog(qtbot, window, "products")
        type_into(qtbot, dialog, "sku", "STOOL-75")
        type_into(qtbot, dialog, "name", "Bar stool")
        type_into(qtbot, dialog, "sale_price", "129.50")
        save_with_keyboard(qtbot, dialog)
        window.activateWindow()  # the offscreen platform does not hand focus back by itself
        qtbot.waitUntil(window.isActiveWindow)
        receipt = open_dialog(qtbot, window, "stock_moves")
        assert isinstance(receipt, StockMoveDialog)
        qtbot.keyClicks(receipt.picker, "STOOL-75")
        choose(receipt, "to_warehouse_id", "MAIN")
        type_into(qtbot, receipt, "quantity", "12")
        save_with_keyboard(qtbot, receipt)
        window.update_sync_state()
        assert "2 pending" in window.sync_label.text()

        press_f5(qtbot, window)  # no network: nothing lost, still pending
        assert window.sync.online is False
        assert window.sync_label.text().startswith("Offline") and "2 pending" in window.sync_label.text()

        network.offline = False
        press_f5(qtbot, window)
        assert session.store.pending_count() == 0
        assert window.sync.online is True
        assert window.sync_label.text() == "Synced just now"
        with live_server.services.store.session(org_id) as db:
            version = db.execute(select(Product.version).where(Product.sku == "STOOL-75")).scalar_one()
        with session.store.read_session() as db:
            local = db.execute(select(Product.version).where(Product.sku == "STOOL-75")).scalar_one()
        assert local == version > 0  # the server's copy now, not the local draft
        assert "STOOL-75" in [r["sku"] for r in window.open_page("products").model.rows]
    finally:
        session.close()


@pytest.mark.parametrize("resolution", ["keep", "reapply"])
def test_a_conflict_shows_in_the_panel_and_both_resolutions_sync(
    qtbot: QtBot,
    live_server: LiveServer,
    data_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    resolution: str,
) -> None:
    org_id = live_server.orgs["Acme Trading"]
    lamp = new_id()
    server_push(
        live_server,
        "admin@acme.test",
        org_id,
        command("inventory.create_product", id=lamp, sku="LAMP", name="Lamp", sale_price=990, currency="EUR"),
    )
    session = sign_in(data_root, live_server.url, "warehouse@acme.test", live_server.password)
    try:
        window = open_window(qtbot, session)
        press_f5(qtbot, window)
        session.apply(
            "inventory.update_product",
            {"id": lamp, "changes": {"name": "Desk lamp"}, "base": {"name": "Lamp"}},
        )
        server_push(
            live_server,
            "admin@acme.test",
            org_id,
            command(
                "inventory.update_product", id=lamp, changes={"name": "Brass lamp"}, base={"name": "Lamp"}
            ),
        )
        press_f5(qtbot, window)
        assert "1 needs attention" in window.sync_label.text()
        window.sync_label.linkActivated.emit("attention")
        page = window.current_page()
        assert isinstance(page, AttentionPage)
        assert page.list.count() == 1 and "Conflict" in page.reason.text()
        assert page.title.text() == "Change product: Brass lamp — LAMP"
        assert [page.fields.item(0, c).text() for c in range(3)] == ["Name", "Desk lamp", "Brass lamp"]
        # who made the other change: asked of the server in the background, named in the panel
        qtbot.waitUntil(lambda: page.changed_by.text().startswith("Changed on the server by admin, "))

        if resolution == "keep":
            monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
            page.keep_button.click()
            expected = "Brass lamp"
        else:
            page.reapply_button.click()
            expected = "Desk lamp"
        qtbot.waitUntil(lambda: background.active_count() == 0)
        assert page.list.count() == 0
        press_f5(qtbot, window)
        assert session.store.outbox() == []
        assert "attention" not in window.sync_label.text()
        with live_server.services.store.session(org_id) as db:
            assert db.execute(select(Product.name).where(Product.id == lamp)).scalar_one() == expected
        row = next(r for r in window.open_page("products").model.rows if r["id"] == lamp)
        assert row["name"] == expected
    finally:
        session.close()

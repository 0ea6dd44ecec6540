"""The application's windows against a real server: sign in online, sign out, sign in offline,
switch organization, remember me, demo mode."""

from __future__ import annotations

import gc
from pathlib import Path

from pytestqt.qtbot import QtBot
from sqlalchemy import select

from common.ids import new_id
from common.schema import SCHEMA_VERSION, Product
from desktop import background
from desktop.api_client import ApiClient
from desktop.app import DesktopApp
from desktop.qt import QApplication, Qt
from desktop.ui.main_window import MainWindow
from desktop.ui.signin import DemoInfo, SignInDialog
from tests.desktop.conftest import LiveServer, MemoryKeyring


def _product_on_server(live_server: LiveServer, sku: str) -> str:
    """Record a warehouse and a product on the server through the API, as another user would."""
    api = ApiClient(live_server.url)
    org_id = live_server.orgs["Acme Trading"]
    api.login("admin@acme.test", live_server.password)
    product_id = new_id()
    mutations = [
        {
            "id": new_id(),
            "name": "inventory.create_warehouse",
            "args": {"id": new_id(), "code": "HQ", "name": "HQ"},
        },
        {
            "id": new_id(),
            "name": "inventory.create_product",
            "args": {
                "id": product_id,
                "sku": sku,
                "name": "Made elsewhere",
                "sale_price": 100,
                "currency": "EUR",
            },
        },
    ]
    results = api.push(org_id, mutations, client_id="test", schema_version=SCHEMA_VERSION)
    assert [r["status"] for r in results] == ["applied", "applied"]
    return product_id


def fill_and_sign_in(qtbot: QtBot, dialog: SignInDialog, email: str, password: str) -> None:
    dialog.email.setText(email)
    dialog.password.setText(password)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)


def wait_for_main(qtbot: QtBot, app: DesktopApp) -> MainWindow:
    qtbot.waitUntil(lambda: app.window is not None and app.window.isVisible(), timeout=15_000)
    assert app.window is not None
    return app.window


def close_all(app: DesktopApp) -> None:
    if app.window is not None:
        app.window.close()
    if app.sign_in_dialog is not None:
        app.sign_in_dialog.close()
    app.shutdown()


def test_sign_in_online_sign_out_then_sign_in_offline(
    qtbot: QtBot, live_server: LiveServer, data_root: Path, qapp: QApplication
) -> None:
    qapp.setQuitOnLastWindowClosed(False)
    # Someone else already recorded a product on the server.
    product_id = _product_on_server(live_server, "SKU-ON-SERVER")
    app = DesktopApp(root=data_root, server_url=live_server.url)
    app.start()
    dialog = app.sign_in_dialog
    assert dialog is not None and dialog.isVisible()
    assert not hasattr(dialog, "demo_label")  # demo credentials only in demo mode
    fill_and_sign_in(qtbot, dialog, "warehouse@acme.test", live_server.password)
    assert dialog.busy_box.isVisible()  # Argon2 and HTTP run in the background
    window = wait_for_main(qtbot, app)
    assert window.session.online and window.session.org_name == "Acme Trading"
    # Signing in syncs at once: the organization's data arrives without pressing anything.
    qtbot.waitUntil(lambda: "Synced" in window.sync_label.text(), timeout=20_000)
    with window.session.store.read_session() as local:
        assert local.execute(select(Product.sku).where(Product.id == product_id)).scalar() == "SKU-ON-SERVER"
    assert "employees" not in window.page_keys()

    window.sign_out_requested.emit()
    qtbot.waitUntil(
        lambda: app.window is None and app.sign_in_dialog is not None and app.sign_in_dialog.isVisible()
    )
    dialog = app.sign_in_dialog
    assert dialog is not None
    assert dialog.email.text() == "warehouse@acme.test" and "signed out" in dialog.notice.text()
    assert "You can sign in offline" in dialog.offline_hint.text()

    live_server.stop()
    fill_and_sign_in(qtbot, dialog, "warehouse@acme.test", "wrong password")
    qtbot.waitUntil(lambda: not dialog.busy_running, timeout=15_000)
    assert dialog.field_errors["password"].isVisible()
    assert "does not unlock the data on this computer" in dialog.field_errors["password"].text()
    fill_and_sign_in(qtbot, dialog, "warehouse@acme.test", live_server.password)
    window = wait_for_main(qtbot, app)
    assert not window.session.online
    assert "Offline" in window.sync_label.text() or "Not synced yet" in window.sync_label.text()
    assert "Working offline" in window.notice.text()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_F5)  # Sync now while the server is down: the status says offline
    qtbot.waitUntil(lambda: background.active_count() == 0 and not window.sync.syncing, timeout=15_000)
    assert window.sync_label.text().startswith("Offline")
    close_all(app)


def test_switch_organization(
    qtbot: QtBot, live_server: LiveServer, data_root: Path, qapp: QApplication
) -> None:
    qapp.setQuitOnLastWindowClosed(False)
    app = DesktopApp(root=data_root, server_url=live_server.url)
    app.start()
    dialog = app.sign_in_dialog
    assert dialog is not None
    fill_and_sign_in(qtbot, dialog, "multi@acme.test", live_server.password)
    qtbot.waitUntil(lambda: dialog.pages.currentWidget() is dialog.org_page, timeout=15_000)
    names = [dialog.org_list.item(i).text() for i in range(dialog.org_list.count())]
    assert sorted(names) == ["Acme Trading", "Globex Manufacturing"]
    dialog.org_list.setCurrentRow(names.index("Acme Trading"))
    dialog.org_button.click()
    window = wait_for_main(qtbot, app)
    assert window.session.org_name == "Acme Trading" and "employees" not in window.page_keys()
    menu = window.org_button.menu()
    assert menu is not None
    globex = next(a for a in menu.actions() if a.text() == "Globex Manufacturing")
    assert (
        globex.isEnabled() and not next(a for a in menu.actions() if a.text() == "Acme Trading").isEnabled()
    )
    globex.trigger()
    qtbot.waitUntil(lambda: app.sign_in_dialog is not None and app.sign_in_dialog is not dialog)
    second = app.sign_in_dialog
    globex_id = next(m.org_id for m in window.session.memberships if m.org_name == "Globex Manufacturing")
    assert second is not None and second.org_id == globex_id and second.email.text() == "multi@acme.test"
    second.password.setText(live_server.password)
    second.sign_in()
    other = wait_for_main(qtbot, app)
    assert other.session.org_name == "Globex Manufacturing"
    # warehouse in Acme, admin in Globex: the menus follow the organization's roles
    assert "employees" in other.page_keys() and "products" in other.page_keys()
    close_all(app)


def test_remember_me_opens_the_main_window_directly(
    qtbot: QtBot, live_server: LiveServer, data_root: Path, qapp: QApplication, os_keyring: MemoryKeyring
) -> None:
    qapp.setQuitOnLastWindowClosed(False)
    app = DesktopApp(root=data_root, server_url=live_server.url)
    app.start()
    dialog = app.sign_in_dialog
    assert dialog is not None and dialog.remember.isEnabled()
    dialog.remember.setChecked(True)
    frozen = gc.get_freeze_count()
    fill_and_sign_in(qtbot, dialog, "admin@acme.test", live_server.password)
    wait_for_main(qtbot, app)
    # Once the window is up, start-up's objects leave the collector's sight (common.heap): a full
    # collection walking them all stalled the interface for up to ~90 ms at 1M products.
    qtbot.waitUntil(lambda: gc.get_freeze_count() > frozen)
    close_all(app)
    again = DesktopApp(root=data_root, server_url=live_server.url)
    again.start()
    assert again.sign_in_dialog is None
    window = wait_for_main(qtbot, again)
    assert window.session.remembered and window.session.user.email == "admin@acme.test"
    close_all(again)


def test_without_a_keyring_the_checkbox_explains_why(qtbot: QtBot, data_root: Path) -> None:
    dialog = SignInDialog(data_root, server_url="https://ops.example.com")
    qtbot.addWidget(dialog)
    assert not dialog.remember.isEnabled()
    texts = [w.text() for w in dialog.findChildren(type(dialog.offline_hint))]
    assert any("no password keyring" in t for t in texts)


def test_demo_mode_shows_the_demo_accounts_and_fills_them(qtbot: QtBot, data_root: Path) -> None:
    dialog = SignInDialog(data_root, server_url="http://127.0.0.1:8750", demo=DemoInfo("demo-pass"))
    qtbot.addWidget(dialog)
    assert "admin@acme.test" in dialog.demo_label.text() and "demo-pass" in dialog.demo_label.text()
    dialog.fill_demo("warehouse@acme.test")
    assert dialog.email.text() == "warehouse@acme.test" and dialog.password.text() == "demo-pass"


def test_an_insecure_server_address_is_refused_in_the_form(qtbot: QtBot, data_root: Path) -> None:
    dialog = SignInDialog(data_root, server_url="http://ops.example.com")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.email.setText("admin@acme.test")
    dialog.password.setText("pw")
    dialog.sign_in()
    qtbot.waitUntil(lambda: not dialog.busy_running)
    assert dialog.field_errors["server_url"].isVisible()
    assert "not encrypted" in dialog.field_errors["server_url"].text()


def test_password_changed_on_the_server_asks_for_the_previous_one_in_the_window(
    qtbot: QtBot, live_server: LiveServer, data_root: Path, qapp: QApplication
) -> None:
    qapp.setQuitOnLastWindowClosed(False)
    old = live_server.password
    app = DesktopApp(root=data_root, server_url=live_server.url)
    app.start()
    assert app.sign_in_dialog is not None
    fill_and_sign_in(qtbot, app.sign_in_dialog, "admin@acme.test", old)
    wait_for_main(qtbot, app).sign_out_requested.emit()
    qtbot.waitUntil(lambda: app.window is None and app.sign_in_dialog is not None)
    api = ApiClient(live_server.url)
    api.login("admin@acme.test", old)
    api.request(
        "POST", "/auth/password", json={"current_password": old, "new_password": "new and longer secret"}
    )
    dialog = app.sign_in_dialog
    assert dialog is not None
    fill_and_sign_in(qtbot, dialog, "admin@acme.test", "new and longer secret")
    qtbot.waitUntil(lambda: dialog.pages.currentWidget() is dialog.previous_page, timeout=15_000)
    assert "changed on the server" in dialog.previous_intro.text()
    assert dialog.fresh_button.isVisibleTo(dialog)  # nothing unsynced: starting fresh is offered
    dialog.previous_password.setText("not it")
    dialog.unlock_button.click()
    qtbot.waitUntil(lambda: not dialog.busy_running and dialog.error.isVisible(), timeout=15_000)
    assert "does not unlock" in dialog.error.text()
    dialog.previous_password.setText(old)
    dialog.unlock_button.click()
    assert wait_for_main(qtbot, app).session.online
    close_all(app)

"""Sessions that heal (issue 13), against a real server over HTTP through a proxy that cuts the
network: after an offline sign-in the app signs in again by itself when the server answers, then
syncs — no sign-out; when the server refuses the password it asks for the current one in place.
Signing out or quitting with unsent changes says how many and what happens to them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from common.ids import new_id
from desktop import background
from desktop.local_store import LocalStore
from desktop.qt import QMessageBox
from desktop.session import UserSession
from desktop.signin import sign_out
from desktop.ui.main_window import MainWindow
from desktop.ui.session_prompts import PasswordPrompt
from tests.desktop.conftest import LiveServer
from tests.desktop.test_signin import change_password_on_server
from tests.desktop.test_sync_ui import open_window, sign_in
from tests.e2e.proxy import DroppingProxy

EMAIL = "admin@acme.test"


@pytest.fixture
def network(live_server: LiveServer) -> Iterator[DroppingProxy]:
    with DroppingProxy(live_server.http.port) as proxy:
        yield proxy


def offline_sign_in(data_root: Path, network: DroppingProxy, live_server: LiveServer) -> UserSession:
    """Signed in online once (the data is on this computer), signed out, then offline."""
    sign_out(sign_in(data_root, network.url, EMAIL, live_server.password))
    network.offline = True
    session = sign_in(data_root, network.url, EMAIL, live_server.password)
    assert not session.online and session.api.refresh_token is None
    session.apply("inventory.create_warehouse", {"id": new_id(), "code": "VAN", "name": "Service van"})
    assert session.store.pending_count() == 1
    return session


def wait_synced(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(
        lambda: (
            window.session.store.pending_count() == 0
            and not window.sync.syncing
            and background.active_count() == 0
        ),
        timeout=30_000,
    )


def test_offline_sign_in_then_server_back_syncs_without_sign_out(
    qtbot: QtBot, live_server: LiveServer, network: DroppingProxy, data_root: Path
) -> None:
    session = offline_sign_in(data_root, network, live_server)
    try:
        window = open_window(qtbot, session)
        assert window.sync.reconnect_timer.isActive()  # it keeps trying the server
        network.offline = False
        window.sync.reconnect_timer.setInterval(20)  # the next try comes at once
        wait_synced(qtbot, window)
        assert window.sync.online is True and window.sync.last_error is None
        assert not window.sync.reconnect_timer.isActive()
        window.update_sync_state()
        assert window.sync_label.text() == "Synced just now"
        assert session.offline_password is None  # used once, then forgotten
        assert session.api.refresh_token is not None
        from desktop.session import REFRESH_TOKEN_KEY

        assert session.store.get_state(REFRESH_TOKEN_KEY) == session.api.refresh_token
        assert not window.findChildren(PasswordPrompt)
    finally:
        session.close()


def test_password_changed_elsewhere_is_asked_for_in_place(
    qtbot: QtBot, live_server: LiveServer, network: DroppingProxy, data_root: Path
) -> None:
    old = live_server.password
    session = offline_sign_in(data_root, network, live_server)
    try:
        change_password_on_server(live_server, EMAIL, "a brand new passphrase")
        window = open_window(qtbot, session)
        network.offline = False
        window.sync.sync_now()
        qtbot.waitUntil(lambda: bool(window.findChildren(PasswordPrompt)), timeout=30_000)
        (prompt,) = window.findChildren(PasswordPrompt)
        assert prompt.isVisible()
        assert "did not accept the password" in window.sync.last_error  # type: ignore[operator]
        assert session.store.pending_count() == 1  # nothing lost meanwhile
        qtbot.keyClicks(prompt.password, "a brand new passphrase")
        prompt.submit()
        wait_synced(qtbot, window)
        assert window.sync.online is True and window.sync.last_error is None
        profile = session.profile
    finally:
        session.close()
    # the data on this computer now opens with the new password (and no longer with the old one)
    LocalStore.unlock(data_root, profile, "a brand new passphrase").close()
    with pytest.raises(Exception, match="password"):
        LocalStore.unlock(data_root, profile, old)


def test_sign_out_and_quit_say_how_many_changes_wait(qtbot: QtBot, session: UserSession) -> None:
    session.apply("inventory.create_warehouse", {"id": new_id(), "code": "VAN", "name": "Service van"})
    session.apply("inventory.create_warehouse", {"id": new_id(), "code": "CAR", "name": "Car"})
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    signed_out: list[bool] = []
    window.sign_out_requested.connect(lambda: signed_out.append(True))

    window.confirm_sign_out()
    box = window.leave_prompt
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert box.text().startswith("2 changes have not been sent to the server yet.")
    assert "stay safely on this computer" in box.text()
    stay = next(b for b in box.buttons() if b.text() == "Stay")
    stay.click()
    assert signed_out == []

    window.close()  # quitting asks too, and the window stays until the answer
    quit_box = window.leave_prompt
    assert isinstance(quit_box, QMessageBox) and quit_box is not box and quit_box.isVisible()
    assert window.isVisible() and quit_box.windowTitle() == "Quit with unsent changes?"
    next(b for b in quit_box.buttons() if b.text() == "Quit").click()
    assert not window.isVisible()

    window.leaving_confirmed = False
    window.confirm_sign_out()
    next(b for b in window.leave_prompt.buttons() if b.text() == "Sign out").click()  # type: ignore[union-attr]
    assert signed_out == [True]

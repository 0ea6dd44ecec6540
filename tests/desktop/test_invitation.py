"""Accepting an invitation from the desktop's sign-in screen, against a real server: the Qt-free
steps, then the dialog itself (pytest-qt, offscreen)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.api_client import ApiClient
from desktop.invitation import AcceptInvitation, parse_invitation
from desktop.session import UserSession
from desktop.signin import SignInError
from desktop.ui.signin import SignInDialog
from tests.desktop.conftest import LiveServer


def invitation_link(server: LiveServer, org: str, email: str, roles: list[str]) -> str:
    admin = ApiClient(server.url)
    admin.login("admin@acme.test" if org == "Acme Trading" else "multi@acme.test", server.password)
    answer = admin.request("POST", f"/orgs/{server.orgs[org]}/members", json={"email": email, "roles": roles})
    return f"{server.url}/console/#invitation={answer['token']}"


def test_a_new_person_joins_and_is_signed_in(live_server: LiveServer, data_root: Path) -> None:
    link = invitation_link(live_server, "Acme Trading", "dana@acme.test", ["warehouse"])
    accepting = AcceptInvitation(data_root)
    invitation = accepting.check(link, "")  # the link names its server
    assert (invitation.org_name, invitation.email, invitation.server_url) == (
        "Acme Trading",
        "dana@acme.test",
        live_server.url,
    )
    with pytest.raises(SignInError) as differ:
        accepting.join("a fine password", new_account=True, name="Dana", repeat="another one")
    assert differ.value.field == "repeat"
    with pytest.raises(SignInError) as short:
        accepting.join("short", new_account=True, name="Dana", repeat="short")
    assert short.value.field == "password"
    with pytest.raises(SignInError) as nameless:
        accepting.join("a fine password", new_account=False)
    assert nameless.value.field == "password"  # not an account's password: the address has none
    session = accepting.join("a fine password", new_account=True, name="Dana", repeat="a fine password")
    assert isinstance(session, UserSession)
    try:
        assert session.online and session.org_name == "Acme Trading" and session.user.name == "Dana"
        assert "inventory.write" in session.permissions
    finally:
        session.close()
    with pytest.raises(SignInError) as used:
        AcceptInvitation(data_root).check(link, "")
    assert used.value.field == "invitation" and "not valid" in used.value.message


def test_an_existing_account_joins_with_its_own_password(live_server: LiveServer, data_root: Path) -> None:
    link = invitation_link(live_server, "Globex Manufacturing", "hr@acme.test", ["hr"])
    token = link.split("#invitation=")[1]
    accepting = AcceptInvitation(data_root)
    accepting.check(token, live_server.url)  # a bare code needs the server field
    with pytest.raises(SignInError) as wrong:
        accepting.join("not my password", new_account=False)
    assert wrong.value.field == "password"
    session = accepting.join(live_server.password, new_account=False)
    assert isinstance(session, UserSession)
    try:
        assert session.org_name == "Globex Manufacturing" and "payroll.run" in session.permissions
        assert {m.org_name for m in session.memberships} == {"Acme Trading", "Globex Manufacturing"}
    finally:
        session.close()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "https://ops.example.com/console/#members",
        "hello",
        "inv.x y",
        "http://ops.example.com/#invitation=inv.a.b",
    ],
)
def test_what_is_not_an_invitation_is_named(text: str) -> None:
    with pytest.raises(SignInError) as refused:
        parse_invitation(text, "https://ops.example.com")
    assert refused.value.field in ("invitation", "server_url")


def test_the_dialog_accepts_an_invitation(qtbot: QtBot, live_server: LiveServer, data_root: Path) -> None:
    link = invitation_link(live_server, "Acme Trading", "erin@acme.test", ["hr"])
    dialog = SignInDialog(data_root)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.invitation_button.click()
    page = dialog.invitation_page
    assert dialog.pages.currentWidget() is page and not page.answers.isVisible()
    page.link.setText(link)
    page.check_button.click()
    qtbot.waitUntil(lambda: page.answers.isVisible(), timeout=15_000)
    assert "Acme Trading" in page.summary.text() and "erin@acme.test" in page.summary.text()
    assert dialog.server.text() == live_server.url
    page.new_account.setChecked(True)
    assert page.name.isVisible() and page.repeat.isVisible()
    page.name.setText("Erin")
    page.password.setText("a fine password")
    page.repeat.setText("not the same")
    page.join_button.click()
    qtbot.waitUntil(lambda: not dialog.busy_running, timeout=15_000)
    assert "not the same" in dialog.error.text() and page.password.text() == ""
    page.password.setText("a fine password")
    page.repeat.setText("a fine password")
    with qtbot.waitSignal(dialog.signed_in, timeout=20_000) as signed:
        page.join_button.click()
    session = signed.args[0]
    try:
        assert isinstance(session, UserSession) and session.org_name == "Acme Trading"
        assert session.user.email == "erin@acme.test" and "hr.read" in session.permissions
    finally:
        session.close()

"""Signing in to the console: errors in the server's words, tokens in memory only, a token
refresh on 401, the "not an administrator" page, the organization picker and the page's headers."""

from __future__ import annotations

import os

import requests
from playwright.sync_api import expect

from common.ids import new_id
from sync_server import admin_ops
from sync_server.auth.tokens import TokenService
from sync_server.console import CONSOLE_CSP
from sync_server.serve import BackgroundServer
from tests.console.conftest import Console

ADMIN = "admin@acme.test"


def test_a_wrong_password_gets_the_servers_message(console: Console) -> None:
    page = console.open()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    console.screenshot("signin")
    page.get_by_label("E-mail address").fill(ADMIN)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("the e-mail address or the password is wrong")
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_label("Password")).to_be_focused()


def test_signing_in_with_the_keyboard_alone(console: Console) -> None:
    page = console.open()
    expect(page.get_by_label("E-mail address")).to_be_focused()
    page.keyboard.type(ADMIN)
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Enter")
    change = page.get_by_role("button", name="Change roles of sales@acme.test")
    change.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Roles of sales Acme")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("checkbox", name="sales", exact=True)).to_be_checked()
    expect(dialog.get_by_role("checkbox", name="admin", exact=True)).to_be_focused()  # the first control
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(change).to_be_focused()
    page.keyboard.press("Enter")
    dialog.get_by_role("checkbox", name="employee", exact=True).focus()
    page.keyboard.press("Space")
    dialog.get_by_role("button", name="Save roles").focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("Roles of sales@acme.test: employee, sales.")).to_be_visible()
    expect(page.get_by_role("button", name="Change roles of sales@acme.test")).to_be_focused()


def test_tokens_stay_in_memory_and_sign_out_ends_the_session(console: Console) -> None:
    page = console.sign_in(ADMIN)
    expect(page.get_by_role("table", name="Members of Acme")).to_be_visible()
    stored = page.evaluate("() => [localStorage.length, sessionStorage.length, document.cookie]")
    assert stored == [0, 0, ""]
    assert page.context.cookies() == []
    with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/logout")) as logout:
        page.get_by_role("button", name="Sign out").click()
    assert logout.value.status == 204
    expect(page.get_by_role("alert")).to_have_text("You have signed out.")
    page.reload()  # nothing survives a reload: the sign-in page again
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_an_expired_access_token_is_refreshed_once_and_the_page_carries_on(console: Console) -> None:
    page = console.sign_in(ADMIN)
    expect(page.get_by_role("table", name="Members of Acme")).to_be_visible()
    # A new signing key (a rotated OPS_JWT_KEY): the console's access token is no longer valid,
    # its refresh token still is.
    services = console.world.services
    rotated = TokenService(
        os.urandom(32),
        issuer=services.tokens.issuer,
        audience=services.tokens.audience,
        ttl_seconds=services.tokens.ttl_seconds,
    )
    services.tokens = services.auth.tokens = rotated
    with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/refresh")) as refreshed:
        page.get_by_role("button", name="Roles", exact=True).click()
    assert refreshed.value.status == 200
    expect(page.get_by_role("table", name="Built-in roles")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)


def test_someone_without_admin_permissions_is_told_so(console: Console) -> None:
    page = console.sign_in("warehouse@acme.test")
    heading = page.get_by_role("heading", name="You are not an administrator of any organization")
    expect(heading).to_be_visible()
    expect(page.get_by_text("You are signed in as warehouse@acme.test")).to_be_visible()
    console.screenshot("not-admin")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_the_picker_offers_only_organizations_the_user_administers(console: Console) -> None:
    world = console.world
    store = world.services.store
    admin_ops.grant(store, "auditor@globex.test", world.a.id, "employee")  # a member, not an admin
    page = console.sign_in("auditor@globex.test")
    picker = page.get_by_label("Organization")
    expect(picker.locator("option")).to_have_text(["Globex"])
    # An auditor reads the audit trail (and their own notifications); members, roles and the
    # privacy pages are not theirs to manage.
    expect(page.get_by_role("navigation", name="Pages").get_by_role("button")).to_have_text(
        ["Audit trail", "Notifications"]
    )
    expect(page.get_by_role("table", name="Audit events of Globex")).to_be_visible()

    admin_ops.grant(store, ADMIN, world.b.id, "admin")
    page = console.sign_in(ADMIN)
    expect(picker.locator("option")).to_have_text(["Acme", "Globex"])
    expect(page.get_by_role("table", name="Members of Acme")).to_be_visible()
    picker.select_option(label="Globex")
    members = page.get_by_role("table", name="Members of Globex")
    expect(members.get_by_role("row").filter(has_text="warehouse@globex.test")).to_have_count(1)
    expect(members.get_by_text("@acme.test", exact=False)).to_have_text([ADMIN])


def test_the_console_is_served_with_a_strict_policy(live_server: BackgroundServer) -> None:
    base = live_server.url
    page = requests.get(f"{base}/console", timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Content-Security-Policy"] == CONSOLE_CSP
    assert "'unsafe-inline'" not in CONSOLE_CSP and "default-src 'self'" in CONSOLE_CSP
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"
    assert "<script>" not in page.text and "style=" not in page.text
    script = requests.get(f"{base}/console/static/js/main.js", timeout=30)
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    assert script.headers["Content-Security-Policy"] == CONSOLE_CSP
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    api = requests.get(f"{base}/api/v1/openapi.json", timeout=30)
    assert api.headers["Content-Security-Policy"].startswith("default-src 'none'")
    for path in (
        "/console/static/../__init__.py",
        "/console/static/%2e%2e/__init__.py",
        f"/console/{new_id()}",
    ):
        missing = requests.get(f"{base}{path}", timeout=30)
        assert missing.status_code == 404, path
        assert "bp = Blueprint" not in missing.text

"""The members page: what an administrator does in the browser holds on the server (checked over
the real HTTP API), and an administrator of one organization never sees another's people."""

from __future__ import annotations

import requests
from playwright.sync_api import Locator, Page, expect

from tests.console.conftest import PASSWORD, Console

ADMIN = "admin@acme.test"


def _row(page: Page, email: str) -> Locator:
    return page.get_by_role("table", name="Members of Acme").get_by_role("row").filter(has_text=email)


def test_changing_the_warehouse_users_roles_holds(console: Console) -> None:
    page = console.sign_in(ADMIN)
    expect(page.get_by_role("table", name="Members of Acme")).to_be_visible()
    console.screenshot("members")
    page.get_by_role("button", name="Change roles of warehouse@acme.test").click()
    dialog = page.get_by_role("dialog", name="Roles of warehouse Acme")
    expect(dialog.get_by_role("checkbox", name="warehouse", exact=True)).to_be_checked()
    dialog.get_by_role("checkbox", name="auditor", exact=True).check()
    dialog.get_by_role("checkbox", name="warehouse", exact=True).uncheck()
    dialog.get_by_role("checkbox", name="sales", exact=True).check()
    console.screenshot("edit-roles")
    dialog.get_by_role("button", name="Save roles").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("Roles of warehouse@acme.test: auditor, sales.")).to_be_visible()
    expect(_row(page, "warehouse@acme.test").locator(".chip")).to_have_text(["auditor", "sales"])
    assert console.api.roles_of(ADMIN, console.world.a.id)["warehouse@acme.test"] == ["auditor", "sales"]
    me = console.api.get("warehouse@acme.test", "/api/v1/me").json()
    permissions = set(me["memberships"][0]["permissions"])
    assert {"admin.audit", "sales.write"} <= permissions and "inventory.write" not in permissions


def test_granting_sensitive_access_warns_and_the_server_refusal_is_shown(console: Console) -> None:
    page = console.sign_in(ADMIN)
    page.get_by_role("button", name="Change roles of sales@acme.test").click()
    dialog = page.get_by_role("dialog", name="Roles of sales Acme")
    warning = dialog.locator(".warning")
    expect(warning).to_have_text("")
    dialog.get_by_role("checkbox", name="hr", exact=True).check()
    expect(warning).to_contain_text("This grants hr.sensitive.read and payroll.run")
    dialog.get_by_role("button", name="Save roles").click()
    expect(dialog).to_be_hidden()
    assert console.api.roles_of(ADMIN, console.world.a.id)["sales@acme.test"] == ["hr", "sales"]
    # Taking admin away from the only administrator: the server refuses, the dialog says why.
    page.get_by_role("button", name="Change roles of admin@acme.test").click()
    dialog = page.get_by_role("dialog", name="Roles of admin Acme")
    dialog.get_by_role("checkbox", name="admin", exact=True).uncheck()
    dialog.get_by_role("button", name="Save roles").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "the organization must keep at least one member who manages users"
    )
    dialog.get_by_role("button", name="Cancel").click()
    expect(_row(page, "admin@acme.test").locator(".chip")).to_have_text(["admin"])


def test_adding_a_new_member_who_can_then_sign_in(console: Console) -> None:
    page = console.sign_in(ADMIN)
    page.get_by_role("button", name="Add member").click()
    dialog = page.get_by_role("dialog", name="Add a member to Acme")
    dialog.get_by_label("E-mail address").fill("new.person@acme.test")
    dialog.get_by_label("Initial password", exact=True).fill("a fine password")
    dialog.get_by_label("Repeat the initial password").fill("a different password")
    add = dialog.get_by_role("button", name="Add member")
    add.click()
    expect(dialog.get_by_role("alert")).to_have_text("The two passwords are not the same.")
    dialog.get_by_label("Repeat the initial password").fill("a fine password")
    add.click()  # the server: a new account needs a name
    expect(dialog.get_by_role("alert")).to_have_text("name: a new account needs the person's name")
    dialog.get_by_label("Name", exact=True).fill("New Person")
    dialog.get_by_role("checkbox", name="sales", exact=True).check()
    console.screenshot("add-member")
    add.click()
    expect(dialog).to_be_hidden()
    expect(
        page.get_by_text("Created an account for new.person@acme.test and added it to Acme.")
    ).to_be_visible()
    expect(_row(page, "new.person@acme.test").locator(".chip")).to_have_text(["employee", "sales"])
    signed_in = console.api.login("new.person@acme.test", "a fine password")
    assert signed_in.status_code == 200
    assert [(m["org_name"], m["roles"]) for m in signed_in.json()["memberships"]] == [
        ("Acme", ["employee", "sales"])
    ]
    # Someone who already has an account keeps their own password.
    page.get_by_role("button", name="Add member").click()
    dialog = page.get_by_role("dialog", name="Add a member to Acme")
    dialog.get_by_label("E-mail address").fill("hr@globex.test")
    dialog.get_by_role("button", name="Add member").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("hr@globex.test already had an account")).to_be_visible()
    assert console.api.login("hr@globex.test", PASSWORD).status_code == 200


def test_removing_a_member_but_never_the_last_administrator(console: Console) -> None:
    page = console.sign_in(ADMIN)
    page.get_by_role("button", name="Remove sales@acme.test").click()
    dialog = page.get_by_role("dialog", name="Remove sales Acme from Acme?")
    dialog.get_by_role("button", name="Remove member").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("sales@acme.test was removed from Acme.")).to_be_visible()
    expect(_row(page, "sales@acme.test")).to_have_count(0)
    assert "sales@acme.test" not in console.api.roles_of(ADMIN, console.world.a.id)
    signed_in = console.api.login("sales@acme.test")
    assert signed_in.status_code == 200 and signed_in.json()["memberships"] == []  # the account stays

    page.get_by_role("button", name="Remove admin@acme.test").click()
    dialog = page.get_by_role("dialog", name="Remove admin Acme from Acme?")
    dialog.get_by_role("button", name="Remove member").click()
    expect(dialog.get_by_role("alert")).to_contain_text("you are the last member who manages users")
    console.screenshot("last-admin")
    dialog.get_by_role("button", name="Cancel").click()
    expect(_row(page, "admin@acme.test")).to_have_count(1)
    assert ADMIN in console.api.roles_of(ADMIN, console.world.a.id)


def test_signing_a_member_out_everywhere(console: Console) -> None:
    session = console.api.login("warehouse@acme.test").json()
    page = console.sign_in(ADMIN)
    page.get_by_role("button", name="Sign warehouse@acme.test out everywhere").click()
    dialog = page.get_by_role("dialog", name="Sign warehouse Acme out everywhere?")
    dialog.get_by_role("button", name="Sign out everywhere").click()
    expect(dialog).to_be_hidden()
    expect(
        page.get_by_text("warehouse@acme.test was signed out everywhere (1 session ended).")
    ).to_be_visible()
    refreshed = console.api.refresh(session["refresh_token"])
    assert refreshed.status_code == 401, refreshed.text
    me = requests.get(
        f"{console.server.url}/api/v1/me",
        headers={"Authorization": f"Bearer {session['access_token']}"},
        timeout=30,
    )
    assert me.status_code == 401
    # Signing oneself out everywhere ends the console's own session too.
    page.get_by_role("button", name="Sign admin@acme.test out everywhere").click()
    page.get_by_role("dialog").get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(
        "You were signed out: this session has ended; sign in again."
    )


def test_a_globex_admin_never_sees_acme_members(console: Console) -> None:
    world = console.world
    page = console.sign_in("admin@globex.test")
    table = page.get_by_role("table", name="Members of Globex")
    expect(table.get_by_role("row")).to_have_count(9)  # the header and eight members
    emails = table.locator("td.email").all_inner_texts()
    assert len(emails) == 8 and all(e.endswith("@globex.test") for e in emails)
    expect(page.get_by_label("Organization").locator("option")).to_have_text(["Globex"])
    assert "acme" not in page.content().lower()
    headers = {"Authorization": f"Bearer {console.api.token('admin@globex.test')}"}
    base = f"{console.server.url}/api/v1/orgs"
    acme_user = world.a.users["warehouse"]
    for method, path, body in [
        ("GET", f"{base}/{world.a.id}/members", None),
        ("PUT", f"{base}/{world.b.id}/members/{acme_user}/roles", {"roles": ["admin"]}),
        ("DELETE", f"{base}/{world.b.id}/members/{acme_user}", None),
        ("DELETE", f"{base}/{world.b.id}/members/{acme_user}/sessions", None),
    ]:
        response = requests.request(method, path, json=body, headers=headers, timeout=30)
        assert response.status_code == 404, (method, path, response.text)
        assert "acme" not in response.text.lower()
    assert console.api.roles_of(ADMIN, world.a.id)["warehouse@acme.test"] == ["warehouse"]

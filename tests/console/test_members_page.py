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


def test_inviting_a_new_person_who_accepts_and_is_listed(console: Console) -> None:
    page = console.sign_in(ADMIN)
    page.get_by_role("button", name="Invite member").click()
    dialog = page.get_by_role("dialog", name="Invite a member to Acme")
    expect(dialog.get_by_label("Password")).to_have_count(0)  # an administrator never sets one
    dialog.get_by_label("E-mail address").fill("new.person@acme.test")
    dialog.get_by_role("checkbox", name="sales", exact=True).check()
    dialog.get_by_role("button", name="Invite").click()
    shown = page.get_by_role("dialog", name="Invitation link for new.person@acme.test")
    link = shown.get_by_label("Invitation link").input_value()
    assert link.startswith(f"{console.server.url}/console/#invitation=inv.{console.world.a.id}.")
    console.screenshot("invitation-link")
    shown.get_by_role("button", name="Done").click()
    expect(shown).to_be_hidden()
    invited = (
        page.get_by_role("table", name="Invitations to Acme")
        .get_by_role("row")
        .filter(has_text="new.person@acme.test")
    )
    expect(invited).to_have_count(1)
    assert "#invitation=" not in page.content()  # shown once: nowhere on the page any more
    assert console.api.login("new.person@acme.test", "a fine password").status_code == 401  # no account yet

    # The invitee opens the link in their own browser and creates their account.
    other = page.context.browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")  # type: ignore[union-attr]
    try:
        invitee = other.new_page()
        invitee.goto(link)
        expect(invitee.get_by_text("You are invited to join Acme as new.person@acme.test.")).to_be_visible()
        assert "#invitation" not in invitee.url  # the token leaves the address bar at once
        invitee.get_by_label("I am new here: create my account").check()
        invitee.get_by_label("Your name").fill("New Person")
        invitee.get_by_label("Choose a password (at least 8 characters)").fill("a fine password")
        invitee.get_by_label("Repeat the password").fill("a fine password")
        invitee.get_by_role("button", name="Join").click()
        expect(invitee.get_by_role("alert")).to_have_text("You joined Acme. Sign in to continue.")
        expect(invitee.get_by_label("E-mail address")).to_have_value("new.person@acme.test")
        invitee.goto("about:blank")  # a fresh load: the same address with a fragment would not reload
        invitee.goto(link)  # single use
        expect(invitee.get_by_role("alert")).to_contain_text("this invitation is not valid")
    finally:
        other.close()
    signed_in = console.api.login("new.person@acme.test", "a fine password")
    assert [(m["org_name"], m["roles"]) for m in signed_in.json()["memberships"]] == [
        ("Acme", ["employee", "sales"])
    ]
    tabs = page.get_by_role("navigation", name="Pages")
    tabs.get_by_role("button", name="Roles", exact=True).click()
    tabs.get_by_role("button", name="Members", exact=True).click()
    expect(_row(page, "new.person@acme.test").locator(".chip")).to_have_text(["employee", "sales"])
    expect(page.get_by_role("table", name="Invitations to Acme")).to_have_count(0)


def test_an_existing_account_accepts_with_its_own_password_and_revoking(console: Console) -> None:
    page = console.sign_in(ADMIN)
    links: dict[str, str] = {}
    for email in ("hr@globex.test", "sales@globex.test"):
        page.get_by_role("button", name="Invite member").click()
        dialog = page.get_by_role("dialog", name="Invite a member to Acme")
        dialog.get_by_label("E-mail address").fill(email)
        dialog.get_by_role("button", name="Invite").click()
        shown = page.get_by_role("dialog", name=f"Invitation link for {email}")
        links[email] = shown.get_by_label("Invitation link").input_value()
        shown.get_by_role("button", name="Done").click()
        expect(page.get_by_text(f"{email} is invited to Acme.")).to_be_visible()
    page.get_by_role("button", name="Revoke the invitation of sales@globex.test").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke invitation").click()
    expect(page.get_by_text("The invitation of sales@globex.test was revoked.")).to_be_visible()
    table = page.get_by_role("table", name="Invitations to Acme")
    expect(table.locator("td.email")).to_have_text(["hr@globex.test"])
    page.goto("about:blank")  # fresh loads (the same address with a fragment would not reload)
    page.goto(links["sales@globex.test"])
    expect(page.get_by_role("alert")).to_contain_text("this invitation is not valid")
    page.goto("about:blank")
    page.goto(links["hr@globex.test"])
    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("alert")).to_have_text("the e-mail address or the password is wrong")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("alert")).to_have_text("You joined Acme. Sign in to continue.")
    memberships = console.api.login("hr@globex.test").json()["memberships"]
    assert {m["org_name"]: m["roles"] for m in memberships} == {"Acme": ["employee"], "Globex": ["hr"]}


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


def test_signing_a_member_out_of_the_organization(console: Console) -> None:
    session = console.api.login("warehouse@acme.test").json()
    page = console.sign_in(ADMIN)
    page.get_by_role("button", name="Sign warehouse@acme.test out of Acme").click()
    dialog = page.get_by_role("dialog", name="Sign warehouse Acme out of Acme?")
    dialog.get_by_role("button", name="Sign out").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("warehouse@acme.test was signed out of Acme on every device.")).to_be_visible()
    refreshed = console.api.refresh(session["refresh_token"])
    assert refreshed.status_code == 200  # the account's session lives on, for its other organizations
    pulled = requests.get(
        f"{console.server.url}/api/v1/orgs/{console.world.a.id}/sync/pull",
        headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"},
        timeout=30,
    )
    assert pulled.status_code == 403 and pulled.json()["error"]["code"] == "signed_out"


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
        ("GET", f"{base}/{world.a.id}/invitations", None),
    ]:
        response = requests.request(method, path, json=body, headers=headers, timeout=30)
        assert response.status_code == 404, (method, path, response.text)
        assert "acme" not in response.text.lower()
    assert console.api.roles_of(ADMIN, world.a.id)["warehouse@acme.test"] == ["warehouse"]

"""The roles page: built-in roles read-only, custom roles created, edited and deleted with the
permission catalogue's checkboxes, each change checked over the real HTTP API."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from common.permissions import BUILTIN_ROLES, PERMISSIONS
from tests.console.conftest import Console

ADMIN = "admin@acme.test"


def _custom_roles(console: Console) -> dict[str, dict[str, Any]]:
    response = console.api.get(ADMIN, f"/api/v1/orgs/{console.world.a.id}/roles")
    assert response.status_code == 200, response.text
    return {r["name"]: r for r in response.json()["roles"] if not r["builtin"]}


def test_creating_editing_and_deleting_a_custom_role(console: Console) -> None:
    page = console.sign_in(ADMIN)
    page.get_by_role("button", name="Roles", exact=True).click()
    builtin = page.get_by_role("table", name="Built-in roles")
    expect(builtin.locator("tbody tr")).to_have_count(len(BUILTIN_ROLES))
    expect(builtin.get_by_role("button")).to_have_count(0)  # read-only
    expect(builtin.locator("tr[data-role=warehouse] .chip")).to_have_text(sorted(BUILTIN_ROLES["warehouse"]))
    expect(page.get_by_text("No custom roles yet.")).to_be_visible()
    console.screenshot("roles")

    page.get_by_role("button", name="New custom role").click()
    dialog = page.get_by_role("dialog", name="New custom role")
    expect(dialog.get_by_role("checkbox")).to_have_count(len(PERMISSIONS))
    dialog.get_by_label("Name", exact=True).fill("Stock Clerk")
    dialog.get_by_label("Description").fill("Counts stock")
    dialog.get_by_role("checkbox", name="inventory.read", exact=True).check()
    dialog.get_by_role("checkbox", name="inventory.write", exact=True).check()
    dialog.get_by_role("button", name="Create role").click()
    expect(dialog.get_by_role("alert")).to_contain_text("name: use lowercase ASCII letters")
    dialog.get_by_label("Name", exact=True).fill("stock_clerk")
    console.screenshot("role-editor")
    dialog.get_by_role("button", name="Create role").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("Created the role stock_clerk.")).to_be_visible()
    custom = page.get_by_role("table", name="Custom roles")
    expect(custom.locator("tr[data-role=stock_clerk] .chip")).to_have_text(
        ["inventory.read", "inventory.write"]
    )
    stored = _custom_roles(console)["stock_clerk"]
    assert stored["description"] == "Counts stock"
    assert stored["permissions"] == ["inventory.read", "inventory.write"]

    page.get_by_role("button", name="Edit role stock_clerk").click()
    dialog = page.get_by_role("dialog", name="Edit role stock_clerk")
    expect(dialog.get_by_label("Name", exact=True)).to_have_attribute("readonly", "")
    expect(dialog.get_by_role("checkbox", name="inventory.write", exact=True)).to_be_checked()
    dialog.get_by_role("checkbox", name="inventory.write", exact=True).uncheck()
    dialog.get_by_role("checkbox", name="hr.sensitive.read", exact=True).check()
    expect(dialog.locator(".warning")).to_contain_text("This grants hr.sensitive.read")
    dialog.get_by_label("Description").fill("Counts stock, sees pay")
    dialog.get_by_role("button", name="Save role").click()
    expect(dialog).to_be_hidden()
    expect(custom.locator("tr[data-role=stock_clerk] .chip")).to_have_text(
        ["hr.sensitive.read", "inventory.read"]
    )
    stored = _custom_roles(console)["stock_clerk"]
    assert stored["permissions"] == ["hr.sensitive.read", "inventory.read"]
    assert stored["description"] == "Counts stock, sees pay"

    page.get_by_role("button", name="Delete role stock_clerk").click()
    dialog = page.get_by_role("dialog", name="Delete the role stock_clerk?")
    dialog.get_by_role("button", name="Delete role").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("Deleted the role stock_clerk.")).to_be_visible()
    expect(page.get_by_text("No custom roles yet.")).to_be_visible()
    assert _custom_roles(console) == {}


def test_custom_roles_are_offered_when_changing_a_members_roles(console: Console) -> None:
    put = console.api.call(
        ADMIN,
        "PUT",
        f"/api/v1/orgs/{console.world.a.id}/roles/night_shift",
        {"description": "Receives goods at night", "permissions": ["inventory.write"]},
    )
    assert put.status_code == 200, put.text
    page = console.sign_in(ADMIN)
    page.get_by_role("button", name="Change roles of employee@acme.test").click()
    dialog = page.get_by_role("dialog", name="Roles of employee Acme")
    custom = dialog.get_by_role("group", name="Custom roles")
    expect(custom.get_by_role("checkbox")).to_have_count(1)
    custom.get_by_role("checkbox", name="night_shift", exact=True).check()
    dialog.get_by_role("button", name="Save roles").click()
    expect(dialog).to_be_hidden()
    assert console.api.roles_of(ADMIN, console.world.a.id)["employee@acme.test"] == [
        "employee",
        "night_shift",
    ]

"""The privacy pages of the console in real headless Chromium: the privacy team's queue (a
request completed from it), the retention schedule changed within its minimum, the user's
notifications, and a new policy version acknowledged at sign-in."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import expect

from sync_server.notifications import notify
from sync_server.policy import publish
from tests.console.conftest import Console

ADMIN = "admin@acme.test"


def test_the_privacy_queue_completes_a_request_and_the_schedule_changes(console: Console) -> None:
    world = console.world
    opened = console.api.call(
        "employee@acme.test", "POST", "/api/v1/me/privacy/requests", {"org_id": world.a.id, "kind": "access"}
    )
    assert opened.status_code == 201, opened.text
    page = console.sign_in(ADMIN)
    page.get_by_role("button", name="Privacy requests").click()
    row = page.locator("tbody tr").filter(has_text="access")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("signed in as the subject")
    expect(row).to_contain_text("open")
    console.screenshot("privacy-queue")
    row.get_by_role("button", name="Complete").click()
    page.get_by_role("dialog").get_by_role("button", name="Complete").click()
    expect(page.locator("tbody tr").filter(has_text="access")).to_contain_text("completed")
    status = console.api.get(ADMIN, f"/api/v1/orgs/{world.a.id}/privacy/requests").json()["requests"][0]
    assert status["status"] == "completed"

    page.get_by_role("button", name="Retention").click()
    rule = page.locator("tbody tr").filter(has_text="customer_contacts")
    expect(rule).to_contain_text("1095 days")
    rule.get_by_role("button", name="Change").click()
    page.get_by_label("Period (days)").fill("1500")
    page.get_by_role("dialog").get_by_role("button", name="Save").click()
    expect(page.locator("tbody tr").filter(has_text="customer_contacts")).to_contain_text("1500 days")
    console.screenshot("retention")


def test_notifications_show_and_a_new_policy_is_acknowledged_at_sign_in(console: Console) -> None:
    world, store = console.world, console.world.services.store
    notify(
        store, None, None, world.a.id, [world.a.users["admin"]], "stock.low", "Low stock: bolts", "12 left"
    )
    publish(store, "Privacy Policy v2\n", summary="Sign-in history kept one year", effective=date(2027, 1, 1))
    page = console.sign_in(ADMIN)
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Privacy policy version 2")
    expect(dialog).to_contain_text("Sign-in history kept one year")
    console.screenshot("policy")
    dialog.get_by_role("button", name="I have read it").click()
    expect(dialog).to_have_count(0)
    assert console.api.get(ADMIN, "/api/v1/me/policy").json()["acknowledged"] is True
    page.get_by_role("button", name="Notifications").click()
    expect(page.locator("tbody tr").filter(has_text="Low stock: bolts")).to_have_count(1)
    # Every member gets the policy change in the app too.
    expect(page.locator("tbody tr").filter(has_text="Privacy policy version 2")).to_have_count(1)
    console.screenshot("notifications")

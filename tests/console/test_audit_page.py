"""The audit trail page: who changed what (masked as the API masks it), filters and paging done
on the server, and the chain verified on the server: intact, then broken after tampering."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from common.ids import new_id
from common.schema import SCHEMA_VERSION
from tests.console.conftest import Console
from tests.sync_server.conftest import mutation
from tests.sync_server.test_audit import _tamper

ADMIN = "admin@acme.test"


def _audit_page(console: Console, email: str = ADMIN) -> Page:
    page = console.sign_in(email)
    page.get_by_role("button", name="Audit trail").click()
    expect(page.get_by_role("table", name="Audit events of Acme")).to_be_visible()
    return page


def test_the_role_change_shows_and_the_chain_is_intact(console: Console) -> None:
    world = console.world
    changed = console.api.call(
        ADMIN,
        "PUT",
        f"/api/v1/orgs/{world.a.id}/members/{world.a.users['warehouse']}/roles",
        {"roles": ["auditor", "warehouse"]},
    )
    assert changed.status_code == 200, changed.text
    page = _audit_page(console)
    row = page.locator("tbody tr").filter(has_text="admin.set_roles")
    expect(row).to_have_count(1)
    expect(row.locator("td.actor")).to_have_text(ADMIN)
    expect(row.locator(".changes .old")).to_contain_text(['["warehouse"]'])
    expect(row.locator(".changes .new")).to_contain_text(['["auditor","warehouse"]'])
    seqs = [int(s) for s in page.locator("tbody tr td.num").all_inner_texts()]
    assert seqs == sorted(seqs, reverse=True)  # newest first
    page.get_by_role("button", name="Verify chain").click()
    verdict = page.get_by_role("status").filter(has_text="audit chain")
    expect(verdict).to_have_text(f"The audit chain of Acme is intact: {max(seqs)} events checked.")
    console.screenshot("audit")


def test_filters_and_paging_are_the_servers(console: Console) -> None:
    world = console.world
    pushed = console.api.call(
        "warehouse@acme.test",
        "POST",
        f"/api/v1/orgs/{world.a.id}/sync/push",
        {
            "client_id": "tests",
            "schema_version": SCHEMA_VERSION,
            "mutations": [
                mutation("inventory.create_warehouse", id=new_id(), code=f"W{n}", name=f"Store {n}")
                for n in range(60)
            ],
        },
    )
    assert pushed.status_code == 200, pushed.text
    page = _audit_page(console, "auditor@acme.test")  # admin.audit without admin.users
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(50)
    newest = int(rows.first.locator("td.num").inner_text())
    page.get_by_role("button", name="Older →").click()
    expect(rows.first.locator("td.num")).to_have_text(str(newest - 50))
    page.get_by_role("button", name="← Newer").click()
    expect(rows.first.locator("td.num")).to_have_text(str(newest))

    page.get_by_label("Action").fill("inventory.create_warehouse")
    page.get_by_label("Actor (e-mail or user id)").fill("warehouse@acme.test")
    page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(50)
    expect(rows.locator("td.actor")).to_have_text(["warehouse@acme.test"] * 50)
    page.get_by_role("button", name="Older →").click()
    expect(rows).to_have_count(10)
    expect(page.get_by_role("button", name="Older →")).to_be_disabled()

    page.get_by_label("Actor (e-mail or user id)").fill(world.a.users["admin"])
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("No audit events match these filters.")).to_be_visible()

    page.get_by_role("button", name="Clear").click()
    page.get_by_label("Entity", exact=True).fill("Not An Entity")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("alert")).to_contain_text("entity:")
    expect(rows).to_have_count(0)


def test_a_tampered_chain_shows_the_first_broken_sequence_number(console: Console) -> None:
    world = console.world
    page = _audit_page(console)
    world.services.store.dispose()  # the server's pooled connections, before the file changes
    _tamper(
        world.services.config,
        f"UPDATE audit_event SET action = 'admin.nothing' WHERE seq = 3 AND org_id = '{world.a.id}'",
    )
    page.get_by_role("button", name="Verify chain").click()
    verdict = page.get_by_role("alert").filter(has_text="audit chain")
    expect(verdict).to_contain_text("The audit chain is broken at sequence number 3")
    expect(verdict).to_contain_text("the event's contents do not match its hash")
    expect(page.locator("tbody tr.broken td.num")).to_have_text("3")  # the row is marked
    console.screenshot("audit-broken")

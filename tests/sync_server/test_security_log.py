"""Refused requests are counted, not audited one by one; every user has a request limit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from common.ids import new_id
from common.schema import SecurityLogEntry
from common.schema.types import utcnow
from sync_server.app import create_app
from sync_server.config import RequestLimits
from sync_server.security_log import prune_security_log
from sync_server.services import Services
from sync_server.store import SYSTEM_ORG_ID
from tests.sync_server.conftest import World, product, warehouse


def _log(world: World, org_id: str) -> list[Any]:
    with world.services.store.session(org_id) as session:
        return list(session.execute(select(SecurityLogEntry).order_by(SecurityLogEntry.action)).scalars())


def _denials(world: World) -> list[dict[str, Any]]:
    events = world.client.get(
        f"/api/v1/orgs/{world.a.id}/audit?action=auth.access_denied",
        headers=world.headers("auditor@acme.test"),
    ).get_json()["events"]
    return list(events)


def test_attack_repeated_refusals_do_not_grow_the_audit_trail(world: World) -> None:
    headers = world.headers("employee@acme.test")
    for _ in range(30):
        assert world.client.get(f"/api/v1/orgs/{world.a.id}/audit", headers=headers).status_code == 403
    [event] = _denials(world)
    assert event["actor"] == world.a.users["employee"]
    assert event["after"] == {
        "reason": "forbidden",
        "endpoint": "audit.list_audit",
        "path": f"GET /api/v1/orgs/{world.a.id}/audit",
    }
    [row] = _log(world, world.a.id)
    assert (row.user_id, row.action, row.reason, row.count) == (
        world.a.users["employee"],
        "audit.list_audit",
        "forbidden",
        30,
    )
    assert row.first_seen <= row.last_seen


def test_requests_for_other_organizations_are_counted_in_the_system_log(world: World) -> None:
    headers = world.headers("employee@acme.test")
    targets = [world.b.id] + [new_id() for _ in range(20)]
    for org_id in targets:
        assert world.client.get(f"/api/v1/orgs/{org_id}/sync/pull", headers=headers).status_code == 404
    [row] = _log(world, SYSTEM_ORG_ID)
    assert (row.reason, row.count, row.last_target) == (
        "not_a_member",
        21,
        f"GET /api/v1/orgs/{targets[-1]}/sync/pull",
    )
    assert _log(world, world.b.id) == []  # Globex's own log and chain learn nothing of it


def test_the_security_log_has_its_own_retention(world: World) -> None:
    headers = world.headers("employee@acme.test")
    world.client.get(f"/api/v1/orgs/{world.a.id}/audit", headers=headers)
    world.client.get(f"/api/v1/orgs/{world.a.id}/members", headers=headers)
    with world.services.store.session(world.a.id, write=True) as session:
        session.execute(
            update(SecurityLogEntry)
            .where(SecurityLogEntry.action == "audit.list_audit")
            .values(last_seen=utcnow() - timedelta(days=91))
        )
    assert prune_security_log(world.services.store, keep_days=90) == 1
    assert [r.action for r in _log(world, world.a.id)] == ["admin.list_members"]
    world.client.get(f"/api/v1/orgs/{world.a.id}/audit", headers=headers)
    assert len(_denials(world)) == 3  # seen again after its row was dropped: audited again


def test_a_user_over_the_request_limit_gets_429_with_retry_after(world: World, services: Services) -> None:
    # One request a minute refills: eight requests taking seconds on a loaded machine still see
    # exactly the burst pass.
    config = replace(services.config, request_limits=RequestLimits(per_minute=1, burst=5))
    client = create_app(config, Services.build(config, services.store)).test_client()
    headers = world.headers("warehouse@acme.test")
    answers = [client.get("/api/v1/me", headers=headers) for _ in range(8)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 3
    assert 1 <= int(answers[5].headers["Retry-After"]) <= 60  # until the next request fits
    assert answers[5].get_json()["error"]["code"] == "rate_limited"
    assert client.get("/api/v1/me", headers=world.headers("hr@acme.test")).status_code == 200  # per user
    [row] = _log(world, SYSTEM_ORG_ID)
    assert (row.user_id, row.reason, row.count) == (world.a.users["warehouse"], "rate_limited", 1)


def test_the_default_limit_never_stops_a_client_syncing_in_pages(world: World) -> None:
    """A desktop's first download of a large organization: hundreds of pull pages in a row, with
    pushes between them, as fast as the server answers."""
    assert world.push("warehouse@acme.test", world.a, [warehouse("W1"), product("P1")]).status_code == 200
    headers = world.headers("warehouse@acme.test")
    for _ in range(600):
        assert (
            world.client.get(f"/api/v1/orgs/{world.a.id}/sync/pull?limit=1", headers=headers).status_code
            == 200
        )
    assert world.push("warehouse@acme.test", world.a, [warehouse("W2")]).status_code == 200
    assert _log(world, SYSTEM_ORG_ID) == []

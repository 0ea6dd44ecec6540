"""An organization ends its own access to an account, never the account's access elsewhere; the
owner sees and ends their own sessions; the last administrator survives concurrent removals."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
import requests

from common.schema import SCHEMA_VERSION
from sync_server import admin_ops
from sync_server.blueprints import members
from sync_server.serve import BackgroundServer
from tests.sync_server.conftest import World

BOTH = "hr@globex.test"  # joins Acme too, with the same account


def _bearer(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


def _pull(world: World, org_id: str, pair: dict[str, Any]) -> Any:
    return world.client.get(f"/api/v1/orgs/{org_id}/sync/pull", headers=_bearer(pair))


def _refresh(world: World, pair: dict[str, Any]) -> dict[str, Any]:
    answer = world.client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert answer.status_code == 200, answer.get_json()
    return dict(answer.get_json())


def test_attack_one_organizations_sign_out_leaves_the_other_working(world: World) -> None:
    admin_ops.grant(world.services.store, BOTH, world.a.id, "employee")  # the operator's path
    laptop, desktop = world.login(BOTH, device_name="laptop"), world.login(BOTH, device_name="desktop")
    assert _pull(world, world.a.id, laptop).status_code == 200
    ended = world.client.delete(
        f"/api/v1/orgs/{world.a.id}/members/{world.b.users['hr']}/sessions",
        headers=world.headers("admin@acme.test"),
    )
    assert ended.status_code == 200, ended.get_json()
    for pair in (laptop, desktop):  # Globex first: before, Acme's sign-out ended the account's tokens
        assert _pull(world, world.b.id, pair).status_code == 200
    assert set(ended.get_json()) == {"signed_out_at"}
    for pair in (laptop, desktop):
        refused = _pull(world, world.a.id, pair)
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "signed_out"
        # Refreshing keeps the sign-in's time: still out of Acme, still in Globex.
        fresh = _refresh(world, pair)
        assert _pull(world, world.a.id, fresh).status_code == 403
        assert _pull(world, world.b.id, pair).status_code == 200
        assert _pull(world, world.b.id, fresh).status_code == 200
        pushed = world.client.post(
            f"/api/v1/orgs/{world.a.id}/sync/push",
            json={"client_id": "t", "schema_version": SCHEMA_VERSION, "mutations": []},
            headers=_bearer(fresh),
        )
        assert pushed.status_code == 403
    # Signing in again (the password typed) is a new sign-in: Acme opens again.
    again = world.login(BOTH)
    assert _pull(world, world.a.id, again).status_code == 200
    events = world.client.get(
        f"/api/v1/orgs/{world.a.id}/audit?action=admin.sign_out_member",
        headers=world.headers("auditor@acme.test"),
    ).get_json()["events"]
    assert [e["after"]["user_id"] for e in events] == [world.b.users["hr"]]
    # Globex's trail knows nothing of Acme's decision.
    globex = world.client.get(
        f"/api/v1/orgs/{world.b.id}/audit?action=admin.sign_out_member",
        headers=world.headers("auditor@globex.test"),
    ).get_json()["events"]
    assert globex == []


def test_removal_ends_that_organizations_access_only(world: World) -> None:
    admin_ops.grant(world.services.store, BOTH, world.a.id, "employee")
    pair = world.login(BOTH)
    removed = world.client.delete(
        f"/api/v1/orgs/{world.a.id}/members/{world.b.users['hr']}", headers=world.headers("admin@acme.test")
    )
    assert removed.status_code == 204
    assert _pull(world, world.a.id, pair).status_code == 404
    assert _pull(world, world.b.id, pair).status_code == 200
    assert _pull(world, world.b.id, _refresh(world, pair)).status_code == 200


def test_the_owner_lists_and_ends_their_own_sessions(world: World) -> None:
    laptop = world.login("sales@acme.test", device_name="Ann's laptop")
    phone = world.login("sales@acme.test", device_name="Workshop PC")
    console = world.login("sales@acme.test")
    listed = world.client.get("/api/v1/me/sessions", headers=_bearer(laptop))
    assert listed.status_code == 200
    sessions = listed.get_json()["sessions"]
    assert sorted((s["device_name"] or "") for s in sessions) == ["", "Ann's laptop", "Workshop PC"]
    assert [s["current"] for s in sessions if s["device_name"] == "Ann's laptop"] == [True]
    by_name = {s["device_name"]: s for s in sessions}
    # Another account's session ids are not found.
    other = world.client.delete(
        f"/api/v1/me/sessions/{by_name['Workshop PC']['id']}", headers=world.headers("hr@acme.test")
    )
    assert other.status_code == 404
    ended = world.client.delete(
        f"/api/v1/me/sessions/{by_name['Workshop PC']['id']}", headers=_bearer(laptop)
    )
    assert ended.status_code == 204
    assert world.client.get("/api/v1/me", headers=_bearer(phone)).status_code == 401
    assert (
        world.client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]}).status_code
        == 401
    )
    # Refreshing keeps a session's identity (same id, device name).
    fresh = _refresh(world, laptop)
    ids = [
        s["id"]
        for s in world.client.get("/api/v1/me/sessions", headers=_bearer(fresh)).get_json()["sessions"]
    ]
    assert by_name["Ann's laptop"]["id"] in ids and len(ids) == 2
    others = world.client.delete("/api/v1/me/sessions", headers=_bearer(fresh))
    assert others.get_json() == {"sessions_ended": 1}
    assert world.client.get("/api/v1/me", headers=_bearer(console)).status_code == 401
    assert world.client.get("/api/v1/me", headers=_bearer(fresh)).status_code == 200
    assert world.client.get("/api/v1/me/sessions").status_code == 401
    assert world.client.delete("/api/v1/me/sessions/not-a-uuid", headers=_bearer(fresh)).status_code == 404


@pytest.mark.parametrize("store_kind", ["postgres"])
def test_two_concurrent_removals_never_leave_the_organization_without_an_administrator(
    world: World, live_server: BackgroundServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Acme has two administrators; one of them removes the other and, at the same moment,
    themselves: two requests over real HTTP, each on its own PostgreSQL connection.

    The first request to reach the last-administrator check is held there until the second has
    reached it too (then nothing serialized them: each sees one administrator left, and both
    would commit) or is seen waiting for a lock in PostgreSQL (the check is serialized).
    """
    put = world.client.put(
        f"/api/v1/orgs/{world.a.id}/members/{world.a.users['accountant']}/roles",
        json={"roles": ["accountant", "admin"]},
        headers=world.headers("admin@acme.test"),
    )
    assert put.status_code == 200
    url = world.services.config.database_url
    assert url is not None
    real_admins_left: Callable[..., int] = members.admins_left
    reached: list[str] = []
    both_reached = threading.Event()
    guard = threading.Lock()
    seen: list[str] = []  # what the first request saw of the second while it was held

    def held_at_the_check(session: Any) -> int:
        with guard:
            reached.append(threading.current_thread().name)
            first = len(reached) == 1
            if not first:
                both_reached.set()
        if first:
            seen.append(_wait_for_the_other(url, both_reached))
        return real_admins_left(session)

    monkeypatch.setattr(members, "admins_left", held_at_the_check)
    headers = {"Authorization": f"Bearer {world.token('admin@acme.test')}"}
    answers: dict[str, int] = {}

    def remove(target: str) -> None:
        answers[target] = requests.delete(
            f"{live_server.url}/api/v1/orgs/{world.a.id}/members/{world.a.users[target]}",
            headers=headers,
            timeout=60,
        ).status_code

    threads = [
        threading.Thread(target=remove, args=(target,), name=target) for target in ("accountant", "admin")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Whichever went first succeeded; the other, run after it, either refused to remove the last
    # administrator (409) or found its caller no longer a member (404: the admin left first).
    done, refused = sorted(answers.values())
    assert done == 204 and refused in (404, 409), answers
    assert seen == ["waiting for a lock"]
    with world.services.store.session(world.a.id) as session:
        assert real_admins_left(session) == 1


def _wait_for_the_other(url: str, both_reached: threading.Event) -> str:
    """Until the other request reaches the check too, or waits for a lock in PostgreSQL."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + 30
    with psycopg.connect(plain, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if both_reached.is_set():
                return "at the check too"
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if row is not None and row[0] > 0:
                return "waiting for a lock"
            both_reached.wait(0.01)
    raise AssertionError("the other request neither reached the check nor waited for the lock")

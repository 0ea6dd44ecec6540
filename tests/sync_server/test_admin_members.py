"""The admin console's API: removing members, the permission catalogue, audit filters and the
server-side chain check. Every change is tenant-scoped and audited. (Inviting and signing out:
test_invitations.py and test_org_sign_out.py.)"""

from __future__ import annotations

from typing import Any

from common.ids import new_id
from common.permissions import PERMISSIONS
from tests.sync_server.conftest import World
from tests.sync_server.test_audit import _seed_events, _tamper

ADMIN = "admin@acme.test"


def _members_path(world: World, org_id: str | None = None) -> str:
    return f"/api/v1/orgs/{org_id or world.a.id}/members"


def _add(world: World, body: dict[str, Any], email: str = ADMIN) -> Any:
    return world.client.post(_members_path(world), json=body, headers=world.headers(email))


def _member_emails(world: World) -> dict[str, list[str]]:
    listed = world.client.get(_members_path(world), headers=world.headers(ADMIN)).get_json()
    return {m["email"]: m["roles"] for m in listed["members"]}


def _events(world: World, email: str = "auditor@acme.test", **query: Any) -> list[dict[str, Any]]:
    response = world.client.get(
        f"/api/v1/orgs/{world.a.id}/audit", query_string=query, headers=world.headers(email)
    )
    assert response.status_code == 200, response.get_json()
    events = response.get_json()["events"]
    assert isinstance(events, list)
    return events


def _error(response: Any) -> dict[str, Any]:
    body = response.get_json()
    assert isinstance(body, dict) and "error" in body, body
    error = body["error"]
    assert isinstance(error, dict)
    return error


def test_removing_a_member_keeps_the_account(world: World) -> None:
    hr_id = world.a.users["hr"]
    hr_headers = world.headers("hr@acme.test")
    removed = world.client.delete(f"{_members_path(world)}/{hr_id}", headers=world.headers(ADMIN))
    assert removed.status_code == 204
    assert "hr@acme.test" not in _member_emails(world)
    # Same access token: the membership is gone at once, the organization is now "not found".
    response = world.client.get(f"/api/v1/orgs/{world.a.id}/sync/pull", headers=hr_headers)
    assert response.status_code == 404
    assert world.login("hr@acme.test")["memberships"] == []
    [event] = _events(world, action="admin.remove_member")
    assert event["before"] == {"user_id": hr_id, "roles": ["hr"]} and event["after"] is None
    again = world.client.delete(f"{_members_path(world)}/{hr_id}", headers=world.headers(ADMIN))
    assert again.status_code == 404


def test_the_last_administrator_cannot_remove_themselves(world: World) -> None:
    admin_id = world.a.users["admin"]
    refused = world.client.delete(f"{_members_path(world)}/{admin_id}", headers=world.headers(ADMIN))
    assert refused.status_code == 409
    error = _error(refused)
    assert error["code"] == "last_admin" and "last member who manages users" in error["message"]
    assert ADMIN in _member_emails(world)
    # With a second administrator, leaving is allowed.
    put = world.client.put(
        f"{_members_path(world)}/{world.a.users['accountant']}/roles",
        json={"roles": ["accountant", "admin"]},
        headers=world.headers(ADMIN),
    )
    assert put.status_code == 200
    left = world.client.delete(f"{_members_path(world)}/{admin_id}", headers=world.headers(ADMIN))
    assert left.status_code == 204


def test_another_organizations_members_are_not_found(world: World) -> None:
    """Globex's admin, in Globex's own URL space, naming Acme's people: 404, nothing changes."""
    acme_pair = world.login("warehouse@acme.test")
    headers = world.headers("admin@globex.test")
    globex = _members_path(world, world.b.id)
    for method, path in [
        ("DELETE", f"{globex}/{world.a.users['warehouse']}"),
        ("DELETE", f"{globex}/{world.a.users['warehouse']}/sessions"),
        ("PUT", f"{globex}/{world.a.users['warehouse']}/roles"),
    ]:
        body = {"roles": ["employee"]} if method == "PUT" else None
        response = world.client.open(path, method=method, json=body, headers=headers)
        assert response.status_code == 404, (method, path, response.get_json())
        assert "acme" not in response.get_data(as_text=True).lower()
    for odd in ("not-a-uuid", "%00", "x" * 5000):
        for suffix in ("", "/sessions"):
            response = world.client.delete(f"{globex}/{odd}{suffix}", headers=headers)
            assert response.status_code == 404, (odd, suffix, response.get_json())
    refreshed = world.client.post("/api/v1/auth/refresh", json={"refresh_token": acme_pair["refresh_token"]})
    assert refreshed.status_code == 200
    assert _member_emails(world)["warehouse@acme.test"] == ["warehouse"]


def test_the_permission_catalogue_is_the_one_in_common(world: World) -> None:
    response = world.client.get("/api/v1/permissions", headers=world.headers("employee@acme.test"))
    assert response.status_code == 200
    listed = {p["name"]: p for p in response.get_json()["permissions"]}
    assert {name: p["description"] for name, p in listed.items()} == dict(PERMISSIONS)
    assert {name for name, p in listed.items() if not p["held_by_admin"]} == {
        "hr.sensitive.read",
        "payroll.run",
    }
    assert listed["hr.sensitive.read"]["module"] == "hr"
    assert world.client.get("/api/v1/permissions").status_code == 401


def test_audit_events_filter_by_action_and_actor(world: World) -> None:
    _seed_events(world)
    world.client.put(
        f"{_members_path(world)}/{world.a.users['sales']}/roles",
        json={"roles": ["sales", "hr"]},
        headers=world.headers(ADMIN),
    )
    by_warehouse = _events(world, actor=world.a.users["warehouse"], entity="warehouse")
    assert len(by_warehouse) == 5
    assert {e["actor_email"] for e in by_warehouse} == {"warehouse@acme.test"}
    by_email = _events(world, actor_email="WAREHOUSE@acme.test", action="inventory.create_warehouse")
    assert [e["seq"] for e in by_email] == [e["seq"] for e in by_warehouse]
    [change] = _events(world, action="admin.set_roles", actor_email=ADMIN)
    assert change["after"]["roles"] == ["hr", "sales"]
    assert _events(world, actor_email="nobody@acme.test") == []
    bad = world.client.get(
        f"/api/v1/orgs/{world.a.id}/audit?action=DROP%20TABLE", headers=world.headers("auditor@acme.test")
    )
    assert bad.status_code == 400 and _error(bad)["details"]["field"] == "action"


def test_the_chain_is_verified_on_the_server(world: World) -> None:
    _seed_events(world)
    path = f"/api/v1/orgs/{world.a.id}/audit/verify"
    intact = world.client.get(path, headers=world.headers("auditor@acme.test")).get_json()
    assert intact["intact"] is True and intact["events"] > 5 and "broken_seq" not in intact
    world.services.store.dispose()
    _tamper(
        world.services.config,
        f"UPDATE audit_event SET action = 'inventory.nothing' WHERE seq = 3 AND org_id = '{world.a.id}'",
    )
    broken = world.client.get(path, headers=world.headers("auditor@acme.test")).get_json()
    assert broken["intact"] is False and broken["broken_seq"] == 3
    assert "do not match its hash" in broken["reason"]
    other = world.client.get(
        f"/api/v1/orgs/{world.b.id}/audit/verify", headers=world.headers("admin@globex.test")
    )
    assert other.get_json()["intact"] is True
    refused = world.client.get(path, headers=world.headers("warehouse@acme.test"))
    assert refused.status_code == 403


def test_the_new_endpoints_are_documented(world: World) -> None:
    paths = world.client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/orgs/{org_id}/members"]) == {"get", "post"}
    assert set(paths["/api/v1/orgs/{org_id}/members/{user_id}"]) == {"delete"}
    assert set(paths["/api/v1/orgs/{org_id}/members/{user_id}/sessions"]) == {"delete"}
    assert set(paths["/api/v1/orgs/{org_id}/invitations"]) == {"get"}
    assert set(paths["/api/v1/orgs/{org_id}/invitations/{invitation_id}"]) == {"delete"}
    assert set(paths["/api/v1/invitations/accept"]) == {"post"}
    assert set(paths["/api/v1/invitations/preview"]) == {"post"}
    assert set(paths["/api/v1/me/sessions"]) == {"get", "delete"}
    assert set(paths["/api/v1/me/sessions/{session_id}"]) == {"delete"}
    invite = paths["/api/v1/orgs/{org_id}/members"]["post"]["requestBody"]["content"]["application/json"]
    schemas = world.client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert invite["schema"]["$ref"].endswith("/AddMemberRequest")
    assert set(schemas["AddMemberRequest"]["properties"]) == {"email", "roles"}
    assert set(schemas["AcceptInvitationRequest"]["properties"]) == {"token", "password", "name"}
    assert set(paths["/api/v1/orgs/{org_id}/audit/verify"]) == {"get"}
    assert set(paths["/api/v1/permissions"]) == {"get"}
    audit_params = {p["name"] for p in paths["/api/v1/orgs/{org_id}/audit"]["get"]["parameters"]}
    assert {"entity", "entity_id", "action", "actor", "actor_email", "before_seq"} <= audit_params


def test_any_member_learns_fellow_members_names_and_nothing_of_anyone_else(world: World) -> None:
    """A conflict names who made the other change: any member may ask the names of the
    organization's members; another organization's user, a removed member and an unknown id are
    left out alike (no way to tell them apart), and a malformed list is refused by name."""
    path = f"/api/v1/orgs/{world.a.id}/member-names"
    removed = world.a.users["hr"]
    assert (
        world.client.delete(f"{_members_path(world)}/{removed}", headers=world.headers(ADMIN)).status_code
        == 204
    )
    asked = [world.a.users["admin"], world.a.users["sales"], world.b.users["admin"], removed, new_id()]
    response = world.client.get(
        path, query_string={"ids": ",".join(asked)}, headers=world.headers("warehouse@acme.test")
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["names"] == {
        world.a.users["admin"]: "admin Acme",
        world.a.users["sales"]: "sales Acme",
    }
    bad = world.client.get(path, query_string={"ids": "x'; drop"}, headers=world.headers(ADMIN))
    assert bad.status_code == 400 and "ids" in _error(bad)["message"]
    # a member of the other organization asking about this one: not found, like any stranger
    other = world.client.get(
        path, query_string={"ids": world.a.users["admin"]}, headers=world.headers("admin@globex.test")
    )
    assert other.status_code == 404

"""Members, roles and custom roles: changes take effect on the very next request, and are audited."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from common.ids import new_id
from sync_server import admin_ops
from tests.sync_server.conftest import World, warehouse


def _put(world: World, path: str, body: dict[str, Any], email: str = "admin@acme.test") -> Any:
    return world.client.put(f"/api/v1/orgs/{world.a.id}{path}", json=body, headers=world.headers(email))


def _push_status(world: World, email: str) -> tuple[str, str | None]:
    result = world.push(email, world.a, [warehouse(new_id()[-12:])]).get_json()["results"][0]
    return result["status"], result.get("code")


def test_members_are_listed_for_user_admins(world: World) -> None:
    response = world.client.get(
        f"/api/v1/orgs/{world.a.id}/members", headers=world.headers("admin@acme.test")
    )
    members = {m["email"]: m["roles"] for m in response.get_json()["members"]}
    assert members["hr@acme.test"] == ["hr"] and len(members) == 8
    assert not any(email.endswith("globex.test") for email in members)


def test_a_revoked_role_stops_working_at_once(world: World) -> None:
    assert _push_status(world, "warehouse@acme.test") == ("applied", None)
    changed = _put(world, f"/members/{world.a.users['warehouse']}/roles", {"roles": ["employee"]})
    assert changed.status_code == 200
    # Same access token as before: the role is read from the store on every request.
    assert _push_status(world, "warehouse@acme.test") == ("rejected", "forbidden")
    me = world.client.get("/api/v1/me", headers=world.headers("warehouse@acme.test")).get_json()
    assert me["memberships"][0]["roles"] == ["employee"]


def test_custom_roles_grant_and_lose_permissions_immediately(world: World) -> None:
    created = _put(
        world, "/roles/stock_clerk", {"description": "Counts stock", "permissions": ["inventory.write"]}
    )
    assert created.status_code == 200
    assert any(r["name"] == "stock_clerk" and not r["builtin"] for r in created.get_json()["roles"])
    _put(world, f"/members/{world.a.users['employee']}/roles", {"roles": ["employee", "stock_clerk"]})
    assert _push_status(world, "employee@acme.test") == ("applied", None)
    _put(world, "/roles/stock_clerk", {"permissions": ["inventory.read"]})
    assert _push_status(world, "employee@acme.test") == ("rejected", "forbidden")
    _put(world, "/roles/stock_clerk", {"permissions": ["inventory.write"]})
    deleted = world.client.delete(
        f"/api/v1/orgs/{world.a.id}/roles/stock_clerk", headers=world.headers("admin@acme.test")
    )
    assert deleted.status_code == 204
    assert _push_status(world, "employee@acme.test") == ("rejected", "forbidden")
    # Custom roles belong to one organization.
    other = world.client.get(f"/api/v1/orgs/{world.b.id}/roles", headers=world.headers("admin@globex.test"))
    assert all(r["builtin"] for r in other.get_json()["roles"])


def test_role_changes_are_validated(world: World) -> None:
    builtin = _put(world, "/roles/admin", {"permissions": []})
    assert builtin.status_code == 409 and builtin.get_json()["error"]["code"] == "builtin_role"
    unknown = _put(world, "/roles/clerk", {"permissions": ["inventory.teleport"]})
    assert unknown.status_code == 400 and "inventory.teleport" in unknown.get_json()["error"]["message"]
    bad_name = _put(world, "/roles/Bad-Name", {"permissions": []})
    assert bad_name.status_code == 400
    unknown_role = _put(world, f"/members/{world.a.users['sales']}/roles", {"roles": ["wizard"]})
    assert unknown_role.status_code == 400 and unknown_role.get_json()["error"]["details"]["field"] == "roles"


@pytest.mark.parametrize(
    "look_alike",
    ["\u0430dmin", "clerk\u0663", "\uff52ole", "cl\u00e9rk", "clerk\n", "\U0001d5cblerk", "a" * 65],
    ids=["cyrillic-a", "arabic-indic-digit", "fullwidth", "accented", "newline", "math-letter", "too-long"],
)
def test_role_names_are_ascii_everywhere_they_enter(world: World, look_alike: str) -> None:
    created = _put(world, f"/roles/{quote(look_alike)}", {"permissions": ["admin.users"]})
    assert created.status_code == 400, created.get_json()
    assert created.get_json()["error"]["details"]["field"] == "name"
    with pytest.raises(admin_ops.AdminError, match="not a role name"):
        admin_ops.grant(world.services.store, "sales@acme.test", world.a.id, look_alike)
    roles = world.client.get(f"/api/v1/orgs/{world.a.id}/roles", headers=world.headers("admin@acme.test"))
    assert all(r["builtin"] for r in roles.get_json()["roles"])


def test_the_last_user_admin_cannot_be_removed(world: World) -> None:
    response = _put(world, f"/members/{world.a.users['admin']}/roles", {"roles": ["employee"]})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "last_admin"
    me = world.client.get("/api/v1/me", headers=world.headers("admin@acme.test")).get_json()
    assert me["memberships"][0]["roles"] == ["admin"]


def test_admin_changes_are_audited(world: World) -> None:
    _put(world, f"/members/{world.a.users['sales']}/roles", {"roles": ["hr", "sales"]})
    events = world.client.get(
        f"/api/v1/orgs/{world.a.id}/audit?entity=membership", headers=world.headers("auditor@acme.test")
    ).get_json()["events"]
    change = next(e for e in events if e["action"] == "admin.set_roles")
    assert change["actor"] == world.a.users["admin"]
    assert change["before"]["roles"] == ["sales"] and change["after"]["roles"] == ["hr", "sales"]

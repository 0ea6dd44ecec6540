"""Inviting people over the API, for tests: an administrator invites, the invitee accepts."""

from __future__ import annotations

from typing import Any

from tests.sync_server.conftest import OrgInfo, World


def invite(world: World, org: OrgInfo, email: str, roles: list[str], admin: str | None = None) -> Any:
    return world.client.post(
        f"/api/v1/orgs/{org.id}/members",
        json={"email": email, "roles": roles},
        headers=world.headers(admin or org.email("admin")),
    )


def invitation_token(world: World, org: OrgInfo, email: str, roles: list[str]) -> str:
    response = invite(world, org, email, roles)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["delivery"] == "link"
    return str(body["token"])


def accept(world: World, token: str, headers: dict[str, str] | None = None, **body: Any) -> Any:
    return world.client.post("/api/v1/invitations/accept", json={"token": token, **body}, headers=headers)


def join(
    world: World, org: OrgInfo, email: str, roles: list[str], password: str, name: str | None = None
) -> None:
    """``email`` becomes a member of ``org`` through an invitation it accepts with ``password``
    (creating its account with ``name`` when given)."""
    token = invitation_token(world, org, email, roles)
    extra = {"name": name} if name is not None else {}
    accepted = accept(world, token, password=password, **extra)
    assert accepted.status_code == 200, accepted.get_json()

"""A user erases their own account: deactivated, anonymized, memberships ended, sessions revoked;
the sign-in addresses in the audit trail read [erased] and the chain still verifies."""

from __future__ import annotations

import uuid

import requests
from sqlalchemy import select

from common.schema import AppUser, Membership
from sync_server import admin_ops
from tests.privacy.conftest import PASSWORD, PrivacyServer


def _new_member(server: PrivacyServer, role: str = "sales") -> tuple[str, str]:
    email = f"leaver-{uuid.uuid4().hex[:10]}@acme.test"
    services = server.services
    user_id = admin_ops.create_user(services.store, services.passwords, email, "Lee Leaver", PASSWORD)
    admin_ops.grant(services.store, email, server.a.id, role)
    return email, user_id


def test_a_user_erases_their_account(privacy_server: PrivacyServer) -> None:
    server = privacy_server
    email, user_id = _new_member(server)
    server.token(email)  # a sign-in: its address is in the audit trail, sealed
    wrong = server.call("POST", email, "/me/erasure", json={"current_password": "not it"})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "wrong_password"
    answer = server.call("POST", email, "/me/erasure", json={"current_password": PASSWORD})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"erased": True, "memberships_ended": [server.a.id]}
    # Signed out everywhere and never signs in again.
    assert server.call("GET", email, "/me").status_code == 401
    login = requests.post(
        f"{server.url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
    )
    assert login.status_code == 401
    with server.services.store.admin_session() as db:
        user = db.execute(select(AppUser.__table__).where(AppUser.id == user_id)).mappings().one()
        assert (user["name"], user["disabled"]) == ("[erased]", True)
        assert user["email"] == f"erased-{user_id}@erased.invalid" and user["erased_at"] is not None
        assert db.execute(select(Membership.id).where(Membership.user_id == user_id)).first() is None
    admin = server.a.email("admin")
    events = server.call("GET", admin, f"/orgs/{server.a.id}/audit", params={"actor": user_id}).json()[
        "events"
    ]
    logins = [e for e in events if e["action"] == "auth.login"]
    assert logins and all(e["after"]["address"] == "[erased]" for e in logins)
    assert server.call("GET", admin, f"/orgs/{server.a.id}/audit/verify").json()["intact"] is True


def test_the_last_administrator_cannot_erase_their_account(privacy_server: PrivacyServer) -> None:
    server = privacy_server
    services = server.services
    org_id = admin_ops.create_org(services.store, f"Solo {uuid.uuid4().hex[:8]}")
    email = f"solo-{uuid.uuid4().hex[:10]}@solo.test"
    admin_ops.create_user(services.store, services.passwords, email, "Solo Admin", PASSWORD)
    admin_ops.grant(services.store, email, org_id, "admin")
    answer = server.call("POST", email, "/me/erasure", json={"current_password": PASSWORD})
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "last_admin"
    assert server.call("GET", email, "/me").status_code == 200  # nothing was erased

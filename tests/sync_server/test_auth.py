"""Sign-in, tokens, refresh rotation and reuse, logout, password change, rate limits."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import jwt
import pytest
from flask import Flask
from sqlalchemy import select, update

from common.schema import AppUser, AuditEvent
from sync_server.app import create_app
from sync_server.services import Services
from sync_server.store import SYSTEM_ORG_ID
from sync_server.subject_keys import SubjectKeys, is_sealed
from tests.sync_server.conftest import JWT_KEY, PASSWORD, World, strict_limits


def _error(response: Any) -> dict[str, Any]:
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}
    return dict(body["error"])


def test_login_returns_tokens_user_and_memberships(world: World) -> None:
    body = world.login("hr@acme.test")
    assert body["token_type"] == "Bearer"
    assert 60 <= body["expires_in"] <= 3600
    assert body["user"] == {"id": world.a.users["hr"], "email": "hr@acme.test", "name": "hr Acme"}
    [membership] = body["memberships"]
    assert membership["org_id"] == world.a.id and membership["org_name"] == "Acme"
    assert membership["roles"] == ["hr"]
    assert "hr.sensitive.read" in membership["permissions"] and "payroll.run" in membership["permissions"]
    me = world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.get_json()["memberships"] == body["memberships"]


def test_unknown_email_and_wrong_password_answer_the_same(world: World) -> None:
    wrong = world.client.post("/api/v1/auth/login", json={"email": "hr@acme.test", "password": "nope-nope"})
    unknown = world.client.post(
        "/api/v1/auth/login", json={"email": "ghost@acme.test", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert _error(wrong) == _error(unknown)
    assert _error(wrong)["code"] == "invalid_credentials"


def test_email_is_case_insensitive(world: World) -> None:
    assert world.login("  HR@Acme.TEST ")["user"]["email"] == "hr@acme.test"


def test_disabled_account_cannot_sign_in_and_its_tokens_stop(world: World) -> None:
    headers = world.headers("sales@acme.test")
    with world.services.store.session(write=True) as session:
        session.execute(update(AppUser).where(AppUser.email == "sales@acme.test").values(disabled=True))
    failed = world.client.post("/api/v1/auth/login", json={"email": "sales@acme.test", "password": PASSWORD})
    assert _error(failed)["code"] == "invalid_credentials"
    assert world.client.get("/api/v1/me", headers=headers).status_code == 401


def test_repeated_failures_are_rate_limited_per_account(services: Services) -> None:
    strict = strict_limits(services.config, per_account=3)
    app = create_app(strict, Services.build(strict, services.store))
    client = app.test_client()
    _make_user(services, "victim@x.test")
    for _ in range(3):
        assert (
            client.post(
                "/api/v1/auth/login", json={"email": "victim@x.test", "password": "bad-guess"}
            ).status_code
            == 401
        )
    limited = client.post("/api/v1/auth/login", json={"email": "victim@x.test", "password": PASSWORD})
    assert limited.status_code == 429
    assert _error(limited)["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 601
    # Unknown addresses are limited the same way, so the answer reveals nothing.
    for _ in range(3):
        client.post("/api/v1/auth/login", json={"email": "nobody@x.test", "password": "bad-guess"})
    assert (
        client.post("/api/v1/auth/login", json={"email": "nobody@x.test", "password": "x"}).status_code == 429
    )


def test_repeated_failures_are_rate_limited_per_address(services: Services) -> None:
    strict = strict_limits(services.config, per_account=100, per_address=4)
    app = create_app(strict, Services.build(strict, services.store))
    client = app.test_client()
    _make_user(services, "someone@x.test")
    for n in range(4):
        client.post("/api/v1/auth/login", json={"email": f"guess{n}@x.test", "password": "bad-guess"})
    limited = client.post("/api/v1/auth/login", json={"email": "someone@x.test", "password": PASSWORD})
    assert limited.status_code == 429
    other_address = client.post(
        "/api/v1/auth/login",
        json={"email": "someone@x.test", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert other_address.status_code == 200


def _make_user(services: Services, email: str) -> str:
    from sync_server import admin_ops

    return admin_ops.create_user(services.store, services.passwords, email, "Someone", PASSWORD)


# -- access tokens ----------------------------------------------------------------------------


def _claims(user_id: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": "ops-server",
        "aud": "ops-api",
        "sub": user_id,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "x",
        "typ": "access",
        "sid": "00000000-0000-0000-0000-000000000001",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _me(world: World, token: str) -> int:
    return int(world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code)


def test_bad_access_tokens_are_refused(world: World) -> None:
    real = world.login("admin@acme.test")
    user_id = real["user"]["id"]
    good = real["access_token"]
    assert _me(world, good) == 200
    sid = jwt.decode(good, options={"verify_signature": False})["sid"]
    forged_key = b"k" * 32
    cases = {
        "forged signature": jwt.encode(_claims(user_id, sid=sid), forged_key, algorithm="HS256"),
        "expired": jwt.encode(
            _claims(user_id, sid=sid, exp=int(time.time()) - 120), JWT_KEY, algorithm="HS256"
        ),
        "not yet valid": jwt.encode(
            _claims(user_id, sid=sid, nbf=int(time.time()) + 3600), JWT_KEY, algorithm="HS256"
        ),
        "wrong audience": jwt.encode(
            _claims(user_id, sid=sid, aud="someone-else"), JWT_KEY, algorithm="HS256"
        ),
        "wrong issuer": jwt.encode(_claims(user_id, sid=sid, iss="evil"), JWT_KEY, algorithm="HS256"),
        "missing jti": jwt.encode(_claims(user_id, sid=sid, jti=None), JWT_KEY, algorithm="HS256"),
        "missing exp": jwt.encode(_claims(user_id, sid=sid, exp=None), JWT_KEY, algorithm="HS256"),
        "HS512 under the right key": jwt.encode(_claims(user_id, sid=sid), JWT_KEY * 2, algorithm="HS512"),
        "alg none": jwt.encode(_claims(user_id, sid=sid), None, algorithm="none"),
        "refresh token as access token": real["refresh_token"],
        "garbage": "not.a.token",
        "empty": "",
    }
    header, payload, signature = good.split(".")
    tampered_payload = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(user_id.encode(), world.a.users["hr"].encode())
    ).decode()
    cases["tampered payload"] = f"{header}.{tampered_payload}.{signature}"
    for name, token in cases.items():
        response = world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert _error(response)["code"] in ("invalid_token", "unauthenticated"), name
    assert world.client.get("/api/v1/me", headers={"Authorization": good}).status_code == 401  # no scheme
    assert _me(world, good) == 200


# -- refresh tokens ---------------------------------------------------------------------------


def _refresh(world: World, token: str) -> Any:
    return world.client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def test_refresh_rotates_and_reuse_revokes_the_whole_family(world: World) -> None:
    first = world.login("warehouse@acme.test")
    second = _refresh(world, first["refresh_token"])
    assert second.status_code == 200
    pair = second.get_json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert _me(world, pair["access_token"]) == 200
    third = _refresh(world, pair["refresh_token"]).get_json()
    # An attacker replays the first, already used, token: the whole family is revoked.
    reused = _refresh(world, first["refresh_token"])
    assert reused.status_code == 401 and _error(reused)["code"] == "token_reused"
    assert _refresh(world, third["refresh_token"]).status_code == 401
    assert _me(world, third["access_token"]) == 401
    assert _me(world, first["access_token"]) == 401
    # Another sign-in of the same user is a different family and keeps working.
    other = world.login("warehouse@acme.test")
    assert _me(world, other["access_token"]) == 200
    with world.services.store.session(world.a.id) as session:
        actions = (
            session.execute(select(AuditEvent.action).where(AuditEvent.org_id == world.a.id)).scalars().all()
        )
    assert "auth.refresh_reused" in actions


def test_unknown_refresh_token_is_refused(world: World) -> None:
    response = _refresh(world, "ort_made-up")
    assert response.status_code == 401 and _error(response)["code"] == "invalid_token"


def test_logout_ends_the_session(world: World) -> None:
    pair = world.login("sales@acme.test")
    other = world.login("sales@acme.test")
    response = world.client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})
    assert response.status_code == 204
    assert _refresh(world, pair["refresh_token"]).status_code == 401
    assert _me(world, pair["access_token"]) == 401
    assert _me(world, other["access_token"]) == 200


def test_password_change_ends_every_session(world: World) -> None:
    one = world.login("project_manager@acme.test")
    two = world.login("project_manager@acme.test")
    headers = {"Authorization": f"Bearer {one['access_token']}"}
    wrong = world.client.post(
        "/api/v1/auth/password",
        json={"current_password": "not-it-at-all", "new_password": "a new secret 1"},
        headers=headers,
    )
    assert wrong.status_code == 403 and _error(wrong)["details"]["field"] == "current_password"
    short = world.client.post(
        "/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "short"}, headers=headers
    )
    assert short.status_code == 400 and _error(short)["message"].startswith("new_password")
    changed = world.client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a new secret 1"},
        headers=headers,
    )
    assert changed.status_code == 200
    fresh = changed.get_json()
    for old in (one, two):
        assert _me(world, old["access_token"]) == 401
        assert _refresh(world, old["refresh_token"]).status_code == 401
    assert _me(world, fresh["access_token"]) == 200
    assert (
        world.client.post(
            "/api/v1/auth/login", json={"email": "project_manager@acme.test", "password": PASSWORD}
        ).status_code
        == 401
    )
    world.login("project_manager@acme.test", "a new secret 1")


def test_auth_events_are_audited_without_secrets(world: World) -> None:
    pair = world.login("auditor@acme.test")
    world.client.post("/api/v1/auth/login", json={"email": "auditor@acme.test", "password": "Wrong-Pass-123"})
    world.client.post(
        "/api/v1/auth/login", json={"email": "Hunter2-typed-as-email@x.y", "password": "Wrong-Pass-123"}
    )
    with world.services.store.session(world.a.id) as session:
        org_events = session.execute(
            select(AuditEvent.action, AuditEvent.after).where(AuditEvent.org_id == world.a.id)
        ).all()
    with world.services.store.session(SYSTEM_ORG_ID) as session:
        system_events = session.execute(
            select(AuditEvent.action, AuditEvent.after).where(AuditEvent.org_id == SYSTEM_ORG_ID)
        ).all()
    # The address is the person's data: sealed under their key (crypto-shredding), opened by readers.
    logins = [b for a, b in org_events if a == "auth.login"]
    assert logins and all(is_sealed(b["address"]) for b in logins)
    with world.services.store.session(world.a.id) as session:
        keys = SubjectKeys(session, world.a.id, world.services.store.audit_key())
        assert "127.0.0.1" in [keys.open(b["address"]) for b in logins]
    assert any(a == "auth.login_failed" and b["reason"] == "wrong_password" for a, b in org_events)
    assert [b["reason"] for a, b in system_events if a == "auth.login_failed"] == ["unknown_email"]
    everything = repr(org_events) + repr(system_events)
    for secret in (
        PASSWORD,
        "Wrong-Pass-123",
        "Hunter2-typed-as-email",
        pair["access_token"],
        pair["refresh_token"],
    ):
        assert secret.lower() not in everything.lower()


def test_no_secret_reaches_the_logs(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    pair = world.login("hr@acme.test")
    world.client.post("/api/v1/auth/login", json={"email": "hr@acme.test", "password": "Wrong-Pass-123"})
    world.client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    world.client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    text = caplog.text
    for secret in (PASSWORD, "Wrong-Pass-123", pair["access_token"], pair["refresh_token"]):
        assert secret not in text


def test_test_suites_must_choose_cheap_argon2_explicitly(services: Services, app: Flask) -> None:
    production = replace(services.config, password_policy=type(services.config.password_policy)())
    assert production.password_policy.memory_cost_kib >= 65536
    assert services.config.password_policy.memory_cost_kib < production.password_policy.memory_cost_kib


def test_a_device_of_another_user_is_refused_and_never_in_a_token(world: World) -> None:
    device = "0190a0b2-7c4e-7d2a-9f00-3c5e8a1b2c3d"
    world.login("sales@acme.test", device_id=device, device_name="Sales laptop")
    spoof = world.client.post(
        "/api/v1/auth/login",
        json={"email": "warehouse@acme.test", "password": PASSWORD, "device_id": device},
    )
    assert spoof.status_code == 409
    error = _error(spoof)
    assert (error["code"], error["details"]["field"]) == ("device_taken", "device_id")
    with world.services.store.session(world.a.id) as session:
        refused = session.execute(
            select(AuditEvent.actor, AuditEvent.after).where(AuditEvent.action == "auth.login_failed")
        ).all()
    assert [(a, b["reason"]) for a, b in refused] == [(world.a.users["warehouse"], "device_of_another_user")]
    # The user's own new device is registered and is what the token and the audit trail carry.
    own = "0190a0b2-7c4e-7d2a-9f00-3c5e8a1b2c3e"
    pair = world.login("warehouse@acme.test", device_id=own)
    assert jwt.decode(pair["access_token"], options={"verify_signature": False})["dev"] == own
    # Without an organization a device cannot be registered: it stays out of the token.
    _make_user(world.services, "loner@x.test")
    loner = world.login("loner@x.test", device_id=device)
    assert "dev" not in jwt.decode(loner["access_token"], options={"verify_signature": False})

"""The API client against a real server over HTTP: sign-in, refresh, logout, errors, transport."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from common.ids import new_id
from desktop.api_client import (
    ApiClient,
    ApiError,
    ForbiddenError,
    InsecureTransportError,
    InvalidCredentialsError,
    OfflineError,
    RateLimitedError,
    ServerError,
    SessionEndedError,
    check_server_url,
)
from sync_server.app import create_app
from sync_server.serve import BackgroundServer
from tests.desktop.conftest import LiveServer
from tests.desktop.seed import UNREACHABLE_SERVER
from tests.sync_server.conftest import tls_files  # noqa: F401


def test_login_returns_the_user_and_memberships_with_permissions(live_server: LiveServer) -> None:
    api = ApiClient(live_server.url)
    me = api.login("warehouse@acme.test", live_server.password)
    assert me.user.email == "warehouse@acme.test"
    (membership,) = me.memberships
    assert membership.org_name == "Acme Trading"
    assert membership.roles == ("warehouse",)
    assert "inventory.write" in membership.permissions
    assert "hr.read" not in membership.permissions
    assert api.me().user.id == me.user.id


def test_wrong_password_and_unknown_email_are_the_same_error(live_server: LiveServer) -> None:
    api = ApiClient(live_server.url)
    with pytest.raises(InvalidCredentialsError) as wrong:
        api.login("admin@acme.test", "not the password")
    with pytest.raises(InvalidCredentialsError) as unknown:
        api.login("nobody@acme.test", "not the password")
    assert wrong.value.message == unknown.value.message == "wrong e-mail address or password"
    assert not api.signed_in


def test_repeated_failures_are_reported_as_rate_limited(live_server: LiveServer) -> None:
    api = ApiClient(live_server.url)
    with pytest.raises(RateLimitedError) as limited:
        for _ in range(20):
            with pytest.raises(InvalidCredentialsError):
                api.login("hr@acme.test", "guess")
    assert "too many attempts" in limited.value.message


def test_an_expired_access_token_is_refreshed_once_and_the_request_retried(live_server: LiveServer) -> None:
    seen: list[str | None] = []
    api = ApiClient(live_server.url, on_tokens=seen.append)
    api.login("admin@acme.test", live_server.password)
    first_refresh = api.refresh_token
    api._access_token = "not-a-valid-token"  # as after expiry
    assert api.me().user.email == "admin@acme.test"
    assert api.refresh_token != first_refresh  # rotated
    assert seen == [first_refresh, api.refresh_token]


def test_a_remembered_refresh_token_signs_in_without_the_password(live_server: LiveServer) -> None:
    first = ApiClient(live_server.url)
    first.login("admin@acme.test", live_server.password)
    later = ApiClient(live_server.url, refresh_token=first.refresh_token)
    assert later.me().user.email == "admin@acme.test"


def test_logout_ends_the_session_on_the_server(live_server: LiveServer) -> None:
    api = ApiClient(live_server.url)
    api.login("admin@acme.test", live_server.password)
    token = api.refresh_token
    api.logout()
    assert not api.signed_in
    stale = ApiClient(live_server.url, refresh_token=token)
    with pytest.raises(SessionEndedError):
        stale.me()


def test_reading_the_audit_trail_needs_the_permission(live_server: LiveServer) -> None:
    admin = ApiClient(live_server.url)
    me = admin.login("admin@acme.test", live_server.password)
    org_id = me.memberships[0].org_id
    assert isinstance(admin.audit(org_id, limit=5), list)
    warehouse = ApiClient(live_server.url)
    warehouse.login("warehouse@acme.test", live_server.password)
    with pytest.raises(ForbiddenError):
        warehouse.audit(org_id)


def test_no_server_listening_is_offline_not_an_error_of_the_user() -> None:
    api = ApiClient(UNREACHABLE_SERVER)
    with pytest.raises(OfflineError) as offline:
        api.login("admin@acme.test", "pw")
    assert "cannot reach" in offline.value.message


def test_plain_http_is_refused_except_to_this_computer() -> None:
    for url in ("http://ops.example.com", "http://10.0.0.5:8750", "http://[2001:db8::1]"):
        with pytest.raises(InsecureTransportError, match="not encrypted"):
            ApiClient(url)
    for url in (
        "http://127.0.0.1:8750",
        "http://localhost:8750",
        "http://[::1]:8750",
        "https://ops.example.com",
    ):
        assert check_server_url(url)
    with pytest.raises(InsecureTransportError):
        check_server_url("ftp://ops.example.com")


def test_a_custom_ca_bundle_is_used_and_a_missing_one_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "corp-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert ApiClient("https://ops.example.com", ca_bundle=str(bundle)).verify == str(bundle)
    monkeypatch.setenv("OPS_CA_BUNDLE", str(bundle))
    assert ApiClient("https://ops.example.com").verify == str(bundle)
    with pytest.raises(ApiError, match="does not exist"):
        ApiClient("https://ops.example.com", ca_bundle=str(tmp_path / "missing.pem"))


def test_tokens_and_passwords_never_reach_the_log_or_repr(
    live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = ApiClient(live_server.url)
    api.login("admin@acme.test", live_server.password)
    api._access_token = "expired"
    api.me()
    token = api.refresh_token
    assert token is not None
    assert token not in repr(api)
    assert token not in caplog.text and live_server.password not in caplog.text


def test_proxy_and_ca_variables_are_read_once_when_the_client_is_made(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """requests would look them up on every request; the client takes them once, the same way."""
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not read here")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.test:3128")
    monkeypatch.setenv("NO_PROXY", "ops.internal.test")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.delenv("OPS_CA_BUNDLE", raising=False)
    proxied = ApiClient("https://ops.example.test")
    assert proxied.http.proxies.get("https") == "http://proxy.example.test:3128"
    assert proxied.verify == str(bundle)
    assert proxied.http.trust_env is False
    assert "https" not in ApiClient("https://ops.internal.test").http.proxies  # NO_PROXY holds


@pytest.mark.parametrize("through", ["pool", "session"])
def test_over_https_the_server_is_verified_against_the_ca_bundle(
    live_server: LiveServer,
    tls_files: tuple[Path, Path],  # noqa: F811
    through: str,
) -> None:
    """Both transports (the session's pool directly, and the whole requests path that runs
    when a response hook is set) verify the certificate: never a silent downgrade."""
    cert, key = tls_files
    seen: list[int] = []

    def client(**kwargs: Any) -> ApiClient:
        api = ApiClient(https.url, **kwargs)
        if through == "session":
            api.http.hooks["response"].append(lambda response, *args, **kw: seen.append(response.status_code))
        return api

    with BackgroundServer(
        create_app(live_server.services.config, live_server.services), cert=cert, key=key
    ) as https:
        trusted = client(ca_bundle=str(cert))
        me = trusted.login("admin@acme.test", live_server.password)
        assert me.user.email == "admin@acme.test"
        assert trusted.me().user.email == "admin@acme.test"
        with pytest.raises(InvalidCredentialsError):
            trusted.login("admin@acme.test", "wrong password")
        with pytest.raises(OfflineError) as untrusted:
            client().login("admin@acme.test", live_server.password)
        assert untrusted.value.code == "tls_error" and "certificate" in untrusted.value.message
    with pytest.raises(OfflineError) as gone:
        trusted.me()
    assert gone.value.code == "offline"
    assert seen == ([200, 200, 401] if through == "session" else [])


# Blocks a broken or hostile server might send: each must be refused as a malformed answer
# before anything is written (a text in a row's place would be taken apart character by
# character: "abc" stored as id "a", version "b", name "c").
HOSTILE_BLOCKS = {
    "row is a text": {"entity": "customer", "op": "upsert", "columns": ["id", "version", "name"], "rows": ["abc"]},
    "row is a number": {"entity": "customer", "op": "upsert", "columns": ["id", "version"], "rows": [5]},
    "delete row is a text": {"entity": "customer", "op": "delete", "columns": ["id", "version"], "rows": ["xy"]},
    "row too short": {"entity": "customer", "op": "delete", "columns": ["version", "id"], "rows": [[1]]},
    "row too long": {"entity": "customer", "op": "upsert", "columns": ["id", "version"], "rows": [["a", 1, 2]]},
    "column not a name": {"entity": "customer", "op": "upsert", "columns": ["id", ["x"]], "rows": [["a", 1]]},
    "column twice": {"entity": "customer", "op": "upsert", "columns": ["id", "id"], "rows": [["a", "b"]]},
    "no id column": {"entity": "customer", "op": "upsert", "columns": ["version"], "rows": [[1]]},
    "unknown op": {"entity": "customer", "op": "merge", "columns": ["id"], "rows": [["a"]]},
}  # fmt: skip


@pytest.mark.parametrize("block", HOSTILE_BLOCKS.values(), ids=list(HOSTILE_BLOCKS))
def test_a_malformed_pull_block_is_refused_as_a_bad_answer(block: dict[str, Any]) -> None:
    """A server over real HTTP answering a blocks pull with a malformed block."""
    import orjson

    def hostile(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"].endswith("/auth/refresh"):
            body = {"access_token": "a", "refresh_token": "r", "token_type": "Bearer", "expires_in": 900}
        else:
            body = {"blocks": [block], "cursor": "c", "has_more": False, "schema_version": 1}
        start_response("200 OK", [("Content-Type", "application/json")])
        return [orjson.dumps(body)]

    with BackgroundServer(hostile) as server:
        api = ApiClient(server.url, refresh_token="r")
        with pytest.raises(ServerError) as refused:
            api.pull(new_id(), "c", limit=10, schema_version=1, blocks=True)
    assert refused.value.code == "bad_response" and "malformed block" in refused.value.message

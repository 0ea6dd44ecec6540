"""The server over real HTTP (cheroot on a real port): JSON errors everywhere, limits, headers, TLS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import requests
from flask import Flask

from common.schema import SCHEMA_VERSION
from sync_server.app import create_app
from sync_server.serve import BackgroundServer
from sync_server.services import Services
from tests.sync_server.conftest import PASSWORD, World, product, warehouse


def _error_code(response: requests.Response) -> str:
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return str(body["error"]["code"])


def test_sign_in_and_push_over_http(world: World, live_server: BackgroundServer) -> None:
    with requests.Session() as http:
        login = http.post(
            f"{live_server.url}/api/v1/auth/login",
            json={"email": "warehouse@acme.test", "password": PASSWORD},
            timeout=30,
        )
        assert login.status_code == 200
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        body = {"client_id": "http", "schema_version": SCHEMA_VERSION, "mutations": [warehouse(), product()]}
        pushed = http.post(f"{live_server.url}/api/v1/orgs/{world.a.id}/sync/push", json=body, timeout=30)
        assert [r["status"] for r in pushed.json()["results"]] == ["applied", "applied"]
        assert (
            http.get(f"{live_server.url}/api/v1/me", timeout=30).json()["user"]["email"]
            == "warehouse@acme.test"
        )


def test_malformed_input_is_a_400_naming_the_problem(world: World, live_server: BackgroundServer) -> None:
    url = f"{live_server.url}/api/v1/auth/login"
    cases = {
        b"{not json": "invalid_json",
        b"[1, 2, 3]": "invalid_json",
        b"": "invalid_json",
        b'{"email": 42, "password": "x"}': "invalid",
        b'{"email": "a@b.c"}': "invalid",
        b'{"email": "a@b.c", "password": "x", "admin": true}': "invalid",
        '{"email": "\u00ff\\ud800", "password": "x"}'.encode(): "invalid_json",  # lone surrogate
    }
    for raw, code in cases.items():
        response = requests.post(url, data=raw, headers={"Content-Type": "application/json"}, timeout=30)
        assert response.status_code == 400, raw
        assert _error_code(response) == code, raw
    missing = requests.post(url, json={"email": "a@b.c"}, timeout=30).json()["error"]
    assert missing["message"] == "password: is required" and missing["details"]["field"] == "password"


def test_unknown_routes_and_methods_answer_json(live_server: BackgroundServer) -> None:
    missing = requests.get(f"{live_server.url}/api/v1/nothing-here", timeout=30)
    assert missing.status_code == 404 and _error_code(missing) == "not_found"
    wrong_method = requests.delete(f"{live_server.url}/api/v1/auth/login", timeout=30)
    assert wrong_method.status_code == 405 and _error_code(wrong_method) == "method_not_allowed"
    assert "POST" in wrong_method.headers["Allow"]
    options = requests.options(f"{live_server.url}/api/v1/auth/login", timeout=30)
    assert options.status_code == 405 and _error_code(options) == "method_not_allowed"
    assert options.headers["Allow"] == "POST"


def test_bodies_that_are_not_json_get_415(world: World, live_server: BackgroundServer) -> None:
    url = f"{live_server.url}/api/v1/auth/login"
    body = '{"email": "sales@acme.test", "password": "x"}'
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        None,
    ):
        headers = {"Content-Type": content_type} if content_type else {}
        response = requests.post(url, data=body, headers=headers, timeout=30)
        assert response.status_code == 415, (content_type, response.text)
        assert _error_code(response) == "unsupported_media_type"
    with_charset = requests.post(
        url, data=body, headers={"Content-Type": "application/json; charset=utf-8"}, timeout=30
    )
    assert with_charset.status_code == 401
    token = world.token("admin@acme.test")
    form = requests.post(
        f"{live_server.url}/api/v1/orgs/{world.a.id}/members",
        data={"email": "x@acme.test"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert form.status_code == 415


def test_doubled_slashes_are_not_found_never_redirected(live_server: BackgroundServer, app: Flask) -> None:
    inner = ("/api//v1/openapi.json", "/api/v1//me", "/healthz/", "/console//")
    for path in inner:
        response = requests.get(
            f"{live_server.url}{path}", headers={"Host": "evil.example"}, allow_redirects=False, timeout=30
        )
        assert response.status_code == 404, (path, response.status_code, response.headers.get("Location"))
        assert "Location" not in response.headers and _error_code(response) == "not_found"
    # A leading "//" reads as an authority ("//evil.example/x"), which the HTTP server itself
    # refuses before the app: a JSON 404 too, never routed to "/api/v1/me" on evil's say.
    for path in ("//api/v1/healthz", "//evil.example/api/v1/me", "//console"):
        response = requests.get(f"{live_server.url}{path}", allow_redirects=False, timeout=30)
        assert response.status_code == 404 and "Location" not in response.headers, path
        assert _error_code(response) == "not_found", path
    for path in ("//api/v1/healthz", "//console"):
        direct = app.test_client().get(path, headers={"Host": "evil.example"})
        assert direct.status_code == 404 and direct.get_json()["error"]["code"] == "not_found", path


def test_oversized_requests_get_413(services: Services) -> None:
    small = replace(services.config, max_content_length=4096)
    app = create_app(small, Services.build(small, services.store))
    with BackgroundServer(app) as server:
        response = requests.post(
            f"{server.url}/api/v1/auth/login",
            data=b"{" + b" " * 10_000 + b"}",
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
    assert response.status_code == 413 and _error_code(response) == "too_large"


def test_oversized_chunked_requests_get_413_not_a_truncated_parse(services: Services) -> None:
    """A chunked body has no Content-Length: it is cut at the limit, and must answer 413."""
    small = replace(services.config, max_content_length=64 * 1024)

    def chunks(count: int) -> Iterator[bytes]:
        yield b'{"email": "'
        for _ in range(count):
            yield b"a" * 8192
        yield b'", "password": "x"}'

    app = create_app(small, Services.build(small, services.store))
    # Connection: close, or cheroot keeps a worker waiting on the idle connection at shutdown.
    headers = {"Content-Type": "application/json", "Connection": "close"}
    with BackgroundServer(app) as server:
        url = f"{server.url}/api/v1/auth/login"
        too_big = requests.post(url, data=chunks(20), headers=headers, timeout=30)
        fits = requests.post(url, data=chunks(2), headers=headers, timeout=30)
    assert too_big.status_code == 413 and _error_code(too_big) == "too_large"
    assert fits.status_code == 400 and fits.json()["error"]["details"]["field"] == "email"


def test_unexpected_errors_are_a_json_500_without_internals(app: Flask) -> None:
    def explode() -> str:
        raise RuntimeError("secret internal detail /etc/passwd")

    app.add_url_rule("/explode", "explode", explode)
    with BackgroundServer(app) as server:
        response = requests.get(f"{server.url}/explode", timeout=30)
    assert response.status_code == 500 and _error_code(response) == "internal_error"
    assert "secret" not in response.text and "Traceback" not in response.text


def test_security_headers(live_server: BackgroundServer) -> None:
    response = requests.get(f"{live_server.url}/healthz", timeout=30)
    assert response.json()["status"] == "ok"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # only over HTTPS
    # One Date header, an HTTP-date of now (the app's, so cheroot adds none).
    assert len(response.raw.headers.getlist("Date")) == 1
    sent = parsedate_to_datetime(response.headers["Date"])
    assert abs((sent - datetime.now(UTC)).total_seconds()) < 60
    assert response.headers["Date"].endswith(" GMT")


def test_the_server_speaks_tls_itself(app: Flask, tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    with BackgroundServer(app, cert=cert, key=key) as server:
        assert server.url.startswith("https://")
        response = requests.get(f"{server.url}/healthz", verify=str(cert), timeout=30)
        assert response.status_code == 200
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{server.url}/healthz", timeout=30)  # not trusted by default: no silent downgrade


def test_what_the_http_server_refuses_itself_is_answered_in_json(live_server: BackgroundServer) -> None:
    """A request line the HTTP server refuses before the app (a lowercase method, a request
    without CRLF) still gets the API's error shape, never a text/plain page."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(live_server.url)
    for raw in (b"get /healthz HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /healthz HTTP/1.1\n\n"):
        with socket.create_connection((parts.hostname, parts.port), timeout=30) as conn:
            conn.sendall(raw)
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400"), head
        assert b"Content-Type: application/json" in head
        error = json.loads(body)["error"]
        assert error["code"] == "bad_request" and error["message"], error

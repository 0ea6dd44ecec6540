"""The no-op pull answered before Flask (sync_server.noop_sync): the same answer as the full path,
and every check still made on every request (a revoked session, a removed member, a sign-out,
a changed role, the request limit), on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import orjson
from flask import Flask, request, request_started
from flask.testing import FlaskClient

from common.ids import new_id
from common.schema import SCHEMA_VERSION
from sync_server import admin_ops
from sync_server.app import create_app
from sync_server.auth.principal import NeedsSession, caller_statement, read_caller, resolve, resolve_rows
from sync_server.config import RequestLimits
from sync_server.errors import ApiError
from sync_server.pull import COUNTER_COLUMNS, COUNTER_PARAMETERS
from sync_server.services import Services
from sync_server.store import SYSTEM_ORG_ID
from tests.sync_server.conftest import World, mutation, warehouse
from tests.sync_server.pulling import pull_all
from tests.sync_server.test_security_log import _log

EMAIL = "warehouse@acme.test"


@contextmanager
def flask_requests(app: Flask) -> Iterator[list[str]]:
    """The paths of the requests that reached the Flask layer meanwhile."""
    seen: list[str] = []

    def started(sender: Any, **extra: Any) -> None:
        seen.append(request.path)

    request_started.connect(started, app)
    try:
        yield seen
    finally:
        request_started.disconnect(started, app)


def _synced(world: World, email: str = EMAIL) -> str:
    """A cursor with nothing after it, for ``email`` in Acme."""
    assert world.push(email, world.a, [warehouse("W1")]).status_code == 200
    cursor = pull_all(world, email, world.a).cursor
    assert cursor is not None
    return cursor


def _pull(client: FlaskClient, world: World, cursor: str, headers: dict[str, str], **query: Any) -> Any:
    return client.get(
        f"/api/v1/orgs/{world.a.id}/sync/pull",
        query_string={"cursor": cursor, **query},
        headers=headers,
    )


def _empty_push(client: FlaskClient, world: World, headers: dict[str, str], **body: Any) -> Any:
    return client.post(
        f"/api/v1/orgs/{world.a.id}/sync/push",
        json={"client_id": "tests", "schema_version": SCHEMA_VERSION, "mutations": [], **body},
        headers=headers,
    )


def test_a_noop_pull_gets_the_full_paths_answer_without_flask(world: World, app: Flask) -> None:
    cursor = _synced(world)
    headers = world.headers(EMAIL)
    with flask_requests(app) as seen:
        fast = _pull(world.client, world, cursor, headers, schema_version=SCHEMA_VERSION)
    assert seen == []
    assert fast.status_code == 200
    assert fast.get_json() == {
        "changes": [],
        "cursor": cursor,
        "has_more": False,
        "schema_version": SCHEMA_VERSION,
    }
    full = _full_path_answer(world, cursor, headers)
    assert fast.data == full.data
    assert sorted(fast.headers.items()) == sorted(full.headers.items())


def test_a_long_spelling_of_the_same_pull_is_answered_alike_each_time(world: World, app: Flask) -> None:
    """A query padded past what a desktop sends (not remembered: parsed every time) still gets
    the no-op answer, and a change made after it is pulled: nothing stale is answered."""
    cursor = _synced(world)
    headers = world.headers(EMAIL)
    padded = "0" * 600 + "500"
    with flask_requests(app) as seen:
        first = _pull(world.client, world, cursor, headers, limit=padded)
        again = _pull(world.client, world, cursor, headers, limit=padded)
    assert seen == []
    assert first.status_code == again.status_code == 200
    assert first.data == again.data == _full_path_answer(world, cursor, headers).data
    assert world.push(EMAIL, world.a, [warehouse("W7")]).status_code == 200
    changed = _pull(world.client, world, cursor, headers, limit=padded)
    assert [c["entity"] for c in changed.get_json()["changes"]] == ["warehouse"]


def _full_path_app(world: World) -> Flask:
    """The app with the no-op layer left out: every request answered by the endpoints themselves."""
    from sync_server import noop_sync

    saved = noop_sync.install
    noop_sync.install = lambda app: None  # type: ignore[assignment]
    try:
        return create_app(world.services.config, world.services)
    finally:
        noop_sync.install = saved  # type: ignore[assignment]


def _full_path_answer(world: World, cursor: str, headers: dict[str, str]) -> Any:
    """The answer of the endpoint itself, with the no-op layer left out of the app."""
    return _pull(_full_path_app(world).test_client(), world, cursor, headers, schema_version=SCHEMA_VERSION)


def test_an_empty_push_gets_the_full_paths_answer_without_flask(world: World, app: Flask) -> None:
    headers = world.headers(EMAIL)
    with flask_requests(app) as seen:
        fast = _empty_push(world.client, world, headers)
    assert seen == []
    assert fast.status_code == 200
    assert fast.get_json() == {"results": []}
    full = _empty_push(_full_path_app(world).test_client(), world, headers)
    assert full.status_code == 200
    assert fast.data == full.data
    assert sorted(fast.headers.items()) == sorted(full.headers.items())


def test_a_push_with_commands_or_bad_input_goes_to_the_full_path(world: World, app: Flask) -> None:
    headers = world.headers(EMAIL)
    full = _full_path_app(world).test_client()
    url = f"/api/v1/orgs/{world.a.id}/sync/push"
    empty = {"client_id": "tests", "schema_version": SCHEMA_VERSION, "mutations": []}
    with flask_requests(app) as seen:
        applied = world.push(EMAIL, world.a, [warehouse("W9")])
        assert applied.status_code == 200 and applied.get_json()["results"][0]["status"] == "applied"
        # Each answer is the full path's, the body this layer read put back for it.
        for case in (
            {"json": {**empty, "schema_version": SCHEMA_VERSION + 1}},  # 409 upgrade_required
            {"json": {**empty, "client_id": ""}},  # 400 naming the field
            {"json": {**empty, "unknown": 1}},
            {"json": [empty]},  # not an object
            {"data": b"{not json", "content_type": "application/json"},
            {"data": orjson.dumps(empty), "content_type": "text/plain"},  # 415
            {"data": b"", "content_type": "application/json"},
        ):
            fast = world.client.post(url, headers=headers, **case)  # type: ignore[arg-type]
            expected = full.post(url, headers=headers, **case)  # type: ignore[arg-type]
            assert fast.status_code == expected.status_code, (case, fast.get_json())
            assert fast.data == expected.data, case
    assert len(seen) == 8
    upgrade = _empty_push(world.client, world, headers, schema_version=SCHEMA_VERSION + 1)
    assert upgrade.status_code == 409 and upgrade.get_json()["error"]["code"] == "upgrade_required"
    other = world.client.post(f"/api/v1/orgs/{world.b.id}/sync/push", json=empty, headers=headers)
    assert other.status_code == 404
    assert _empty_push(world.client, world, {"Authorization": "Bearer nope"}).status_code == 401
    assert _empty_push(world.client, world, {}).status_code == 401


def test_a_pull_with_changes_after_the_cursor_gets_them(world: World, app: Flask) -> None:
    cursor = _synced(world)
    assert world.push("admin@acme.test", world.a, [warehouse("W2")]).status_code == 200
    with flask_requests(app) as seen:
        answer = _pull(world.client, world, cursor, world.headers(EMAIL))
    assert len(seen) == 1
    assert [c["data"]["code"] for c in answer.get_json()["changes"]] == ["W2"]
    assert answer.get_json()["cursor"] != cursor


def test_a_signed_out_session_is_refused_at_once(world: World) -> None:
    cursor = _synced(world)
    pair = world.login(EMAIL)
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert _pull(world.client, world, cursor, headers).status_code == 200
    assert (
        world.client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code
        == 204
    )
    refused = _pull(world.client, world, cursor, headers)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "invalid_token"
    assert _empty_push(world.client, world, headers).get_json()["error"]["code"] == "invalid_token"
    assert _pull(world.client, world, cursor, world.headers(EMAIL)).status_code == 200  # other sessions go on
    assert _empty_push(world.client, world, world.headers(EMAIL)).status_code == 200


def test_a_password_change_ends_every_session_at_once(world: World) -> None:
    cursor = _synced(world)
    headers = world.headers(EMAIL)
    assert _pull(world.client, world, cursor, headers).status_code == 200
    changed = world.client.post(
        "/api/v1/auth/password",
        json={"current_password": "correct horse battery", "new_password": "a brand new secret"},
        headers=headers,
    )
    assert changed.status_code in (200, 204), changed.get_json()
    assert _pull(world.client, world, cursor, headers).status_code == 401
    assert _empty_push(world.client, world, headers).status_code == 401


def test_a_removed_member_is_refused_at_once_and_counted(world: World) -> None:
    admin_ops.grant(world.services.store, "hr@globex.test", world.a.id, "warehouse")
    email = "hr@globex.test"
    cursor = pull_all(world, email, world.a).cursor
    assert cursor is not None
    headers = world.headers(email)
    assert _pull(world.client, world, cursor, headers).status_code == 200
    assert _empty_push(world.client, world, headers).status_code == 200
    removed = world.client.delete(
        f"/api/v1/orgs/{world.a.id}/members/{world.b.users['hr']}", headers=world.headers("admin@acme.test")
    )
    assert removed.status_code == 204
    refused = _pull(world.client, world, cursor, headers)
    assert refused.status_code == 404
    assert _empty_push(world.client, world, headers).status_code == 404
    rows = _log(world, SYSTEM_ORG_ID)  # ordered by action
    assert [(r.action, r.user_id, r.reason, r.count) for r in rows] == [
        (action, world.b.users["hr"], "not_a_member", 1) for action in ("sync.pull_changes", "sync.push")
    ]


def test_an_organizations_sign_out_is_refused_at_once(world: World) -> None:
    cursor = _synced(world)
    headers = world.headers(EMAIL)
    assert _pull(world.client, world, cursor, headers).status_code == 200
    ended = world.client.delete(
        f"/api/v1/orgs/{world.a.id}/members/{world.a.users['warehouse']}/sessions",
        headers=world.headers("admin@acme.test"),
    )
    assert ended.status_code == 200, ended.get_json()
    refused = _pull(world.client, world, cursor, headers)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "signed_out"
    pushed = _empty_push(world.client, world, headers)
    assert pushed.status_code == 403 and pushed.get_json()["error"]["code"] == "signed_out"


def test_a_changed_role_asks_for_a_fresh_copy(world: World) -> None:
    cursor = _synced(world)
    headers = world.headers(EMAIL)
    assert _pull(world.client, world, cursor, headers).status_code == 200
    admin_ops.grant(world.services.store, EMAIL, world.a.id, "sales")
    refused = _pull(world.client, world, cursor, headers)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["details"]["reason"] == "access_changed"


def test_a_bad_token_or_cursor_is_refused_as_before(world: World) -> None:
    cursor = _synced(world)
    assert _pull(world.client, world, cursor, {"Authorization": "Bearer nope"}).status_code == 401
    assert _pull(world.client, world, cursor, {}).status_code == 401
    forged = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    bad = _pull(world.client, world, forged, world.headers(EMAIL))
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_cursor"
    other = world.client.get(
        f"/api/v1/orgs/{world.b.id}/sync/pull", query_string={"cursor": cursor}, headers=world.headers(EMAIL)
    )
    assert other.status_code == 404


def test_every_noop_pull_takes_one_request_from_the_limit(world: World, services: Services) -> None:
    cursor = _synced(world)
    # One request a minute refills: a loaded machine taking seconds over these eight requests
    # still sees exactly the burst pass (a refill of one a second let a sixth through once).
    config = replace(services.config, request_limits=RequestLimits(per_minute=1, burst=5))
    limited = create_app(config, Services.build(config, services.store))
    client = limited.test_client()
    headers = world.headers(EMAIL)
    with flask_requests(limited) as seen:
        answers = [
            _pull(client, world, cursor, headers) if n % 2 else _empty_push(client, world, headers)
            for n in range(8)
        ]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 3
    assert len(seen) == 3  # the refusals are the full path's, with its answer
    assert 1 <= int(answers[5].headers["Retry-After"]) <= 60  # until the next request fits
    [row] = _log(world, SYSTEM_ORG_ID)
    assert (row.user_id, row.reason, row.count) == (world.a.users["warehouse"], "rate_limited", 1)


def _incremental_pulls(world: World) -> float:
    text = world.client.get("/metrics").get_data(as_text=True)
    [line] = [
        line for line in text.splitlines() if line.startswith('ops_sync_pulls_total{kind="incremental"}')
    ]
    return float(line.split()[-1])


def test_noop_pulls_are_counted_in_the_metrics(world: World) -> None:
    cursor = _synced(world)
    before = _incremental_pulls(world)
    for _ in range(3):
        assert _pull(world.client, world, cursor, world.headers(EMAIL)).status_code == 200
    assert _incremental_pulls(world) == before + 3
    text = world.client.get("/metrics").get_data(as_text=True)
    rule = 'endpoint="/api/v1/orgs/<org_id>/sync/pull",method="GET",status="200"'
    assert any(line.startswith("ops_http_requests_total{") and rule in line for line in text.splitlines())


def test_a_fault_in_the_layer_is_answered_by_the_full_path(
    world: World, app: Flask, monkeypatch: Any
) -> None:
    cursor = _synced(world)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the store failed")

    monkeypatch.setattr(world.services.store, "raw_reads", broken)
    with flask_requests(app) as seen:
        answer = _pull(world.client, world, cursor, world.headers(EMAIL))
        pushed = _empty_push(world.client, world, world.headers(EMAIL))
    assert len(seen) == 2
    assert answer.status_code == 200
    assert answer.get_json()["cursor"] == cursor
    assert pushed.status_code == 200 and pushed.get_json() == {"results": []}  # its body put back


def _full_path(store: Any, claims: Any, org_id: str) -> Any:
    with store.session(org_id, user_id=claims.user_id) as session:
        principal = resolve(session, claims, org_id)
        return principal, principal.owner_ids(session)


def _one_statement(store: Any, claims: Any, org_id: str) -> Any:
    params = {"uid": claims.user_id, "sid": claims.session_id, "org_id": org_id, **COUNTER_PARAMETERS}
    with store.raw_reads(org_id, claims.user_id, one_statement=True) as reads:
        rows = read_caller(reads, _NOOP_PULL_READS, params)
    principal, owner, _ = resolve_rows(rows, claims, org_id)
    return principal, owner


_NOOP_PULL_READS = caller_statement(*COUNTER_COLUMNS)


def _decision(call: Any, *args: Any) -> Any:
    """What ``call`` decides: the caller's roles, permissions and owner ids, or the refusal."""
    try:
        principal, owner = call(*args)
    except ApiError as exc:
        return ("refused", exc.status, exc.code)
    except NeedsSession:
        return ("needs a session",)
    return (principal.roles, principal.permissions, owner)


def test_the_one_statement_reads_decide_as_resolve_does(world: World) -> None:
    """The no-op layer's one statement (principal.caller_statement) and its checks
    (resolve_rows) against resolve and owner_ids, for every role in both organizations, an
    employee record linked and unlinked, a member added, a session signed out."""
    store = world.services.store
    employee_id = new_id()
    sales = world.a.users["sales"]
    linked = world.push(
        "hr@acme.test", world.a, [mutation("hr.create_employee", id=employee_id, name="Sam", user_id=sales)]
    )
    assert linked.get_json()["results"][0]["status"] == "applied"
    world.push("hr@acme.test", world.a, [mutation("hr.create_employee", id=new_id(), name="Nobody")])
    admin_ops.grant(store, "hr@globex.test", world.a.id, "warehouse")
    pair = world.login("admin@globex.test")
    signed_out = world.services.tokens.verify_access(pair["access_token"])
    logout = world.client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})
    assert logout.status_code == 204
    cases = [
        (world.services.tokens.verify_access(world.token(org.email(role))), target.id)
        for org in (world.a, world.b)
        for role in org.users
        for target in (world.a, world.b)
    ] + [(signed_out, world.b.id), (signed_out, world.a.id)]
    seen = set()
    for claims, org_id in cases:
        decided = _decision(_full_path, store, claims, org_id)
        assert _decision(_one_statement, store, claims, org_id) == decided, (claims.user_id, org_id)
        seen.add(decided[0] if decided[0] == "refused" else "answered")
        if claims.user_id == sales and org_id == world.a.id:
            assert decided[2].employee_ids == frozenset({employee_id})
    assert seen == {"refused", "answered"}

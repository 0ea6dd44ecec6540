"""The no-op sync, answered before Flask: an empty push and a pull with nothing after its cursor.

A synced workstation's every sync cycle sends ``POST /api/v1/orgs/{org_id}/sync/push`` with no
commands and ends with ``GET /api/v1/orgs/{org_id}/sync/pull?cursor=C``; a quiet organization's
cycles are nothing else. Through Flask each cost ~400 µs of server CPU, of which the work itself
(three indexed one-row reads) was a small part: the request context, URL matching over every
rule, the response object and hooks, SQLAlchemy's connection and transaction objects. This WSGI
layer answers them with the same checks, on the same functions:

1. the bearer token, verified (``TokenService.verify_access``);
2. the per-user request limit, taken once (``RequestLimiter.take``; the answer is handed to the
   full path when the request goes on there, which then does not take a second token);
3. the organization id in the path (a UUID);
4. the pull: its query (``PullQuery``), the schema version and the signed cursor
   (``decode_cursor``); the push: its body, read as the full path reads it (``Content-Type:
   application/json``, a declared length within the limit, a JSON object, ``PushRequest``) with
   no commands in it, and its schema version;
5. in one statement (``Store.raw_reads(one_statement=True)``: on SQLite a connection kept
   aside for such reads, the statement its own read transaction; on PostgreSQL a pooled
   connection in a transaction under the request's ``SET LOCAL`` role, organization and user):
   the caller's account, session and membership (``principal.caller_statement``: the columns,
   joins and filters of the statement every request reads, checked by the same code,
   ``principal.resolve_rows``); for the pull, their employee records and so their access
   fingerprint, and the organization's change sequence, pruning floor and store epoch
   (``pull.COUNTER_COLUMNS``, ``pull.check_store_position``). One statement, one snapshot: the
   driver releases the interpreter lock around every step, column read, reset and commit (a
   no-op pull released it 34 times in three statements and a transaction, now 16), and under
   50 clients every release lets another thread in before this one goes on.

It answers only when every check passes (and, for the pull, the organization's last change is
the cursor's) with the bytes the full path sends — ``{"changes": [], "cursor": C, "has_more":
false, "schema_version": …}`` (``pull.encode_page``), ``{"results":[]}`` — and the same headers
(the security headers are added around it, as for every answer). The full path checks the
caller before it reads the input; here the input is read first, which changes no answer: any
request that fails a check — no or a bad token, a refusal of any kind, custom roles (read through
an ORM session), a snapshot cursor, a cursor with changes after it, a push with commands, bad
input, an error — is handed unchanged to the Flask app (a push with the body this layer read
put back), which answers (and audits and counts refusals) exactly as before; so is a request
this layer failed on (the store raised): Flask renders a fault as every other. Nothing is cached
here that the full path would look up: every request reads the caller's account, session and
membership from the store, so a revoked session or a removed member is refused at once, in
every worker process. What is remembered is pure: a pull's query string (with the organization)
→ its decoded cursor and the no-op answer's body (as ``decode_cursor`` and the token memo are).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from pydantic import ValidationError

from common.ids import is_uuid
from common.schema import SCHEMA_VERSION
from common.wire import PushRequest, PushResponse
from sync_server.api import LIMIT_TAKEN, Endpoint, query_values
from sync_server.auth.principal import NeedsSession, caller_statement, read_caller, resolve_rows
from sync_server.auth.tokens import AccessClaims, InvalidToken
from sync_server.errors import ApiError
from sync_server.metrics import EXTENSION, RULE_KEY, ServerMetrics
from sync_server.pull import (
    COUNTER_COLUMNS,
    COUNTER_PARAMETERS,
    PullPage,
    PullQuery,
    check_store_position,
    counters_of,
    encode_page,
)
from sync_server.pull_cursor import InvalidCursor, PullCursor, decode_cursor
from sync_server.services import Services
from sync_server.writes import CHANGE_SEQUENCE

PULL_RULE = "/api/v1/orgs/<org_id>/sync/pull"
PUSH_RULE = "/api/v1/orgs/<org_id>/sync/push"
_SYNC_PATH = re.compile(r"/api/v1/orgs/([^/]+)/sync/(pull|push)")
# An empty push is ~80 bytes; a longer body holds commands (or is not a no-op), and goes on.
_MAX_EMPTY_PUSH = 1024
_MEMO_SIZE = 10_000
# Only a query string as long as a desktop's is remembered (its cursor is ~200 characters): the
# same query spelled longer (padded numbers, escaped names) is answered, but parsed each time, so
# a member cannot fill the memo with long spellings of one cursor (10,000 × 512 ≈ 5 MB at most).
_MEMO_QUERY_CHARS = 512
_HEADERS = ("Content-Type", "application/json")
# What a no-op pull reads, in one statement (one snapshot): the caller's account, session and
# membership and their employee records (principal.resolve, Principal.owner_ids), and the
# organization's change sequence, pruning floor and store epoch (pull.counters).
_PULL_READS = caller_statement(*COUNTER_COLUMNS)
_PUSH_READS = caller_statement()  # the caller's checks alone

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _HandOn(Exception):
    """Not a no-op this layer may answer: the Flask app answers it."""


def _spec(rule: str, method: str) -> Endpoint:
    from sync_server.api import ENDPOINTS

    (spec,) = [e for e in ENDPOINTS if e.rule == rule and e.method == method]
    # What this layer checks is what the endpoint declares: any caller who is a member, no
    # permission of its own (what they may read is in the reader; what they may do is checked
    # per command), no lock.
    if spec.auth != "org" or spec.permission is not None or spec.write or spec.lock_org:
        raise RuntimeError(f"{rule} changed its checks: update sync_server.noop_sync")
    return spec


def install(app: Any) -> None:
    """Answer no-op pulls and empty pushes of ``app`` (a Flask app made by ``create_app``)
    before its Flask layer."""
    from sync_server.blueprints.sync import _cursor_key, _reader, check_schema_version

    _spec(PULL_RULE, "GET")
    if _spec(PUSH_RULE, "POST").body is not PushRequest:
        raise RuntimeError(f"{PUSH_RULE} changed its body: update sync_server.noop_sync")
    svc: Services = app.extensions["ops"]
    inner: WsgiApp = app.wsgi_app
    extensions: dict[str, Any] = app.extensions
    max_body = min(_MAX_EMPTY_PUSH, svc.config.max_content_length)
    # The full path's answer to an empty push, made as it makes it (api.json_response).
    empty_push = orjson.dumps(PushResponse(results=[]).model_dump(mode="json", exclude_none=True))

    def caller(environ: dict[str, Any], org_id: str) -> AccessClaims:
        """The bearer token's claims, the request limit taken (steps 1–3), or :class:`_HandOn`."""
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _HandOn
        try:
            claims = svc.tokens.verify_access(token)
        except InvalidToken:
            raise _HandOn from None
        refusal = svc.limiter.take(claims.user_id)
        environ[LIMIT_TAKEN] = (claims.user_id, refusal)
        if refusal is not None or not is_uuid(org_id):
            raise _HandOn
        return claims

    cursor_key = _cursor_key(svc.config)
    # A no-op pull's query string (with its organization) → its cursor and the answer's body: a
    # pure function of them, which an up-to-date copy asks again at every sync. Only what passed
    # is kept; bounded as the token memo is.
    pull_queries: dict[tuple[str, str], tuple[PullCursor, bytes]] = {}

    def pull_query(environ: dict[str, Any], org_id: str) -> tuple[PullCursor, bytes]:
        """The pull's cursor (its query validated, its cursor decoded: step 4) and the body of
        the no-op answer to it, or :class:`_HandOn`."""
        key = (environ.get("QUERY_STRING", ""), org_id)
        found = pull_queries.get(key)
        if found is not None:
            return found
        try:
            query = PullQuery.model_validate(query_values(key[0].encode("latin-1")))
            if query.cursor is None:
                raise _HandOn
            if query.schema_version is not None:
                check_schema_version(query.schema_version)
            cursor = decode_cursor(query.cursor, cursor_key, org_id)
        except (ApiError, ValidationError, InvalidCursor, UnicodeError):
            raise _HandOn from None
        if cursor.in_snapshot or cursor.schema_version != SCHEMA_VERSION:
            raise _HandOn
        found = (cursor, encode_page(PullPage([], cursor, False), query.cursor, query.format))
        if len(key[0]) <= _MEMO_QUERY_CHARS:
            if len(pull_queries) >= _MEMO_SIZE:
                pull_queries.clear()
            pull_queries[key] = found
        return found

    def pull_answer(environ: dict[str, Any], org_id: str) -> bytes:
        """The no-op pull's body, or :class:`_HandOn`."""
        claims = caller(environ, org_id)
        cursor, body = pull_query(environ, org_id)
        params = {"uid": claims.user_id, "sid": claims.session_id, "org_id": org_id, **COUNTER_PARAMETERS}
        try:
            with svc.store.raw_reads(org_id, claims.user_id, one_statement=True) as reads:
                rows = read_caller(reads, _PULL_READS, params)
            principal, owner, counted = resolve_rows(rows, claims, org_id)
            if cursor.fingerprint != _reader(principal.permissions, owner).fingerprint:
                raise _HandOn
            now = counters_of(counted)
            check_store_position(cursor, now)
            if now[CHANGE_SEQUENCE] != cursor.seq:
                raise _HandOn
        except (ApiError, NeedsSession):
            raise _HandOn from None
        metrics = extensions.get(EXTENSION)
        if isinstance(metrics, ServerMetrics):
            metrics.count_pull("incremental", 0)
        return body

    def push_answer(environ: dict[str, Any], org_id: str) -> bytes:
        """The empty push's body, or :class:`_HandOn` (the body read is put back for Flask)."""
        claims = caller(environ, org_id)
        media_type = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
        length = environ.get("CONTENT_LENGTH", "")
        if (
            media_type != "application/json"
            or not length.isdigit()
            or not 0 < int(length) <= max_body
            or "HTTP_TRANSFER_ENCODING" in environ
        ):
            raise _HandOn
        stream = environ["wsgi.input"]
        raw = stream.read(int(length))
        environ["wsgi.input"] = io.BytesIO(raw)  # for the full path, whatever happens next
        try:
            data = orjson.loads(raw)
            if not isinstance(data, dict) or data.get("mutations") != []:
                raise _HandOn  # commands (validated once, by the full path), or not an object
            body = PushRequest.model_validate(data)
            check_schema_version(body.schema_version)
        except (ApiError, ValidationError, orjson.JSONDecodeError):
            raise _HandOn from None
        try:
            with svc.store.raw_reads(org_id, claims.user_id, one_statement=True) as reads:
                rows = read_caller(
                    reads, _PUSH_READS, {"uid": claims.user_id, "sid": claims.session_id, "org_id": org_id}
                )
            resolve_rows(rows, claims, org_id)
        except (ApiError, NeedsSession):
            raise _HandOn from None
        return empty_push

    def noop_sync(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        found = _SYNC_PATH.fullmatch(environ.get("PATH_INFO", ""))
        if found is None:
            return inner(environ, start_response)
        org_id, kind = found.groups()
        method = environ.get("REQUEST_METHOD")
        try:
            if kind == "pull" and method == "GET":
                body, rule = pull_answer(environ, org_id), PULL_RULE
            elif kind == "push" and method == "POST":
                body, rule = push_answer(environ, org_id), PUSH_RULE
            else:
                raise _HandOn
        except Exception:
            # _HandOn, or a fault (a store error): Flask answers, and renders and logs a fault
            # that happens again there as every other (a JSON 500 with its incident number).
            return inner(environ, start_response)
        environ[RULE_KEY] = rule
        start_response("200 OK", [_HEADERS, ("Content-Length", str(len(body)))])
        return [body]

    app.wsgi_app = noop_sync

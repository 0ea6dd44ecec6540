"""The no-op pull, answered before Flask: ``GET /api/v1/orgs/{org_id}/sync/pull?cursor=C`` when
nothing changed after C.

That is the request a synced workstation sends most (every sync cycle ends with it, and a quiet
organization's cycles are nothing else). Through Flask it cost ~450 µs of server CPU, of which the
pull itself (three indexed one-row reads) was a small part: the request context, URL matching
over every rule, the response object and hooks, SQLAlchemy's connection and transaction objects.
This WSGI layer answers it with the same checks, in the same order, on the same functions:

1. the bearer token, verified (``TokenService.verify_access``);
2. the per-user request limit, taken once (``RequestLimiter.take``; the answer is handed to the
   full path when the request goes on there, which then does not take a second token);
3. the query (``PullQuery``), the schema version and the signed cursor (``decode_cursor``);
4. in one read transaction (``Store.raw_reads``: a pooled DB-API connection, on PostgreSQL under
   the request's ``SET LOCAL`` role, organization and user): the caller's account, session and
   membership (``principal.resolve``, the same statement as every request), their owner ids and
   so their access fingerprint, then the organization's change sequence, pruning floor and
   store epoch (``pull.counters``, ``pull.check_store_position``).

It answers only when every check passes and the organization's last change is the cursor's:
``{"changes": [], "cursor": C, "has_more": false, "schema_version": …}``, the bytes the full path
sends (``pull.encode_page``), with the same headers (the security headers are added around it, as
for every answer). Anything else — no or a bad token, a refusal of any kind, custom roles (read
through an ORM session), a snapshot cursor, a cursor with changes after it, an error — is handed
unchanged to the Flask app, which answers (and audits and counts refusals) exactly as before;
so is a request this layer failed on (the store raised): Flask renders a fault as every other.
Nothing is cached here that the full path would look up: every request reads the caller's
account, session and membership from the store, so a revoked session or a removed member is
refused at once, in every worker process.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from common.ids import is_uuid
from common.schema import SCHEMA_VERSION
from sync_server.api import LIMIT_TAKEN, query_values
from sync_server.auth.principal import NeedsSession, resolve
from sync_server.auth.tokens import InvalidToken
from sync_server.errors import ApiError
from sync_server.metrics import EXTENSION, RULE_KEY, ServerMetrics
from sync_server.pull import PullPage, PullQuery, check_store_position, counters, encode_page
from sync_server.pull_cursor import InvalidCursor, decode_cursor
from sync_server.services import Services
from sync_server.writes import CHANGE_SEQUENCE

PULL_RULE = "/api/v1/orgs/<org_id>/sync/pull"
_PULL_PATH = re.compile(r"/api/v1/orgs/([^/]+)/sync/pull")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _HandOn(Exception):
    """Not a no-op pull this layer may answer: the Flask app answers it."""


def install(app: Any) -> None:
    """Answer no-op pulls of ``app`` (a Flask app made by ``create_app``) before its Flask layer."""
    from sync_server.api import ENDPOINTS
    from sync_server.blueprints.sync import _cursor_key, _reader, check_schema_version

    (spec,) = [e for e in ENDPOINTS if e.rule == PULL_RULE and e.method == "GET"]
    # What this layer checks is what the endpoint declares: any caller who is a member, no
    # permission of its own (what they may read is in the reader), no lock.
    if spec.auth != "org" or spec.permission is not None or spec.write or spec.lock_org:
        raise RuntimeError(f"{PULL_RULE} changed its checks: update sync_server.noop_pull")
    svc: Services = app.extensions["ops"]
    inner: WsgiApp = app.wsgi_app
    extensions: dict[str, Any] = app.extensions

    def answer(environ: dict[str, Any]) -> bytes:
        """The no-op answer's body, or :class:`_HandOn`."""
        found = _PULL_PATH.fullmatch(environ.get("PATH_INFO", ""))
        if found is None or environ.get("REQUEST_METHOD") != "GET":
            raise _HandOn
        org_id = found.group(1)
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or not is_uuid(org_id):
            raise _HandOn
        try:
            claims = svc.tokens.verify_access(token)
        except InvalidToken:
            raise _HandOn from None
        refusal = svc.limiter.take(claims.user_id)
        environ[LIMIT_TAKEN] = (claims.user_id, refusal)
        if refusal is not None:
            raise _HandOn
        try:
            query = PullQuery.model_validate(query_values(environ.get("QUERY_STRING", "").encode("latin-1")))
            if query.cursor is None:
                raise _HandOn
            if query.schema_version is not None:
                check_schema_version(query.schema_version)
            cursor = decode_cursor(query.cursor, _cursor_key(svc.config), org_id)
        except (ApiError, ValidationError, InvalidCursor, UnicodeError):
            raise _HandOn from None
        if cursor.in_snapshot or cursor.schema_version != SCHEMA_VERSION:
            raise _HandOn
        try:
            with svc.store.raw_reads(org_id, claims.user_id) as reads:
                principal = resolve(reads, claims, org_id)
                reader = _reader(principal.permissions, principal.owner_ids(reads))
                if cursor.fingerprint != reader.fingerprint:
                    raise _HandOn
                now = counters(reads, org_id)
                check_store_position(cursor, now)
                if now[CHANGE_SEQUENCE] != cursor.seq:
                    raise _HandOn
        except (ApiError, NeedsSession):
            raise _HandOn from None
        metrics = extensions.get(EXTENSION)
        if isinstance(metrics, ServerMetrics):
            metrics.count_pull("incremental", 0)
        return encode_page(PullPage([], cursor, False), query.cursor, query.format)

    def noop_pull(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            body = answer(environ)
        except Exception:
            # _HandOn, or a fault (a store error): Flask answers, and renders and logs a fault
            # that happens again there as every other (a JSON 500 with its incident number).
            return inner(environ, start_response)
        environ[RULE_KEY] = PULL_RULE
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    app.wsgi_app = noop_pull

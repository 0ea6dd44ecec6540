"""The endpoint registry: one declaration per endpoint drives routing, validation, auth and docs.

``@endpoint(bp, "POST", "/path", body=Model, query=Model, response=Model, auth=..., permission=...)``
registers the view on the blueprint and records an :class:`Endpoint`. The wrapper parses the body
and query string with those pydantic models (400 naming the field on bad input), authenticates
the caller, opens the database session scoped to the organization in the URL, checks the
permission, calls the handler with an :class:`ApiContext` and encodes the answer with orjson.
:mod:`sync_server.openapi` builds ``/api/v1/openapi.json`` from the same records, so the spec
cannot drift from the validators.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Literal
from urllib.parse import parse_qsl

import orjson
from flask import Blueprint, Response, current_app, g, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from common.ids import is_uuid
from sync_server.audit import PendingEvent, lock_chain_head
from sync_server.auth.principal import Principal, resolve
from sync_server.auth.tokens import AccessClaims, InvalidToken
from sync_server.errors import (
    ApiError,
    bad_request,
    forbidden,
    from_validation,
    rate_limited,
    unauthenticated,
)
from sync_server.security_log import ORG_REASONS, record_refusal
from sync_server.services import Services

Auth = Literal["none", "user", "org"]
# WSGI environ key: ``(user_id, refusal or None)`` of the request limit already taken for this
# request by the no-op pull path before it handed the request on.
LIMIT_TAKEN = "ops.request_limit_taken"
ENDPOINTS: list[Endpoint] = []
_PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


@dataclass(frozen=True)
class HeaderParam:
    """An optional request header of an endpoint: its name, meaning and the values it takes."""

    name: str
    description: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Endpoint:
    method: str
    rule: str  # Flask rule, e.g. /api/v1/orgs/<org_id>/audit
    name: str
    summary: str
    tag: str
    auth: Auth
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    permission: str | None = None
    write: bool = False
    errors: tuple[int, ...] = ()
    own_sessions: bool = False
    lock_org: bool = False
    # Other answers the caller may ask for instead of ``response`` (an optional format).
    response_alternatives: tuple[type[BaseModel], ...] = ()
    # A file answer (``application/pdf``, ``application/zip``) instead of JSON: its media type,
    # for the OpenAPI document.
    media_type: str | None = None
    # Optional request headers the handler reads (it checks them itself), for the OpenAPI document.
    headers: tuple[HeaderParam, ...] = ()

    @property
    def path(self) -> str:
        """The OpenAPI path: ``/api/v1/orgs/{org_id}/audit``."""
        return _PATH_PARAM.sub(r"{\1}", self.rule)

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.rule)


@dataclass
class ApiContext:
    """What a handler gets: parsed input, the caller, the request's database session."""

    services: Services
    body: Any = None
    query: Any = None
    principal: Principal | None = None
    claims: AccessClaims | None = None
    session: Session | None = None
    # A read request's transaction: its session is made from it on first use of ``db``.
    connection: Connection | None = None
    scope: tuple[str | None, str | None] = (None, None)  # (org_id, user_id) of that transaction
    address: str = ""
    extra_events: list[PendingEvent] = field(default_factory=list)
    # Run once the request's transaction has committed (sending mail about what it wrote).
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    @property
    def user(self) -> Principal:
        assert self.principal is not None
        return self.principal

    @property
    def db(self) -> Session:
        if self.session is None and self.connection is not None:
            self.session = self.services.store.session_on(self.connection, *self.scope)
        assert self.session is not None
        return self.session

    @property
    def reads(self) -> Session | Connection:
        """What compiled statements run on: the request's connection, else its session."""
        return self.connection if self.connection is not None else self.db


def services() -> Services:
    found = current_app.extensions["ops"]
    assert isinstance(found, Services)
    return found


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json", exclude_none=True)
    return Response(orjson.dumps(data), status=status, mimetype="application/json", headers=headers)


def parse_json_body(model: type[BaseModel]) -> Any:
    if request.mimetype != "application/json":
        # Only JSON is read: a form or text body (a browser's cross-site form post among them)
        # is refused before anything else looks at it.
        raise ApiError(
            415,
            "unsupported_media_type",
            "send the request body as JSON with Content-Type: application/json",
            {"content_type": request.mimetype[:100]},
        )
    raw = request.get_data(cache=False)
    limit = request.max_content_length
    if limit is not None and request.content_length is None and len(raw) >= limit:
        # A streamed (chunked) body is cut off at the limit without a word from werkzeug: the
        # client must hear that it was too large, not that its (truncated) JSON is invalid.
        raise RequestEntityTooLarge()
    if not raw:
        raise bad_request("the request body must be a JSON object", code="invalid_json")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"the request body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(data, dict):
        raise bad_request("the request body must be a JSON object", code="invalid_json")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc) from None


def query_values(query_string: bytes) -> dict[str, str]:
    """The query string's values by name, parsed as werkzeug parses ``request.args`` without
    building its MultiDict (every GET); 400 for a name given twice."""
    data: dict[str, str] = {}
    pairs = parse_qsl(query_string.decode(), keep_blank_values=True, errors="werkzeug.url_quote")
    for key, value in pairs:
        if key in data:
            raise bad_request(f"{key}: may be given only once", field=key)
        data[key] = value
    return data


def parse_query(model: type[BaseModel]) -> Any:
    data = query_values(request.query_string)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc) from None


def bearer_claims(svc: Services) -> AccessClaims:
    header = request.environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("send an access token: Authorization: Bearer <token>")
    try:
        return svc.tokens.verify_access(token.strip())
    except InvalidToken:
        raise unauthenticated("the access token is not valid or has expired", code="invalid_token") from None


def record_denied(
    svc: Services, spec: Endpoint, claims: AccessClaims, org_id: str | None, reason: str
) -> None:
    """Count a refused request in the security log (its own transaction: the request's own was
    rolled back); the first of its kind is audited there too."""
    record_refusal(
        svc.store,
        org_id=org_id,
        user_id=claims.user_id,
        device_id=claims.device_id,
        action=spec.name,
        reason=reason,
        target=f"{request.method} {request.path}",
    )


def check_request_limit(svc: Services, spec: Endpoint, claims: AccessClaims) -> None:
    """429 with Retry-After when the caller is over the per-user request limit (in memory).

    Taken once per request: when the no-op pull path (:mod:`sync_server.noop_sync`) took it
    already and handed the request on, its answer is used (not a second token)."""
    taken = request.environ.pop(LIMIT_TAKEN, None)
    if taken is not None and taken[0] == claims.user_id:
        refusal = taken[1]
    else:
        refusal = svc.limiter.take(claims.user_id)
    if refusal is None:
        return
    if refusal.first:  # one security-log write per episode, never one per refused request
        record_denied(svc, spec, claims, None, "rate_limited")
    raise rate_limited(refusal.retry_after, f"too many requests; try again in {refusal.retry_after} seconds")


@contextmanager
def _request_session(svc: Services, spec: Endpoint, ctx: ApiContext, org_id: str | None) -> Iterator[None]:
    assert ctx.claims is not None
    if not spec.write and not spec.lock_org:
        with _read_transaction(svc, spec, ctx, org_id):
            yield
        return
    with svc.store.session(org_id, user_id=ctx.claims.user_id, write=spec.write) as session:
        ctx.session = session
        ctx.principal = resolve(session, ctx.claims, org_id)
        if spec.lock_org and org_id is not None:
            # Administrative changes of one organization run one at a time (its audit chain head
            # is the lock), and the caller's rights are read again once it is held: two
            # concurrent requests can never both pass a check (the last administrator) that only
            # one of them may pass. Members only: the caller's membership was checked first.
            lock_chain_head(session, org_id)
            ctx.principal = resolve(session, ctx.claims, org_id)
        if spec.permission is not None and spec.permission not in ctx.principal.permissions:
            raise forbidden(spec.permission)
        yield


@contextmanager
def _read_transaction(svc: Services, spec: Endpoint, ctx: ApiContext, org_id: str | None) -> Iterator[None]:
    """The request's read transaction on a Core connection: the caller is checked with compiled
    statements, and the ORM session is made only for a handler that asks for ``ctx.db``."""
    assert ctx.claims is not None
    with svc.store.read_connection(org_id, user_id=ctx.claims.user_id) as connection:
        ctx.connection, ctx.scope = connection, (org_id, ctx.claims.user_id)
        try:
            ctx.principal = resolve(connection, ctx.claims, org_id, lambda: ctx.db)
            if spec.permission is not None and spec.permission not in ctx.principal.permissions:
                raise forbidden(spec.permission)
            yield
            if ctx.session is not None:
                ctx.session.commit()  # flushes; the connection's transaction commits below
        finally:
            if ctx.session is not None:
                ctx.session.close()
            ctx.session = ctx.connection = None


def _parse_input(ctx: ApiContext, query: type[BaseModel] | None, body: type[BaseModel] | None) -> None:
    if query is not None:
        ctx.query = parse_query(query)
    if body is not None:
        ctx.body = parse_json_body(body)


def endpoint(
    bp: Blueprint,
    method: str,
    rule: str,
    *,
    summary: str,
    auth: Auth = "org",
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    response_alternatives: tuple[type[BaseModel], ...] = (),
    status: int = 200,
    permission: str | None = None,
    write: bool = False,
    errors: tuple[int, ...] = (),
    own_sessions: bool = False,
    lock_org: bool = False,
    media_type: str | None = None,
    headers: tuple[HeaderParam, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated handler ``fn(ctx, **path_params)`` as an endpoint of ``bp``.

    ``own_sessions``: the handler opens its own sessions (it must commit between steps), so the
    request's session is closed once the caller is checked; holding it meanwhile would take two
    pooled connections per request, and a burst of such requests could exhaust the pool.
    ``lock_org``: take the organization's administrative lock before the caller is checked
    (changes to members, roles and invitations).
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        full_rule = (bp.url_prefix or "") + rule
        spec = Endpoint(
            method=method,
            rule=full_rule,
            name=f"{bp.name}.{fn.__name__}",
            summary=summary,
            tag=bp.name,
            auth=auth,
            body=body,
            query=query,
            response=response,
            response_alternatives=response_alternatives,
            status=status,
            permission=permission,
            write=write,
            errors=errors,
            own_sessions=own_sessions,
            lock_org=lock_org,
            media_type=media_type,
            headers=headers,
        )
        ENDPOINTS.append(spec)

        @wraps(fn)
        def view(**params: str) -> Response:
            svc = services()
            ctx = ApiContext(services=svc, address=request.remote_addr or "unknown")
            org_id = params.get("org_id")
            g.api_context = ctx
            if auth == "none":
                _parse_input(ctx, query, body)
                result = fn(ctx, **params)
            else:
                ctx.claims = bearer_claims(svc)
                check_request_limit(svc, spec, ctx.claims)
                if org_id is not None and not is_uuid(org_id):
                    raise ApiError(404, "not_found", "no such organization")
                try:
                    # Membership and permission first: a non-member learns nothing, not even
                    # what the endpoint would have found wrong with the input.
                    with _request_session(svc, spec, ctx, org_id):
                        _parse_input(ctx, query, body)
                        if not own_sessions:
                            result = fn(ctx, **params)
                    if own_sessions:
                        ctx.session = None
                        result = fn(ctx, **params)
                    for step in ctx.after_commit:
                        step()
                except ApiError as exc:
                    if org_id is not None and ctx.claims is not None:
                        if exc.status == 403 and exc.code in ORG_REASONS:
                            record_denied(svc, spec, ctx.claims, org_id, exc.code)
                        elif exc.status == 404 and ctx.principal is None:
                            record_denied(svc, spec, ctx.claims, org_id, "not_a_member")
                    raise
            if result is None:
                return Response(status=204)
            if isinstance(result, Response):
                return result
            return json_response(result, status)

        bp.add_url_rule(rule, fn.__name__, view, methods=[method])
        return fn

    return register


def registered_endpoints(app: Any) -> list[Endpoint]:
    """The endpoints of the blueprints registered on ``app``, in declaration order."""
    return [spec for spec in ENDPOINTS if spec.tag in app.blueprints]

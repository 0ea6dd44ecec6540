"""Privacy rights over HTTP (DESIGN §5): a data subject's copy of their data as a ZIP.

``GET /api/v1/orgs/<org_id>/privacy/requests/<id>/export`` (``privacy.manage``): the ZIP about
the subject of one of the organization's requests (another organization's request is 404).
``GET /api/v1/me/data-export``: the signed-in user's own data in every organization they belong
to. Both are audited (``privacy.export``) in each organization whose data left the server.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Annotated, Any, Literal

from flask import Blueprint, Response
from pydantic import Field, StringConstraints
from sqlalchemy import select

from common.commands.privacy import RequestKind, is_overdue
from common.ids import new_id
from common.retention import DEFAULTS, schedule_of
from common.schema import AppUser, DataSubjectRequest, Membership, Notification, RetentionRule
from common.schema.types import utcnow
from common.wire import WireModel, to_wire
from sync_server import policy
from sync_server.api import ApiContext, endpoint
from sync_server.api_models import Password
from sync_server.audit import PendingEvent, append_events
from sync_server.auth.principal import memberships
from sync_server.errors import ApiError, bad_request, not_found
from sync_server.notifications import opt_out, user_of_token
from sync_server.privacy_export import (
    DATA_EXPORT_NOTE,
    account_of,
    audit_events_about,
    build_zip,
    org_name,
    subject_records,
    user_records,
)
from sync_server.user_erasure import LastAdmin, erase_user, random_password
from sync_server.writes import apply_system_command

bp = Blueprint("privacy", __name__, url_prefix="/api/v1")
ZIP = "application/zip"


def _zip_response(payload: bytes, filename: str) -> Response:
    return Response(
        payload,
        mimetype=ZIP,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@endpoint(
    bp,
    "GET",
    "/orgs/<org_id>/privacy/requests/<request_id>/export",
    summary="The ZIP of a data subject's data (data.json, one CSV per entity, README.txt)",
    auth="org",
    permission="privacy.manage",
    write=True,
    errors=(401, 403, 404),
    media_type=ZIP,
)
def export_request(ctx: ApiContext, org_id: str, request_id: str) -> Response:
    request = ctx.db.execute(
        select(DataSubjectRequest.subject_type, DataSubjectRequest.subject_id).where(
            DataSubjectRequest.org_id == org_id,
            DataSubjectRequest.id == request_id,
            DataSubjectRequest.deleted.is_(False),
        )
    ).first()
    if request is None:
        raise not_found("data subject request")
    records = subject_records(ctx.db, org_id, request.subject_type, request.subject_id)
    data: dict[str, Any] = {
        "subject": {"type": request.subject_type, "id": request.subject_id},
        "note": DATA_EXPORT_NOTE,
        "organizations": [
            {
                "org_id": org_id,
                "org_name": org_name(ctx.db, org_id),
                "records": records,
                "audit_events": audit_events_about(ctx.db, org_id, records),
            }
        ],
    }
    append_events(
        ctx.db,
        org_id,
        [
            PendingEvent(
                action="privacy.export",
                actor=ctx.user.user_id,
                entity="data_subject_request",
                entity_id=request_id,
                after={"subject_type": request.subject_type, "subject_id": request.subject_id},
            )
        ],
    )
    return _zip_response(
        build_zip(data, f"{request.subject_type} {request.subject_id}"), f"data-{request_id}.zip"
    )


@endpoint(
    bp,
    "GET",
    "/me/data-export",
    summary="A ZIP of your own data in every organization you belong to",
    auth="user",
    errors=(401,),
    own_sessions=True,
    media_type=ZIP,
)
def export_my_data(ctx: ApiContext) -> Response:
    user_id = ctx.user.user_id
    store = ctx.services.store
    with store.session(user_id=user_id) as db:
        account, sign_ins = account_of(db, user_id)
        orgs = memberships(db, user_id, store.rescope)
    organizations = []
    for membership in orgs:
        org_id = membership["org_id"]
        with store.session(org_id, user_id=user_id, write=True) as db:
            records = user_records(db, org_id, user_id)
            organizations.append(
                {
                    "org_id": org_id,
                    "org_name": membership["org_name"],
                    "roles": membership["roles"],
                    "records": records,
                    "audit_events": audit_events_about(db, org_id, records, actor=user_id),
                }
            )
            append_events(
                db,
                org_id,
                [
                    PendingEvent(
                        action="privacy.export", actor=user_id, entity="app_user", entity_id=user_id, after={}
                    )
                ],
            )
    data = {
        "subject": {"type": "user", "id": user_id},
        "note": DATA_EXPORT_NOTE,
        "account": account,
        "sign_in_history": sign_ins,
        "organizations": organizations,
    }
    return _zip_response(build_zip(data, str(account["email"])), "my-data.zip")


class ErasureRequest(WireModel):
    current_password: Password


class ErasureResponse(WireModel):
    erased: bool
    memberships_ended: list[str]


@endpoint(
    bp,
    "POST",
    "/me/erasure",
    summary="Erase your own account: deactivated, anonymized, every membership ended",
    auth="user",
    body=ErasureRequest,
    response=ErasureResponse,
    errors=(400, 401, 403, 409),
    own_sessions=True,
)
def erase_my_account(ctx: ApiContext) -> dict[str, Any]:
    body: ErasureRequest = ctx.body
    user_id = ctx.user.user_id
    store = ctx.services.store
    with store.session(user_id=user_id) as db:
        stored = db.execute(select(AppUser.password_hash).where(AppUser.id == user_id)).scalar()
    if not ctx.services.passwords.verify(stored, body.current_password):
        raise ApiError(
            403,
            "wrong_password",
            "current_password: is not your current password",
            {"field": "current_password"},
        )
    try:
        ended = erase_user(
            store, user_id, actor=user_id, password_hash=ctx.services.passwords.hash(random_password())
        )
    except LastAdmin:
        raise ApiError(
            409,
            "last_admin",
            "you are the last member who manages users of an organization: make someone else an "
            "administrator first",
        ) from None
    return {"erased": True, "memberships_ended": ended}


class NotificationItem(WireModel):
    id: str
    kind: str
    title: str
    body: str | None
    entity: str | None
    entity_id: str | None
    read_at: str | None
    sent_at: str


class NotificationsResponse(WireModel):
    notifications: list[NotificationItem]


@endpoint(
    bp,
    "GET",
    "/orgs/<org_id>/notifications",
    summary="Your notifications in this organization, newest first",
    auth="org",
    response=NotificationsResponse,
    errors=(401, 403, 404),
)
def list_notifications(ctx: ApiContext, org_id: str) -> dict[str, Any]:
    rows = ctx.db.execute(
        select(Notification.__table__)
        .where(
            Notification.org_id == org_id,
            Notification.user_id == ctx.user.user_id,
            Notification.deleted.is_(False),
        )
        .order_by(Notification.updated_at.desc(), Notification.id.desc())
        .limit(200)
    ).mappings()
    return {
        "notifications": [
            {
                "id": row["id"],
                "kind": row["kind"],
                "title": row["title"],
                "body": row["body"],
                "entity": row["entity"],
                "entity_id": row["entity_id"],
                "read_at": to_wire(row["read_at"]),
                "sent_at": to_wire(row["updated_at"]),
            }
            for row in rows
        ]
    }


class UnsubscribeQuery(WireModel):
    token: Annotated[str, StringConstraints(max_length=120)]


class UnsubscribeResponse(WireModel):
    unsubscribed: bool


@endpoint(
    bp,
    "POST",
    "/unsubscribe",
    summary="One-click unsubscribe from non-essential e-mail (List-Unsubscribe-Post, RFC 8058)",
    auth="none",
    query=UnsubscribeQuery,
    response=UnsubscribeResponse,
    errors=(404,),
)
def unsubscribe(ctx: ApiContext) -> dict[str, Any]:
    query: UnsubscribeQuery = ctx.query
    user_id = user_of_token(ctx.services.store, query.token)
    if user_id is None:
        raise not_found("subscription")
    opt_out(ctx.services.store, user_id)
    return {"unsubscribed": True}


@endpoint(
    bp,
    "GET",
    "/unsubscribe",
    summary="The page of an unsubscribe link: a button that posts the one-click unsubscribe",
    auth="none",
    query=UnsubscribeQuery,
    errors=(404,),
    media_type="text/html",
)
def unsubscribe_page(ctx: ApiContext) -> Response:
    # A GET never unsubscribes: mail scanners follow links. The button posts.
    query: UnsubscribeQuery = ctx.query
    if user_of_token(ctx.services.store, query.token) is None:
        raise not_found("subscription")
    token = html.escape(query.token, quote=True)
    page = (
        "<!doctype html><meta charset=utf-8><title>Unsubscribe</title>"
        f"<form method=post action='?token={token}'><p>Stop non-essential e-mail (low stock, "
        "overdue invoices, digests)? Security and legal messages are still sent.</p>"
        "<button type=submit>Unsubscribe</button></form>"
    )
    return Response(page, mimetype="text/html")


class PolicyResponse(WireModel):
    version: int
    effective_date: str
    summary: str
    text: str


class MyPolicyResponse(WireModel):
    version: int
    effective_date: str
    summary: str
    acknowledged: bool


class AcknowledgeRequest(WireModel):
    version: int


@endpoint(
    bp,
    "GET",
    "/policy",
    summary="The current privacy policy: version, effective date, summary and text",
    auth="none",
    response=PolicyResponse,
    own_sessions=True,
)
def get_policy(ctx: ApiContext) -> dict[str, Any]:
    with ctx.services.store.session(write=True) as db:
        found = policy.current_policy(db)
    return {
        "version": found.version,
        "effective_date": found.effective_date.isoformat(),
        "summary": found.summary,
        "text": found.text,
    }


@endpoint(
    bp,
    "GET",
    "/me/policy",
    summary="The current policy version and whether you acknowledged it (asked at sign-in)",
    auth="user",
    response=MyPolicyResponse,
    errors=(401,),
    own_sessions=True,
)
def my_policy(ctx: ApiContext) -> dict[str, Any]:
    with ctx.services.store.session(user_id=ctx.user.user_id, write=True) as db:
        found = policy.current_policy(db)
        seen = policy.acknowledged(db, ctx.user.user_id, found.version)
    return {
        "version": found.version,
        "effective_date": found.effective_date.isoformat(),
        "summary": found.summary,
        "acknowledged": seen,
    }


@endpoint(
    bp,
    "POST",
    "/me/policy/acknowledgement",
    summary="Record that you read the current policy version",
    auth="user",
    body=AcknowledgeRequest,
    response=MyPolicyResponse,
    errors=(400, 401),
    own_sessions=True,
)
def acknowledge_policy(ctx: ApiContext) -> dict[str, Any]:
    body: AcknowledgeRequest = ctx.body
    user_id = ctx.user.user_id
    with ctx.services.store.session(user_id=user_id, write=True) as db:
        found = policy.current_policy(db)
        if body.version != found.version:
            raise bad_request(f"version: the current policy is version {found.version}", field="version")
        policy.acknowledge(db, user_id, found.version)
        org_ids = list(db.execute(select(Membership.org_id).where(Membership.user_id == user_id)).scalars())
        for org_id in org_ids:
            ctx.services.store.rescope(db, org_id, user_id)
            append_events(
                db,
                org_id,
                [
                    PendingEvent(
                        action="privacy.policy_acknowledged",
                        actor=user_id,
                        entity="app_user",
                        entity_id=user_id,
                        after={"version": found.version},
                    )
                ],
            )
        ctx.services.store.rescope(db, None)
    return {
        "version": found.version,
        "effective_date": found.effective_date.isoformat(),
        "summary": found.summary,
        "acknowledged": True,
    }


# -- data subject requests ---------------------------------------------------------------------
class RequestItem(WireModel):
    id: str
    org_id: str
    subject_type: str
    subject_id: str
    kind: str
    status: str
    details: str | None
    requested_at: str
    due_at: str | None
    completed_at: str | None
    overdue: bool
    opened_by: str | None
    verification: str | None
    outcome: dict[str, Any] | None


class RequestsResponse(WireModel):
    requests: list[RequestItem]


class RequestsQuery(WireModel):
    status: Annotated[str, StringConstraints(max_length=16)] | None = None


class MyRequestBody(WireModel):
    org_id: Annotated[str, StringConstraints(max_length=36)]
    kind: RequestKind
    details: Annotated[str, StringConstraints(max_length=2000)] | None = None


def _request_item(row: Any, now: datetime) -> dict[str, Any]:
    item = {name: to_wire(row[name]) for name in RequestItem.model_fields if name != "overdue"}
    item["overdue"] = is_overdue(dict(row), now)
    return item


_REQUEST_COLUMNS = [
    getattr(DataSubjectRequest, name) for name in RequestItem.model_fields if name != "overdue"
]


@endpoint(
    bp,
    "GET",
    "/orgs/<org_id>/privacy/requests",
    summary="The privacy team's queue: data subject requests, due dates and overdue ones flagged",
    auth="org",
    permission="privacy.manage",
    query=RequestsQuery,
    response=RequestsResponse,
    errors=(400, 401, 403, 404),
)
def list_requests(ctx: ApiContext, org_id: str) -> dict[str, Any]:
    query: RequestsQuery = ctx.query
    stmt = select(*_REQUEST_COLUMNS).where(
        DataSubjectRequest.org_id == org_id, DataSubjectRequest.deleted.is_(False)
    )
    if query.status:
        stmt = stmt.where(DataSubjectRequest.status == query.status)
    rows = ctx.db.execute(stmt.order_by(DataSubjectRequest.requested_at.desc()).limit(500)).mappings()
    now = utcnow()
    return {"requests": [_request_item(row, now) for row in rows]}


@endpoint(
    bp,
    "POST",
    "/me/privacy/requests",
    summary="Ask an organization for access, a copy, a correction, erasure or an opt-out of your data",
    auth="user",
    body=MyRequestBody,
    response=RequestItem,
    status=201,
    errors=(400, 401, 404),
    own_sessions=True,
)
def open_my_request(ctx: ApiContext) -> dict[str, Any]:
    body: MyRequestBody = ctx.body
    user_id = ctx.user.user_id
    request_id = new_id()
    store = ctx.services.store
    with store.session(user_id=user_id) as db:
        member = db.execute(
            select(Membership.id).where(Membership.org_id == body.org_id, Membership.user_id == user_id)
        ).first()
    if member is None:
        raise not_found("organization")
    with store.session(body.org_id, user_id=user_id, write=True) as db:
        apply_system_command(
            db,
            body.org_id,
            "privacy.open_data_subject_request",
            {
                "id": request_id,
                "subject_type": "user",
                "subject_id": user_id,
                "kind": body.kind,
                "details": body.details,
                "verification": "signed in as the subject (their own account)",
            },
            new_id(),
            actor=user_id,
        )
        row = (
            db.execute(select(*_REQUEST_COLUMNS).where(DataSubjectRequest.id == request_id)).mappings().one()
        )
        return _request_item(row, utcnow())


@endpoint(
    bp,
    "GET",
    "/me/privacy/requests",
    summary="Your own data subject requests in every organization, with their status",
    auth="user",
    response=RequestsResponse,
    errors=(401,),
    own_sessions=True,
)
def my_requests(ctx: ApiContext) -> dict[str, Any]:
    user_id = ctx.user.user_id
    store = ctx.services.store
    with store.session(user_id=user_id) as db:
        org_ids = list(db.execute(select(Membership.org_id).where(Membership.user_id == user_id)).scalars())
    found: list[dict[str, Any]] = []
    now = utcnow()
    for org_id in org_ids:
        with store.session(org_id, user_id=user_id) as db:
            rows = db.execute(
                select(*_REQUEST_COLUMNS).where(
                    DataSubjectRequest.org_id == org_id,
                    DataSubjectRequest.subject_type == "user",
                    DataSubjectRequest.subject_id == user_id,
                )
            ).mappings()
            found.extend(_request_item(row, now) for row in rows)
    return {"requests": sorted(found, key=lambda r: r["requested_at"], reverse=True)}


# -- retention schedule --------------------------------------------------------------------------
class RetentionItem(WireModel):
    data_type: str
    period_days: int
    action: str
    legal_basis: str
    minimum_days: int
    description: str


class RetentionResponse(WireModel):
    schedule: list[RetentionItem]


class RetentionChange(WireModel):
    data_type: Annotated[str, StringConstraints(max_length=40)]
    period_days: Annotated[int, Field(ge=0, le=36600)]
    action: Literal["anonymize", "delete"]
    legal_basis: Annotated[str, StringConstraints(min_length=1, max_length=500)]


def _schedule(db: Any, org_id: str) -> dict[str, Any]:
    return {
        "schedule": [
            {
                "data_type": p.data_type,
                "period_days": p.period_days,
                "action": p.action,
                "legal_basis": p.legal_basis,
                "minimum_days": p.minimum_days,
                "description": p.description,
            }
            for p in schedule_of(db, org_id).values()
        ]
    }


@endpoint(
    bp,
    "GET",
    "/orgs/<org_id>/privacy/retention",
    summary="The retention schedule: data type, period, anonymize or delete, legal basis",
    auth="org",
    permission="privacy.manage",
    response=RetentionResponse,
    errors=(401, 403, 404),
)
def get_retention(ctx: ApiContext, org_id: str) -> dict[str, Any]:
    return _schedule(ctx.db, org_id)


@endpoint(
    bp,
    "PUT",
    "/orgs/<org_id>/privacy/retention",
    summary="Change one data type's retention (never below its statutory minimum); audited",
    auth="org",
    permission="privacy.manage",
    body=RetentionChange,
    response=RetentionResponse,
    write=True,
    errors=(400, 401, 403, 404),
)
def put_retention(ctx: ApiContext, org_id: str) -> dict[str, Any]:
    body: RetentionChange = ctx.body
    default = DEFAULTS.get(body.data_type)
    if default is None:
        raise bad_request(f"data_type: one of {', '.join(DEFAULTS)}", field="data_type")
    if body.period_days < default.minimum_days:
        raise bad_request(
            f"period_days: the law requires at least {default.minimum_days} days for {body.data_type}",
            field="period_days",
        )
    before = schedule_of(ctx.db, org_id)[body.data_type]
    existing = ctx.db.get(RetentionRule, (org_id, body.data_type))
    values = {
        "period_days": body.period_days,
        "action": body.action,
        "legal_basis": body.legal_basis,
        "updated_at": utcnow(),
        "updated_by": ctx.user.user_id,
    }
    if existing is None:
        ctx.db.add(RetentionRule(org_id=org_id, data_type=body.data_type, **values))
    else:
        for name, value in values.items():
            setattr(existing, name, value)
    ctx.db.flush()
    append_events(
        ctx.db,
        org_id,
        [
            PendingEvent(
                action="privacy.update_retention",
                actor=ctx.user.user_id,
                entity="retention_rule",
                entity_id=body.data_type,
                before={"period_days": before.period_days, "action": before.action},
                after={"period_days": body.period_days, "action": body.action},
            )
        ],
    )
    return _schedule(ctx.db, org_id)

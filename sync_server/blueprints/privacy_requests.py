"""The privacy team's side over HTTP: data subject requests (the staff queue, and the requests a
person opens about themselves) and the organization's retention schedule.

``GET /api/v1/orgs/<org_id>/privacy/requests`` (``privacy.manage``): the queue, overdue requests
flagged. ``POST|GET /api/v1/me/privacy/requests``: a member asks for access, a copy, a correction,
erasure or an opt-out of their own data (identity verified by their own sign-in). ``GET|PUT
/api/v1/orgs/<org_id>/privacy/retention`` (``privacy.manage``): the schedule, changed only within
the statutory minimums, audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from flask import Blueprint
from pydantic import Field, StringConstraints
from sqlalchemy import select

from common.commands.privacy import RequestKind, is_overdue
from common.ids import new_id
from common.retention import DEFAULTS, schedule_of
from common.schema import AppUser, DataSubjectRequest, Membership, RetentionRule
from common.schema.types import utcnow
from common.wire import WireModel, to_wire
from sync_server.api import ApiContext, endpoint
from sync_server.audit import PendingEvent, append_events
from sync_server.errors import bad_request, not_found
from sync_server.writes import apply_system_command

bp = Blueprint("privacy_requests", __name__, url_prefix="/api/v1")


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
    # A member's name and address (the queue's staff must know who asks); others: null.
    subject_name: str | None = None


class RequestsResponse(WireModel):
    requests: list[RequestItem]


class RequestsQuery(WireModel):
    status: Annotated[str, StringConstraints(max_length=16)] | None = None


class MyRequestBody(WireModel):
    org_id: Annotated[str, StringConstraints(max_length=36)]
    kind: RequestKind
    details: Annotated[str, StringConstraints(max_length=2000)] | None = None


_COMPUTED = ("overdue", "subject_name")


def _request_item(row: Any, now: datetime, names: dict[str, str] | None = None) -> dict[str, Any]:
    item = {name: to_wire(row[name]) for name in RequestItem.model_fields if name not in _COMPUTED}
    item["overdue"] = is_overdue(dict(row), now)
    if names is not None and row["subject_type"] == "user":
        item["subject_name"] = names.get(row["subject_id"])
    return item


_REQUEST_COLUMNS = [
    getattr(DataSubjectRequest, name) for name in RequestItem.model_fields if name not in _COMPUTED
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
    rows = ctx.db.execute(stmt.order_by(DataSubjectRequest.requested_at.desc()).limit(500)).mappings().all()
    now = utcnow()
    members = {r["subject_id"] for r in rows if r["subject_type"] == "user"}
    names = {
        user_id: f"{name} <{email}>" if name else email
        for user_id, name, email in ctx.db.execute(
            select(Membership.user_id, AppUser.name, AppUser.email)
            .join(AppUser, AppUser.id == Membership.user_id)
            .where(Membership.org_id == org_id, Membership.user_id.in_(members))
        )
    }
    return {"requests": [_request_item(row, now, names) for row in rows]}


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

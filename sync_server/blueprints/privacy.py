"""Privacy rights over HTTP (DESIGN §5): copies of one's data, erasure of one's account,
notifications and the policy's versions.

``GET /api/v1/orgs/<org_id>/privacy/requests/<id>/export`` (``privacy.manage``): the ZIP about
the subject of one of the organization's requests (another organization's request is 404).
``GET /api/v1/me/data-export``: the signed-in user's own data in every organization they belong
to. Both are audited (``privacy.export``) in each organization whose data left the server.
``POST /api/v1/me/erasure``: the owner erases their account (``sync_server.user_erasure``).
``GET /api/v1/orgs/<org_id>/notifications``: the caller's own notifications; ``GET|POST
/api/v1/unsubscribe?token=``: the one-click unsubscribe of non-essential e-mail. ``GET
/api/v1/policy``, ``GET /api/v1/me/policy``, ``POST /api/v1/me/policy/acknowledgement``.
"""

from __future__ import annotations

import html
from typing import Annotated, Any

from flask import Blueprint, Response
from pydantic import StringConstraints
from sqlalchemy import select

from common.schema import AppUser, DataSubjectRequest, Membership, Notification
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

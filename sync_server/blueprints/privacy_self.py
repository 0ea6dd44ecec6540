"""What a member sets about their own privacy from the desktop and the console.

``GET|PUT /api/v1/me/email-preferences``: whether non-essential e-mail (low stock, overdue
invoices, digests) is sent to them; essential mail (security, legal, their requests) always is.
The change is audited in every organization they belong to. ``POST
/api/v1/orgs/<org_id>/notifications/read``: mark some of one's own notifications read (applied as
the command ``notifications.mark_notifications_read`` on the recipient's behalf, so their
workstations pull it).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import select, update

from common.commands import CommandError
from common.commands.notifications import NotificationIds
from common.ids import new_id
from common.schema import AppUser, Membership
from common.wire import WireModel
from sync_server.api import ApiContext, endpoint
from sync_server.audit import PendingEvent, append_events
from sync_server.errors import bad_request, not_found
from sync_server.writes import apply_system_command

bp = Blueprint("privacy_self", __name__, url_prefix="/api/v1")


class EmailPreferences(WireModel):
    email_opt_out: bool


@endpoint(
    bp,
    "GET",
    "/me/email-preferences",
    summary="Whether you opted out of non-essential e-mail (security and legal mail is always sent)",
    auth="user",
    response=EmailPreferences,
    errors=(401,),
)
def get_email_preferences(ctx: ApiContext) -> dict[str, Any]:
    opted_out = ctx.db.execute(select(AppUser.email_opt_out).where(AppUser.id == ctx.user.user_id)).scalar()
    return {"email_opt_out": bool(opted_out)}


@endpoint(
    bp,
    "PUT",
    "/me/email-preferences",
    summary="Opt out of (or back into) non-essential e-mail; audited",
    auth="user",
    body=EmailPreferences,
    response=EmailPreferences,
    errors=(400, 401),
    own_sessions=True,
)
def put_email_preferences(ctx: ApiContext) -> dict[str, Any]:
    body: EmailPreferences = ctx.body
    user_id = ctx.user.user_id
    store = ctx.services.store
    with store.session(user_id=user_id, write=True) as db:
        before = bool(db.execute(select(AppUser.email_opt_out).where(AppUser.id == user_id)).scalar())
        if before == body.email_opt_out:
            return {"email_opt_out": before}
        db.execute(update(AppUser).where(AppUser.id == user_id).values(email_opt_out=body.email_opt_out))
        org_ids = list(db.execute(select(Membership.org_id).where(Membership.user_id == user_id)).scalars())
        for org_id in org_ids:
            store.rescope(db, org_id, user_id)
            append_events(
                db,
                org_id,
                [
                    PendingEvent(
                        action="privacy.email_preferences",
                        actor=user_id,
                        entity="app_user",
                        entity_id=user_id,
                        before={"email_opt_out": before},
                        after={"email_opt_out": body.email_opt_out},
                    )
                ],
            )
        store.rescope(db, None)
    return {"email_opt_out": body.email_opt_out}


class MarkReadBody(WireModel):
    ids: NotificationIds


class MarkReadResponse(WireModel):
    marked: int


@endpoint(
    bp,
    "POST",
    "/orgs/<org_id>/notifications/read",
    summary="Mark some of your notifications in this organization read",
    auth="org",
    body=MarkReadBody,
    response=MarkReadResponse,
    write=True,
    errors=(400, 401, 403, 404),
)
def mark_read(ctx: ApiContext, org_id: str) -> dict[str, Any]:
    body: MarkReadBody = ctx.body
    try:
        apply_system_command(
            ctx.db,
            org_id,
            "notifications.mark_notifications_read",
            {"ids": body.ids},
            new_id(),
            actor=ctx.user.user_id,
        )
    except CommandError as exc:
        if exc.code == "not_found":
            raise not_found("notification") from None
        raise bad_request(exc.message, field=exc.field) from None
    return {"marked": len(set(body.ids))}

"""A member's life in an organization (``admin.users``): invited, signed out, removed.

Nobody but an account's owner sets or learns its password: adding a member by e-mail creates an
invitation (:mod:`sync_server.invitations`), mailed when ``OPS_SMTP_URL`` is set, else shown to
the administrator once to hand over. The answer is the same whether or not the address has an
account anywhere on this server. Removing a member ends the membership, never the account.
Signing a member out ends their access to *this* organization on every device (until they sign
in again with their password); their other organizations are not concerned. Every change is
audited in the organization's chain and runs under the organization's administrative lock;
another organization's user ids answer 404 like unknown ones.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint
from sqlalchemy import delete, select, update

from common.ids import is_uuid
from common.schema import Membership, Organization
from common.schema.types import utcnow
from common.wire import to_wire
from sync_server import invitations, memberships
from sync_server.api import ApiContext, endpoint
from sync_server.api_models import (
    AddMemberRequest,
    InvitationsResponse,
    InviteResponse,
    MemberNamesQuery,
    MemberNamesResponse,
    SignOutMemberResponse,
)
from sync_server.blueprints.admin import ADMIN, admins_left, record_admin_event
from sync_server.errors import ApiError, bad_request, not_found
from sync_server.mail import Mailer, MailError

bp = Blueprint("members", __name__, url_prefix="/api/v1/orgs")
log = logging.getLogger(__name__)


def _check_roles(ctx: ApiContext, roles: list[str]) -> None:
    unknown = memberships.unknown_role(ctx.db, roles)
    if unknown is not None:
        raise bad_request(f"roles: unknown role {unknown!r}", field="roles")


def invitation_mail(
    ctx: ApiContext, org_name: str, email: str, token: str, expires_at: str
) -> tuple[str, str]:
    """Subject and text of an invitation e-mail (the link goes to the console's accept page)."""
    base = ctx.services.config.public_url
    assert base is not None  # OPS_SMTP_URL without OPS_PUBLIC_URL is refused at start
    link = f"{base}/console/#invitation={token}"
    text = (
        f"You have been invited to join {org_name} in the Operations Management System.\n\n"
        f"Open this link to accept, with your existing account's password or by choosing a name\n"
        f"and a password for a new account:\n\n    {link}\n\n"
        f'In the desktop app, choose "Accept an invitation" on the sign-in screen and paste the link.\n'
        f"The invitation is for {email} only and can be used once, until {expires_at[:10]}.\n"
        f"If you did not expect it, ignore this message.\n"
    )
    return f"Invitation to join {org_name}", text


@endpoint(
    bp,
    "POST",
    "/<org_id>/members",
    summary="Invite a person by e-mail (they join with their own account, or create one)",
    auth="org",
    body=AddMemberRequest,
    response=InviteResponse,
    status=201,
    permission=ADMIN,
    write=True,
    errors=(400, 401, 403, 404, 409),
    lock_org=True,
)
def add_member(ctx: ApiContext, org_id: str) -> dict[str, Any]:
    body: AddMemberRequest = ctx.body
    roles = sorted(set(body.roles))
    _check_roles(ctx, roles)
    invitation, token = invitations.create(
        ctx.db, org_id, ctx.user.user_id, ctx.user.device_id, body.email, roles
    )
    config = ctx.services.config
    if config.smtp_url is None:
        return {"invitation": invitation, "delivery": "link", "token": token}
    answer: dict[str, Any] = {"invitation": invitation, "delivery": "mailed"}
    org_name = ctx.db.execute(select(Organization.name).where(Organization.id == org_id)).scalar_one()
    subject, text = invitation_mail(ctx, org_name, invitation["email"], token, invitation["expires_at"])

    def send() -> None:
        try:
            Mailer.from_url(config.smtp_url or "").send(invitation["email"], subject, text)
        except MailError as exc:
            log.warning("the invitation %s was not mailed: %s", invitation["id"], exc)
            answer["delivery"] = "mail_failed"

    ctx.after_commit.append(send)  # the invitation exists before it is announced
    return answer


@endpoint(
    bp,
    "GET",
    "/<org_id>/invitations",
    summary="Invitations not yet accepted or revoked (pending or expired), newest first",
    auth="org",
    response=InvitationsResponse,
    permission=ADMIN,
    errors=(401, 403, 404),
)
def list_invitations(ctx: ApiContext, org_id: str) -> dict[str, Any]:
    return {"invitations": invitations.listing(ctx.db)}


@endpoint(
    bp,
    "DELETE",
    "/<org_id>/invitations/<invitation_id>",
    summary="Revoke an invitation (its link stops working)",
    auth="org",
    status=204,
    permission=ADMIN,
    write=True,
    errors=(401, 403, 404),
    lock_org=True,
)
def revoke_invitation(ctx: ApiContext, org_id: str, invitation_id: str) -> None:
    if not is_uuid(invitation_id) or not invitations.revoke(
        ctx.db, org_id, ctx.user.user_id, ctx.user.device_id, invitation_id
    ):
        raise not_found("pending invitation")


@endpoint(
    bp,
    "DELETE",
    "/<org_id>/members/<user_id>",
    summary="Remove a member from the organization (the account itself stays)",
    auth="org",
    status=204,
    permission=ADMIN,
    write=True,
    errors=(401, 403, 404, 409),
    lock_org=True,
)
def remove_member(ctx: ApiContext, org_id: str, user_id: str) -> None:
    if not is_uuid(user_id):
        raise not_found("member")
    current = ctx.db.execute(
        select(Membership.id, Membership.roles).where(Membership.user_id == user_id)
    ).first()
    if current is None:
        raise not_found("member")
    ctx.db.execute(delete(Membership).where(Membership.id == current.id))
    if admins_left(ctx.db) == 0:
        if user_id == ctx.user.user_id:
            message = (
                "you are the last member who manages users: make someone else an administrator "
                "before removing yourself"
            )
        else:
            message = "the organization must keep at least one member who manages users"
        raise ApiError(409, "last_admin", message)
    record_admin_event(
        ctx,
        org_id,
        "admin.remove_member",
        "membership",
        current.id,
        {"user_id": user_id, "roles": list(current.roles or [])},
        None,
    )


@endpoint(
    bp,
    "DELETE",
    "/<org_id>/members/<user_id>/sessions",
    summary="Sign a member out of this organization on every device (until they sign in again)",
    auth="org",
    response=SignOutMemberResponse,
    permission=ADMIN,
    write=True,
    errors=(401, 403, 404),
    lock_org=True,
)
def end_member_sessions(ctx: ApiContext, org_id: str, user_id: str) -> dict[str, Any]:
    if not is_uuid(user_id):
        raise not_found("member")
    membership_id = ctx.db.execute(select(Membership.id).where(Membership.user_id == user_id)).scalar()
    if membership_id is None:
        raise not_found("member")
    now = utcnow()
    # Checked on every request of this organization against the sign-in time the access token
    # carries (unchanged by refreshes): every device's tokens stop here at once; the account's
    # sessions, and so its other organizations, are left alone.
    ctx.db.execute(update(Membership).where(Membership.id == membership_id).values(sessions_valid_after=now))
    record_admin_event(
        ctx,
        org_id,
        "admin.sign_out_member",
        "membership",
        membership_id,
        None,
        {"user_id": user_id, "signed_out_at": to_wire(now)},
    )
    return {"signed_out_at": to_wire(now)}


@endpoint(
    bp,
    "GET",
    "/<org_id>/member-names",
    summary="Names of fellow members, by user id (who changed a record, for any member)",
    auth="org",
    query=MemberNamesQuery,
    response=MemberNamesResponse,
    errors=(400, 401, 403, 404),
)
def member_names(ctx: ApiContext, org_id: str) -> dict[str, Any]:
    """Any member may learn the names of the organization's members (as a record's "changed by"
    shows them); ids of anyone else — another organization's users, former members, unknown ids —
    are left out of the answer, never told apart."""
    query: MemberNamesQuery = ctx.query
    return {"names": memberships.names_of(ctx.db, query.ids.split(","))}

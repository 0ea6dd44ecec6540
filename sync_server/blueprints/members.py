"""A member's life in an organization (``admin.users``): added, signed out everywhere, removed.

Adding a member by e-mail makes an existing account a member, or creates the account with an
initial password the administrator chose (Argon2id, the sign-in's own hasher). Removing a
member ends the membership, never the account: the person may belong to other organizations.
Ending a member's sessions signs them out on every device (their sign-ins are per person, not
per organization). Every change is audited in the organization's chain; another organization's
user ids answer 404 like unknown ones.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.ids import is_uuid, new_id
from common.permissions import BUILTIN_ROLES
from common.schema import AppUser, Membership, RefreshToken, Role
from common.schema.types import utcnow
from sync_server.api import ApiContext, endpoint
from sync_server.api_models import AddMemberRequest, AddMemberResponse, EndSessionsResponse
from sync_server.auth.passwords import check_new_password
from sync_server.auth.principal import resolve
from sync_server.auth.service import normalize_email
from sync_server.blueprints.admin import ADMIN, admins_left, record_admin_event
from sync_server.errors import ApiError, bad_request, forbidden, not_found

bp = Blueprint("members", __name__, url_prefix="/api/v1/orgs")


def _unknown_role(session: Session, roles: list[str]) -> str | None:
    custom = [r for r in roles if r not in BUILTIN_ROLES]
    if not custom:
        return None
    known = set(session.execute(select(Role.name).where(Role.name.in_(custom))).scalars())
    return next((r for r in custom if r not in known), None)


def _check_addition(session: Session, email: str, roles: list[str]) -> str | None:
    """The account's id (None for a new one); 400/409 when it cannot be added."""
    unknown = _unknown_role(session, roles)
    if unknown is not None:
        raise bad_request(f"roles: unknown role {unknown!r}", field="roles")
    user_id = session.execute(select(AppUser.id).where(AppUser.email == email)).scalar()
    if user_id is not None:
        member = session.execute(select(Membership.id).where(Membership.user_id == user_id)).first()
        if member is not None:
            raise ApiError(409, "already_member", f"{email} is already a member of this organization")
    return user_id


def _new_account(body: AddMemberRequest) -> tuple[str, str]:
    """The name and password of a new account, or a 400 naming what is missing."""
    if not body.name:
        raise bad_request("name: a new account needs the person's name", field="name")
    if body.password is None:
        raise bad_request("password: a new account needs an initial password", field="password")
    problem = check_new_password(body.password)
    if problem is not None:
        raise bad_request(f"password: {problem}", field="password")
    return body.name, body.password


def _member(session: Session, user_id: str) -> dict[str, Any]:
    row = session.execute(
        select(Membership.user_id, Membership.roles, AppUser.email, AppUser.name)
        .join(AppUser, AppUser.id == Membership.user_id)
        .where(Membership.user_id == user_id)
    ).one()
    return {"user_id": row.user_id, "email": row.email, "name": row.name, "roles": list(row.roles or [])}


@endpoint(
    bp,
    "POST",
    "/<org_id>/members",
    summary="Add a member by e-mail (a new account needs a name and an initial password)",
    auth="org",
    body=AddMemberRequest,
    response=AddMemberResponse,
    status=201,
    permission=ADMIN,
    write=True,
    errors=(400, 401, 403, 404, 409),
    own_sessions=True,
)
def add_member(ctx: ApiContext, org_id: str) -> dict[str, Any]:
    body: AddMemberRequest = ctx.body
    email = normalize_email(body.email)
    roles = sorted(set(body.roles))
    store = ctx.services.store
    with store.session(org_id, user_id=ctx.user.user_id) as session:
        existing = _check_addition(session, email, roles)
    account: tuple[str, str] | None = None  # name and password hash of a new account
    if existing is None:
        # Hashed before the write transaction: Argon2 must not hold the store's write lock.
        name, password = _new_account(body)
        account = name, ctx.services.passwords.hash(password)
    try:
        with store.session(org_id, user_id=ctx.user.user_id, write=True) as session:
            ctx.session = session
            assert ctx.claims is not None
            ctx.principal = resolve(session, ctx.claims, org_id)  # still an administrator?
            if ADMIN not in ctx.principal.permissions:
                raise forbidden(ADMIN)
            user_id = _check_addition(session, email, roles)
            created = user_id is None
            if user_id is None:
                if account is None:  # cannot happen: accounts are never deleted
                    raise ApiError(409, "conflict", "the account changed meanwhile; try again")
                user_id = new_id()
                session.execute(
                    insert(AppUser).values(id=user_id, email=email, name=account[0], password_hash=account[1])
                )
            membership_id = new_id()
            session.execute(insert(Membership).values(id=membership_id, user_id=user_id, roles=roles))
            record_admin_event(
                ctx,
                org_id,
                "admin.add_member",
                "membership",
                membership_id,
                None,
                {"user_id": user_id, "roles": roles, "new_account": created},
            )
            member = _member(session, user_id)
    except IntegrityError:
        # Another request added the same account or membership between our check and insert.
        raise ApiError(409, "conflict", f"{email} was added meanwhile; reload and try again") from None
    return {"member": member, "created_account": created}


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
    summary="Sign a member out on every device (their refresh and access tokens stop working)",
    auth="org",
    response=EndSessionsResponse,
    permission=ADMIN,
    write=True,
    errors=(401, 403, 404),
)
def end_member_sessions(ctx: ApiContext, org_id: str, user_id: str) -> dict[str, Any]:
    if not is_uuid(user_id):
        raise not_found("member")
    if ctx.db.execute(select(Membership.id).where(Membership.user_id == user_id)).first() is None:
        raise not_found("member")
    now = utcnow()
    active = RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None)
    sessions = ctx.db.execute(
        select(func.count(func.distinct(RefreshToken.family_id))).where(
            *active, RefreshToken.used_at.is_(None), RefreshToken.expires_at > now
        )
    ).scalar_one()
    ctx.db.execute(update(RefreshToken).where(*active).values(revoked_at=now))
    # Access tokens already issued stop at once too: they are checked against this instant.
    ctx.db.execute(update(AppUser).where(AppUser.id == user_id).values(sessions_valid_after=now))
    record_admin_event(
        ctx, org_id, "admin.end_sessions", "app_user", user_id, None, {"sessions_ended": sessions}
    )
    return {"sessions_ended": sessions}

"""Invitations: how a person joins an organization without anyone else knowing their password.

An administrator invites an e-mail address with roles. The invitation's token is random
(256 bits), single-use, valid for :data:`INVITATION_DAYS` days, stored only as its SHA-256; it
starts with the organization's id (``inv.<org id>.<secret>``), so that accepting it, with no
organization in the URL, opens a session scoped to that one organization and finds the
invitation there — on PostgreSQL under the same row-level security as every tenant row.

Accepting (:func:`accept`): an address that has an account proves it with that account's password
(or a bearer token of that account); a new address chooses its own name and password. The answer
to an invitation never depends on whether the address has an account, and an administrator never
learns whether it does: the invitation answers alike; the accept step needs the invitee's
password either way (without a name it is checked as an existing account's password, and an
unknown address answers "wrong e-mail address or password", after the same Argon2 work).
Password attempts count against the sign-in limits of the account and the client address.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.ids import is_uuid, new_id
from common.schema import AppUser, Invitation, Membership, Organization
from common.schema.types import utcnow
from common.wire import to_wire
from sync_server.audit import PendingEvent, append_events, lock_chain_head
from sync_server.auth import ratelimit
from sync_server.auth.passwords import check_new_password
from sync_server.auth.principal import check_session
from sync_server.auth.service import INVALID_CREDENTIALS, normalize_email
from sync_server.auth.tokens import AccessClaims
from sync_server.errors import ApiError, bad_request, rate_limited, unauthenticated
from sync_server.services import Services

INVITATION_DAYS = 7
TOKEN_PREFIX = "inv"  # noqa: S105 - the kind of token, not a secret
NOT_VALID = (
    "this invitation is not valid: it has expired, was revoked or was already used; "
    "ask the organization for a new one"
)


def new_token(org_id: str) -> str:
    return f"{TOKEN_PREFIX}.{org_id}.{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def org_of_token(token: str) -> str | None:
    """The organization an invitation token belongs to (``None``: not an invitation token)."""
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not is_uuid(parts[1]) or len(parts[2]) < 32:
        return None
    return parts[1]


def status_of(row: Any, now: datetime) -> str:
    if row.accepted_at is not None:
        return "accepted"
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if row.expires_at <= now else "pending"


def as_wire(row: Any, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "email": row.email,
        "roles": list(row.roles or []),
        "status": status_of(row, now),
        "created_at": to_wire(row.created_at),
        "expires_at": to_wire(row.expires_at),
        "invited_by": row.invited_by,
    }


_COLUMNS = (
    Invitation.id,
    Invitation.email,
    Invitation.roles,
    Invitation.invited_by,
    Invitation.created_at,
    Invitation.expires_at,
    Invitation.accepted_at,
    Invitation.revoked_at,
)


def _event(
    action: str, actor: str | None, device: str | None, entity: str, entity_id: str, **kw: Any
) -> PendingEvent:
    return PendingEvent(action=action, actor=actor, device=device, entity=entity, entity_id=entity_id, **kw)


def create(
    session: Session, org_id: str, actor: str, device: str | None, email: str, roles: list[str]
) -> tuple[dict[str, Any], str]:
    """A new invitation in the caller's (locked, write) session; returns it and its token.

    A pending invitation of the same address is revoked: its link stops working.
    """
    email = normalize_email(email)
    member = session.execute(
        select(Membership.id).join(AppUser, AppUser.id == Membership.user_id).where(AppUser.email == email)
    ).first()
    if member is not None:
        raise ApiError(409, "already_member", f"{email} is already a member of this organization")
    now = utcnow()
    events = []
    pending = session.execute(
        select(Invitation.id).where(
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
    ).scalars()
    for replaced in list(pending):
        session.execute(
            update(Invitation).where(Invitation.id == replaced).values(revoked_at=now, revoked_by=actor)
        )
        events.append(
            _event("admin.revoke_invitation", actor, device, "invitation", replaced, after={"replaced": True})
        )
    token = new_token(org_id)
    invitation_id = new_id()
    values = {
        "id": invitation_id,
        "email": email,
        "roles": roles,
        "token_hash": hash_token(token),
        "invited_by": actor,
        "created_at": now,
        "expires_at": now + timedelta(days=INVITATION_DAYS),
    }
    session.execute(insert(Invitation).values(**values))
    events.append(
        _event(
            "admin.invite",
            actor,
            device,
            "invitation",
            invitation_id,
            after={"email": email, "roles": roles, "expires_at": values["expires_at"]},
        )
    )
    append_events(session, org_id, events)
    row = session.execute(select(*_COLUMNS).where(Invitation.id == invitation_id)).one()
    return as_wire(row, now), token


def listing(session: Session) -> list[dict[str, Any]]:
    """Invitations not yet accepted or revoked (pending, or expired unused), newest first."""
    now = utcnow()
    rows = session.execute(
        select(*_COLUMNS)
        .where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .order_by(Invitation.created_at.desc())
        .limit(500)
    ).all()
    return [as_wire(row, now) for row in rows]


def revoke(session: Session, org_id: str, actor: str, device: str | None, invitation_id: str) -> bool:
    """Revoke a pending invitation; ``False`` when there is none with that id to revoke."""
    now = utcnow()
    revoked = session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation_id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)
        )
        .values(revoked_at=now, revoked_by=actor)
    ).rowcount  # type: ignore[attr-defined]
    if not revoked:
        return False
    append_events(
        session,
        org_id,
        [_event("admin.revoke_invitation", actor, device, "invitation", invitation_id, after={})],
    )
    return True


@dataclass(frozen=True)
class Found:
    id: str
    org_id: str
    org_name: str
    email: str
    roles: list[str]
    expires_at: datetime


def _find(session: Session, org_id: str, token: str) -> Found | None:
    now = utcnow()
    row = session.execute(
        select(*_COLUMNS, Organization.name.label("org_name"))
        .join(Organization, Organization.id == Invitation.org_id)
        .where(Invitation.token_hash == hash_token(token))
    ).first()
    if row is None or status_of(row, now) != "pending":
        return None
    return Found(row.id, org_id, row.org_name, row.email, list(row.roles or []), row.expires_at)


def find(svc: Services, token: str) -> Found:
    """The pending invitation of ``token``; 404 for anything else (nothing more is said)."""
    org_id = org_of_token(token)
    found = None
    if org_id is not None:
        with svc.store.session(org_id) as session:
            found = _find(session, org_id, token)
    if found is None:
        raise ApiError(404, "invitation_not_valid", NOT_VALID)
    return found


@dataclass(frozen=True)
class _Joiner:
    user_id: str | None  # None: a new account, created with the membership
    new_account: tuple[str, str] | None = None  # name and password hash of a new account
    rate_keys: tuple[str, ...] = ()


def _who_joins(
    svc: Services,
    found: Found,
    claims: AccessClaims | None,
    password: str | None,
    name: str | None,
    address: str,
) -> _Joiner:
    """The account that joins, proven; raises 400/401/403/429 otherwise."""
    store, email = svc.store, found.email
    if claims is not None:
        with store.session(user_id=claims.user_id) as session:
            check_session(session, claims)
            own = session.execute(select(AppUser.email).where(AppUser.id == claims.user_id)).scalar()
        if own != email:
            raise ApiError(
                403,
                "wrong_account",
                "this invitation is for another e-mail address: sign out, then accept it with that address",
            )
        return _Joiner(claims.user_id)
    if password is None:
        raise bad_request(
            "password: enter your password (or choose one, with your name, for a new account)",
            field="password",
        )
    if name is not None:
        problem = check_new_password(password)  # before anything about the account is looked up
        if problem is not None:
            raise bad_request(f"password: {problem}", field="password")
    keys = (ratelimit.account_key(email), ratelimit.address_key(address))
    with store.session(write=True) as session:
        wait = ratelimit.reserve(session, list(keys), svc.config.rate_limits, utcnow())
        user = session.execute(
            select(AppUser.id, AppUser.password_hash, AppUser.disabled).where(AppUser.email == email)
        ).first()
    if wait is not None:
        raise rate_limited(wait, "too many failed attempts; try again later")
    if user is None and name is not None:
        # One Argon2 computation, as the verification of an existing account's password costs.
        return _Joiner(None, (name, svc.passwords.hash(password)), keys)
    ok = svc.passwords.verify(user.password_hash if user is not None else None, password)
    if not ok or user is None or user.disabled:
        svc.auth.record_failed_sign_in(email, address, user)
        raise unauthenticated(INVALID_CREDENTIALS, code="invalid_credentials")
    return _Joiner(user.id, None, keys)


def accept(
    svc: Services,
    token: str,
    *,
    claims: AccessClaims | None,
    password: str | None,
    name: str | None,
    address: str,
) -> dict[str, Any]:
    """Join the organization of ``token`` (see the module docstring)."""
    found = find(svc, token)
    joiner = _who_joins(svc, found, claims, password, name, address)
    org_id, now = found.org_id, utcnow()
    try:
        with svc.store.session(org_id, user_id=joiner.user_id, write=True) as session:
            lock_chain_head(session, org_id)  # one administrative change at a time
            if _find(session, org_id, token) is None:  # revoked or used meanwhile
                raise ApiError(404, "invitation_not_valid", NOT_VALID)
            user_id = joiner.user_id
            if user_id is None:
                assert joiner.new_account is not None
                user_id = new_id()
                name, password_hash = joiner.new_account
                session.execute(
                    insert(AppUser).values(
                        id=user_id, email=found.email, name=name, password_hash=password_hash
                    )
                )
            if joiner.rate_keys:
                ratelimit.succeeded(session, *joiner.rate_keys)
            _join(session, found, user_id, now, new_account=joiner.new_account is not None)
    except IntegrityError:
        # The same address created an account, or joined, between our check and our insert.
        raise ApiError(409, "conflict", "this invitation was just used; sign in to continue") from None
    return {"org_id": org_id, "org_name": found.org_name, "email": found.email, "roles": found.roles}


def _join(session: Session, found: Found, user_id: str, now: datetime, *, new_account: bool) -> None:
    existing = session.execute(select(Membership.id).where(Membership.user_id == user_id)).first()
    if existing is not None:
        raise ApiError(409, "already_member", "you are already a member of this organization")
    membership_id = new_id()
    session.execute(insert(Membership).values(id=membership_id, user_id=user_id, roles=found.roles))
    session.execute(
        update(Invitation).where(Invitation.id == found.id).values(accepted_at=now, accepted_by=user_id)
    )
    append_events(
        session,
        found.org_id,
        [
            _event(
                "invitation.accept",
                user_id,
                None,
                "membership",
                membership_id,
                after={
                    "user_id": user_id,
                    "roles": found.roles,
                    "invitation_id": found.id,
                    "new_account": new_account,
                },
            )
        ],
    )

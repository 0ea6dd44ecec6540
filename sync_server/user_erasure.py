"""Erasure of a user account, asked by its owner (``POST /api/v1/me/erasure``) or done by a
server operator: the account is deactivated and anonymized, every membership ends, every
session is revoked, and the user's audit key in each organization is destroyed, so the
personal values sealed under it (sign-in addresses) read ``[erased]``.

An employee record linked to the account is an HR record with its own legal retention: it is
left to the organization (the export and the erasure requests of HR handle it); only the link
to the account goes with the account.
"""

from __future__ import annotations

import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from common.schema import AppUser, Membership, RefreshToken
from common.schema.types import utcnow
from sync_server.audit import PendingEvent, append_events, audit_key
from sync_server.store import Store
from sync_server.subject_keys import ERASED, SubjectKeys

ERASED_DOMAIN = "erased.invalid"


def anonymous_email(user_id: str) -> str:
    return f"erased-{user_id}@{ERASED_DOMAIN}"


class LastAdmin(Exception):
    """The user is the last member who manages an organization's users: nothing was erased."""

    def __init__(self, org_id: str) -> None:
        super().__init__(org_id)
        self.org_id = org_id


def erase_user(store: Store, user_id: str, *, actor: str, password_hash: str) -> list[str]:
    """Erase the account; returns the organizations whose membership ended.

    ``password_hash``: a hash of a random secret nobody knows, so the account can never sign in.
    Raises :class:`LastAdmin` (and changes nothing) when an organization would be left without
    anyone to manage its members.
    """
    from sync_server.blueprints.admin import admins_left

    now = utcnow()
    with store.session(user_id=user_id, write=True) as session:
        memberships = session.execute(
            select(Membership.org_id, Membership.id, Membership.roles).where(Membership.user_id == user_id)
        ).all()
        for org_id, membership_id, roles in memberships:
            store.rescope(session, org_id, user_id)
            _end_membership(session, org_id, membership_id, list(roles or []), user_id, actor)
            if admins_left(session) == 0:
                raise LastAdmin(org_id)
        store.rescope(session, None)
        session.execute(
            update(AppUser)
            .where(AppUser.id == user_id)
            .values(
                email=anonymous_email(user_id),
                name=ERASED,
                password_hash=password_hash,
                disabled=True,
                erased_at=now,
                sessions_valid_after=now,
                email_opt_out=True,
            )
        )
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    return [org_id for org_id, _, _ in memberships]


def _end_membership(
    session: Session, org_id: str, membership_id: str, roles: list[str], user_id: str, actor: str
) -> None:
    session.execute(delete(Membership).where(Membership.org_id == org_id, Membership.id == membership_id))
    append_events(
        session,
        org_id,
        [
            PendingEvent(
                action="privacy.erase_user",
                actor=actor,
                entity="membership",
                entity_id=membership_id,
                before={"user_id": user_id, "roles": roles},
                after=None,
            )
        ],
    )
    SubjectKeys(session, org_id, audit_key(session)).destroy(("user", user_id))


def random_password() -> str:
    return secrets.token_urlsafe(32)

"""Memberships and roles of one organization: the one service behind ``ops-server grant``, the
members and roles endpoints and sign-in's permissions.

Every function takes a session scoped to the organization (custom roles and memberships are
tenant rows) and neither commits nor audits: the caller does both, as its actor (the CLI as the
system, an endpoint as the signed-in administrator). Messages for people are the caller's too;
here a role is either built in, a custom role of the organization, or unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from common.ids import new_id
from common.permissions import BUILTIN_ROLES, permissions_for_roles
from common.schema import AppUser, Membership, Role

ADMIN = "admin.users"


def custom_roles(session: Session, names: Iterable[str]) -> dict[str, list[str]]:
    """Permissions of the organization's custom roles among ``names``."""
    wanted = [n for n in names if n not in BUILTIN_ROLES]
    if not wanted:
        return {}
    rows = session.execute(select(Role.name, Role.permissions).where(Role.name.in_(wanted)))
    return {name: list(perms or []) for name, perms in rows}


def unknown_role(session: Session, roles: Iterable[str]) -> str | None:
    """The first of ``roles`` that is neither built in nor a custom role of the organization."""
    names = list(roles)
    known = custom_roles(session, names)
    return next((r for r in names if r not in BUILTIN_ROLES and r not in known), None)


def admins_left(session: Session) -> int:
    """Members who hold ``admin.users`` (an organization must keep one)."""
    rows = session.execute(select(Membership.roles)).scalars().all()
    custom = custom_roles(session, sorted({r for roles in rows for r in roles or []}))
    return sum(1 for roles in rows if ADMIN in permissions_for_roles(roles or [], custom))


@dataclass(frozen=True)
class RolesChange:
    """A membership's roles before (``None``: it did not exist) and after a change."""

    membership_id: str
    user_id: str
    before: list[str] | None
    after: list[str]

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def audit_before(self) -> dict[str, object] | None:
        return {"user_id": self.user_id, "roles": self.before} if self.before is not None else None

    def audit_after(self) -> dict[str, object]:
        return {"user_id": self.user_id, "roles": self.after}


def _current(session: Session, user_id: str) -> tuple[str, list[str]] | None:
    row = session.execute(
        select(Membership.id, Membership.roles).where(Membership.user_id == user_id)
    ).first()
    return (row.id, list(row.roles or [])) if row is not None else None


def is_member(session: Session, user_id: str) -> bool:
    return _current(session, user_id) is not None


def names_of(session: Session, user_ids: Iterable[str]) -> dict[str, str]:
    """``user id → name`` of those of ``user_ids`` who are members of the organization."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Membership.user_id, AppUser.name)
        .join(AppUser, AppUser.id == Membership.user_id)
        .where(Membership.user_id.in_(wanted))
    ).all()
    return {row.user_id: row.name for row in rows}


def set_roles(session: Session, user_id: str, roles: Iterable[str]) -> RolesChange | None:
    """Give the member exactly ``roles`` (sorted, once each); ``None`` when they are no member.
    The roles must be known (:func:`unknown_role`)."""
    current = _current(session, user_id)
    if current is None:
        return None
    membership_id, before = current
    after = sorted(set(roles))
    if after != before:
        session.execute(update(Membership).where(Membership.id == membership_id).values(roles=after))
    return RolesChange(membership_id, user_id, before, after)


def add_role(session: Session, user_id: str, role: str) -> RolesChange:
    """Add ``role`` to the user's membership, making them a member if they are not yet."""
    current = _current(session, user_id)
    if current is None:
        membership_id = new_id()
        session.execute(insert(Membership).values(id=membership_id, user_id=user_id, roles=[role]))
        return RolesChange(membership_id, user_id, None, [role])
    membership_id, before = current
    after = sorted({*before, role})
    if after != before:
        session.execute(update(Membership).where(Membership.id == membership_id).values(roles=after))
    return RolesChange(membership_id, user_id, before, after)

"""Who is calling: the user, their membership of the organization in the URL, their permissions.

Looked up in the database on every request (never trusted from the token), so a revoked role,
a disabled account, a password change or a logout takes effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, exists, false, select
from sqlalchemy.orm import Session

from common.access import OwnerIds
from common.permissions import BUILTIN_ROLES, permissions_for_roles
from common.schema import AppUser, Employee, Membership, Organization, RefreshToken, Role
from common.schema.base import table_of
from sync_server.auth.tokens import AccessClaims
from sync_server.errors import ApiError, unauthenticated


@dataclass
class Principal:
    """The authenticated caller of one request."""

    user_id: str
    session_id: str
    device_id: str | None
    org_id: str | None = None
    roles: tuple[str, ...] = ()
    permissions: frozenset[str] = frozenset()
    _owner: OwnerIds | None = field(default=None, repr=False)

    def owner_ids(self, session: Session) -> OwnerIds:
        """The caller's user id and the employee records linked to it (for owner read rules)."""
        if self._owner is None:
            employee_ids = frozenset(
                session.execute(_OWN_EMPLOYEES, {"org_id": self.org_id or "", "uid": self.user_id}).scalars()
            )
            self._owner = OwnerIds(user_id=self.user_id, employee_ids=employee_ids)
        return self._owner


_USER = table_of(AppUser)
_MEMBERSHIP = table_of(Membership)
_TOKENS = table_of(RefreshToken)
_ORGS = table_of(Organization)
_EMPLOYEES = table_of(Employee)

# Per-request lookups run on every authenticated request: statements built once, bound
# parameters only, each filtering on the organization and user explicitly (on PostgreSQL
# row-level security applies to them as well).
_CALLER = select(
    _USER.c.disabled,
    _USER.c.sessions_valid_after,
    exists()
    .where(_TOKENS.c.family_id == bindparam("sid"), _TOKENS.c.revoked_at.is_not(None))
    .label("revoked"),
    select(_MEMBERSHIP.c.roles)
    .where(_MEMBERSHIP.c.org_id == bindparam("org_id"), _MEMBERSHIP.c.user_id == bindparam("uid"))
    .scalar_subquery()
    .label("roles"),
).where(_USER.c.id == bindparam("uid"))
_OWN_EMPLOYEES = select(_EMPLOYEES.c.id).where(
    _EMPLOYEES.c.org_id == bindparam("org_id"),
    _EMPLOYEES.c.user_id == bindparam("uid"),
    _EMPLOYEES.c.deleted == false(),
)
_MEMBERSHIPS = (
    select(_MEMBERSHIP.c.org_id, _MEMBERSHIP.c.roles, _ORGS.c.name)
    .join(_ORGS, _ORGS.c.id == _MEMBERSHIP.c.org_id)
    .where(_MEMBERSHIP.c.user_id == bindparam("uid"))
    .order_by(_ORGS.c.name)
)


def _caller(session: Session, claims: AccessClaims, org_id: str | None) -> Any:
    """The caller's account state and roles in ``org_id``; 401 unless the session is valid."""
    row = session.execute(
        _CALLER, {"uid": claims.user_id, "sid": claims.session_id, "org_id": org_id or ""}
    ).first()
    if row is None or row.disabled or row.revoked:
        raise unauthenticated("this session has ended; sign in again", code="invalid_token")
    if claims.issued_at < row.sessions_valid_after.timestamp():
        raise unauthenticated("this session has ended; sign in again", code="invalid_token")
    return row


def check_session(session: Session, claims: AccessClaims) -> None:
    """401 unless the account is active and the sign-in session is still valid."""
    _caller(session, claims, None)


def custom_roles(session: Session, names: list[str]) -> dict[str, list[str]]:
    """Permissions of the organization's custom roles among ``names`` (session must be scoped)."""
    wanted = [n for n in names if n not in BUILTIN_ROLES]
    if not wanted:
        return {}
    rows = session.execute(select(Role.name, Role.permissions).where(Role.name.in_(wanted)))
    return {name: list(perms or []) for name, perms in rows}


def resolve(session: Session, claims: AccessClaims, org_id: str | None) -> Principal:
    """The caller, checked against the store; with ``org_id``, their membership there.

    Not a member (or no such organization) → 404, never 403: it does not reveal that it exists.
    ``session`` must be scoped to ``org_id`` and the user.
    """
    caller = _caller(session, claims, org_id)
    principal = Principal(user_id=claims.user_id, session_id=claims.session_id, device_id=claims.device_id)
    if org_id is None:
        return principal
    roles = caller.roles
    if roles is None:
        raise ApiError(404, "not_found", "no such organization")
    role_list = [str(r) for r in roles]
    principal.org_id = org_id
    principal.roles = tuple(role_list)
    principal.permissions = permissions_for_roles(role_list, custom_roles(session, role_list))
    return principal


def memberships(session: Session, user_id: str, rescope: Any) -> list[dict[str, Any]]:
    """``[{org_id, org_name, roles, permissions}]`` of the user, by organization name.

    ``rescope(session, org_id)`` points the session at each organization in turn (custom roles
    are tenant rows); the session is left scoped to no organization.
    """
    rows = session.execute(_MEMBERSHIPS, {"uid": user_id}).all()
    found = []
    for org_id, roles, org_name in rows:
        role_list = [str(r) for r in roles or []]
        custom: dict[str, list[str]] = {}
        if any(r not in BUILTIN_ROLES for r in role_list):
            rescope(session, org_id)
            custom = custom_roles(session, role_list)
            rescope(session, None)
        found.append(
            {
                "org_id": org_id,
                "org_name": org_name,
                "roles": role_list,
                "permissions": sorted(permissions_for_roles(role_list, custom)),
            }
        )
    return found

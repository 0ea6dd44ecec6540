"""Who is calling: the user, their membership of the organization in the URL, their permissions.

Looked up in the database on every request (never trusted from the token), so a revoked role,
a disabled account, a password change or a logout takes effect at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, bindparam, exists, false, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from common.access import OwnerIds
from common.commands.rowaccess import RawStatement, raw_statement
from common.permissions import BUILTIN_ROLES, permissions_for_roles
from common.schema import AppUser, Employee, Membership, Organization, RefreshToken
from common.schema.base import table_of
from sync_server.auth.tokens import AccessClaims
from sync_server.errors import ApiError, unauthenticated
from sync_server.memberships import custom_roles
from sync_server.store import RawReads

SIGNED_OUT = "signed_out"  # the error code of a request from before the organization's sign-out


class NeedsSession(Exception):
    """The caller's rights need an ORM session to be read (custom roles) and none was given."""


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

    def owner_ids(self, db: Session | Connection | RawReads) -> OwnerIds:
        """The caller's user id and the employee records linked to it (for owner read rules)."""
        if self._owner is None:
            rows = _lookup(db, _OWN_EMPLOYEES, {"org_id": self.org_id or "", "uid": self.user_id})
            employee_ids = frozenset(employee_id for (employee_id,) in rows)
            self._owner = OwnerIds(user_id=self.user_id, employee_ids=employee_ids)
        return self._owner


_USER = table_of(AppUser)
_MEMBERSHIP = table_of(Membership)
_TOKENS = table_of(RefreshToken)
_ORGS = table_of(Organization)
_EMPLOYEES = table_of(Employee)

# Per-request lookups run on every authenticated request: statements built once, bound
# parameters only, each filtering on the organization and user explicitly (on PostgreSQL
# row-level security applies to them as well). They run through :func:`_lookup`.
_CALLER_COLUMNS = (
    _USER.c.disabled,
    _USER.c.sessions_valid_after,
    exists()
    .where(_TOKENS.c.family_id == bindparam("sid"), _TOKENS.c.revoked_at.is_not(None))
    .label("revoked"),
    _MEMBERSHIP.c.roles,
    _MEMBERSHIP.c.sessions_valid_after.label("org_sessions_valid_after"),
)
_CALLER_FROM = _USER.outerjoin(
    _MEMBERSHIP,
    and_(_MEMBERSHIP.c.user_id == _USER.c.id, _MEMBERSHIP.c.org_id == bindparam("org_id")),
)
_CALLER_WHERE = _USER.c.id == bindparam("uid")
_CALLER = select(*_CALLER_COLUMNS).select_from(_CALLER_FROM).where(_CALLER_WHERE)
_OWN_EMPLOYEE_FILTER = (
    _EMPLOYEES.c.org_id == bindparam("org_id"),
    _EMPLOYEES.c.user_id == bindparam("uid"),
    _EMPLOYEES.c.deleted == false(),
)
_OWN_EMPLOYEES = select(_EMPLOYEES.c.id).where(*_OWN_EMPLOYEE_FILTER)
_MEMBERSHIPS = (
    select(_MEMBERSHIP.c.org_id, _MEMBERSHIP.c.roles, _ORGS.c.name)
    .join(_ORGS, _ORGS.c.id == _MEMBERSHIP.c.org_id)
    .where(_MEMBERSHIP.c.user_id == bindparam("uid"))
    .order_by(_ORGS.c.name)
)


@lru_cache(maxsize=16)
def _compiled(
    stmt: Select[Any], dialect: Dialect
) -> tuple[RawStatement, tuple[Callable[[Any], Any] | None, ...]]:
    """``stmt`` compiled once for ``dialect``, with each column's conversion from its stored form."""
    converters = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in stmt.selected_columns
    )
    return raw_statement(stmt, dialect), converters


def _lookup(
    db: Session | Connection | RawReads, stmt: Select[Any], params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """The rows of one per-request lookup, in the session's transaction.

    Run on the DB-API cursor: SQLAlchemy's statement execution costs more than these indexed
    one-row queries themselves, on every authenticated request. The statements name the tables
    (no ORM entities), so the tenancy hook has nothing to add to them; they filter on the
    organization and user themselves.
    """
    connection = db if isinstance(db, Connection | RawReads) else db.connection()
    raw, converters = _compiled(stmt, connection.dialect)
    # ``params`` names every parameter of these statements (they bind no values of their own):
    # no need for SQLAlchemy to complete them.
    rows = raw.rows(connection.connection, raw.parameters(params, complete=False))
    return [
        tuple(
            value if convert is None else convert(value)
            for value, convert in zip(row, converters, strict=True)
        )
        for row in rows
    ]


@dataclass(frozen=True)
class _Caller:
    disabled: bool
    sessions_valid_after: datetime
    revoked: bool
    roles: list[str] | None
    org_sessions_valid_after: datetime | None


def _caller(db: Session | Connection | RawReads, claims: AccessClaims, org_id: str | None) -> _Caller:
    """The caller's account state and roles in ``org_id``; 401 unless the session is valid."""
    rows = _lookup(db, _CALLER, {"uid": claims.user_id, "sid": claims.session_id, "org_id": org_id or ""})
    return _checked(rows[0] if rows else None, claims)


def _checked(found: tuple[Any, ...] | None, claims: AccessClaims) -> _Caller:
    """The caller row ``found`` (``_CALLER``'s columns; ``None``: no such user); 401 unless the
    session is valid."""
    row = _Caller(*found) if found is not None else None
    if row is None or row.disabled or row.revoked:
        raise unauthenticated("this session has ended; sign in again", code="invalid_token")
    if claims.issued_at < row.sessions_valid_after.timestamp():
        raise unauthenticated("this session has ended; sign in again", code="invalid_token")
    return row


def check_session(session: Session, claims: AccessClaims) -> None:
    """401 unless the account is active and the sign-in session is still valid."""
    _caller(session, claims, None)


def resolve(
    db: Session | Connection | RawReads,
    claims: AccessClaims,
    org_id: str | None,
    orm: Callable[[], Session] | None = None,
) -> Principal:
    """The caller, checked against the store; with ``org_id``, their membership there.

    Not a member (or no such organization) → 404, never 403: it does not reveal that it exists.
    ``db`` must be scoped to ``org_id`` and the user; when it is a connection, ``orm()`` gives a
    session in its transaction, for the organization's custom roles (without ``orm``, a caller
    with custom roles raises :class:`NeedsSession`).
    """
    caller = _caller(db, claims, org_id)
    if org_id is None:
        return Principal(user_id=claims.user_id, session_id=claims.session_id, device_id=claims.device_id)
    return _member(caller, claims, org_id, db, orm)


def _member(
    caller: _Caller,
    claims: AccessClaims,
    org_id: str,
    db: Session | Connection | RawReads | None,
    orm: Callable[[], Session] | None,
) -> Principal:
    """:func:`resolve`'s answer for a checked caller row and an organization (``db`` is ``None``
    when there is no session to read custom roles through: :class:`NeedsSession`)."""
    principal = Principal(user_id=claims.user_id, session_id=claims.session_id, device_id=claims.device_id)
    roles = caller.roles
    if roles is None:
        raise ApiError(404, "not_found", "no such organization")
    signed_out = caller.org_sessions_valid_after
    if signed_out is not None and claims.auth_time < signed_out.timestamp():
        # The organization signed this member out; refreshing keeps the sign-in's auth_time, so
        # only signing in again (typing the password) gets past this. Other organizations are
        # not concerned.
        raise ApiError(
            403,
            SIGNED_OUT,
            "this organization signed you out; sign in again to continue",
            {"signed_out_at": signed_out.isoformat()},
        )
    role_list = [str(r) for r in roles]
    principal.org_id = org_id
    principal.roles = tuple(role_list)
    custom: dict[str, list[str]] = {}
    if any(r not in BUILTIN_ROLES for r in role_list):
        if isinstance(db, Session):
            custom = custom_roles(db, role_list)
        else:
            if orm is None:
                raise NeedsSession("custom roles are read through a session")
            custom = custom_roles(orm(), role_list)
    principal.permissions = permissions_for_roles(role_list, custom)
    return principal


def caller_statement(*columns: ColumnElement[Any]) -> Select[Any]:
    """One statement reading what :func:`resolve` and :meth:`Principal.owner_ids` read for an
    organization, and ``columns`` (scalar subqueries: the caller's organization's figures), in one
    snapshot: ``_CALLER``'s columns and ``columns`` on each row, then the id of one of the
    caller's employee records (as ``_OWN_EMPLOYEES`` finds them: one row each, a single row with
    ``None`` when there are none). No row: no such user. Parameters: ``uid``, ``sid``, ``org_id``
    and those of ``columns``. For :func:`resolve_rows` (:mod:`sync_server.noop_sync`)."""
    return (
        select(*_CALLER_COLUMNS, *columns, _EMPLOYEES.c.id)
        .select_from(_CALLER_FROM.outerjoin(_EMPLOYEES, and_(*_OWN_EMPLOYEE_FILTER)))
        .where(_CALLER_WHERE)
    )


def read_caller(reads: RawReads, stmt: Select[Any], params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of a :func:`caller_statement` (every parameter named in ``params``), converted."""
    return _lookup(reads, stmt, params)


def resolve_rows(
    rows: list[tuple[Any, ...]], claims: AccessClaims, org_id: str
) -> tuple[Principal, OwnerIds, tuple[Any, ...]]:
    """:func:`resolve` for ``org_id`` from the rows of :func:`caller_statement` (the same checks,
    the same answers), without a session: a caller with custom roles raises
    :class:`NeedsSession`. Also the caller's owner ids (:meth:`Principal.owner_ids`, filled in)
    and the values of the statement's own ``columns``."""
    caller = _checked(rows[0][:_CALLER_WIDTH] if rows else None, claims)
    principal = _member(caller, claims, org_id, None, None)
    employee_ids = frozenset(row[-1] for row in rows if row[-1] is not None)
    owner = principal._owner = OwnerIds(user_id=claims.user_id, employee_ids=employee_ids)
    return principal, owner, rows[0][_CALLER_WIDTH:-1]


_CALLER_WIDTH = len(_CALLER_COLUMNS)


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

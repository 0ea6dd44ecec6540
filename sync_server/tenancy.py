"""Tenant isolation of ORM statements: every ORM statement of a server session is scoped to its org.

A server session carries the organization it works for in ``session.info["org_id"]``. The
``do_orm_execute`` hook adds ``org_id == <org>`` criteria (``with_loader_criteria``) for every
tenant class to every SELECT, UPDATE and DELETE, stamps INSERTs that name no organization and
refuses INSERTs and UPDATEs that name another one. A session without an organization (sign-in,
token refresh) may touch only the global tables and the caller's own memberships.

Not every statement passes this hook: the hot paths run statements compiled once on the DB-API
cursor (:class:`common.commands.rowaccess.RawStatement` for a command's row lookups and a pull's
pages, ``rowaccess.insert_statement``/``update_statement``, ``sync_server.bulk``), or built once
on a table and run on the session's connection (the counters, the processed-command look-up and
the audit chain's head that every slice of a push reads and writes, ``sync_server.writes`` and
``sync_server.audit``; document numbers; a pull's and the retention job's counters), each naming
``org_id`` as a bound parameter it is given by its caller. A push's slice checks first that its
session belongs to the organization it writes (``sync_server.writes.lock_organization``). On
PostgreSQL, row-level security enforces the rule a second time for every statement, these
included (see :mod:`sync_server.pg_security`), so one that slipped past both still sees nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql.dml import Insert, Update, ValuesBase

from common.schema import (
    Base,
    JournalLine,
    Membership,
    TenantRow,
)
from common.schema.base import table_of


def _scoped_models() -> tuple[type[Any], ...]:
    """Every mapped class keyed by organization that is not a ``TenantRow`` (whose criteria
    cover its subclasses): the server's bookkeeping (audit events, change log, counters…), the
    journal's balances and the views over tenant tables (journal lines: revision 0019). Found
    from the mappers, so that a new such table cannot be left out."""
    found = []
    for registry in (Base.registry, JournalLine.registry):
        for mapper in registry.mappers:
            model = mapper.class_
            if not issubclass(model, TenantRow) and "org_id" in table_of(model).c:
                found.append(model)
    return tuple(found)


# Tables a session without an organization may use (global, or filtered by the caller's user).
_GLOBAL_OK = {"app_user", "refresh_token", "rate_limit_bucket", "organization", "membership"}


class TenantScopeError(RuntimeError):
    """A statement tried to cross from one organization into another (a bug, never user input)."""


def tenant_tables() -> frozenset[str]:
    """Names of every table (and view) whose rows belong to one organization (they have
    ``org_id``)."""
    tables = frozenset(t.name for t in Base.metadata.sorted_tables if "org_id" in t.c)
    return tables | {table_of(JournalLine).name}


TENANT_TABLES = tenant_tables()
_BOOKKEEPING = _scoped_models()


def _tables_of(state: ORMExecuteState) -> set[str]:
    names: set[str] = set()
    for mapper in state.all_mappers:
        for table in mapper.tables:
            if isinstance(table, Table):
                names.add(table.name)
    return names


def _value_of(param: Any) -> Any:
    return getattr(param, "value", param)


def _check_dml_values(state: ORMExecuteState, org_id: str) -> None:
    """Stamp INSERTs without ``org_id``; refuse INSERT/UPDATE values that name another org."""
    stmt = state.statement
    assert isinstance(stmt, ValuesBase)
    values: dict[Any, Any] = dict(getattr(stmt, "_values", None) or {})
    named = {getattr(key, "key", key): _value_of(param) for key, param in values.items()}
    params: Any = state.parameters
    rows: list[Any] = params if isinstance(params, list) else [params] if params else []
    for row in rows:
        if "org_id" in row and row["org_id"] != org_id:
            raise TenantScopeError(f"a statement of organization {org_id} named organization {row['org_id']}")
    if "org_id" in named:
        if named["org_id"] != org_id:
            raise TenantScopeError(
                f"a statement of organization {org_id} named organization {named['org_id']}"
            )
        return
    if isinstance(stmt, Insert):
        if rows and all("org_id" in row for row in rows):
            return
        if rows and not values:
            for row in rows:
                row.setdefault("org_id", org_id)
            return
        state.statement = stmt.values(org_id=org_id)
    elif isinstance(stmt, Update):
        return


def _scope(state: ORMExecuteState) -> None:
    if state.is_column_load or state.is_relationship_load:
        return
    info = state.session.info
    if info.get("unscoped"):
        return  # administrative session (migrations, CLI maintenance), never a request
    tables = _tables_of(state) & TENANT_TABLES
    if not tables:
        return
    org_id = info.get("org_id")
    if org_id is None:
        outside = tables - _GLOBAL_OK
        if outside:
            raise TenantScopeError(
                f"{', '.join(sorted(outside))} used by a session that belongs to no organization"
            )
        if "membership" in tables:
            user_id = info.get("user_id")
            if user_id is None:
                raise TenantScopeError("memberships read without a user or an organization")
            state.statement = state.statement.options(
                with_loader_criteria(Membership, lambda cls: cls.user_id == user_id, include_aliases=True)
            )
        return
    if state.is_insert or state.is_update:
        _check_dml_values(state, org_id)
    if state.is_insert:
        return
    options = [with_loader_criteria(TenantRow, lambda cls: cls.org_id == org_id, include_aliases=True)]
    options.extend(
        with_loader_criteria(model, lambda cls: cls.org_id == org_id, include_aliases=True)
        for model in _BOOKKEEPING
        if table_of(model).name in tables
    )
    state.statement = state.statement.options(*options)


def install(session_class: type[Session] | Any) -> None:
    """Attach the tenant hook to a ``Session`` class or ``sessionmaker``."""
    event.listen(session_class, "do_orm_execute", _scope)

"""PostgreSQL: the non-owner application role, its grants, and row-level security (DESIGN §7).

``ops-server init`` runs :func:`prepare` with a URL whose role owns the schema and may create
roles. Every request transaction then runs ``SET LOCAL ROLE <app role>``: a role that owns
nothing, cannot bypass RLS, and may not UPDATE or DELETE audit events.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, Engine, text

from sync_server.tenancy import TENANT_TABLES

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
ORG = "current_setting('app.org_id', true)"
USER = "current_setting('app.user_id', true)"


def _create_role(connection: Connection, role: str) -> None:
    # Roles are cluster-wide: several databases (or test runs) may race to create it.
    connection.execute(
        text(
            f"""
            DO $$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                    CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
                END IF;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$
            """
        )
    )


def ensure_row_level_security(connection: Connection) -> list[str]:
    """Give every tenant table that lacks it ENABLE + FORCE RLS and the tenant policy, and every
    tenant view that lacks it ``security_invoker``.

    Migration 0002 does this for the tables that existed then; this catches tables added by later
    revisions. Returns the tables it changed.
    """
    rows = connection.execute(
        text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname "
            "AND p.schemaname = current_schema() AND p.policyname = 'tenant_isolation') "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        )
    ).all()
    changed = []
    for name, enabled, forced, has_policy in rows:
        if name not in TENANT_TABLES or (enabled and forced and has_policy):
            continue
        connection.execute(text(f'ALTER TABLE "{name}" ENABLE ROW LEVEL SECURITY'))
        connection.execute(text(f'ALTER TABLE "{name}" FORCE ROW LEVEL SECURITY'))
        if not has_policy:
            connection.execute(
                text(
                    f'CREATE POLICY tenant_isolation ON "{name}" USING (org_id = {ORG}) '
                    f"WITH CHECK (org_id = {ORG})"
                )
            )
        changed.append(name)
    # A tenant view has no policy of its own: it must read its tables as its reader
    # (security_invoker, PostgreSQL 15), never as its owner, who may bypass their policies.
    views = connection.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'v' "
            "AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)"
        )
    ).scalars()
    for name in views:
        if name in TENANT_TABLES:
            connection.execute(text(f'ALTER VIEW "{name}" SET (security_invoker = true)'))
            changed.append(name)
    return changed


def prepare(engine: Engine, role: str) -> None:
    """Create the application role if needed and grant it exactly what requests need."""
    if not _ROLE_NAME.match(role):
        raise ValueError(f"{role!r} is not a valid PostgreSQL role name")
    with engine.begin() as connection:
        _create_role(connection, role)
    with engine.begin() as connection:
        ensure_row_level_security(connection)
        is_super = connection.execute(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar()
        if not is_super:
            # The owner must be a member of the app role to SET ROLE to it.
            connection.execute(text(f"GRANT {role} TO current_user"))
        connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        connection.execute(
            text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        )
        connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"))
        connection.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM {role}"))
        connection.execute(text(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role}"))

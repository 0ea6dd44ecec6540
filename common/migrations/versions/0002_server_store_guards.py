"""server store guards: append-only audit trail, PostgreSQL row-level security

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 18:10:00

SQLite: triggers refuse UPDATE and DELETE on ``audit_event``.
PostgreSQL: a trigger refuses UPDATE, DELETE and TRUNCATE on ``audit_event``; every table with
an ``org_id`` column gets ENABLE + FORCE ROW LEVEL SECURITY and a policy that shows and accepts
only rows of the organization set with ``SET LOCAL app.org_id`` (memberships are also visible to
their own user, for sign-in). ``organization`` gets RLS without FORCE, so its owner (the
``ops-server`` maintenance commands) can look organizations up by name; the application role
sees only its organization and the caller's own. The application role and its grants are made by
``ops-server init`` (sync_server.pg_security), not here: roles are cluster-wide.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORG = "current_setting('app.org_id', true)"
USER = "current_setting('app.user_id', true)"


def _tenant_tables(bind: sa.engine.Connection) -> list[str]:
    rows = bind.execute(
        sa.text(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_name = 'org_id' ORDER BY table_name"
        )
    )
    return [row[0] for row in rows]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{action.lower()} BEFORE {action} ON audit_event "
                "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
            )
        return
    if bind.dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION ops_refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION ops_refuse_audit_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION ops_refuse_audit_change()"
    )
    for table in _tenant_tables(bind):
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        using = f"org_id = {ORG}"
        if table == "membership":
            using = f"({using}) OR user_id = {USER}"
        op.execute(f'CREATE POLICY tenant_isolation ON "{table}" USING ({using}) WITH CHECK (org_id = {ORG})')
    op.execute("ALTER TABLE organization ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON organization USING (id = {ORG} OR id IN "
        f"(SELECT m.org_id FROM membership m WHERE m.user_id = {USER})) WITH CHECK (id = {ORG})"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
        return
    if bind.dialect.name != "postgresql":
        return
    for table in [*_tenant_tables(bind), "organization"]:
        op.execute(f'DROP POLICY IF EXISTS tenant_isolation ON "{table}"')
        op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
    op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
    op.execute("DROP FUNCTION IF EXISTS ops_refuse_audit_change()")

"""privacy: per-subject audit keys, retention schedule, policy versions, request due dates

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:00:00

New tables: ``subject_key`` (the key that encrypts one data subject's personal values in the
audit trail; erasure sets it to NULL), ``retention_rule`` (an organization's retention period
per data type), ``policy_version`` and ``policy_acknowledgement`` (global). New columns: a
supplier's ``sole_trader`` flag (its name and address are then personal data), a data subject
request's ``due_at``, ``verification`` and ``opened_by``, a user's ``erased_at`` and
``email_opt_out``. ``SCHEMA_VERSION`` 5: suppliers and requests carry new fields.

Audit events written before this revision hold personal values in plain text; they cannot be
rewritten (the trail is append-only), so readers show ``[erased]`` for the personal fields of
an erased subject's old events (``sync_server.subject_keys``).

PostgreSQL: the new tenant tables get ENABLE + FORCE row-level security and the tenant policy
of revision 0002, with the grants the application role holds on ``account``; the global tables
get those it holds on ``app_user``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import common.schema.types

revision: str = "0010"
down_revision: str | None = "0009"
# The SCHEMA_VERSION of the sync handshake from this revision on (common/schema/__init__.py).
sync_schema_version = 5
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORG = "current_setting('app.org_id', true)"
TENANT_TABLES = ("subject_key", "retention_rule")
GLOBAL_TABLES = ("policy_version", "policy_acknowledgement")


def _grants(bind: sa.engine.Connection, table: str) -> list[tuple[str, str]]:
    rows = bind.execute(
        sa.text(
            "SELECT grantee, privilege_type FROM information_schema.role_table_grants "
            "WHERE table_schema = current_schema() AND table_name = :table "
            "AND grantee <> current_user ORDER BY grantee, privilege_type"
        ),
        {"table": table},
    ).all()
    return [(str(grantee), str(privilege)) for grantee, privilege in rows]


def _grant(table: str, grants: list[tuple[str, str]]) -> None:
    for grantee, privilege in grants:
        to = "PUBLIC" if grantee == "PUBLIC" else f'"{grantee}"'
        op.execute(f'GRANT {privilege} ON "{table}" TO {to}')


def _postgres_guards(bind: sa.engine.Connection) -> None:
    tenant_grants = _grants(bind, "account")
    for table in TENANT_TABLES:
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        op.execute(
            f'CREATE POLICY tenant_isolation ON "{table}" USING (org_id = {ORG}) WITH CHECK (org_id = {ORG})'
        )
        _grant(table, tenant_grants)
    global_grants = _grants(bind, "app_user")
    for table in GLOBAL_TABLES:
        _grant(table, global_grants)


def upgrade() -> None:
    # fmt: off
    op.create_table('subject_key',
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(length=128), nullable=True),
    sa.Column('created_at', common.schema.types.UTCDateTime(length=40), nullable=False),
    sa.Column('erased_at', common.schema.types.UTCDateTime(length=40), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_subject_key_org_id_organization')),
    sa.PrimaryKeyConstraint('org_id', 'subject_type', 'subject_id', name=op.f('pk_subject_key'))
    )
    op.create_table('retention_rule',
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('data_type', sa.String(length=40), nullable=False),
    sa.Column('period_days', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('legal_basis', sa.String(length=500), nullable=False),
    sa.Column('updated_at', common.schema.types.UTCDateTime(length=40), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_retention_rule_org_id_organization')),
    sa.PrimaryKeyConstraint('org_id', 'data_type', name=op.f('pk_retention_rule'))
    )
    op.create_table('policy_version',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('summary', sa.String(length=2000), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('published_at', common.schema.types.UTCDateTime(length=40), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_policy_version'))
    )
    op.create_table('policy_acknowledgement',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('acknowledged_at', common.schema.types.UTCDateTime(length=40), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_policy_acknowledgement_user_id_app_user')),
    sa.PrimaryKeyConstraint('user_id', 'version', name=op.f('pk_policy_acknowledgement'))
    )
    # Plain ADD COLUMN: a batch copy would drop tables that others reference.
    op.add_column('supplier', sa.Column('sole_trader', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('data_subject_request', sa.Column('due_at', common.schema.types.UTCDateTime(length=40), nullable=True))
    op.add_column('data_subject_request', sa.Column('verification', sa.String(length=500), nullable=True))
    op.add_column('data_subject_request', sa.Column('opened_by', sa.String(length=36), nullable=True))
    op.add_column('app_user', sa.Column('erased_at', common.schema.types.UTCDateTime(length=40), nullable=True))
    op.add_column('app_user', sa.Column('email_opt_out', sa.Boolean(), nullable=False, server_default=sa.false()))
    # fmt: on
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _postgres_guards(bind)


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite ≥ 3.35): a batch copy of ``supplier`` or ``app_user`` would drop
    # a table other tables reference.
    for table, column in (
        ("app_user", "email_opt_out"),
        ("app_user", "erased_at"),
        ("data_subject_request", "opened_by"),
        ("data_subject_request", "verification"),
        ("data_subject_request", "due_at"),
        ("supplier", "sole_trader"),
    ):
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    op.drop_table("policy_acknowledgement")
    op.drop_table("policy_version")
    op.drop_table("retention_rule")
    op.drop_table("subject_key")

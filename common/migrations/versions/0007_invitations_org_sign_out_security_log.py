"""invitations, per-organization sign-out, security log

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00

- ``invitation``: an organization invites an e-mail address; the token is stored hashed.
- ``membership.sessions_valid_after``: the organization signed the member out; sign-ins from
  before it no longer reach the organization.
- ``refresh_token.signed_in_at`` (when the password was typed, kept through rotations; filled in
  from the oldest token of each family) and ``refresh_token.device_name``.
- ``security_log``: refused requests counted per (organization, user, endpoint, reason).

PostgreSQL: both new tables get ENABLE + FORCE row-level security and the tenant policy of
revision 0002, and the grants the application role holds on ``membership`` (made by
``ops-server init``) are repeated on them, so a store migrated by any route serves them at once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import common.schema.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORG = "current_setting('app.org_id', true)"
NEW_TENANT_TABLES = ("invitation", "security_log")


def _create_tables() -> None:
    op.create_table(
        "invitation",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", common.schema.types.UTCDateTime(length=40), nullable=False),
        sa.Column("expires_at", common.schema.types.UTCDateTime(length=40), nullable=False),
        sa.Column("accepted_at", common.schema.types.UTCDateTime(length=40), nullable=True),
        sa.Column("accepted_by", sa.String(length=36), nullable=True),
        sa.Column("revoked_at", common.schema.types.UTCDateTime(length=40), nullable=True),
        sa.Column("revoked_by", sa.String(length=36), nullable=True),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organization.id"], name=op.f("fk_invitation_org_id_organization")),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_invitation")),
        sa.UniqueConstraint("org_id", "token_hash", name=op.f("uq_invitation_org_id_token_hash")),
    )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index("ix_invitation_email", ["org_id", "email"], unique=False)
    op.create_table(
        "security_log",
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", common.schema.types.UTCDateTime(length=40), nullable=False),
        sa.Column("last_seen", common.schema.types.UTCDateTime(length=40), nullable=False),
        sa.Column("last_target", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("org_id", "user_id", "action", "reason", name=op.f("pk_security_log")),
    )


def _add_columns() -> None:
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sessions_valid_after", common.schema.types.UTCDateTime(length=40), nullable=True)
        )
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signed_in_at", common.schema.types.UTCDateTime(length=40), nullable=True))
        batch_op.add_column(sa.Column("device_name", sa.String(length=200), nullable=True))
    # A family's sign-in is its oldest token (refresh_token has no org_id: no row-level security).
    op.execute(
        "UPDATE refresh_token SET signed_in_at = (SELECT min(r.issued_at) FROM refresh_token r "
        "WHERE r.family_id = refresh_token.family_id)"
    )


def _postgres_guards(bind: sa.engine.Connection) -> None:
    grants = bind.execute(
        sa.text(
            "SELECT grantee, privilege_type FROM information_schema.role_table_grants "
            "WHERE table_schema = current_schema() AND table_name = 'membership' "
            "AND grantee <> current_user ORDER BY grantee, privilege_type"
        )
    ).all()
    for table in NEW_TENANT_TABLES:
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        op.execute(
            f'CREATE POLICY tenant_isolation ON "{table}" USING (org_id = {ORG}) WITH CHECK (org_id = {ORG})'
        )
        for grantee, privilege in grants:
            to = "PUBLIC" if grantee == "PUBLIC" else f'"{grantee}"'
            op.execute(f'GRANT {privilege} ON "{table}" TO {to}')


def upgrade() -> None:
    bind = op.get_bind()
    _create_tables()
    _add_columns()
    if bind.dialect.name == "postgresql":
        _postgres_guards(bind)


def downgrade() -> None:
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.drop_column("device_name")
        batch_op.drop_column("signed_in_at")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_column("sessions_valid_after")
    op.drop_table("security_log")
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index("ix_invitation_email")
    op.drop_table("invitation")

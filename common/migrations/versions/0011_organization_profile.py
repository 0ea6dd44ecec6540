"""organization profile: the letterhead, tax id and bank account of each organization

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 18:00:00

New table ``organization_profile``: one synced row per organization (its id is the
organization's id) with the legal name, postal address, tax (VAT) id, e-mail, phone, IBAN and
BIC that printed documents show and SEPA files pay from (``finance.set_organization_profile``).
``SCHEMA_VERSION`` 6: a new entity syncs to every member.

PostgreSQL: ENABLE + FORCE row-level security and the tenant policy of revision 0002, with the
grants the application role holds on ``account``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import common.schema.types

revision: str = "0011"
down_revision: str | None = "0010"
# The SCHEMA_VERSION of the sync handshake from this revision on (common/schema/__init__.py).
sync_schema_version = 6
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORG = "current_setting('app.org_id', true)"
TABLE = "organization_profile"


def _postgres_guards(bind: sa.engine.Connection) -> None:
    grants = bind.execute(
        sa.text(
            "SELECT grantee, privilege_type FROM information_schema.role_table_grants "
            "WHERE table_schema = current_schema() AND table_name = 'account' "
            "AND grantee <> current_user ORDER BY grantee, privilege_type"
        )
    ).all()
    op.execute(f'ALTER TABLE "{TABLE}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{TABLE}" FORCE ROW LEVEL SECURITY')
    op.execute(
        f'CREATE POLICY tenant_isolation ON "{TABLE}" USING (org_id = {ORG}) WITH CHECK (org_id = {ORG})'
    )
    for grantee, privilege in grants:
        to = "PUBLIC" if grantee == "PUBLIC" else f'"{grantee}"'
        op.execute(f'GRANT {privilege} ON "{TABLE}" TO {to}')


def upgrade() -> None:
    # fmt: off
    op.create_table('organization_profile',
    sa.Column('legal_name', sa.String(length=200), nullable=True),
    sa.Column('address_line1', sa.String(length=200), nullable=True),
    sa.Column('address_line2', sa.String(length=200), nullable=True),
    sa.Column('postcode', sa.String(length=20), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('tax_id', sa.String(length=50), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=50), nullable=True),
    sa.Column('iban', sa.String(length=34), nullable=True),
    sa.Column('bic', sa.String(length=11), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', common.schema.types.UTCDateTime(length=40), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_organization_profile_org_id_organization')),
    sa.PrimaryKeyConstraint('org_id', 'id', name=op.f('pk_organization_profile'))
    )
    # fmt: on
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _postgres_guards(bind)


def downgrade() -> None:
    op.drop_table("organization_profile")

"""payroll: pay components, the run life cycle (draft, approved, posted, paid, reversed), payslip proration, leave types, project rates and billed time

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:00:00

New tenant tables ``pay_component`` (earnings, deductions and employer contributions of an
organization) and ``leave_type`` (yearly entitlements). New columns: a leave request's type; a project's budget hours and hourly rate; the invoice
line that billed a timesheet entry; a payroll run's totals of deductions, employer contributions and net
pay, its approval and posting times and the reversing run links; a payslip's employer
contributions and its paid and period working days. Runs made before were computed and posted at
once ("completed"): they become ``posted``, with their totals summed from their payslips.
``SCHEMA_VERSION`` 4: every client downloads a fresh copy (the runs changed state).

PostgreSQL: each new table gets ENABLE + FORCE row-level security and the tenant policy of
revision 0002, and the grants on ``account`` are repeated on it, as in revision 0008.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import common.schema.types

revision: str = "0009"
down_revision: str | None = "0008"
# The SCHEMA_VERSION of the sync handshake from this revision on (common/schema/__init__.py).
sync_schema_version = 4
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORG = "current_setting('app.org_id', true)"
NEW_TABLES = ("pay_component", "leave_type")


def _postgres_guards(bind: sa.engine.Connection) -> None:
    grants = bind.execute(
        sa.text(
            "SELECT grantee, privilege_type FROM information_schema.role_table_grants "
            "WHERE table_schema = current_schema() AND table_name = 'account' "
            "AND grantee <> current_user ORDER BY grantee, privilege_type"
        )
    ).all()
    for table in NEW_TABLES:
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        op.execute(
            f'CREATE POLICY tenant_isolation ON "{table}" USING (org_id = {ORG}) WITH CHECK (org_id = {ORG})'
        )
        for grantee, privilege in grants:
            to = "PUBLIC" if grantee == "PUBLIC" else f'"{grantee}"'
            op.execute(f'GRANT {privilege} ON "{table}" TO {to}')


def upgrade() -> None:
    # fmt: off
    op.create_table('pay_component',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('rate', common.schema.types.Quantity(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('cap', sa.BigInteger(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', common.schema.types.UTCDateTime(length=40), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_pay_component_org_id_organization')),
    sa.PrimaryKeyConstraint('org_id', 'id', name=op.f('pk_pay_component')),
    sa.UniqueConstraint('org_id', 'code', name=op.f('uq_pay_component_org_id_code'))
    )
    op.create_table('leave_type',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('yearly_entitlement', common.schema.types.Quantity(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', common.schema.types.UTCDateTime(length=40), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_leave_type_org_id_organization')),
    sa.PrimaryKeyConstraint('org_id', 'id', name=op.f('pk_leave_type')),
    sa.UniqueConstraint('org_id', 'code', name=op.f('uq_leave_type_org_id_code'))
    )
    with op.batch_alter_table('leave_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leave_type_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_leave_request_org_id_leave_type_id_leave_type'), 'leave_type', ['org_id', 'leave_type_id'], ['org_id', 'id'])

    with op.batch_alter_table('payroll_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('total_deductions', sa.BigInteger(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('total_employer', sa.BigInteger(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('total_net', sa.BigInteger(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('approved_at', common.schema.types.UTCDateTime(length=40), nullable=True))
        batch_op.add_column(sa.Column('posted_at', common.schema.types.UTCDateTime(length=40), nullable=True))
        batch_op.add_column(sa.Column('reverses_run_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('reversed_by_run_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_payroll_run_org_id_reverses_run_id_payroll_run'), 'payroll_run', ['org_id', 'reverses_run_id'], ['org_id', 'id'])

    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.add_column(sa.Column('budget_hours', common.schema.types.Quantity(), nullable=True))
        batch_op.add_column(sa.Column('hourly_rate', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('timesheet_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invoice_line_id', sa.String(length=36), nullable=True))

    with op.batch_alter_table('payslip', schema=None) as batch_op:
        batch_op.add_column(sa.Column('employer_contributions', sa.BigInteger(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('paid_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('period_days', sa.Integer(), nullable=True))
    # fmt: on
    op.execute(
        "UPDATE payroll_run SET status = 'posted', posted_at = completed_at, "
        "total_deductions = COALESCE((SELECT SUM(p.deductions) FROM payslip p WHERE p.org_id = payroll_run.org_id "
        "AND p.payroll_run_id = payroll_run.id AND p.deleted = false), 0), "
        "total_net = COALESCE((SELECT SUM(p.net) FROM payslip p WHERE p.org_id = payroll_run.org_id "
        "AND p.payroll_run_id = payroll_run.id AND p.deleted = false), 0) "
        "WHERE status = 'completed'"
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _postgres_guards(bind)


def downgrade() -> None:
    op.execute("UPDATE payroll_run SET status = 'completed' WHERE status IN ('posted', 'approved', 'draft')")
    # fmt: off
    with op.batch_alter_table('payslip', schema=None) as batch_op:
        batch_op.drop_column('period_days')
        batch_op.drop_column('paid_days')
        batch_op.drop_column('employer_contributions')

    with op.batch_alter_table('payroll_run', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payroll_run_org_id_reverses_run_id_payroll_run'), type_='foreignkey')
        batch_op.drop_column('reversed_by_run_id')
        batch_op.drop_column('reverses_run_id')
        batch_op.drop_column('posted_at')
        batch_op.drop_column('approved_at')
        batch_op.drop_column('total_net')
        batch_op.drop_column('total_employer')
        batch_op.drop_column('total_deductions')

    with op.batch_alter_table('timesheet_entry', schema=None) as batch_op:
        batch_op.drop_column('invoice_line_id')

    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_column('hourly_rate')
        batch_op.drop_column('budget_hours')

    with op.batch_alter_table('leave_request', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_leave_request_org_id_leave_type_id_leave_type'), type_='foreignkey')
        batch_op.drop_column('leave_type_id')

    op.drop_table('leave_type')
    op.drop_table('pay_component')
    # fmt: on

"""books: ledger, account mapping, moving average cost, credit notes, supplier bills and payments

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:00:00

New tenant tables: ``ledger`` (the ledger currency), ``account_mapping`` (posting role →
account), ``product_cost`` (moving average cost per product), ``credit_note`` and its lines,
``supplier_bill`` and its lines, ``supplier_payment``. New columns: the accounts of a tax rate,
what was credited on an invoice and its exchange rate, a payment's rate and the part kept as the
customer's credit, GRNI amounts on purchase order lines, the value of a stock move, a payroll
run's rate and payment date. Columns added NOT NULL to tables that may hold rows start at 0.

Nothing is posted for documents that existed before: organizations get their chart and posting
settings from ``finance.set_up_books`` (new organizations at creation). ``SCHEMA_VERSION`` 3
makes every pull cursor issued before answer ``resync_required``: the chart, the periods and the
settings are now read by sales, inventory and HR too, so every client downloads a fresh copy.

PostgreSQL: each new table gets ENABLE + FORCE row-level security and the tenant policy of
revision 0002, and the grants on ``account`` (the application role's, made by ``ops-server
init``) are repeated on it, so a store migrated by any route serves it at once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import common.schema.types

revision: str = "0008"
down_revision: str | None = "0007"
# The SCHEMA_VERSION of the sync handshake from this revision on (common/schema/__init__.py).
sync_schema_version = 3
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORG = "current_setting('app.org_id', true)"
NEW_TABLES = (
    "ledger",
    "account_mapping",
    "product_cost",
    "supplier_bill",
    "credit_note",
    "supplier_bill_line",
    "supplier_payment",
    "credit_note_line",
)


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
    op.create_table('ledger',
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', common.schema.types.UTCDateTime(length=40), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_ledger_org_id_organization')),
    sa.PrimaryKeyConstraint('org_id', 'id', name=op.f('pk_ledger'))
    )
    op.create_table('account_mapping',
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', common.schema.types.UTCDateTime(length=40), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'account_id'], ['account.org_id', 'account.id'], name=op.f('fk_account_mapping_org_id_account_id_account')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_account_mapping_org_id_organization')),
    sa.PrimaryKeyConstraint('org_id', 'id', name=op.f('pk_account_mapping')),
    sa.UniqueConstraint('org_id', 'role', name=op.f('uq_account_mapping_org_id_role'))
    )
    op.create_table('product_cost',
    sa.Column('quantity', common.schema.types.Quantity(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('average_cost', common.schema.types.Quantity(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', common.schema.types.UTCDateTime(length=40), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'id'], ['product.org_id', 'product.id'], name=op.f('fk_product_cost_org_id_id_product')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_product_cost_org_id_organization')),
    sa.PrimaryKeyConstraint('org_id', 'id', name=op.f('pk_product_cost'))
    )
    op.create_table('supplier_bill',
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('supplier_reference', sa.String(length=100), nullable=True),
    sa.Column('supplier_id', sa.String(length=36), nullable=False),
    sa.Column('purchase_order_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('bill_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('exchange_rate', common.schema.types.Quantity(), nullable=False),
    sa.Column('subtotal', sa.BigInteger(), nullable=False),
    sa.Column('tax_total', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('amount_paid', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', common.schema.types.UTCDateTime(length=40), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'purchase_order_id'], ['purchase_order.org_id', 'purchase_order.id'], name=op.f('fk_supplier_bill_org_id_purchase_order_id_purchase_order')),
    sa.ForeignKeyConstraint(['org_id', 'supplier_id'], ['supplier.org_id', 'supplier.id'], name=op.f('fk_supplier_bill_org_id_supplier_id_supplier')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_supplier_bill_org_id_organization')),
    sa.PrimaryKeyConstraint('org_id', 'id', name=op.f('pk_supplier_bill')),
    sa.UniqueConstraint('org_id', 'number', name=op.f('uq_supplier_bill_org_id_number'))
    )
    with op.batch_alter_table('supplier_bill', schema=None) as batch_op:
        batch_op.create_index('ix_supplier_bill_supplier', ['org_id', 'supplier_id'], unique=False)

    op.create_table('credit_note',
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('invoice_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('exchange_rate', common.schema.types.Quantity(), nullable=False),
    sa.Column('subtotal', sa.BigInteger(), nullable=False),
    sa.Column('tax_total', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', common.schema.types.UTCDateTime(length=40), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'customer_id'], ['customer.org_id', 'customer.id'], name=op.f('fk_credit_note_org_id_customer_id_customer')),
    sa.ForeignKeyConstraint(['org_id', 'invoice_id'], ['invoice.org_id', 'invoice.id'], name=op.f('fk_credit_note_org_id_invoice_id_invoice')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_credit_note_org_id_organization')),
    sa.PrimaryKeyConstraint('org_id', 'id', name=op.f('pk_credit_note')),
    sa.UniqueConstraint('org_id', 'number', name=op.f('uq_credit_note_org_id_number'))
    )
    with op.batch_alter_table('credit_note', schema=None) as batch_op:
        batch_op.create_index('ix_credit_note_invoice', ['org_id', 'invoice_id'], unique=False)

    op.create_table('supplier_bill_line',
    sa.Column('supplier_bill_id', sa.String(length=36), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('purchase_order_line_id', sa.String(length=36), nullable=True),
    sa.Column('product_id', sa.String(length=36), nullable=True),
    sa.Column('account_id', sa.String(length=36), nullable=True),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('quantity', common.schema.types.Quantity(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('tax_rate_id', sa.String(length=36), nullable=True),
    sa.Column('tax_amount', sa.BigInteger(), nullable=False),
    sa.Column('line_total', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', common.schema.types.UTCDateTime(length=40), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'account_id'], ['account.org_id', 'account.id'], name=op.f('fk_supplier_bill_line_org_id_account_id_account')),
    sa.ForeignKeyConstraint(['org_id', 'product_id'], ['product.org_id', 'product.id'], name=op.f('fk_supplier_bill_line_org_id_product_id_product')),
    sa.ForeignKeyConstraint(['org_id', 'purchase_order_line_id'], ['purchase_order_line.org_id', 'purchase_order_line.id'], name=op.f('fk_supplier_bill_line_org_id_purchase_order_line_id_purchase_order_line')),
    sa.ForeignKeyConstraint(['org_id', 'supplier_bill_id'], ['supplier_bill.org_id', 'supplier_bill.id'], name=op.f('fk_supplier_bill_line_org_id_supplier_bill_id_supplier_bill')),
    sa.ForeignKeyConstraint(['org_id', 'tax_rate_id'], ['tax_rate.org_id', 'tax_rate.id'], name=op.f('fk_supplier_bill_line_org_id_tax_rate_id_tax_rate')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_supplier_bill_line_org_id_organization')),
    sa.PrimaryKeyConstraint('org_id', 'id', name=op.f('pk_supplier_bill_line'))
    )
    with op.batch_alter_table('supplier_bill_line', schema=None) as batch_op:
        batch_op.create_index('ix_supplier_bill_line_bill', ['org_id', 'supplier_bill_id'], unique=False)

    op.create_table('supplier_payment',
    sa.Column('supplier_bill_id', sa.String(length=36), nullable=False),
    sa.Column('supplier_id', sa.String(length=36), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('exchange_rate', common.schema.types.Quantity(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', common.schema.types.UTCDateTime(length=40), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'supplier_bill_id'], ['supplier_bill.org_id', 'supplier_bill.id'], name=op.f('fk_supplier_payment_org_id_supplier_bill_id_supplier_bill')),
    sa.ForeignKeyConstraint(['org_id', 'supplier_id'], ['supplier.org_id', 'supplier.id'], name=op.f('fk_supplier_payment_org_id_supplier_id_supplier')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_supplier_payment_org_id_organization')),
    sa.PrimaryKeyConstraint('org_id', 'id', name=op.f('pk_supplier_payment'))
    )
    op.create_table('credit_note_line',
    sa.Column('credit_note_id', sa.String(length=36), nullable=False),
    sa.Column('invoice_line_id', sa.String(length=36), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('quantity', common.schema.types.Quantity(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('tax_rate_id', sa.String(length=36), nullable=True),
    sa.Column('tax_amount', sa.BigInteger(), nullable=False),
    sa.Column('line_total', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', common.schema.types.UTCDateTime(length=40), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'credit_note_id'], ['credit_note.org_id', 'credit_note.id'], name=op.f('fk_credit_note_line_org_id_credit_note_id_credit_note')),
    sa.ForeignKeyConstraint(['org_id', 'invoice_line_id'], ['invoice_line.org_id', 'invoice_line.id'], name=op.f('fk_credit_note_line_org_id_invoice_line_id_invoice_line')),
    sa.ForeignKeyConstraint(['org_id', 'tax_rate_id'], ['tax_rate.org_id', 'tax_rate.id'], name=op.f('fk_credit_note_line_org_id_tax_rate_id_tax_rate')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_credit_note_line_org_id_organization')),
    sa.PrimaryKeyConstraint('org_id', 'id', name=op.f('pk_credit_note_line'))
    )
    with op.batch_alter_table('credit_note_line', schema=None) as batch_op:
        batch_op.create_index('ix_credit_note_line_invoice_line', ['org_id', 'invoice_line_id'], unique=False)
        batch_op.create_index('ix_credit_note_line_note', ['org_id', 'credit_note_id'], unique=False)

    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('amount_credited', sa.BigInteger(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('exchange_rate', common.schema.types.Quantity(), nullable=True))

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exchange_rate', common.schema.types.Quantity(), nullable=True))
        batch_op.add_column(sa.Column('credit_amount', sa.BigInteger(), nullable=False, server_default=sa.text('0')))

    with op.batch_alter_table('payroll_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exchange_rate', common.schema.types.Quantity(), nullable=True))
        batch_op.add_column(sa.Column('paid_on', sa.Date(), nullable=True))

    with op.batch_alter_table('purchase_order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('received_value', sa.BigInteger(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('billed_quantity', common.schema.types.Quantity(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('billed_value', sa.BigInteger(), nullable=False, server_default=sa.text('0')))

    with op.batch_alter_table('stock_move', schema=None) as batch_op:
        batch_op.add_column(sa.Column('value', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('tax_rate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('output_account_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('input_account_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_tax_rate_org_id_output_account_id_account'), 'account', ['org_id', 'output_account_id'], ['org_id', 'id'])
        batch_op.create_foreign_key(batch_op.f('fk_tax_rate_org_id_input_account_id_account'), 'account', ['org_id', 'input_account_id'], ['org_id', 'id'])

    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.create_index("ix_journal_entry_source", ["org_id", "source", "entry_date"], unique=False)
    # fmt: on
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _postgres_guards(bind)


def downgrade() -> None:
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_entry_source")
    # fmt: off
    with op.batch_alter_table('tax_rate', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tax_rate_org_id_input_account_id_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_tax_rate_org_id_output_account_id_account'), type_='foreignkey')
        batch_op.drop_column('input_account_id')
        batch_op.drop_column('output_account_id')

    with op.batch_alter_table('stock_move', schema=None) as batch_op:
        batch_op.drop_column('value')

    with op.batch_alter_table('purchase_order_line', schema=None) as batch_op:
        batch_op.drop_column('billed_value')
        batch_op.drop_column('billed_quantity')
        batch_op.drop_column('received_value')

    with op.batch_alter_table('payroll_run', schema=None) as batch_op:
        batch_op.drop_column('paid_on')
        batch_op.drop_column('exchange_rate')

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_column('credit_amount')
        batch_op.drop_column('exchange_rate')

    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_column('exchange_rate')
        batch_op.drop_column('amount_credited')

    with op.batch_alter_table('credit_note_line', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_note_line_note')
        batch_op.drop_index('ix_credit_note_line_invoice_line')

    op.drop_table('credit_note_line')
    op.drop_table('supplier_payment')
    with op.batch_alter_table('supplier_bill_line', schema=None) as batch_op:
        batch_op.drop_index('ix_supplier_bill_line_bill')

    op.drop_table('supplier_bill_line')
    with op.batch_alter_table('credit_note', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_note_invoice')

    op.drop_table('credit_note')
    with op.batch_alter_table('supplier_bill', schema=None) as batch_op:
        batch_op.drop_index('ix_supplier_bill_supplier')

    op.drop_table('supplier_bill')
    op.drop_table('product_cost')
    op.drop_table('account_mapping')
    op.drop_table('ledger')
    # fmt: on

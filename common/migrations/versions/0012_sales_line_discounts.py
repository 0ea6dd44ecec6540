"""sales line discounts: a discount percent on sales order, invoice and credit note lines

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 16:30:00

``discount_percent`` (an exact percentage stored like every quantity, as a scaled integer; 0
for the lines that exist) on ``sales_order_line``, ``invoice_line`` and ``credit_note_line``.
A line's net is ``quantity × unit_price × (1 − discount / 100)``, rounded once.
``SCHEMA_VERSION`` 7: three synced tables carry a new column.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import common.schema.types

revision: str = "0012"
down_revision: str | None = "0011"
# The SCHEMA_VERSION of the sync handshake from this revision on (common/schema/__init__.py).
sync_schema_version = 7
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("sales_order_line", "invoice_line", "credit_note_line")


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy would drop tables that others reference.
    for table in TABLES:
        op.add_column(
            table,
            sa.Column(
                "discount_percent", common.schema.types.Quantity(), nullable=False, server_default=sa.text("0")
            ),
        )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite ≥ 3.35), as revision 0010 does.
    for table in reversed(TABLES):
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN "discount_percent"')

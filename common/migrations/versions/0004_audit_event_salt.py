"""audit event salt

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 10:00:00

Every new audit event carries 128 random bits in ``salt``, hashed with the event, so that its
hash cannot be used to confirm guesses at masked values. Events written before keep no salt and
their hashes (a salt cannot be added without breaking the chain); the audit API no longer
returns hashes at all. A plain ADD COLUMN: rebuilding the table would drop the append-only
triggers on SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("salt", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE audit_event DROP COLUMN salt")  # both stores; keeps the triggers

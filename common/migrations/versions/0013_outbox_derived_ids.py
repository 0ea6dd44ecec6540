"""outbox derived ids: the scheme of the ids an outbox entry's command derived

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 04:30:00

``outbox.derived_ids`` (nullable integer): how the command derived the ids of the rows it
created (``CommandContext.derived_ids``), sent with the push so that the server derives the same.
Entries already queued were queued by older code, which derived scheme 1: they keep NULL, which
means scheme 1. The outbox is the client's own and never synced: ``SCHEMA_VERSION`` unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, as revision 0012 does.
    op.add_column("outbox", sa.Column("derived_ids", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite ≥ 3.35), as revision 0010 does.
    op.execute('ALTER TABLE "outbox" DROP COLUMN "derived_ids"')

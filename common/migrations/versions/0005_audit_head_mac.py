"""audit chain head MAC

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 11:00:00

``org_sequence.mac`` holds, for the ``audit`` counter, an HMAC of (org, last seq, last hash)
under the server's audit key, which is not in the store: cutting the chain's tail and rewriting
its head to match is then detected by ``ops-server audit verify``. The heads of an existing store
are signed once by ``ops-server init``/``run`` right after this revision is applied (the key is
not available to migrations).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("org_sequence", sa.Column("mac", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE org_sequence DROP COLUMN mac")

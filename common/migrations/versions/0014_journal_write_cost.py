"""journal write cost: a partial index for the year-end entries, journal lines' organization
checked through their entry

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 01:30:00

``ix_journal_entry_source`` exists only so that profit and loss finds the few year-end closing
entries (``source = 'year_end'``): it becomes partial, ``(org_id, entry_date) WHERE source =
'year_end'``, and no other entry's insert touches it (on the embedded store its leaves were
written at random: within a date the entries are in id order).

``journal_line`` loses its own foreign key to ``organization``: each line's NOT NULL composite
reference ``(org_id, journal_entry_id) → journal_entry(org_id, id)`` proves the organization
exists (the entry references it), so it checked the same fact again on every line
(``common.schema.base.TenantRow.__org_via__``). On SQLite a foreign key goes only by copying the
table (nothing references ``journal_line``: the copy drops no one's reference).

Neither changes a row or what syncs: ``SCHEMA_VERSION`` unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from common.schema.base import NAMING_CONVENTION

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

YEAR_END_ONLY = "source = 'year_end'"  # common.schema.finance.YEAR_END_ONLY at this revision
ORG_FK = "fk_journal_line_org_id_organization"


def upgrade() -> None:
    # Plain DROP/CREATE INDEX (no batch copy: journal_line references journal_entry).
    op.drop_index("ix_journal_entry_source", table_name="journal_entry")
    op.create_index(
        "ix_journal_entry_source",
        "journal_entry",
        ["org_id", "entry_date"],
        postgresql_where=sa.text(YEAR_END_ONLY),
        sqlite_where=sa.text(YEAR_END_ONLY),
    )
    # SQLite's reflected foreign keys have no names: the convention names them for the drop.
    with op.batch_alter_table("journal_line", naming_convention=NAMING_CONVENTION) as batch_op:
        batch_op.drop_constraint(ORG_FK, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("journal_line", naming_convention=NAMING_CONVENTION) as batch_op:
        batch_op.create_foreign_key(ORG_FK, "organization", ["org_id"], ["id"])
    op.drop_index("ix_journal_entry_source", table_name="journal_entry")
    op.create_index("ix_journal_entry_source", "journal_entry", ["org_id", "source", "entry_date"])

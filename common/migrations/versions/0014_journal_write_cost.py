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
(``common.schema.base.TenantRow.__org_via__``). PostgreSQL drops the constraint. SQLite cannot
drop one: the table's definition is edited in place, as SQLite documents for a change that leaves
the stored rows as they are (lang_altertable.html, "Making Other Kinds Of Table Schema Changes":
removing a FOREIGN KEY constraint is one), in the migration's transaction with the schema
version bumped, so that a desktop's million lines are not copied (a copy of the table took
2.7 s of CPU per 200,000 lines). A definition that does not hold the constraint's text exactly
once (a store made by another route) is copied instead (Alembic's batch mode).

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
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        if _edit_sqlite_definition(bind, ORG_FK_SQL, ""):
            return
        # SQLite's reflected foreign keys have no names: the convention names them for the drop.
        with op.batch_alter_table("journal_line", naming_convention=NAMING_CONVENTION) as batch_op:
            batch_op.drop_constraint(ORG_FK, type_="foreignkey")
        return
    op.drop_constraint(ORG_FK, "journal_line", type_="foreignkey")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        if not _edit_sqlite_definition(bind, ENTRY_FK_SQL, ORG_FK_SQL + ENTRY_FK_SQL):
            with op.batch_alter_table("journal_line", naming_convention=NAMING_CONVENTION) as batch_op:
                batch_op.create_foreign_key(ORG_FK, "organization", ["org_id"], ["id"])
    else:
        op.create_foreign_key(ORG_FK, "journal_line", "organization", ["org_id"], ["id"])
    op.drop_index("ix_journal_entry_source", table_name="journal_entry")
    op.create_index("ix_journal_entry_source", "journal_entry", ["org_id", "source", "entry_date"])


# The constraints' text in journal_line's definition as revisions 0001 and 0003 wrote it.
ORG_FK_SQL = f", \n\tCONSTRAINT {ORG_FK} FOREIGN KEY(org_id) REFERENCES organization (id)"
ENTRY_FK_SQL = (
    ", \n\tCONSTRAINT fk_journal_line_org_id_journal_entry_id_journal_entry "
    "FOREIGN KEY(org_id, journal_entry_id) REFERENCES journal_entry (org_id, id)"
)


def _edit_sqlite_definition(bind: sa.engine.Connection, old: str, new: str) -> bool:
    """Replace ``old`` by ``new`` in journal_line's stored definition, where ``old`` occurs
    exactly once and the change only adds or removes a foreign key (the rows stay valid as they
    are stored); False, having changed nothing, otherwise."""
    definition = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'journal_line'"
    ).scalar_one()
    if definition.count(old) != 1:
        return False
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'journal_line'",
            (definition.replace(old, new),),
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    return True

"""journal write cost: journal lines' organization checked through their entry

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 01:30:00

``journal_line`` loses its own foreign key to ``organization``: each line's NOT NULL composite
reference ``(org_id, journal_entry_id) → journal_entry(org_id, id)`` proves the organization
exists (the entry references it), so it checked the same fact again on every line
(``common.schema.base.TenantRow.__org_via__``). PostgreSQL drops the constraint. SQLite cannot
drop one: the table's definition is edited in place, as SQLite documents for a change that leaves
the stored rows as they are (lang_altertable.html, "Making Other Kinds Of Table Schema Changes":
removing a FOREIGN KEY constraint is one), in the migration's transaction with the schema
version bumped, so that a desktop's million lines are not copied (a copy of the table took
2.7 s of CPU per 200,000 lines). The table is copied instead (Alembic's batch mode) when the
definition does not hold the constraint's text exactly once as a whole clause (a store made by
another route), when the edited definition does not parse, or when the connection does not let
the schema be written (SQLite's defensive mode).

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

ORG_FK = "fk_journal_line_org_id_organization"


def upgrade() -> None:
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


# The constraints' text in journal_line's definition as revisions 0001 and 0003 wrote it.
ORG_FK_SQL = f", \n\tCONSTRAINT {ORG_FK} FOREIGN KEY(org_id) REFERENCES organization (id)"
ENTRY_FK_SQL = (
    ", \n\tCONSTRAINT fk_journal_line_org_id_journal_entry_id_journal_entry "
    "FOREIGN KEY(org_id, journal_entry_id) REFERENCES journal_entry (org_id, id)"
)


def _edit_sqlite_definition(bind: sa.engine.Connection, old: str, new: str) -> bool:
    """Replace ``old`` by ``new`` in journal_line's stored definition, where ``old`` occurs
    exactly once as a whole clause (followed by the next clause or the table's end) and the
    change only adds or removes a foreign key (the rows stay valid as they are stored); False,
    having changed nothing, otherwise."""
    definition = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'journal_line'"
    ).scalar_one()
    if definition.count(old) != 1:
        return False
    end = definition.index(old) + len(old)
    if definition[end : end + 1] not in (",", "\n"):
        return False  # the clause goes on (ON DELETE …, DEFERRABLE …): not the text we know
    edited = definition.replace(old, new)
    if not _parses(edited):
        return False
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        if bind.exec_driver_sql("PRAGMA writable_schema").scalar_one() != 1:
            return False  # not allowed here (defensive mode): the caller copies the table
        try:
            bind.exec_driver_sql(
                "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'journal_line'",
                (edited,),
            )
        except sa.exc.OperationalError:
            return False  # the failed statement alone is undone; nothing was changed
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    return True


def _parses(definition: str) -> bool:
    """Whether SQLite accepts ``definition`` as a table's (tried in a database of its own, as
    SQLite's documentation advises before writing a definition)."""
    import sqlite3

    probe = sqlite3.connect(":memory:")
    try:
        probe.execute(definition)
    except sqlite3.Error:
        return False
    finally:
        probe.close()
    return True

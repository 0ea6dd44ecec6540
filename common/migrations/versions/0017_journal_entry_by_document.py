"""journal entries found by their document: ix_journal_entry_source on (org_id, source, source_id)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 12:10:00

A document's journal entry is looked up by ``source`` and ``source_id`` (the desktop's report
drill-down from a tax line to the document and its posting). No index held ``source_id``:
SQLite walked the organization's entries in number order until it met the entry, 190 ms for a
late invoice among 250,000 entries (the million-line bench's size), and linear in the journal.
The index keeps its name and its first two columns, which the year-end and opening-balance
look-ups use (``source`` = their kind, a handful of entries, their dates then read from the
rows); ``entry_date`` gives way to ``source_id``. A posting writes as many index entries as
before.

No row changes and nothing that syncs: ``SCHEMA_VERSION`` unchanged.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_journal_entry_source"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="journal_entry")
    op.create_index(INDEX, "journal_entry", ["org_id", "source", "source_id"], unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="journal_entry")
    op.create_index(INDEX, "journal_entry", ["org_id", "source", "entry_date"], unique=False)

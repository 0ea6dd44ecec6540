"""journal lines travel with their entry's change

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 05:00:00

Upgrade changes nothing: it marks the point from which a journal entry's lines inserted with it,
by the same command, get no change-log rows of their own (``sync_server.writes.LOGGED_WITH``);
a pull sends them right after their entry's change (``sync_server.pull``). Each line keeps the
version it took from the organization's change counter, so no change-log row holds that seq.

Downgrade gives such lines back the change-log row that server code from before this revision
needs to send them (it sends only what the change log names; devices pulling from it would
otherwise never get the lines, and nothing would make them download afresh): for every line of
a server organization with no change-log row of its own, one row ``(org_id, seq = the line's
version, 'journal_line', its id, at = its updated_at)``, exactly the row written for it before.

- The seq is free by construction: the line took it from the change counter and no other write
  did (change_log's only key is ``(org_id, seq)``); a row already at it is left alone anyway.
- A line with a change-log row of its own gets none: any later write of a line has its row (at
  the line's version). Lines of an organization without a change counter (a desktop's copy,
  where versions are the server's or 0) get none.
- Lines at or below the organization's pruned floor (``sync_server.retention``) get none: every
  change-log row up to it was dropped, a pull from a cursor below it must download afresh and
  one from a cursor at or above it needs no change at or below it; a row there would only break
  the floor's meaning until the next prune dropped it.

One statement for all organizations. On SQLite, the lines that already have rows are found by an
uncorrelated ``NOT IN`` (one pass over change_log into a temporary index: the log has no index by
entity, and a correlated ``NOT EXISTS`` scanned the organization's log once a line); PostgreSQL
plans a ``NOT EXISTS`` as a hash anti-join. On PostgreSQL the migration runs as the tables'
owner, which the FORCEd row-level security hides every row from (``app.org_id`` is not set): it
is lifted from the three tables for the statement and put back, inside the migration's
transaction, whose ACCESS EXCLUSIVE locks keep every other session out until it commits.

``SCHEMA_VERSION`` unchanged: nothing a client holds or receives changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# org_sequence's counters (sync_server.writes.CHANGE_SEQUENCE, sync_server.retention.PRUNED_SEQUENCE;
# migrations do not import the server).
CHANGE = "change"
PRUNED = "pruned"
TABLES = ("journal_line", "change_log", "org_sequence")

_LOGGED = {
    "postgresql": "NOT EXISTS (SELECT FROM change_log AS c WHERE c.org_id = l.org_id "
    "AND c.entity = 'journal_line' AND c.entity_id = l.id)",
    "sqlite": "(l.org_id, l.id) NOT IN (SELECT c.org_id, c.entity_id FROM change_log AS c "
    "WHERE c.entity = 'journal_line')",
}

BACKFILL = f"""
INSERT INTO change_log (org_id, seq, entity, entity_id, at)
SELECT l.org_id, l.version, 'journal_line', l.id, l.updated_at
FROM org_sequence AS s
JOIN journal_line AS l ON l.org_id = s.org_id
LEFT JOIN org_sequence AS p ON p.org_id = s.org_id AND p.name = '{PRUNED}'
WHERE s.name = '{CHANGE}'
  AND l.version > COALESCE(p.value, 0) AND l.version <= s.value
  AND NOT EXISTS (SELECT 1 FROM change_log AS t WHERE t.org_id = l.org_id AND t.seq = l.version)
  AND {{logged}}
"""


def upgrade() -> None:
    """Nothing to change: see the module's docstring."""


def downgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect not in _LOGGED:
        raise NotImplementedError(dialect)
    forced: list[str] = []
    if dialect == "postgresql":
        forced = list(
            bind.execute(
                sa.text(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relforcerowsecurity "
                    "AND c.relname IN :tables ORDER BY c.relname"
                ).bindparams(sa.bindparam("tables", expanding=True)),
                {"tables": list(TABLES)},
            ).scalars()
        )
        for table in forced:
            op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    op.execute(BACKFILL.format(logged=_LOGGED[dialect]))
    for table in forced:
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')

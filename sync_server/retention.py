"""Retention of the change log and of tombstones: kept at least 90 days (DESIGN §5).

A workstation offline for 90 days catches up incrementally, so nothing younger than
:data:`RETENTION_DAYS` is ever dropped. :func:`prune_organization` drops change-log rows and
tombstones older than that and records the highest change sequence it dropped as the
organization's *floor* (the ``pruned`` row of ``org_sequence``). A pull cursor below the floor
may have missed a dropped change: the pull answers ``resync_required``.

The floor is the highest sequence below which *every* change-log row is older than the cutoff,
so a clock that once went backwards can delay pruning but never drops a young row. Pruning takes
the organization's write lock, like a push, so it never races a writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, exists, func, insert, select, true, update
from sqlalchemy.orm import Session

from common.schema import ENTITIES, ChangeLog, Organization, OrgSequence, metadata
from common.schema.base import table_of
from common.schema.types import utcnow
from sync_server.store import Store
from sync_server.writes import lock_organization

RETENTION_DAYS = 90
PRUNED_SEQUENCE = "pruned"

_CHANGES = table_of(ChangeLog)
_SEQUENCES = table_of(OrgSequence)


_FLOOR = select(_SEQUENCES.c.value).where(
    _SEQUENCES.c.org_id == bindparam("org_id"), _SEQUENCES.c.name == PRUNED_SEQUENCE
)


def pruned_floor(connection: Connection, org_id: str) -> int:
    """The highest change sequence whose change-log row may have been dropped (0: none)."""
    return int(connection.execute(_FLOOR, {"org_id": org_id}).scalar() or 0)


@dataclass(frozen=True)
class PruneReport:
    org_id: str
    floor: int
    change_log_rows: int
    tombstones: int


def _referencing(target: Table) -> list[tuple[Table, str]]:
    """``(table, column)`` of every composite foreign key ``(org_id, column) → target``."""
    found = []
    for table in metadata.sorted_tables:
        for fk in table.foreign_key_constraints:
            if fk.referred_table is not target:
                continue
            columns = [c.name for c in fk.columns]
            if len(columns) == 2 and columns[0] == "org_id":
                found.append((table, columns[1]))
    return found


def _drop_tombstones(connection: Connection, org_id: str, floor: int, cutoff: datetime) -> int:
    """Delete tombstones last written at or below ``floor`` and before ``cutoff`` that no row
    references any more (children first, so a parent's tombstone goes once its children have)."""
    dropped = 0
    for name in reversed(list(ENTITIES)):
        table = table_of(ENTITIES[name])
        conditions: list[Any] = [
            table.c.org_id == org_id,
            table.c.deleted == true(),
            table.c.version <= floor,
            table.c.updated_at < cutoff,
        ]
        for referencing, column in _referencing(table):
            other = referencing.alias()
            conditions.append(
                ~exists().where(other.c.org_id == table.c.org_id, other.c[column] == table.c.id)
            )
        dropped += connection.execute(delete(table).where(*conditions)).rowcount or 0
    return dropped


def prune_organization(
    session: Session, org_id: str, *, now: datetime | None = None, keep_days: int = RETENTION_DAYS
) -> PruneReport:
    """Drop the organization's change log and tombstones older than ``keep_days`` (≥ 90).

    ``session`` is a write session scoped to ``org_id``; the caller commits.
    """
    if keep_days < RETENTION_DAYS:
        raise ValueError(f"the change log is kept at least {RETENTION_DAYS} days")
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    lock_organization(session, org_id)
    connection = session.connection()
    previous = pruned_floor(connection, org_id)
    oldest_young = connection.execute(
        select(func.min(_CHANGES.c.seq)).where(_CHANGES.c.org_id == org_id, _CHANGES.c.at >= cutoff)
    ).scalar()
    if oldest_young is None:
        newest = connection.execute(
            select(func.max(_CHANGES.c.seq)).where(_CHANGES.c.org_id == org_id)
        ).scalar()
        floor = int(newest or 0)
    else:
        floor = int(oldest_young) - 1
    if floor <= previous:
        return PruneReport(org_id, previous, 0, 0)
    rows = (
        connection.execute(
            delete(_CHANGES).where(_CHANGES.c.org_id == org_id, _CHANGES.c.seq <= floor)
        ).rowcount
        or 0
    )
    tombstones = _drop_tombstones(connection, org_id, floor, cutoff)
    updated = connection.execute(
        update(_SEQUENCES)
        .where(_SEQUENCES.c.org_id == org_id, _SEQUENCES.c.name == PRUNED_SEQUENCE)
        .values(value=floor)
    ).rowcount
    if not updated:
        connection.execute(insert(_SEQUENCES).values(org_id=org_id, name=PRUNED_SEQUENCE, value=floor))
    return PruneReport(org_id, floor, rows, tombstones)


def prune(store: Store, *, now: datetime | None = None, keep_days: int = RETENTION_DAYS) -> list[PruneReport]:
    """Prune every organization, each in its own write transaction."""
    with store.admin_session() as session:
        org_ids = list(session.execute(select(Organization.id).order_by(Organization.id)).scalars())
    reports = []
    for org_id in org_ids:
        with store.session(org_id, write=True) as session:
            reports.append(prune_organization(session, org_id, now=now, keep_days=keep_days))
    return reports

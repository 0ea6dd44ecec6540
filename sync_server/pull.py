"""Pull (DESIGN §5): what changed for one caller, as pages of changes and an opaque cursor.

* **No cursor → snapshot.** Every live row the caller may read, entity by entity in dependency
  order (``common.schema.ENTITIES``), keyset-paginated by id, no tombstones. The snapshot is
  pinned to the change sequence at its start; when it is done the cursor continues incrementally
  from that sequence, so a row written while the snapshot ran arrives afterwards (rows are sent
  whole: applying one twice is harmless).
* **Cursor → incremental** from the change log (``seq > cursor``, up to the change counter read
  first). Each row changed in the page is sent once, at its first occurrence, with its current
  data (so referenced rows still come before the rows that reference them); tombstones are sent
  as ``delete``. Once the log is read to its end the cursor moves to that counter.
* A journal entry's lines are part of its row (``journal_entry.lines_json``, revision 0019): an
  entry is sent whole, in one change, by a snapshot page or an incremental one. Pages are bounded
  by rows (``limit``), an entry counting as one and each of its lines as another: a page ends
  before the change that would take it past ``limit``, and the cursor points right after the
  last change sent. A page's first change is always sent, so an entry of more lines than
  ``limit`` (up to 1,000) is a page of its own.
* Only what the caller may read (``common.access``): entities, columns, and the caller's own rows
  under owner rules. A row the caller cannot read is not sent.
* A cursor whose access fingerprint differs from the caller's now (a role, permission or owner
  link changed) or that is older than the retained change log → ``resync_required``; a cursor
  of another schema version → ``resync_required``; a cursor of another store epoch (the store
  was restored from a backup since) or ahead of the organization's last change (the store was
  put back some other way) → ``resync_required``: its sequence numbers no longer mean what they
  meant when it was issued.

Queries are Core statements on the session's connection, each naming the organization
explicitly; on PostgreSQL they run under the request's ``SET LOCAL`` role and organization, so
row-level security applies too. Rows become plain dicts, never ORM objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from pydantic import Field
from sqlalchemy import Connection, bindparam, or_, select

from common.access import EntityAccess, OwnerIds, access_fingerprint, readable_entities
from common.commands.rowaccess import raw_statement
from common.schema import ENTITIES, SCHEMA_VERSION, ChangeLog, OrgSequence
from common.schema.base import table_of
from common.wire import DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT, WireModel, changes_to_blocks, to_wire
from sync_server.errors import ApiError
from sync_server.pull_cursor import EPOCH_SEQUENCE, MAX_CURSOR_LENGTH, PullCursor
from sync_server.pull_rows import LINES_COLUMN, Counts, RowPlan, line_count, row_plan
from sync_server.retention import PRUNED_SEQUENCE, pruned_floor
from sync_server.store import RawReads
from sync_server.writes import CHANGE_SEQUENCE

_CHANGES = table_of(ChangeLog)
_SEQUENCES = table_of(OrgSequence)
# Built once: a no-op incremental pull is the most frequent request of all.
# Up to the change counter read just before (``upto``): on PostgreSQL each statement of a READ
# COMMITTED transaction sees what committed before it, so a push committing between the two reads
# could put a change above the counter in the page, and a page read to the log's end moves its
# cursor to the counter: a change above it would be sent early and its batch's other changes,
# between the counter and it, skipped for good. It is sent by the next page instead.
_LOG_AFTER = (
    select(_CHANGES.c.seq, _CHANGES.c.entity, _CHANGES.c.entity_id)
    .where(
        _CHANGES.c.org_id == bindparam("org_id"),
        _CHANGES.c.seq > bindparam("after"),
        _CHANGES.c.seq <= bindparam("upto"),
    )
    .order_by(_CHANGES.c.seq)
    .limit(bindparam("limit"))
)
_COUNTERS = select(_SEQUENCES.c.name, _SEQUENCES.c.value).where(
    _SEQUENCES.c.org_id == bindparam("org_id"),
    or_(
        _SEQUENCES.c.name == CHANGE_SEQUENCE,
        _SEQUENCES.c.name == PRUNED_SEQUENCE,
        _SEQUENCES.c.name == EPOCH_SEQUENCE,
    ),
)


class PullQuery(WireModel):
    cursor: str | None = Field(default=None, min_length=1, max_length=MAX_CURSOR_LENGTH)
    limit: int = Field(default=DEFAULT_PULL_LIMIT, ge=1, le=MAX_PULL_LIMIT)
    schema_version: int | None = Field(default=None, ge=1, le=10_000)
    format: Literal["changes", "blocks"] = Field(
        default="changes",
        description=(
            "changes (default): the answer's changes as DESIGN §5 has them. blocks (optional, since "
            "2026-12): {blocks:[{entity, op, columns, rows}], cursor, has_more, schema_version}, the "
            "same changes in the same order, each run of one entity, op and set of columns with its "
            "column names once and each change's values as an array (PullBlocksResponse)"
        ),
    )


@dataclass(frozen=True)
class Reader:
    """The caller's read rights: what they may read, and the fingerprint of those rights."""

    owner: OwnerIds
    entities: dict[str, EntityAccess]
    fingerprint: str

    @classmethod
    def of(cls, permissions: Iterable[str], owner: OwnerIds) -> Reader:
        perms = frozenset(permissions)
        return cls(owner, readable_entities(perms), access_fingerprint(perms, owner))

    def owner_values(self, access: EntityAccess) -> list[str]:
        if access.owner_kind == "user":
            return [self.owner.user_id] if self.owner.user_id else []
        return sorted(self.owner.employee_ids)


@dataclass
class PullPage:
    changes: list[dict[str, Any]]
    cursor: PullCursor
    has_more: bool
    # The ``blocks`` format's snapshot pages are read as blocks (``changes`` is then empty);
    # other pages are put in that layout when encoded.
    blocks: list[dict[str, Any]] | None = None

    @property
    def count(self) -> int:
        if self.blocks is None:
            return len(self.changes)
        return sum(len(block["rows"]) for block in self.blocks)


def resync_required(reason: str, message: str) -> ApiError:
    return ApiError(
        409,
        "resync_required",
        f"{message}; download a fresh copy (keep your pending changes)",
        {"reason": reason},
    )


# -- pages ---------------------------------------------------------------------------------------


def _upsert(entity: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"entity": entity, "id": data["id"], "op": "upsert", "version": data["version"], "data": data}


def _delete(entity: str, entity_id: str, version: int) -> dict[str, Any]:
    return {"entity": entity, "id": entity_id, "op": "delete", "version": version}


# The same three figures as scalar subqueries, for a statement that reads them with others in
# one snapshot (sync_server.noop_sync): parameters ``org_id`` and ``counter_<i>``, the names.
_COUNTED = (CHANGE_SEQUENCE, PRUNED_SEQUENCE, EPOCH_SEQUENCE)
COUNTER_COLUMNS = tuple(
    select(_SEQUENCES.c.value)
    .where(_SEQUENCES.c.org_id == bindparam("org_id"), _SEQUENCES.c.name == bindparam(f"counter_{i}"))
    .scalar_subquery()
    .label(f"counter_{i}")
    for i in range(len(_COUNTED))
)
COUNTER_PARAMETERS = {f"counter_{i}": name for i, name in enumerate(_COUNTED)}


def counters_of(values: tuple[Any, ...]) -> dict[str, int]:
    """:func:`counters`'s answer from the values of ``COUNTER_COLUMNS`` (absent rows as 0)."""
    return {name: int(value or 0) for name, value in zip(_COUNTED, values, strict=True)}


def counters(connection: Connection | RawReads, org_id: str) -> dict[str, int]:
    """The organization's last change sequence, pruning floor and store epoch (committed values,
    read outside its write lock), in one statement: name → value, absent rows as 0."""
    raw = raw_statement(_COUNTERS, connection.dialect)
    found = dict(raw.rows(connection.connection, raw.parameters({"org_id": org_id})))
    return {name: int(found.get(name) or 0) for name in _COUNTED}


def check_store_position(cursor: PullCursor, now: dict[str, int]) -> None:
    """``resync_required`` for a cursor the store's history no longer matches (see the module doc)."""
    if cursor.epoch != now[EPOCH_SEQUENCE]:
        raise resync_required(
            "store_restored", "the server's data was restored from a backup since your last download"
        )
    if cursor.seq > now[CHANGE_SEQUENCE]:
        raise resync_required("cursor_ahead", "the server's data is older than your copy (it was put back)")
    if cursor.seq < now[PRUNED_SEQUENCE]:
        raise resync_required("cursor_expired", "this copy is older than the server's change history")


def _fitting(counts: Counts, room: int, page_empty: bool) -> tuple[int, int]:
    """How many of the rows read of an entity with lines (``counts``: each row's id and number of
    lines, in order) a page with ``room`` rows left takes, and how much of ``room`` they use. A
    row counts 1 + its lines; the page ends before the first row that would take it past
    ``room`` (it is then full: all of ``room`` is used), except that the first row of a page
    (``page_empty``) is taken anyway, alone."""
    used = 0
    for index, (_, lines) in enumerate(counts):
        used += 1 + lines
        if used > room:
            return index or int(page_empty), room
    return len(counts), used


def snapshot_page(
    connection: Connection,
    org_id: str,
    reader: Reader,
    cursor: PullCursor,
    limit: int,
    *,
    blocks: bool = False,
) -> PullPage:
    """The next ``limit`` live rows of the snapshot ``cursor`` is in, a journal entry's lines
    counted too (the module doc), ``blocks``: read as blocks of the ``blocks`` pull format."""
    names = list(ENTITIES)
    start = names.index(cursor.entity) if cursor.entity is not None else 0  # pull() checked it is one
    after_id = cursor.after_id
    changes: list[dict[str, Any]] = []
    read: list[dict[str, Any]] | None = [] if blocks else None
    count = 0
    for entity in names[start:]:
        access = reader.entities.get(entity)
        if access is None:
            after_id = ""
            continue
        plan = row_plan(entity, access, connection.dialect)
        owners = None
        if plan.owner_only:
            owners = reader.owner_values(access)
            if not owners:
                after_id = ""
                continue
        remaining = limit - count
        # An entity with lines (journal entries): what the rows read take of the page, each
        # counting 1 + its lines, and where it ends (:func:`_fitting`).
        counts: Counts | None = [] if plan.lines else None
        last: str | None
        if plan.plain and read is not None:
            block, last = plan.plain_block(connection, org_id, after_id, remaining, counts)
            used = len(block["rows"])
            if counts:
                taken, used = _fitting(counts, remaining, not count)
                del block["rows"][taken:]
                last = counts[taken - 1][0] if taken else None
            if block["rows"]:
                read.append(block)
            count += used
        elif plan.plain:
            found = plan.plain_changes(connection, org_id, after_id, remaining, counts)
            used = len(found)
            if counts:
                taken, used = _fitting(counts, remaining, not count)
                del found[taken:]
            changes.extend(found)
            last = found[-1]["id"] if found else None
            count += used
        else:
            rows = plan.keyset(connection, org_id, after_id, remaining, owners, counts)
            used = len(rows)
            if counts:
                taken, used = _fitting(counts, remaining, not count)
                del rows[taken:]
            entity_changes = [
                _upsert(entity, visible)
                for visible in (plan.visible(access, reader.owner, row) for row in rows)
                if visible is not None
            ]
            # Rows not visible to the caller are not sent and do not count (an entry's lines
            # are counted as read).
            count += used if counts else len(entity_changes)
            if read is not None:
                read.extend(changes_to_blocks(entity_changes))
            else:
                changes.extend(entity_changes)
            last = rows[-1]["id"] if rows else None
        if used == remaining:  # the page is full: it goes on after the last row sent
            return PullPage(changes, cursor.at_snapshot(entity, last or after_id), True, read)
        after_id = ""
    # The snapshot is complete: continue with what changed since it was pinned.
    return PullPage(changes, cursor.incremental(cursor.seq), True, read)


def incremental_page(
    connection: Connection, org_id: str, reader: Reader, cursor: PullCursor, limit: int
) -> PullPage:
    """The rows changed after ``cursor.seq``, at most ``limit`` change-log entries of them, and
    at most ``limit`` rows, a journal entry's lines counted (the module doc). A journal entry is
    one row with all its lines (``lines_json``): a page never splits one."""
    # One statement reads the last committed sequence, the pruning floor and the store epoch:
    # when nothing was committed after the cursor (the common case) that is the whole answer.
    now = counters(connection, org_id)
    check_store_position(cursor, now)
    if now[CHANGE_SEQUENCE] == cursor.seq:
        return PullPage([], cursor, False)
    log = connection.execute(
        _LOG_AFTER,
        {"org_id": org_id, "after": cursor.seq, "upto": now[CHANGE_SEQUENCE], "limit": limit + 1},
    ).all()
    # Read again after the change log: a prune that committed before that read is seen here.
    if cursor.seq < pruned_floor(connection, org_id):
        raise resync_required("cursor_expired", "this copy is older than the server's change history")
    has_more = len(log) > limit
    log = log[:limit]
    # Where the next page starts. With the log read to its end, that is the counter read before
    # it: every change up to it had committed before it was read (a change whose row was pruned
    # since, or one the caller may not read, leaves no trace in the page but is passed).
    end = int(log[-1][0]) if log else cursor.seq
    if not has_more and now[CHANGE_SEQUENCE] > end:
        end = now[CHANGE_SEQUENCE]
    if not log:
        return PullPage([], cursor if end == cursor.seq else cursor.incremental(end), False)
    # What the page sends, in log order: a row at its first change in the page, with its data as
    # it is now (so referenced rows still come before the rows that reference them).
    first: dict[tuple[str, str], int] = {}
    for seq, entity, entity_id in log:
        if entity in reader.entities and (entity, entity_id) not in first:
            first[(entity, entity_id)] = seq
    by_entity: dict[str, list[str]] = {}
    for entity, entity_id in first:
        by_entity.setdefault(entity, []).append(entity_id)
    current: dict[str, dict[str, tuple[dict[str, Any], bool]]] = {}
    plans: dict[str, RowPlan] = {}
    for entity, ids in by_entity.items():
        plans[entity] = row_plan(entity, reader.entities[entity], connection.dialect)
        current[entity] = plans[entity].by_ids(connection, org_id, ids)
    changes: list[dict[str, Any]] = []
    for (entity, entity_id), seq in first.items():
        access = reader.entities[entity]
        found = current[entity].get(entity_id)
        if found is None:
            # Gone from the store altogether (a pruned tombstone): its owner is unknown, so only
            # callers who read the entity as such hear of it.
            if access.columns:
                changes.append(_delete(entity, entity_id, seq))
            continue
        row, deleted = found
        visible = plans[entity].visible(access, reader.owner, row)
        if visible is None:
            continue
        if deleted:
            changes.append(_delete(entity, entity_id, int(row["version"])))
        else:
            changes.append(_upsert(entity, visible))
    if any(plan.lines for plan in plans.values()):
        # Entries' lines count too: the page ends before the change that would take it past
        # ``limit`` rows (the first is sent anyway), and the next starts at that change's row's
        # first change in the log, so no change of a row not sent is passed. The rows already
        # sent that changed again after it are sent again, as they are then.
        carried = 0
        for index, change in enumerate(changes):
            carried += 1
            if change["op"] == "upsert" and plans[change["entity"]].lines:
                carried += line_count(change["data"].get(LINES_COLUMN))
            if carried > limit and index:
                following = first[(change["entity"], change["id"])]
                return PullPage(changes[:index], cursor.incremental(following - 1), True)
    return PullPage(changes, cursor.incremental(end), has_more)


def pull(
    connection: Connection,
    org_id: str,
    reader: Reader,
    cursor: PullCursor | None,
    limit: int,
    *,
    blocks: bool = False,
) -> PullPage:
    """One page for ``reader`` from ``cursor`` (``None``: start a snapshot); ``blocks``: the
    answer will be encoded in the ``blocks`` format (snapshot pages are then read as blocks)."""
    if cursor is None:
        now = counters(connection, org_id)
        start = PullCursor(
            org_id=org_id,
            seq=now[CHANGE_SEQUENCE],
            fingerprint=reader.fingerprint,
            schema_version=SCHEMA_VERSION,
            entity=next(iter(ENTITIES)),
            epoch=now[EPOCH_SEQUENCE],
        )
        return snapshot_page(connection, org_id, reader, start, limit, blocks=blocks)
    if cursor.schema_version != SCHEMA_VERSION or (cursor.in_snapshot and cursor.entity not in ENTITIES):
        # A cursor of a snapshot stopped at an entity this server no longer syncs (journal
        # lines, until revision 0019) was issued for another layout, whatever version it says.
        raise resync_required("schema_changed", "the server's data layout changed since your last download")
    if cursor.fingerprint != reader.fingerprint:
        raise resync_required("access_changed", "your access rights changed since your last download")
    if cursor.in_snapshot:
        check_store_position(cursor, counters(connection, org_id))
        return snapshot_page(connection, org_id, reader, cursor, limit, blocks=blocks)
    return incremental_page(connection, org_id, reader, cursor, limit)


def _default(value: Any) -> Any:
    converted = to_wire(value)
    if converted is value:
        raise TypeError(f"cannot encode {type(value).__name__}")
    return converted


def encode_page(page: PullPage, cursor_text: str, wire_format: str = "changes") -> bytes:
    """The page as the JSON body of the pull answer (orjson, no intermediate models), in the
    ``changes`` format (DESIGN §5) or, asked for, the ``blocks`` format (``PullQuery.format``)."""
    if wire_format == "blocks":
        blocks = page.blocks if page.blocks is not None else changes_to_blocks(page.changes)
        return orjson.dumps(
            {
                "blocks": blocks,
                "cursor": cursor_text,
                "has_more": page.has_more,
                "schema_version": SCHEMA_VERSION,
            },
            default=_default,
        )
    assert page.blocks is None, "a page read as blocks is encoded as blocks"
    return orjson.dumps(
        {
            "changes": page.changes,
            "cursor": cursor_text,
            "has_more": page.has_more,
            "schema_version": SCHEMA_VERSION,
        },
        default=_default,
    )

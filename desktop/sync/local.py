"""The sync engine's side of the local store: the outbox going out, pulled pages coming in.

Each step is one local transaction: a push batch's results are recorded together; a pulled
page is written together with the cursor that follows it, so an interrupted sync resumes
exactly where the last committed page ended. A page is never written while a command is
pending (DESIGN §5: never pull over unsent changes): the caller pushes first and asks again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, exists, insert, select, update
from sqlalchemy.orm import Session

from common.ids import DERIVED_IDS, LEGACY_DERIVED_IDS
from common.schema import ENTITIES, OutboxEntry, SyncState
from common.schema.base import table_of
from desktop import deferred_indexes
from desktop.local_store import LocalStore
from desktop.rows import WRITERS, Batch

CURSOR_KEY = "pull_cursor"
_OUTBOX = table_of(OutboxEntry)
_STATE = table_of(SyncState)
_PENDING = exists().where(_OUTBOX.c.status == "pending")


def _put_state(connection: Connection, key: str, value: str | None) -> None:
    connection.execute(delete(_STATE).where(_STATE.c.key == key))
    connection.execute(insert(_STATE).values(key=key, value=value))


def pending_batch(store: LocalStore, limit: int) -> tuple[int, list[dict[str, Any]]]:
    """The oldest pending commands (at most ``limit``) applied with one scheme of derived ids,
    as mutations ``{id, name, args}`` in order, and that scheme (``derived_ids``; an entry
    queued before the outbox recorded it derived scheme 1). The push tells the server the
    scheme, one for the batch: the queue goes in runs of the same scheme, in its order."""
    stmt = (
        select(_OUTBOX.c.id, _OUTBOX.c.name, _OUTBOX.c.args, _OUTBOX.c.derived_ids)
        .where(_OUTBOX.c.status == "pending")
        .order_by(_OUTBOX.c.seq)
        .limit(limit)
    )
    with store.read_session() as session:
        rows = session.execute(stmt).all()
    scheme = (rows[0].derived_ids or LEGACY_DERIVED_IDS) if rows else DERIVED_IDS
    batch: list[dict[str, Any]] = []
    for row in rows:
        if (row.derived_ids or LEGACY_DERIVED_IDS) != scheme:
            break
        batch.append({"id": row.id, "name": row.name, "args": row.args})
    return scheme, batch


@dataclass
class PushOutcome:
    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    conflicts: int = 0


def record_results(store: LocalStore, results: Sequence[dict[str, Any]]) -> PushOutcome:
    """Apply the server's answers to the outbox in one transaction.

    ``applied`` (or a ``duplicate`` of an applied command) removes the entry; ``rejected`` keeps
    it, marked ``conflict`` or ``rejected`` with the code, message and server values, for the user.
    """
    outcome = PushOutcome()
    done: list[str] = []
    with store.write_session() as session:
        for result in results:
            status = result.get("status")
            details = result.get("details") or {}
            if status == "duplicate":
                outcome.duplicates += 1
                status = details.get("original_status") or "applied"
            if status == "applied":
                outcome.applied += 1
                done.append(result["id"])
                continue
            code = str(result.get("code") or "rejected")[:64]
            new_status = "conflict" if code == "conflict" else "rejected"
            if new_status == "conflict":
                outcome.conflicts += 1
            else:
                outcome.rejected += 1
            session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.id == result["id"])
                .values(
                    status=new_status,
                    code=code,
                    message=str(result.get("message") or "refused by the server")[:2000],
                    server_values=result.get("server_values"),
                    attempts=OutboxEntry.attempts + 1,
                )
            )
        for start in range(0, len(done), 500):
            session.execute(delete(OutboxEntry).where(OutboxEntry.id.in_(done[start : start + 500])))
    return outcome


def saved_cursor(store: LocalStore) -> str | None:
    return store.get_state(CURSOR_KEY)


def forget_cursor(store: LocalStore) -> None:
    """The next pull starts a full download (after ``resync_required``)."""
    store.set_state(CURSOR_KEY, None)


# The trigger that subtracts a deleted entry's lines from ``journal_balance`` (revision 0019): a
# fresh download deletes every entry, and so every balance, at once.
_BALANCE_DELETE_TRIGGER = "journal_balance_delete"


def _clear_entities(session: Session) -> None:
    """Delete every synced row (the first page of a full download follows, in the same
    transaction). ``journal_balance`` goes with the entries, in one statement: their DELETE
    trigger, which subtracts each entry's lines one entry at a time (~30 µs an entry of three
    lines), is set aside for the entries' delete and put back in this transaction (its rollback
    puts it back too); the downloaded entries' INSERT trigger counts them again."""
    connection = session.connection().connection
    cursor = connection.cursor()
    try:
        found = cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (_BALANCE_DELETE_TRIGGER,)
        ).fetchall()
        if found:
            cursor.execute(f'DROP TRIGGER "{_BALANCE_DELETE_TRIGGER}"')
        for name in ENTITIES:
            cursor.execute(f'DELETE FROM "{name}"')
        cursor.execute("DELETE FROM journal_balance")
        for (sql,) in found:
            cursor.execute(sql)
    finally:
        cursor.close()


@dataclass
class PreparedPage:
    """A pulled page turned into statement parameters, ready to be written (built off the
    writing thread, so the next page is prepared while this one is written)."""

    cursor: str
    upserts: dict[str, Batch]
    deletes: dict[str, list[str]]
    count: int
    has_more: bool


def prepare_page(page: dict[str, Any], org_id: str) -> PreparedPage:
    """Group a page's changes by entity and convert its rows to parameters (no database work).
    ``page`` is a pull answer in either format (``changes``, or ``blocks``)."""
    if "blocks" in page:
        return _prepare_blocks(page, org_id)
    upsert_rows: dict[str, list[dict[str, Any]]] = {}
    deletes: dict[str, list[str]] = {}
    changes = page["changes"]
    for change in changes:
        entity = change["entity"]
        if entity not in WRITERS:
            continue  # an entity this program does not know (a newer server): ignored
        if change["op"] == "delete":
            deletes.setdefault(entity, []).append(change["id"])
        else:
            upsert_rows.setdefault(entity, []).append(change["data"])
    upserts = {entity: WRITERS[entity].parameters(rows, org_id) for entity, rows in upsert_rows.items()}
    return PreparedPage(page["cursor"], upserts, deletes, len(changes), bool(page["has_more"]))


def _prepare_blocks(page: dict[str, Any], org_id: str) -> PreparedPage:
    """:func:`prepare_page` for a page in the ``blocks`` format: an upsert block's rows are turned
    into parameters as they come, column by column (``EntityWriter.block_parameters``)."""
    upserts: dict[str, Batch] = {}
    deletes: dict[str, list[str]] = {}
    count = 0
    for block in page["blocks"]:
        entity, columns, rows = block["entity"], block["columns"], block["rows"]
        count += len(rows)
        writer = WRITERS.get(entity)
        if writer is None:
            continue  # an entity this program does not know (a newer server): ignored
        if block["op"] == "delete":
            at = columns.index("id")  # every block has one (ApiClient.pull refuses a block without)
            deletes.setdefault(entity, []).extend(row[at] for row in rows)
        else:
            upserts.setdefault(entity, []).extend(writer.block_parameters(columns, rows, org_id))
    return PreparedPage(page["cursor"], upserts, deletes, count, bool(page["has_more"]))


def apply_prepared(store: LocalStore, page: PreparedPage, *, fresh_start: bool) -> bool:
    """Write one prepared page and its cursor in one transaction; ``False`` (nothing written)
    when a command is pending. ``fresh_start``: the first page of a full download, which
    replaces every local row, so rows the user may no longer read disappear."""
    org_id = store.profile.org_id
    # A search index build (desktop.search_build) would hold the write lock: it is stopped and
    # started again when the pull ends.
    store.search_indexes.cancel()
    with store.write_session() as session:
        if session.execute(select(_PENDING)).scalar():
            return False
        connection = session.connection()
        if fresh_start:
            # A full download: indexes are built once at its end (desktop.deferred_indexes), the
            # search indexes after it, in the background; lists stop using them from here.
            store.search_indexes.mark_missing()
            deferred_indexes.defer(connection)
            _clear_entities(session)
        # Each row occurs once per page, and local foreign keys are off, so writing entity by
        # entity keeps the page's meaning while batching each entity into one executemany.
        for entity, params in page.upserts.items():
            WRITERS[entity].write(connection, params)
        for entity, ids in page.deletes.items():
            WRITERS[entity].delete(connection, org_id, ids)
        _put_state(connection, CURSOR_KEY, page.cursor)
    return True


def indexes_set_aside(store: LocalStore) -> bool:
    return store.get_state(deferred_indexes.STATE_KEY) is not None


def restore_indexes(store: LocalStore) -> int:
    """Build the schema's indexes a full download set aside (a no-op unless one did); the
    search indexes are left to :func:`build_search_indexes`."""
    return deferred_indexes.restore_pending(store.engine)


def build_search_indexes(store: LocalStore) -> None:
    """Start building the search indexes in the background when some are missing (after a full
    download), or when rows changed since (pulled or written here) have left walk blocks to sum
    again: else they would pile up over a long session and the lists walk them all. The build
    ends by copying the write-ahead log into the database file, off the interface's thread,
    rather than when the store is closed."""
    if not store.search_indexes.ready or store.blocks_stale():
        store.search_indexes.start()


def apply_page(
    store: LocalStore, changes: Sequence[dict[str, Any]], cursor: str, *, fresh_start: bool
) -> bool:
    """:func:`prepare_page` and :func:`apply_prepared` in one go."""
    page = {"changes": changes, "cursor": cursor, "has_more": False}
    return apply_prepared(store, prepare_page(page, store.profile.org_id), fresh_start=fresh_start)

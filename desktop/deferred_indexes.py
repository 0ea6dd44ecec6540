"""Secondary indexes set aside while a full download is written, and put back after it.

Maintaining an index row by row while hundreds of thousands of rows arrive costs more than
building it once at the end: rows come in id order, but an index on product name or on a stock
move's product is written all over, so every page would rewrite (and re-encrypt) most of its
pages. So the first page of a full download drops the entity tables' non-unique indexes (unique
ones stay: they decide which row a pulled row replaces) and the end of the download builds them
again. The search indexes (:mod:`desktop.search_index`: trigram tables, their triggers, the
lists' local indexes) are dropped too, but not put back here: they are built after the download,
in the background (:mod:`desktop.search_build`), from their definitions in code.

Crash-safe: the indexes dropped are recorded, with their exact ``CREATE INDEX`` text, in
``sync_state`` in the same transaction that drops them, and removed from it in the transaction
that builds them again. A download stopped half-way (an error, the program killed) leaves the
record behind; the next sync's end or the next opening of the store puts the indexes back.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, Engine

from common.schema import ENTITIES
from desktop import search_index
from desktop.store_state import has_state_table, put_state, read_state

STATE_KEY = "deferred_indexes"
_ENTITY_TABLES = frozenset(ENTITIES)


def defer(connection: Connection) -> int:
    """Drop the entity tables' non-unique indexes in the caller's write transaction and record
    them; returns how many were recorded (none when some are already set aside). The search
    indexes are dropped in any case, and not recorded (:func:`drop_search_indexes`)."""
    drop_search_indexes(connection)
    if _recorded(connection) is not None:
        return 0
    dropped: dict[str, str] = {}
    for name, table, sql in connection.exec_driver_sql(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).all():
        if table in _ENTITY_TABLES and not _is_unique(connection, name):
            dropped[str(name)] = str(sql)
    for name in dropped:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    _record(connection, dropped)
    return len(dropped)


def drop_search_indexes(connection: Connection) -> None:
    """Drop every search index, its triggers first (no row written meanwhile updates them),
    and the lists' local indexes: :func:`desktop.search_index.ensure` builds them again, each
    complete, in one transaction. The caller tells the lists first
    (``SearchIndexBuilder.mark_missing``)."""
    for name in sorted(search_index.trigger_names()):
        connection.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}"')
    for index in search_index.INDEXES.values():
        connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{index.name}"')
    for name in search_index.LOCAL_INDEXES:
        connection.exec_driver_sql(f'DROP INDEX IF EXISTS "{name}"')
    # The walk blocks' summaries would no longer cover the rows the download writes.
    for blocks in search_index.BLOCKS.values():
        connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{blocks.name}"')


def restore(connection: Connection) -> int:
    """Build again every index :func:`defer` set aside, in the caller's write transaction;
    returns how many were built."""
    recorded = _recorded(connection)
    if recorded is None:
        return 0
    existing = {
        row[0]
        for row in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger', 'table')"
        )
    }
    # A record made before the search indexes were left to the background build holds their
    # triggers: they are put back (and their index rebuilt) only where the index itself exists.
    orphaned = {
        name
        for index in search_index.INDEXES.values()
        if index.name not in existing
        for name in index.triggers
    }
    built = 0
    restored: set[str] = set()
    for name, sql in recorded.items():
        if name not in existing and name not in orphaned:
            connection.exec_driver_sql(sql)
            restored.add(name)
            built += 1
    search_index.rebuild_for_triggers(connection, restored)
    connection.exec_driver_sql("DELETE FROM sync_state WHERE key = ?", (STATE_KEY,))
    return built


def pending(engine: Engine) -> bool:
    """Whether indexes are set aside (a download under way, or stopped half-way)."""
    with engine.connect() as connection:
        return has_state_table(connection) and _recorded(connection) is not None


def restore_pending(engine: Engine) -> int:
    """Put back indexes a stopped download left aside (at the end of a sync, when a store is
    opened); when there are none, one read and no write."""
    if not pending(engine):
        return 0
    with engine.execution_options(sqlite_begin="IMMEDIATE").begin() as connection:
        return restore(connection)


def _is_unique(connection: Connection, index: str) -> bool:
    # PRAGMA index_list has the unique flag; sqlite_master's text would need parsing.
    row = connection.exec_driver_sql(
        'SELECT il."unique" FROM sqlite_master m, pragma_index_list(m.name) il '
        "WHERE m.type = 'table' AND il.name = ?",
        (index,),
    ).first()
    return bool(row and row[0])


def _recorded(connection: Connection) -> dict[str, str] | None:
    value = read_state(connection, STATE_KEY)
    if value is None:
        return None
    loaded = json.loads(value)
    return {str(k): str(v) for k, v in loaded.items()}


def _record(connection: Connection, dropped: dict[str, str]) -> None:
    put_state(connection, STATE_KEY, json.dumps(dropped))

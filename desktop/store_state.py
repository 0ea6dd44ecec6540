"""The local store's own facts, kept as text in its ``sync_state`` table (key → value): the sync's
cursor and last run (``desktop.local_store``), the indexes a download set aside
(``desktop.deferred_indexes``), the search indexes' format (``desktop.search_index``)."""

from __future__ import annotations

from sqlalchemy import Connection

SQL_READ = "SELECT value FROM sync_state WHERE key = ?"
SQL_PUT = "INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)"
_SQL_HAS_TABLE = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sync_state'"


def has_state_table(connection: Connection) -> bool:
    """Whether the store has its ``sync_state`` table (not before its first migration)."""
    return connection.exec_driver_sql(_SQL_HAS_TABLE).first() is not None


def read_state(connection: Connection, key: str) -> str | None:
    """The value of ``key``, or ``None`` when it is unset."""
    value = connection.exec_driver_sql(SQL_READ, (key,)).scalar()
    return None if value is None else str(value)


def put_state(connection: Connection, key: str, value: str) -> None:
    connection.exec_driver_sql(SQL_PUT, (key, value))

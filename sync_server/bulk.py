"""Inserting many rows in one statement: the write path's change-log, audit and result rows.

On PostgreSQL an ``executemany`` of 1,000 rows is 1,000 executions of a prepared statement
(pipelined, but parsed, planned and run one by one on both sides). Here the rows travel as one
array per column and PostgreSQL unpacks them: ``INSERT … SELECT * FROM unnest($1::text[], …)``,
one statement; the arrays travel in binary (no quoting and escaping of each text value).
(``COPY FROM`` would be faster still, but PostgreSQL refuses it on tables with
row-level security, and every request runs under it.) Values go through each column type's own
bind processing first, exactly as an ``INSERT`` would send them; JSON travels as text and is cast.
On SQLite (in process, no round trips) it is a plain ``executemany`` on the DB-API cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import JSON, Dialect, Table
from sqlalchemy.orm import Session

from common.commands.rowaccess import session_connection


@cache
def _unnest_insert(table: Table, columns: tuple[str, ...], dialect: Dialect) -> tuple[str, tuple[Any, ...]]:
    """The statement and each column's bind processor (None: the value goes as it is)."""
    arrays, selected, processors = [], [], []
    for name in columns:
        column = table.c[name]
        if isinstance(column.type, JSON):
            arrays.append("%b::text[]")
            selected.append(f'"{name}"::json')
        else:
            arrays.append(f"%b::{column.type.compile(dialect=dialect)}[]")
            selected.append(f'"{name}"')
        processors.append(column.type._cached_bind_processor(dialect))
    names = ", ".join(f'"{n}"' for n in columns)
    sql = (
        f'INSERT INTO "{table.name}" ({names}) SELECT {", ".join(selected)} '
        f"FROM unnest({', '.join(arrays)}) AS t({names})"
    )
    return sql, tuple(processors)


@cache
def _sqlite_insert(table: Table, columns: tuple[str, ...], dialect: Dialect) -> tuple[str, tuple[Any, ...]]:
    names = ", ".join(f'"{n}"' for n in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" for _ in columns)})'
    return sql, tuple(table.c[name].type._cached_bind_processor(dialect) for name in columns)


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    serialized: frozenset[str] = frozenset(),
) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the session's transaction.

    ``serialized`` names JSON columns whose values are already JSON text (the audit images,
    serialized once for both the column and the chain's hash): bound as they are."""
    if not rows:
        return
    connection, dbapi = session_connection(session)
    if connection.dialect.name != "postgresql":
        # In process, no round trips: an executemany on the DB-API cursor, each value through
        # its column type's bind processing (SQLAlchemy's executemany costs ~25 calls a row).
        columns = tuple(rows[0])
        sql, processors = _sqlite_insert(table, columns, connection.dialect)
        arrays = [
            _column_values(rows, name, None if name in serialized else proc)
            for name, proc in zip(columns, processors, strict=True)
        ]
        params = list(zip(*arrays, strict=True))
        cursor = dbapi.cursor()
        try:
            cursor.executemany(sql, params)
        finally:
            cursor.close()
        return
    columns = tuple(rows[0])
    sql, processors = _unnest_insert(table, columns, connection.dialect)
    arrays = [
        _column_values(rows, name, None if name in serialized else proc)
        for name, proc in zip(columns, processors, strict=True)
    ]
    cursor = dbapi.cursor()
    try:
        cursor.execute(sql, arrays)
    finally:
        cursor.close()


def _column_values(rows: Sequence[dict[str, Any]], name: str, proc: Callable[[Any], Any] | None) -> list[Any]:
    if proc is None:
        return [row[name] for row in rows]
    # None too: a JSON column stores it as JSON null. A value the same object as the previous
    # row's (the batch's time on every row) is converted once.
    values: list[Any] = []
    last: Any = _NOTHING
    converted: Any = None
    for row in rows:
        value = row[name]
        if value is not last or value is None:
            last, converted = value, proc(value)
        values.append(converted)
    return values


_NOTHING = object()


@cache
def _unnest_update(
    table: Table, keys: tuple[str, ...], returning: tuple[str, ...], dialect: Dialect
) -> tuple[str, tuple[Any, ...]]:
    """``UPDATE`` of many rows of one organization, each row's new values (``keys``) in one
    array per column, matched on ``id``; returns ``returning`` of every row updated."""
    columns = ("id", *keys)
    arrays, processors = [], []
    for name in columns:
        column = table.c[name]
        cast = "text" if isinstance(column.type, JSON) else column.type.compile(dialect=dialect)
        arrays.append(f"%b::{cast}[]")
        processors.append(column.type._cached_bind_processor(dialect))
    sets = ", ".join(
        f'"{k}" = v."{k}"::json' if isinstance(table.c[k].type, JSON) else f'"{k}" = v."{k}"' for k in keys
    )
    names = ", ".join(f'"{n}"' for n in columns)
    returned = ", ".join(f'"{table.name}"."{n}"' for n in returning)
    sql = (
        f'UPDATE "{table.name}" SET {sets} FROM unnest({", ".join(arrays)}) AS v({names}) '
        f'WHERE "{table.name}"."org_id" = %s AND "{table.name}"."id" = v."id" RETURNING {returned}'
    )
    return sql, tuple(processors)


def update_rows_postgres(
    dbapi: Any,
    dialect: Dialect,
    table: Table,
    org_id: str,
    keys: tuple[str, ...],
    rows: Sequence[dict[str, Any]],
) -> list[tuple[Any, ...]]:
    """Set ``keys`` of ``rows`` (each naming ``id`` and every key) in one statement; the rows
    updated, every column in ``table.c`` order as the DB-API returns them (PostgreSQL only)."""
    returning = tuple(c.name for c in table.c)
    sql, processors = _unnest_update(table, keys, returning, dialect)
    arrays: list[Any] = [
        _column_values(rows, name, proc) for name, proc in zip(("id", *keys), processors, strict=True)
    ]
    cursor = dbapi.cursor()
    try:
        cursor.execute(sql, [*arrays, org_id])
        return list(cursor.fetchall())
    finally:
        cursor.close()


def insert_new_rows_postgres(
    dbapi: Any, dialect: Dialect, table: Table, rows: Sequence[dict[str, Any]]
) -> list[Any]:
    """Insert ``rows`` (each naming every column of ``table``) in one statement, skipping those
    whose ``(org_id, id)`` exists; the rows inserted, every column in ``table.c`` order as the
    DB-API returns them (PostgreSQL only). One short statement whatever the number of rows: a
    multi-row ``VALUES`` list is parsed again by the driver for every execution."""
    columns = tuple(c.name for c in table.c)
    sql, processors = _unnest_insert(table, columns, dialect)
    returned = ", ".join(f'"{n}"' for n in columns)
    sql += f' ON CONFLICT ("org_id", "id") DO NOTHING RETURNING {returned}'
    arrays = [_column_values(rows, name, proc) for name, proc in zip(columns, processors, strict=True)]
    cursor = dbapi.cursor()
    try:
        cursor.execute(sql, arrays)
        return list(cursor.fetchall())
    finally:
        cursor.close()

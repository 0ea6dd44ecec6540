"""Inserting many rows in one statement: the write path's change-log, audit and result rows.

On PostgreSQL an ``executemany`` of 1,000 rows is 1,000 executions of a prepared statement
(pipelined, but parsed, planned and run one by one on both sides). Here the rows travel as one
array per column and PostgreSQL unpacks them: ``INSERT … SELECT * FROM unnest($1::text[], …)``,
one statement; the arrays travel in binary (no quoting and escaping of each text value). A
column whose every row holds the same object (the organization, the batch's time, the user) is
bound once, not as an array of copies: encoding each element is the driver's dearest work here
(psycopg dumps a list in Python, element by element). For the same reason a column of texts
(ids, document numbers, JSON images), of integers or of dates travels as one text, its values
joined by a separator none of them holds and split in SQL (``string_to_array``): joined and
split in C, the same array.
(``COPY FROM`` would be faster still, but PostgreSQL refuses it on tables with
row-level security, and every request runs under it.) Values go through each column type's own
bind processing first, exactly as an ``INSERT`` would send them; JSON travels as text and is cast.
On SQLite (in process, no round trips) it is a plain ``executemany`` on the DB-API cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from functools import cache, lru_cache
from itertools import repeat
from operator import is_, itemgetter
from typing import Any

from sqlalchemy import JSON, Dialect, Table
from sqlalchemy.orm import Session

from common.commands.rowaccess import session_connection


@cache
def _bind_processors(table: Table, columns: tuple[str, ...], dialect: Dialect) -> tuple[Any, ...]:
    """Each column's bind processor (None: the value goes as it is)."""
    return tuple(table.c[name].type._cached_bind_processor(dialect) for name in columns)


@lru_cache(maxsize=1024)
def _unnest_insert(
    table: Table, columns: tuple[str, ...], dialect: Dialect, once: frozenset[str], joined: frozenset[str]
) -> str:
    """The statement: the columns in ``once`` each bound once (every row's value the same),
    those in ``joined`` as one text split in SQL (:func:`_joined`), the others as one array
    each."""
    arrays, selected, unnested = [], [], []
    for name in columns:
        column = table.c[name]
        json = isinstance(column.type, JSON)
        cast = "text" if json else column.type.compile(dialect=dialect)
        if name in once:
            selected.append(f"%b::{cast}::json" if json else f"%b::{cast}")
            continue
        if name in joined:
            arrays.append(f"string_to_array(%b::text, chr({ord(_SEPARATOR)}))::{cast}[]")
        else:
            arrays.append(f"%b::{cast}[]")
        selected.append(f'"{name}"::json' if json else f'"{name}"')
        unnested.append(f'"{name}"')
    names = ", ".join(f'"{n}"' for n in columns)
    return (
        f'INSERT INTO "{table.name}" ({names}) SELECT {", ".join(selected)} '
        f"FROM unnest({', '.join(arrays)}) AS t({', '.join(unnested)})"
    )


def _unnest_parameters(
    table: Table, columns: tuple[str, ...], dialect: Dialect, values: list[list[Any]]
) -> tuple[str, list[Any]]:
    """The statement inserting the rows whose (bound) values are ``values`` (one list per
    column) and its parameters: a column whose every row holds the same object is bound once
    (the organization, the batch's time, the user: no array of a thousand copies to encode and
    unpack), a column of texts, integers or dates as one text (:func:`_joined`), the others as
    arrays; one column at least is not bound once (it gives the row count)."""
    once = [n for n, column in enumerate(values) if len(column) > 1 and _all_same(column)]
    if len(once) == len(columns):
        once.pop(0)
    single = set(once)
    params = [values[n][0] for n in once]
    joined: list[str] = []
    typed = _typed_columns(table, columns, dialect)
    for n, column in enumerate(values):
        if n in single:
            continue
        text = _joined(column, typed[n])
        if text is None:
            params.append(column)
        else:
            params.append(text)
            joined.append(columns[n])
    sql = _unnest_insert(table, columns, dialect, frozenset(columns[n] for n in once), frozenset(joined))
    return sql, params


# The separator of a column's values sent as one text: a control character no id, number,
# date or JSON text holds; a value that holds it sends its column as an array (:func:`_joined`).
_SEPARATOR = "\x1f"


@cache
def _typed_columns(table: Table, columns: tuple[str, ...], dialect: Dialect) -> tuple[type | None, ...]:
    """Per column, the Python type other than ``str`` whose values may go as one text: ``int``
    for an integer column (its cast parses a decimal text into the same integer as a bound one,
    and refuses the same), ``date`` for a date column (an ISO date, ``YYYY-MM-DD``, is read
    as that date whatever the ``DateStyle``); None for any other column."""
    found: list[type | None] = []
    for name in columns:
        cast = table.c[name].type.compile(dialect=dialect)
        found.append(int if cast in ("SMALLINT", "INTEGER", "BIGINT") else date if cast == "DATE" else None)
    return tuple(found)


def _joined(column: list[Any], typed: type | None) -> str | None:
    """``column``'s (bound) values as one text, split in SQL (``string_to_array``), when that
    gives the same array as binding the list: every value a ``str`` (exactly: psycopg dumps a
    subclass otherwise, an enum by its name) none of which holds the separator (the text's
    separators are then exactly one fewer than the values), or every value of the column's
    ``typed`` type (:func:`_typed_columns`; exactly: not a ``bool`` for ``int``, not a
    ``datetime`` for ``date``), written as PostgreSQL reads it back (decimal, ISO). A list is
    dumped by psycopg element by element in Python; a text is joined and split in C. None: the
    column goes as an array (a NULL among the values, another type, a single value)."""
    if len(column) < 2:
        return None
    kinds = set(map(type, column))
    if kinds == _STR:
        # Whether a value holds the separator, asked of the values joined bare (a copy and a
        # memchr: counting the separators of the joined text walked it character by character).
        return None if _SEPARATOR in "".join(column) else _SEPARATOR.join(column)
    if typed is date and kinds == _DATE:
        # Each distinct date written once (date.isoformat formats through printf, ~0.4 µs): a
        # batch's journal entries and documents carry few dates, each on many rows.
        written = {day: day.isoformat() for day in set(column)}
        return _SEPARATOR.join(map(written.__getitem__, column))
    if typed is not None and kinds == {typed}:
        return _SEPARATOR.join(map(_WRITTEN[typed], column))
    return None


_STR: set[type] = {str}
_DATE: set[type] = {date}
# How a value of each type of :func:`_typed_columns` is written in the text.
_WRITTEN: dict[type, Callable[[Any], str]] = {int: int.__repr__, date: date.isoformat}


def _all_same(values: list[Any]) -> bool:
    first = values[0]
    return all(map(is_, values, repeat(first)))


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
    processors = _bind_processors(table, columns, connection.dialect)
    arrays = [
        _column_values(rows, name, None if name in serialized else proc)
        for name, proc in zip(columns, processors, strict=True)
    ]
    sql, params = _unnest_parameters(table, columns, connection.dialect, arrays)
    cursor = dbapi.cursor()
    try:
        cursor.execute(sql, params)
    finally:
        cursor.close()


def _column_values(rows: Sequence[dict[str, Any]], name: str, proc: Callable[[Any], Any] | None) -> list[Any]:
    """Column ``name``'s values of ``rows``, each through ``proc`` (:func:`_converted`)."""
    return _converted(map(itemgetter(name), rows), proc)


def _converted(values: Iterable[Any], proc: Callable[[Any], Any] | None) -> list[Any]:
    """A column's values, each through its column type's bind processing ``proc`` (None: as
    they are). None too: a JSON column stores it as JSON null. A value the same object as the
    previous row's (the batch's time on every row) is converted once."""
    if proc is None:
        return list(values)
    converted: list[Any] = []
    last: Any = _NOTHING
    bound: Any = None
    for value in values:
        if value is not last or value is None:
            last, bound = value, proc(value)
        converted.append(bound)
    return converted


_NOTHING = object()


@cache
def _unnest_update(
    table: Table, keys: tuple[str, ...], returning: tuple[str, ...], dialect: Dialect
) -> tuple[str, tuple[Any, ...]]:
    """``UPDATE`` of many rows of one organization, each row's new values (``keys``) in one
    array per column, matched on ``id``; returns ``returning`` of every row updated (nothing
    when it is empty)."""
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
    sql = (
        f'UPDATE "{table.name}" SET {sets} FROM unnest({", ".join(arrays)}) AS v({names}) '
        f'WHERE "{table.name}"."org_id" = %s AND "{table.name}"."id" = v."id"'
    )
    if returning:
        sql += " RETURNING " + ", ".join(f'"{table.name}"."{n}"' for n in returning)
    return sql, tuple(processors)


def send_update_rows_postgres(
    dbapi: Any,
    dialect: Dialect,
    table: Table,
    org_id: str,
    keys: tuple[str, ...],
    rows: Sequence[dict[str, Any]],
    *,
    returning: bool,
) -> Any:
    """Set ``keys`` of ``rows`` (each naming ``id`` and every key) in one statement (PostgreSQL
    only). The cursor is given back as executed: its ``rowcount`` is the number of rows updated
    and, ``returning``, its rows are those updated, every column in ``table.c`` order as the
    DB-API returns them; in pipeline mode they come at the pipeline's sync. The caller reads
    them and closes it."""
    return _update_rows(
        dbapi, dialect, table, org_id, keys, rows, tuple(c.name for c in table.c) if returning else ()
    )


def _update_rows(
    dbapi: Any,
    dialect: Dialect,
    table: Table,
    org_id: str,
    keys: tuple[str, ...],
    rows: Sequence[dict[str, Any]],
    returning: tuple[str, ...],
) -> Any:
    """The cursor that ran the update (the caller closes it)."""
    sql, processors = _unnest_update(table, keys, returning, dialect)
    arrays: list[Any] = [
        _column_values(rows, name, proc) for name, proc in zip(("id", *keys), processors, strict=True)
    ]
    cursor = dbapi.cursor()
    try:
        cursor.execute(sql, [*arrays, org_id])
    except BaseException:
        cursor.close()
        raise
    return cursor


def send_insert_new_rows_postgres(
    dbapi: Any,
    dialect: Dialect,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    returning: bool,
    columns: Sequence[Sequence[Any]] | None = None,
) -> Any:
    """Insert ``rows`` (each naming every column of ``table``) in one statement, skipping those
    whose ``(org_id, id)`` exists (PostgreSQL only). One short statement whatever the number of
    rows: a multi-row ``VALUES`` list is parsed again by the driver for every execution.
    ``columns``: the rows' values column by column (``table.c`` order) where the caller has them
    already. The cursor is given back as executed, as :func:`send_update_rows_postgres` gives
    it: its ``rowcount`` is the number of rows inserted, its rows (``returning``) those
    inserted."""
    return _insert_new_rows(dbapi, dialect, table, rows, returning=returning, given=columns)


@lru_cache(maxsize=1024)
def _new_rows_insert(sql: str, returning: tuple[str, ...]) -> str:
    sql += ' ON CONFLICT ("org_id", "id") DO NOTHING'
    if returning:
        sql += " RETURNING " + ", ".join(f'"{n}"' for n in returning)
    return sql


def _insert_new_rows(
    dbapi: Any,
    dialect: Dialect,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    returning: bool,
    given: Sequence[Sequence[Any]] | None = None,
) -> Any:
    """The cursor that ran the insert (the caller closes it); ``given``: the rows' values by
    column, in ``table.c`` order (else taken from ``rows``)."""
    columns = tuple(c.name for c in table.c)
    processors = _bind_processors(table, columns, dialect)
    if given is None:
        arrays = [_column_values(rows, name, proc) for name, proc in zip(columns, processors, strict=True)]
    else:
        arrays = [_converted(values, proc) for values, proc in zip(given, processors, strict=True)]
    sql, params = _unnest_parameters(table, columns, dialect, arrays)
    sql = _new_rows_insert(sql, columns if returning else ())
    cursor = dbapi.cursor()
    try:
        cursor.execute(sql, params)
    except BaseException:
        cursor.close()
        raise
    return cursor

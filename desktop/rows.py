"""Writing rows that arrive in wire form (pulled changes, undo images) into the local database.

The hot path of initial sync: rows are converted column by column with precomputed converters
and written with one ``executemany`` per entity, null pattern and page, straight through the
DB-API cursor. The wire form equals the stored form except for exact quantities (decimal text →
scaled integer), JSON columns, and booleans (stored as 0/1).

Each statement inserts up to :data:`ROWS_PER_STATEMENT` rows (``INSERT … VALUES (…), (…), …``;
the rows of a batch that do not fill one are written one by one): SQLite's cost of running a
statement once (resetting it, opening the table and its indexes) is then paid once per that many
rows instead of once a row, about a fifth of SQLCipher's CPU per pulled row. A multi-row insert
writes its rows in order, each replacing as it comes, exactly as one statement a row would.
Every value is bound: no statement's text holds a value that came over the network.

Binding is where the time goes: the driver binds ``int`` and ``str`` directly but sends ``None``
and ``bool`` through its adapter lookup, about ten times slower (~1.3 µs each; a stock move has
six of them). So booleans become integers here, and the rows of a batch are grouped by which
columns are null: each group is written by a statement that leaves those columns out (no column
has an SQL default, so an omitted column is NULL, exactly as if NULL had been bound).

Pulled rows carry no ``org_id`` (the organization is the profile's: the writer stamps it, so a
pulled row can never land in another organization). A row the caller may read only partly (the
public columns of a directory entity, one's own employee record without its sensitive fields)
lacks some columns: nullable ones are stored empty, required ones get an empty placeholder that
the interface never shows, because the same rights that hid the value hide the column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from functools import lru_cache
from itertools import chain, islice, repeat
from operator import is_not, itemgetter
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Connection, Date, Integer, Numeric, String, Table
from sqlalchemy.sql.schema import Column

from common.money import QUANTITY_SCALE
from common.schema import ENTITIES
from common.schema.base import table_of
from common.schema.types import Quantity, UTCDateTime

Converter = Callable[[Any], Any] | None
# Rows one INSERT writes (fewer when a row has so many columns that SQLite's limit of bound
# values, :data:`MAX_BOUND_VALUES`, would be passed). Measured, a 60k-row download's inserts
# (encrypted store, CPU of the writes alone): 5.2 µs a row one row a statement, 4.3 with 16,
# 4.0 with 64, 3.8 with 128 or 256.
ROWS_PER_STATEMENT = 128
# SQLITE_MAX_VARIABLE_NUMBER of the SQLite that SQLCipher 4.x builds on (3.32 and later).
MAX_BOUND_VALUES = 32766
# Statements, the parameters each is run with, and how many rows one run writes: what
# :meth:`EntityWriter.parameters` returns.
Batch = list[tuple[str, list[tuple[Any, ...]], int]]


@lru_cache(maxsize=4096)  # a page repeats the same few quantities; the cache call runs in C
def _quantity(value: Any) -> int | None:
    if value is None:
        return None
    return int(Decimal(value) * QUANTITY_SCALE)


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _flag(value: Any) -> int | None:
    if value is None:
        return None
    return 1 if value else 0


# JSON booleans looked up in C; any other value takes :func:`_flag`.
_FLAGS = {True: 1, False: 0, None: None}.__getitem__


def _converter(column_type: Any) -> Converter:
    if isinstance(column_type, Quantity):
        return _quantity
    if isinstance(column_type, JSON):
        return _json
    if isinstance(column_type, Boolean):
        return _flag
    return None


def _convert_all(convert: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    if convert is _flag:
        try:
            return list(map(_FLAGS, values))
        except (KeyError, TypeError):
            pass
    return list(map(convert, values))


def _placeholder(column: Column[Any]) -> Any:
    """What a required column holds on a row whose value the caller may not read: an empty
    value, never a plausible one (a default such as ``active`` would state a fact)."""
    kind = column.type
    if isinstance(kind, Quantity | Integer | Numeric | Boolean):
        return 0
    if isinstance(kind, UTCDateTime):
        return "1970-01-01T00:00:00+00:00"
    if isinstance(kind, Date):
        return "1970-01-01"
    if isinstance(kind, JSON):
        return "null"
    if isinstance(kind, String):
        return ""
    return 0


class EntityWriter:
    """Prepared statements and converters for one entity table."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.columns = [c.name for c in table.columns]
        self.org_index = self.columns.index("org_id")
        converters = [_converter(c.type) for c in table.columns]
        self.conversions = [(i, conv) for i, conv in enumerate(converters) if conv is not None]
        self.placeholders = [
            (i, _placeholder(c)) for i, c in enumerate(table.columns) if not c.nullable and not c.primary_key
        ]
        # A wire row without org_id that has this many keys is complete.
        self.wire_width = len(self.columns) - 1
        # A column with an SQL default must be bound even when null (left out, it would take
        # the default); none has one today, but the rule must not depend on that.
        self._bound_always = [c.server_default is not None for c in table.columns]
        self._nullable = [bool(c.nullable) for c in table.columns]
        self._statements: dict[tuple[tuple[int, ...], int], str] = {}
        self._wire_getter = itemgetter(*(name for name in self.columns if name != "org_id"))
        self.upsert_sql = self._statement(tuple(range(len(self.columns))))
        self.delete_sql = f'DELETE FROM "{table.name}" WHERE org_id = ? AND id = ?'

    def _statement(self, kept: tuple[int, ...], rows: int = 1) -> str:
        """The statement writing the columns ``kept`` (positions, in table order) of ``rows``
        rows."""
        key = (kept, rows)
        sql = self._statements.get(key)
        if sql is None:
            # OR REPLACE: a pulled row replaces the local one, and a unique value still held by
            # a row the server has since changed gives way; that row's own change follows in the
            # same sync.
            names = ", ".join(f'"{self.columns[i]}"' for i in kept)
            row = "(" + ", ".join("?" for _ in kept) + ")"
            values = ", ".join(repeat(row, rows))
            sql = f'INSERT OR REPLACE INTO "{self.table.name}" ({names}) VALUES {values}'
            self._statements[key] = sql
        return sql

    def parameters(self, rows: Iterable[dict[str, Any]], org_id: str | None = None) -> Batch:
        """``rows`` as statements and their parameters, grouped by the rows' null columns (no
        database work: any thread may do it); ``org_id`` (given for pulled rows) is stamped.

        Each step runs in C over a whole page (``itemgetter``, ``zip``, ``map``, ``count``), so
        thousands of rows cost little Python work each.
        """
        rows = rows if isinstance(rows, list) else list(rows)
        count = len(rows)
        if not count:
            return []
        columns: list[Any] = self._columns(rows, org_id)
        for index, convert in self.conversions:
            if columns[index].count(None) < count:
                columns[index] = _convert_all(convert, columns[index])
        if org_id is not None:
            columns[self.org_index] = [org_id] * count
            if min(map(len, rows)) < self.wire_width:
                self._fill_hidden(rows, columns)
        return self._grouped(columns, count)

    def block_parameters(self, names: Sequence[str], rows: Sequence[Sequence[Any]], org_id: str) -> Batch:
        """The rows of an upsert block of a ``blocks`` pull answer (each the values of ``names``,
        in that order) as :meth:`parameters` gives pulled rows: the same statements and values.

        The block says its columns once, so a row is a list the driver could almost bind as
        it is: the rows are turned into columns in one C step (``zip``), with no per-row lookup
        by name. Columns this program does not know (a newer server's) are left out; a column
        the block lacks is one the caller may not read: empty, or its placeholder when required.
        """
        count = len(rows)
        if not count:
            return []
        # Every row holds one value per name (ApiClient.pull refuses a block whose rows do not).
        values = list(zip(*rows, strict=True))
        position = {name: at for at, name in enumerate(names)}
        columns: list[Sequence[Any]] = [
            values[at] if (at := position.get(name)) is not None else [None] * count for name in self.columns
        ]
        # Counted once (a conversion keeps a column's nulls where they are), and only where a
        # null may be stored: a null sent for a required column is bound, and refused by SQLite
        # (NOT NULL) as when it was left out of the statement.
        nulls = [column.count(None) if self._nullable[index] else 0 for index, column in enumerate(columns)]
        for index, name in enumerate(self.columns):
            if name not in position:
                nulls[index] = count
        for index, convert in self.conversions:
            if nulls[index] < count:
                columns[index] = _convert_all(convert, list(columns[index]))
        columns[self.org_index] = [org_id] * count
        nulls[self.org_index] = 0
        for index, placeholder in self.placeholders:  # stored form already: after the conversions
            if self.columns[index] not in position:
                columns[index] = [placeholder] * count
                nulls[index] = 0
        return self._grouped(columns, count, nulls)

    def _columns(self, rows: list[dict[str, Any]], org_id: str | None) -> list[list[Any]]:
        """The rows' values column by column (a key a row lacks is ``None``)."""
        if org_id is not None:  # pulled rows carry no org_id: it is stamped afterwards
            try:
                found = list(map(list, zip(*map(self._wire_getter, rows), strict=True)))
            except KeyError:
                pass  # a partly readable row
            else:
                found.insert(self.org_index, [])
                return found
        return [[row.get(name) for row in rows] for name in self.columns]

    def _fill_hidden(self, rows: list[dict[str, Any]], columns: list[list[Any]]) -> None:
        """Placeholders for the required columns a partly readable row lacks."""
        partial = [i for i, row in enumerate(rows) if len(row) < self.wire_width]
        for index, placeholder in self.placeholders:
            column = columns[index]
            for i in partial:
                if column[i] is None:
                    column[i] = placeholder

    def _grouped(
        self, columns: Sequence[Sequence[Any]], count: int, null_counts: Sequence[int] | None = None
    ) -> Batch:
        """One statement per null pattern: columns null on every row are left out, and rows
        differing in the columns null on some rows are written by different statements.
        ``null_counts``: each column's nulls, when known."""
        full: list[int] = []
        mixed: list[int] = []
        for index, column in enumerate(columns):
            nulls = column.count(None) if null_counts is None else null_counts[index]
            if nulls == 0 or self._bound_always[index]:
                full.append(index)
            elif nulls < count:
                mixed.append(index)
        if not mixed:
            return self._statements_for(tuple(full), columns, None, count)
        groups: dict[tuple[bool, ...], list[int]] = {}
        keys = zip(*(map(is_not, columns[i], repeat(None)) for i in mixed), strict=True)
        for position, key in enumerate(keys):
            group = groups.get(key)
            if group is None:
                groups[key] = [position]
            else:
                group.append(position)
        batch: Batch = []
        for key, positions in groups.items():
            kept = tuple(sorted(full + [i for i, here in zip(mixed, key, strict=True) if here]))
            batch.extend(self._statements_for(kept, columns, positions, len(positions)))
        return batch

    def _statements_for(
        self, kept: tuple[int, ...], columns: Sequence[Sequence[Any]], positions: list[int] | None, count: int
    ) -> Batch:
        """The rows at ``positions`` (all when ``None``) of ``columns``, their columns ``kept``
        written, as multi-row statements and their parameters (each the values of its rows, row
        after row), then the rows that do not fill one, one a statement. In C over the whole
        batch (``zip``, ``chain``)."""
        picked: list[Sequence[Any]]
        if positions is None:
            picked = [columns[i] for i in kept]
        elif len(positions) == 1:
            picked = [(columns[i][positions[0]],) for i in kept]
        else:
            pick = itemgetter(*positions)
            picked = [pick(columns[i]) for i in kept]
        width = len(picked)
        per = max(1, min(ROWS_PER_STATEMENT, MAX_BOUND_VALUES // max(width, 1)))
        rows = zip(*picked, strict=True)
        filled = count - count % per if per > 1 and width else 0
        batch: Batch = []
        if filled:
            values = chain.from_iterable(islice(rows, filled))
            chunks: list[tuple[Any, ...]] = list(zip(*repeat(values, per * width), strict=True))
            batch.append((self._statement(kept, per), chunks, per))
        if filled < count:
            rest: list[tuple[Any, ...]] = list(rows) if width else [()] * count
            batch.append((self._statement(kept, 1), rest, 1))
        return batch

    def upsert(
        self, connection: Connection, rows: Iterable[dict[str, Any]], org_id: str | None = None
    ) -> int:
        """Insert or replace ``rows``; with ``org_id`` they are pulled rows of that organization."""
        return self.write(connection, self.parameters(rows, org_id))

    def write(self, connection: Connection, batch: Batch) -> int:
        """Insert or replace rows given as :meth:`parameters`; returns how many."""
        written = 0
        if batch:
            cursor = connection.connection.cursor()
            try:
                for sql, params, rows in batch:
                    cursor.executemany(sql, params)
                    written += len(params) * rows
            finally:
                cursor.close()
        return written

    def delete(self, connection: Connection, org_id: str, ids: Sequence[str]) -> int:
        if ids:
            cursor = connection.connection.cursor()
            try:
                cursor.executemany(self.delete_sql, [(org_id, entity_id) for entity_id in ids])
            finally:
                cursor.close()
        return len(ids)


WRITERS: dict[str, EntityWriter] = {name: EntityWriter(table_of(model)) for name, model in ENTITIES.items()}

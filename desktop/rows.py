"""Writing rows that arrive in wire form (pulled changes, undo images) into the local database.

The hot path of initial sync: rows are converted column by column with precomputed converters
and written with one ``executemany`` per entity and page, straight through the DB-API cursor.
The wire form equals the stored form except for exact quantities (decimal text → scaled integer)
and JSON columns (booleans bind as 0/1 natively).

Pulled rows carry no ``org_id`` (the organization is the profile's: the writer stamps it, so a
pulled row can never land in another organization). A row the caller may read only partly (the
public columns of the employee directory) lacks some columns: nullable ones are stored empty,
required ones get an empty placeholder that the interface never shows, because the same rights
that hid the value hide the column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Connection, Date, Integer, Numeric, String, Table
from sqlalchemy.sql.schema import Column

from common.money import QUANTITY_SCALE
from common.schema import ENTITIES
from common.schema.base import table_of
from common.schema.types import Quantity, UTCDateTime

Converter = Callable[[Any], Any] | None


def _quantity(value: Any) -> int | None:
    if value is None:
        return None
    return int(Decimal(value) * QUANTITY_SCALE)


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _converter(column_type: Any) -> Converter:
    if isinstance(column_type, Quantity):
        return _quantity
    if isinstance(column_type, JSON):
        return _json
    return None


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
        placeholders = ", ".join("?" for _ in self.columns)
        names = ", ".join(f'"{c}"' for c in self.columns)
        # OR REPLACE: a pulled row replaces the local one, and a unique value still held by a row
        # the server has since changed gives way; that row's own change follows in the same sync.
        self.upsert_sql = f'INSERT OR REPLACE INTO "{table.name}" ({names}) VALUES ({placeholders})'
        self.delete_sql = f'DELETE FROM "{table.name}" WHERE org_id = ? AND id = ?'

    def to_tuple(self, data: dict[str, Any], org_id: str | None = None) -> list[Any]:
        """The row as statement parameters; ``org_id`` (given for pulled rows) is stamped."""
        # map() over dict.get runs in C; only the few converted columns cost Python work.
        values = list(map(data.get, self.columns))
        for index, convert in self.conversions:
            values[index] = convert(values[index])
        if org_id is not None:
            values[self.org_index] = org_id
            if len(data) < self.wire_width:  # a partly readable row
                for index, placeholder in self.placeholders:
                    if values[index] is None:
                        values[index] = placeholder
        return values

    def parameters(self, rows: Iterable[dict[str, Any]], org_id: str | None = None) -> list[list[Any]]:
        """``rows`` as parameters of :attr:`upsert_sql` (no database work: any thread may do it)."""
        to_tuple = self.to_tuple
        return [to_tuple(row, org_id) for row in rows]

    def upsert(
        self, connection: Connection, rows: Iterable[dict[str, Any]], org_id: str | None = None
    ) -> int:
        """Insert or replace ``rows``; with ``org_id`` they are pulled rows of that organization."""
        return self.write(connection, self.parameters(rows, org_id))

    def write(self, connection: Connection, params: list[list[Any]]) -> int:
        """Insert or replace rows given as :meth:`parameters`."""
        if params:
            cursor = connection.connection.cursor()
            try:
                cursor.executemany(self.upsert_sql, params)
            finally:
                cursor.close()
        return len(params)

    def delete(self, connection: Connection, org_id: str, ids: Sequence[str]) -> int:
        if ids:
            cursor = connection.connection.cursor()
            try:
                cursor.executemany(self.delete_sql, [(org_id, entity_id) for entity_id in ids])
            finally:
                cursor.close()
        return len(ids)


WRITERS: dict[str, EntityWriter] = {name: EntityWriter(table_of(model)) for name, model in ENTITIES.items()}

"""Reading rows for pulls: one plan per entity and kind of reader, rows as plain wire dicts.

A snapshot page reads thousands of rows, so the plain case (every row of the entity readable
with the same columns) runs a statement compiled once per dialect straight on the DB-API cursor
and converts only the columns whose stored form is not already the wire form: scaled-integer
quantities become exact decimal text, SQLite's 0/1 booleans become booleans, SQLite's JSON text
is embedded as it is, PostgreSQL's timestamps are put in UTC. On SQLite, snapshot pages go one
step further: the database writes each row's ``data`` object itself (``json_object``, the same
conversions in SQL), so a row costs the server one string instead of a dozen Python values, a
dict and their encoding. Rows read per owner or masked per row (self-service records, a
notification's recipient) take the general SQLAlchemy path.

A journal entry's lines are part of its row (``lines_json``, revision 0019) and count toward a
pull page's ``limit`` (``sync_server.pull``): a plan that reads them (:attr:`RowPlan.lines`) can
tell how many lines each row read holds. SQLite's snapshot statements then count them in SQL
(``json_array_length``), the other reads from the row's text; other entities' reads do nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from functools import lru_cache
from typing import Any

from orjson import Fragment, loads
from sqlalchemy import JSON, Boolean, Connection, String, Table, bindparam, false, select, text, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from common.access import EntityAccess, OwnerIds
from common.commands.rowaccess import RawStatement
from common.money import QUANTITY_PLACES, QUANTITY_SCALE, scaled_quantity_text
from common.schema import ENTITIES
from common.schema.base import table_of
from common.schema.types import Quantity, UTCDateTime

Converter = Callable[[Any], Any]
_SCALE = QUANTITY_SCALE
_IN_CHUNK = 500
# The entity whose rows carry lines, and the column that holds them.
LINES_ENTITY, LINES_COLUMN = "journal_entry", "lines_json"
# What a read of a plan with lines records, when asked: each row's id and number of lines.
Counts = list[tuple[str, int]]


def line_count(stored: str | None) -> int:
    """How many lines an entry's ``lines_json`` text holds (a JSON array, one array a line)."""
    return len(loads(stored)) if stored else 0


def quantity_text(scaled: int | None) -> str | None:
    """A stored scaled quantity as canonical wire text (``common.money.scaled_quantity_text``)."""
    return None if scaled is None else scaled_quantity_text(scaled)


def _boolean(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _utc(value: Any) -> Any:
    return None if value is None else value.astimezone(UTC)


def _json_text(value: Any) -> Any:
    return None if value is None else Fragment(value)


def _converter(column: Any, dialect: str) -> Converter | None:
    kind = column.type
    if isinstance(kind, Quantity):
        return quantity_text
    if dialect == "sqlite":
        if isinstance(kind, Boolean):
            return _boolean
        if isinstance(kind, JSON):
            return _json_text
        return None  # timestamps and dates are stored as their ISO text
    if isinstance(kind, UTCDateTime):
        return _utc
    return None


def _sqlite_json_value(column: Any) -> str:
    """An SQLite expression giving ``column``'s wire value as ``json_object`` should embed it:
    the conversions of :func:`_converter`, in SQL."""
    name = f'"{column.name}"'
    kind = column.type
    if isinstance(kind, Quantity):  # exactly quantity_text(): integer arithmetic only
        return (
            f"CASE WHEN {name} IS NULL THEN NULL "
            f"WHEN {name} % {_SCALE} = 0 THEN CAST({name} / {_SCALE} AS TEXT) "
            f"ELSE (CASE WHEN {name} < 0 THEN '-' ELSE '' END) || CAST(abs({name}) / {_SCALE} AS TEXT)"
            f" || '.' || rtrim(printf('%0{QUANTITY_PLACES}d', abs({name}) % {_SCALE}), '0') END"
        )
    if isinstance(kind, Boolean):
        return f"CASE WHEN {name} IS NULL THEN NULL WHEN {name} THEN json('true') ELSE json('false') END"
    if isinstance(kind, JSON):
        return f"json({name})"
    return name


def _line_count_column(lines: bool) -> str:
    return f', json_array_length("{LINES_COLUMN}")' if lines else ""


def _sqlite_json_keyset(table: Table, columns: Sequence[Any], dialect: Any, lines: bool) -> RawStatement:
    """The keyset page as ``(id, version, data JSON text)`` rows, ``data`` built by SQLite
    (``lines``: and each row's number of lines)."""
    pairs = ", ".join(f"'{c.name}', {_sqlite_json_value(c)}" for c in columns)
    stmt = text(
        f'SELECT "id", "version", json_object({pairs}){_line_count_column(lines)} FROM "{table.name}" '
        "WHERE org_id = :org_id AND deleted = 0 AND id > :after_id ORDER BY id LIMIT :limit"
    )
    return RawStatement.of(stmt, dialect)


def _sqlite_array_keyset(table: Table, columns: Sequence[Any], dialect: Any, lines: bool) -> RawStatement:
    """The keyset page as ``(id, row JSON array text)`` rows for the ``blocks`` pull format: the
    values of :func:`_sqlite_json_keyset`'s objects, in column order, without their names
    (``lines``: and each row's number of lines)."""
    values = ", ".join(_sqlite_json_value(c) for c in columns)
    stmt = text(
        f'SELECT "id", json_array({values}){_line_count_column(lines)} FROM "{table.name}" '
        "WHERE org_id = :org_id AND deleted = 0 AND id > :after_id ORDER BY id LIMIT :limit"
    )
    return RawStatement.of(stmt, dialect)


@dataclass(frozen=True)
class RowPlan:
    """How one entity is read for one kind of reader on one dialect."""

    entity: str
    table: Table
    names: tuple[str, ...]
    converters: tuple[tuple[int, Converter], ...]
    per_row_mask: bool
    owner_only: bool
    keyset_statement: RawStatement
    json_keyset_statement: RawStatement | None = None  # SQLite, plain plans
    array_keyset_statement: RawStatement | None = None  # SQLite, plain plans (``blocks`` format)
    # Its rows carry lines (journal entries, ``lines_json`` read): those count toward a page.
    lines: bool = False

    @property
    def plain(self) -> bool:
        """Every row is readable with the same columns: the fast path applies."""
        return not self.per_row_mask and not self.owner_only

    def to_dicts(self, result: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        names, converters = self.names, self.converters
        if not converters:
            return [dict(zip(names, row, strict=True)) for row in result]
        rows = []
        for raw in result:
            values = list(raw)
            for index, convert in converters:
                values[index] = convert(values[index])
            rows.append(dict(zip(names, values, strict=True)))
        return rows

    def visible(self, access: EntityAccess, owner: OwnerIds, row: dict[str, Any]) -> dict[str, Any] | None:
        """``row`` as the caller may see it, ``None`` when not at all."""
        if self.plain:
            return row
        allowed = access.columns_for(row, owner)
        if not allowed:
            return None
        return {key: value for key, value in row.items() if key in allowed}

    def _raw_columns(self) -> list[ColumnElement[Any]]:
        # Stored values as the driver returns them (no type processing); converters make wire values.
        return [type_coerce(self.table.c[name], String).label(name) for name in self.names]

    def plain_changes(
        self, connection: Connection, org_id: str, after_id: str, limit: int, counts: Counts | None = None
    ) -> list[dict[str, Any]]:
        """A plain plan's next ``limit`` live rows after ``after_id`` as snapshot changes
        (``counts``, for a plan with lines: gets each row's id and number of lines)."""
        assert self.plain
        entity = self.entity
        params = {"org_id": org_id, "after_id": after_id, "limit": limit}
        if self.json_keyset_statement is not None:
            found = self.json_keyset_statement.all(connection, params)
            if self.lines:
                if counts is not None:
                    counts.extend((row[0], row[3]) for row in found)
                found = [row[:3] for row in found]
            return [
                {"entity": entity, "id": row_id, "op": "upsert", "version": version, "data": Fragment(data)}
                for row_id, version, data in found
            ]
        rows = self.to_dicts(self.keyset_statement.all(connection, params))
        self._count(rows, counts)
        return [
            {"entity": entity, "id": row["id"], "op": "upsert", "version": row["version"], "data": row}
            for row in rows
        ]

    def _count(self, rows: list[dict[str, Any]], counts: Counts | None) -> None:
        if self.lines and counts is not None:
            counts.extend((row["id"], line_count(row.get(LINES_COLUMN))) for row in rows)

    def plain_block(
        self, connection: Connection, org_id: str, after_id: str, limit: int, counts: Counts | None = None
    ) -> tuple[dict[str, Any], str | None]:
        """A plain plan's next ``limit`` live rows after ``after_id`` as one upsert block of the
        ``blocks`` pull format (``sync_server.pull_blocks``), and the last row's id (``None``:
        no row); ``counts``, for a plan with lines: gets each row's id and number of lines."""
        assert self.plain
        params = {"org_id": org_id, "after_id": after_id, "limit": limit}
        rows: list[Any]
        if self.array_keyset_statement is not None:
            found = self.array_keyset_statement.all(connection, params)
            if self.lines:
                if counts is not None:
                    counts.extend((row[0], row[2]) for row in found)
                found = [row[:2] for row in found]
            rows = [Fragment(values) for _, values in found]
            last = found[-1][0] if found else None
        else:
            dicts = self.to_dicts(self.keyset_statement.all(connection, params))
            self._count(dicts, counts)
            rows = [list(row.values()) for row in dicts]
            last = dicts[-1]["id"] if dicts else None
        return {"entity": self.entity, "op": "upsert", "columns": list(self.names), "rows": rows}, last

    def keyset(
        self,
        connection: Connection,
        org_id: str,
        after_id: str,
        limit: int,
        owners: list[str] | None,
        counts: Counts | None = None,
    ) -> list[dict[str, Any]]:
        """Live rows with ``id > after_id`` in id order, at most ``limit`` (``owners``: only
        rows whose owner column holds one of them; ``counts``, for a plan with lines: gets each
        row's id and number of lines)."""
        if owners is None:
            params = {"org_id": org_id, "after_id": after_id, "limit": limit}
            rows = self.to_dicts(self.keyset_statement.all(connection, params))
            self._count(rows, counts)
            return rows
        table = self.table
        info = ENTITIES[self.entity].__entity__
        assert info.owner is not None
        stmt = (
            select(*self._raw_columns())
            .where(
                table.c.org_id == org_id,
                table.c.deleted == false(),
                table.c.id > after_id,
                table.c[info.owner].in_(owners),
            )
            .order_by(table.c.id)
            .limit(limit)
        )
        rows = self.to_dicts(connection.execute(stmt).all())
        self._count(rows, counts)
        return rows

    def by_ids(
        self, connection: Connection, org_id: str, ids: list[str]
    ) -> dict[str, tuple[dict[str, Any], bool]]:
        """Current rows with these ids, tombstones included: ``id → (row, deleted)``."""
        table = self.table
        stmt = select(*self._raw_columns(), table.c.deleted.label("__deleted")).where(
            table.c.org_id == org_id, table.c.id.in_(bindparam("ids", expanding=True))
        )
        found: dict[str, tuple[dict[str, Any], bool]] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            result = connection.execute(stmt, {"ids": ids[start : start + _IN_CHUNK]}).all()
            rows = self.to_dicts([row[:-1] for row in result])
            for row, raw in zip(rows, result, strict=True):
                found[row["id"]] = (row, bool(raw[-1]))
        return found


@lru_cache(maxsize=1024)
def row_plan(entity: str, access: EntityAccess, connection_dialect: Any) -> RowPlan:
    """The plan for ``entity`` as ``access`` reads it, compiled for ``connection_dialect``."""
    dialect = connection_dialect.name
    table = table_of(ENTITIES[entity])
    per_row = access.owner_column is not None and access.owner_columns != access.columns
    owner_only = not access.columns
    wanted = access.columns
    if per_row or owner_only:
        # The owner column is read even where the owner may not see it (``employee.user_id`` is
        # sensitive): :meth:`RowPlan.visible` needs it to know whose row it is, then drops it.
        wanted = access.owner_columns | {access.owner_column or "id"}
    columns = [c for c in table.columns if c.name in wanted and c.name != "org_id"]
    names = tuple(c.name for c in columns)
    converters = tuple(
        (index, convert)
        for index, convert in ((i, _converter(c, dialect)) for i, c in enumerate(columns))
        if convert is not None
    )
    keyset = (
        select(*(c.label(c.name) for c in columns))
        .where(
            table.c.org_id == bindparam("org_id"),
            table.c.deleted == false(),
            table.c.id > bindparam("after_id"),
        )
        .order_by(table.c.id)
        .limit(bindparam("limit"))
    )
    plain = not per_row and not owner_only
    lines = entity == LINES_ENTITY and LINES_COLUMN in names
    return RowPlan(
        entity=entity,
        table=table,
        names=names,
        converters=converters,
        per_row_mask=per_row,
        owner_only=owner_only,
        keyset_statement=RawStatement.of(keyset, connection_dialect),
        json_keyset_statement=(
            _sqlite_json_keyset(table, columns, connection_dialect, lines)
            if plain and dialect == "sqlite"
            else None
        ),
        array_keyset_statement=(
            _sqlite_array_keyset(table, columns, connection_dialect, lines)
            if plain and dialect == "sqlite"
            else None
        ),
        lines=lines,
    )

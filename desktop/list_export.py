"""A desktop list as an export (no Qt here): its columns, current search, filter and sort.

Each column is traced to the stored fields it shows: a column of the list's SELECT names its
table columns (a join's ``supplier.name`` too), a value added after the query (stock on hand)
names them in :data:`DERIVED`. A column is exported only when every field it shows is readable
by the signed-in user under the read rules of sync (:func:`common.exports.column_readable`), so
an export never shows more than a pull would have sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column as SqlColumn
from sqlalchemy.sql import visitors

from common.exports import ExportColumn, ExportTable, column_readable, readable_table
from common.schema import ENTITIES
from desktop.lists import Column, ListSource

BATCH = 1000

# Values computed after the query (``ListSource.decorate``): the stored fields they come from.
DERIVED: Mapping[str, tuple[str, ...]] = {
    "on_hand": ("stock_move.quantity",),
    "shortfall": ("stock_move.quantity", "product.reorder_point"),
}
_KINDS = {"money": "money", "quantity": "quantity", "number": "number", "date": "date",
          "datetime": "datetime", "status": "status", "bool": "bool"}  # fmt: skip


def field_sources(source: ListSource, key: str) -> tuple[str, ...]:
    """The stored fields (``entity.column``) the list column ``key`` shows."""
    try:
        expression = source.selected(key)
    except KeyError:
        if key in DERIVED:
            return DERIVED[key]
        raise ValueError(f"list column {key}: neither selected nor a known derived value") from None
    found = []
    for element in visitors.iterate(expression):
        if isinstance(element, SqlColumn) and element.table is not None and element.table.name in ENTITIES:
            name = f"{element.table.name}.{element.name}"
            if name not in found:
                found.append(name)
    if not found:
        raise ValueError(f"list column {key}: shows no stored field")
    return tuple(found)


def _export_column(column: Column, sources: tuple[str, ...]) -> ExportColumn:
    return ExportColumn(
        column.key,
        column.title,
        kind=_KINDS.get(column.kind, "text"),
        currency_key=column.currency_key,
        source=sources[0],
    )


def readable_list_columns(source: ListSource, permissions: frozenset[str]) -> list[ExportColumn]:
    """The list's columns the user may read, as export columns, in screen order."""
    kept = []
    for column in source.columns:
        sources = field_sources(source, column.key)
        exported = [_export_column(column, (name,)) for name in sources]
        probe = ExportTable("", exported, [])
        if all(column_readable(probe, c, permissions) for c in exported):
            kept.append(exported[0])
    return kept


@dataclass(frozen=True)
class ListView:
    """What the user is looking at: the search text and the sort of the list."""

    search: str = ""
    sort: str | None = None
    descending: bool | None = None
    filters: Sequence[str] = ()  # other filters in words ("Status: ordered")


def iter_rows(source: ListSource, view: ListView, batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """Every row of the list as the screen orders it, read in batches in one read transaction."""
    stmt = source.ordered(view.search, sort=view.sort, descending=view.descending)
    with source.store.read_session() as session:
        result = session.execute(stmt.execution_options(yield_per=batch)).mappings()
        for part in result.partitions(batch):
            rows = [dict(r) for r in part]
            if source.decorate is not None and rows:
                source.decorate(session, rows)
            yield from rows


def describe(source: ListSource, view: ListView) -> str:
    """The filter and sort in words, printed under an export's title."""
    parts = [*view.filters]
    if view.search.strip():
        parts.append(f"Search: “{view.search.strip()}”")
    key = source.sort_key(view.sort)
    title = next((c.title for c in source.columns if c.key == key), key)
    descending = source.default_descending if view.descending is None else view.descending
    parts.append(f"Sorted by {title} ({'descending' if descending else 'ascending'})")
    return " · ".join(parts)


def list_table(
    source: ListSource, title: str, view: ListView, permissions: frozenset[str], *, total: int | None = None
) -> ExportTable:
    """The list as an :class:`ExportTable` under the user's read rules; rows are read lazily
    when a writer iterates them (off the GUI thread)."""
    table = ExportTable(
        title=title,
        columns=readable_list_columns(source, permissions),
        rows=iter_rows(source, view),
        total=total,
        description=describe(source, view),
    )
    return readable_table(table, permissions)

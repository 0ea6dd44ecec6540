"""What an export is made of: a titled table of columns and rows, already through the read rules.

A list on the desktop and a report of the server both become an :class:`ExportTable`; the
writers (:mod:`common.exports.writers`) turn it into CSV, XLSX or PDF. A column names the field
it shows (``source``, ``entity.column``); :func:`readable_table` drops every column the caller
may not read by the same rules as sync (:mod:`common.access`), so no export can show a field
that a pull would have masked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from common.access import readable_columns
from common.money import currency_exponent
from common.schema import ENTITIES
from common.schema.base import table_of

# Column kinds: ``text``; ``money`` (integer minor units, the row's ``currency_key`` names the
# currency); ``amount`` (exact decimal text or Decimal in the table's currency, as reports
# carry them); ``quantity`` (exact decimal); ``date``; ``datetime``; ``bool``; ``status``.
KINDS = ("text", "money", "amount", "quantity", "number", "date", "datetime", "bool", "status")
NUMERIC_KINDS = ("money", "amount", "quantity", "number")

Progress = Callable[[int, int | None], None]
Cancelled = Callable[[], bool]


class ExportCancelled(Exception):
    """The user cancelled the export; nothing usable was written."""


class ExportTooLarge(ValueError):
    """The table has more rows than the format holds (an XLSX sheet: 1,048,576 with its header);
    nothing was written: a row is never dropped silently."""


@dataclass(frozen=True)
class ExportColumn:
    """One exported column: ``key`` in each row, its ``title`` for people, its ``kind``.

    ``source`` (``"entity.column"``) is the stored field it shows, checked against the read
    rules; computed columns name the field they are derived from (on hand → the stock moves'
    quantity). ``None`` means the table's entity and ``key``.
    """

    key: str
    title: str
    kind: str = "text"
    currency_key: str = "currency"
    source: str | None = None
    # Added beside a money column for flat files (its currency); paper shows it in the cell.
    companion: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.key}: unknown kind {self.kind!r}")

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS


@dataclass(frozen=True)
class ExportTable:
    """A list or report to export.

    ``rows`` may be a generator (a big list is read page by page while it is written); ``total``
    is how many rows to expect, for progress. ``entity`` is the entity the columns read unless a
    column says otherwise (``None`` for reports, whose permission was checked when they were
    made). ``currency`` is the currency of ``amount`` columns. ``description`` says which filter
    and sort produced the rows (printed under the title). ``totals`` maps column keys (or labels)
    to amounts for a closing line; ``header_keys`` writes the keys, not the titles, as the CSV
    header (the report API's machine-readable CSV).
    """

    title: str
    columns: Sequence[ExportColumn]
    rows: Iterable[Mapping[str, Any]]
    entity: str | None = None
    currency: str | None = None
    total: int | None = None
    description: str = ""
    totals: Mapping[str, Any] = field(default_factory=dict)
    header_keys: bool = False


def _source_of(table: ExportTable, column: ExportColumn) -> tuple[str, str] | None:
    if column.source is not None:
        entity, _, name = column.source.partition(".")
        return entity, name
    if table.entity is None:
        return None
    return table.entity, column.key


def column_readable(table: ExportTable, column: ExportColumn, permissions: Iterable[str]) -> bool:
    """True when the caller may read the field ``column`` shows (``ValueError`` for no such field)."""
    found = _source_of(table, column)
    if found is None:
        return True
    entity, name = found
    if entity not in ENTITIES or name not in table_of(ENTITIES[entity]).columns:
        raise ValueError(f"column {column.key}: {entity}.{name} is not a stored field")
    return name in readable_columns(entity, permissions)


def readable_table(table: ExportTable, permissions: Iterable[str]) -> ExportTable:
    """``table`` without the columns the caller may not read.

    Each ``money`` column gets its currency column beside it (a spreadsheet cell holds only the
    number; paper shows the currency in the cell and skips that companion); a ``money`` column
    whose currency is unreadable goes too. Rows are not touched: writers read only the kept keys.
    """
    perms = frozenset(permissions)
    columns = [column for column in table.columns if column_readable(table, column, perms)]
    keys = {column.key for column in columns}
    for column in list(columns):
        if column.kind != "money" or column.currency_key in keys:
            continue
        companion = ExportColumn(
            column.currency_key, "Currency", source=_currency_source(column), companion=True
        )
        if column_readable(table, companion, perms):
            columns.insert(columns.index(column) + 1, companion)
            keys.add(column.currency_key)
        elif table.currency is None:
            columns.remove(column)
    return replace(table, columns=columns)


def _currency_source(column: ExportColumn) -> str | None:
    """The stored currency beside an amount's field; ``None`` when its table has none (an order
    line's amounts are in the order's currency, which the reader of the line reads too)."""
    entity = (column.source or "").partition(".")[0]
    if entity in ENTITIES and column.currency_key in table_of(ENTITIES[entity]).columns:
        return f"{entity}.{column.currency_key}"
    return None


def decimal_of(value: Any) -> Decimal | None:
    """An exact decimal from a stored or wire value (``None`` when empty or not a number)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def cell_value(column: ExportColumn, row: Mapping[str, Any], currency: str | None) -> Any:
    """The exact value of a cell: Decimal for numbers (money in major units), date, bool or text."""
    value = row.get(column.key)
    if value is None:
        return None
    if column.kind == "money":
        code = row.get(column.currency_key) or currency
        if code is None or isinstance(value, str):
            return decimal_of(value)
        return Decimal(int(value)).scaleb(-currency_exponent(str(code)))
    if column.numeric:
        number = decimal_of(value)
        return number if number is not None else str(value)
    if column.kind in ("date", "datetime"):
        if isinstance(value, datetime | date):
            return value
        text = str(value)
        try:
            return datetime.fromisoformat(text) if column.kind == "datetime" else date.fromisoformat(text)
        except ValueError:
            return text
    if column.kind == "bool":
        return bool(value)
    return str(value)


def cell_currency(column: ExportColumn, row: Mapping[str, Any], currency: str | None) -> str | None:
    """The currency of a money or amount cell (``None`` for other kinds)."""
    if column.kind == "money":
        code = row.get(column.currency_key) or currency
        return str(code) if code else None
    if column.kind == "amount":
        return currency
    return None


def human_text(column: ExportColumn, row: Mapping[str, Any], currency: str | None) -> str:
    """A cell as people read it on paper: ``1,234.50``, ``2026-12-03``, ``Yes``."""
    value = cell_value(column, row, currency)
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if column.kind in ("money", "amount"):
            code = cell_currency(column, row, currency)
            places = currency_exponent(code) if code else max(0, -int(value.as_tuple().exponent))
            text = f"{value:,.{places}f}"
            return f"{text} {code}" if column.kind == "money" and code else text
        return format(value.normalize() if value == value.to_integral() else value, ",f")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if column.kind == "status":
        return str(value).replace("_", " ").capitalize()
    return str(value)

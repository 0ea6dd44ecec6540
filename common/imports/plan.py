"""An import's plan: the commands its rows become, and every problem named by row and column."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from common.commands import CommandError
from common.imports.kinds import ImportKind


@dataclass(frozen=True)
class RawTable:
    header: list[str]
    rows: list[list[str]]  # row i is line i + 2 of the file (the header is line 1)

    def records(
        self,
        mapping: Mapping[str, int | None],
        progress: Callable[[int, int], None] | None = None,
    ) -> Iterator[tuple[int, dict[str, str]]]:
        """Each non-blank row as (its row number, field key → its cell, ``""`` for a column not
        matched or missing on that row); ``progress(done, total)`` every 1,000 rows."""
        for offset, cells in enumerate(self.rows):
            if progress is not None and offset % 1000 == 0:
                progress(offset, len(self.rows))
            if not any(cells):
                continue
            yield (
                offset + 2,
                {
                    key: (cells[index] if index is not None and index < len(cells) else "")
                    for key, index in mapping.items()
                },
            )


@dataclass(frozen=True)
class ImportOptions:
    """What the user chose besides the columns.

    ``decimal_mark``: the file's decimal separator (``"."``/``","``), ``None`` to read each
    number's own and refuse the ambiguous ones. ``opening_date``: the date opening balances are
    posted on (the kinds with ``asks_date``).
    """

    default_currency: str
    decimal_mark: str | None = None
    opening_date: date | None = None


@dataclass(frozen=True)
class Problem:
    """What is wrong, where: ``row`` as the spreadsheet numbers it (header = 1; 0 = the whole
    file), the file's ``column`` name (or the field's title when the column is missing)."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"Row {self.row}" if self.row else "Whole file"
        return f"{where}, {self.column}: {self.message}"


@dataclass(frozen=True)
class Planned:
    """One command; ``line_rows``: the file row of each of its ``lines`` (an entry of many rows)."""

    row: int
    name: str
    args: dict[str, Any]
    line_rows: tuple[int, ...] = ()


@dataclass
class ImportPlan:
    kind: ImportKind
    commands: list[Planned] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Said instead of the counts when a kind has more to say (an opening entry's totals).
    headline: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        counts = self.headline or (
            f"{self.created:,} new, {self.updated:,} changed, {self.unchanged:,} unchanged"
        )
        return counts + (f"; {len(self.problems):,} problems" if self.problems else "")


# Command fields that are not a column of the file: what the user chose in the wizard.
CHOSEN_FIELDS = {"entry_date": "Opening date"}


def refusal(kind: ImportKind, planned: Planned, error: CommandError) -> Problem:
    """A refused command as a problem of its row and column (of the line's row, for an entry)."""
    names = {spec.key: spec.title for spec in kind.fields}
    parts = (error.field or "").split(".")
    row = planned.row
    index = int(parts[1]) if parts[0] == "lines" and len(parts) > 1 and parts[1].isdigit() else None
    if index is not None and index < len(planned.line_rows):
        row = planned.line_rows[index]
        parts = parts[2:] or [""]
    if parts[0] in ("changes", "base") and len(parts) > 1:  # an update's field
        parts = parts[1:]
    key = kind.line_fields.get(parts[0], parts[0])
    column = names.get(key) or CHOSEN_FIELDS.get(key) or kind.title
    if error.field in CHOSEN_FIELDS:
        row = 0
    return Problem(row, column, error.message.removeprefix(f"{error.field}: "))

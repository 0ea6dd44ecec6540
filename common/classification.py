"""Field classification: the single fact that decides who may see a column.

Every column of every table carries one classification in its SQLAlchemy ``info``. Pull masking,
privacy export, erasure and retention all read it from here; nothing else decides which field is
personal.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Table


class Classification(StrEnum):
    PUBLIC = "public"  # visible to every member of the organization
    BUSINESS = "business"  # visible with the module's read permission
    PERSONAL = "personal"  # personal data of a person: exported, erased on request
    SENSITIVE = "sensitive"  # salary, bank account, national id: needs hr.sensitive.read


def classification_of(column: ColumnElement[Any]) -> Classification:
    """The classification of ``column``; raises ``LookupError`` if it has none."""
    value = column.info.get("classification")
    if value is None:
        raise LookupError(f"column {column.table.name}.{column.name} has no classification")
    return Classification(value)


def columns_by_classification(table: Table) -> dict[Classification, list[str]]:
    """Column names of ``table`` grouped by classification."""
    grouped: dict[Classification, list[str]] = {c: [] for c in Classification}
    for column in table.columns:
        grouped[classification_of(column)].append(column.name)
    return grouped


def personal_columns(table: Table) -> list[str]:
    """Columns holding personal data of a person (``personal`` and ``sensitive``)."""
    return [
        column.name
        for column in table.columns
        if classification_of(column) in (Classification.PERSONAL, Classification.SENSITIVE)
    ]


# Column ``info`` of a public column that still identifies a person (an employee's name in the
# directory): visible org-wide, yet removed when the person is erased.
IDENTIFYING: dict[str, Any] = {"identifying": True}


def personal_columns_of_row(table: Table, row: Mapping[str, Any]) -> list[str]:
    """The personal and sensitive columns of one row: :func:`personal_columns` plus the columns
    whose ``personal_when`` flag is set in ``row`` (a sole trader's name is a person's name) and
    the public columns marked :data:`IDENTIFYING`."""
    always, conditional = _row_rule(table)
    found = list(always)
    for name, flag in conditional:
        if flag is None or row.get(flag):
            found.append(name)
    return found


@cache
def _row_rule(table: Table) -> tuple[tuple[str, ...], tuple[tuple[str, str | None], ...]]:
    """What :func:`personal_columns_of_row` needs of ``table``, read from its columns once (every
    write a push records asks it, and a table's classification never changes while running): the
    personal columns, then in column order the others that may join them, each with the flag that
    decides (``None``: always, an identifying column)."""
    always = personal_columns(table)
    conditional: list[tuple[str, str | None]] = []
    for column in table.columns:
        if column.name in always:
            continue
        if column.info.get("identifying"):
            conditional.append((column.name, None))
        elif column.info.get("personal_when"):
            conditional.append((column.name, column.info["personal_when"]))
    return tuple(always), tuple(conditional)

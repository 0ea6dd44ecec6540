"""Whose personal data a row holds: the link from each row to its data subject.

The classification (``common.classification``) says *what* is personal; this says *whose*: a
customer, a supplier (its contact person, or the sole trader themselves), an employee or a user
account. Export, erasure and the encryption of audit values under a per-subject key walk these
links, so no module needs code of its own for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table

from common.classification import personal_columns_of_row
from common.schema import ENTITIES, entity_info
from common.schema.base import table_of

# Entities that are a data subject themselves (entity name → subject type).
SUBJECT_ENTITIES: Mapping[str, str] = {
    "customer": "customer",
    "supplier": "supplier",
    "employee": "employee",
    "employee_directory": "employee",
}
# Columns that link a row to its subject, in the order they are tried.
SUBJECT_LINKS: tuple[tuple[str, str], ...] = (
    ("employee_id", "employee"),
    ("customer_id", "customer"),
    ("supplier_id", "supplier"),
    ("user_id", "user"),
)
SUBJECT_TYPES = frozenset({"customer", "supplier", "employee", "user"})


def subject_of(entity: str, row: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(subject type, subject id)`` of the person a row of ``entity`` is about, or ``None``."""
    own = SUBJECT_ENTITIES.get(entity)
    if own is not None:
        return own, str(row["id"])
    if row.get("subject_type") in SUBJECT_TYPES and row.get("subject_id"):
        return str(row["subject_type"]), str(row["subject_id"])
    for column, subject_type in SUBJECT_LINKS:
        if row.get(column):
            return subject_type, str(row[column])
    return None


def erasable_columns(entity: str, row: Mapping[str, Any]) -> list[str]:
    """The personal and sensitive columns of a row that an erasure removes.

    Append-only entities (payslips, invoices, journal lines) are legal records corrected only
    by reversal: their amounts are kept for as long as the law says, so they are not erasable.
    """
    model = ENTITIES.get(entity)
    if model is None or entity_info(entity).append_only:
        return []
    return personal_columns_of_row(table_of(model), row)


def entity_table(entity: str) -> Table:
    return table_of(ENTITIES[entity])

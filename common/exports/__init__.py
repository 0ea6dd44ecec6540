"""Exports of lists and reports to CSV, XLSX and PDF, through the read rules of sync.

:class:`ExportTable` is what to export (columns, rows, filter description), :func:`readable_table`
drops what the caller may not read, :func:`export` writes a format; :func:`report_table` makes a
table of a report's wire form (``common.reports``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.exports.table import (
    ExportCancelled,
    ExportColumn,
    ExportTable,
    ExportTooLarge,
    column_readable,
    human_text,
    readable_table,
)
from common.exports.writers import FORMATS, export, export_bytes, safe_text

# Report columns holding amounts in the ledger currency, and exact quantities or rates.
REPORT_AMOUNTS = frozenset(
    {"debit", "credit", "balance", "amount", "previous", "unit_cost", "value", "total",
     "current", "days_1_30", "days_31_60", "days_61_90", "over_90",
     "output_base", "output_tax", "input_base", "input_tax"}
)  # fmt: skip
REPORT_QUANTITIES = frozenset({"quantity", "rate"})
REPORT_TITLES = {"days_1_30": "1–30 days", "days_31_60": "31–60 days", "days_61_90": "61–90 days",
                 "over_90": "Over 90 days", "warehouse_id": "Warehouse", "unit_cost": "Unit cost", "sku": "SKU"}  # fmt: skip


def _report_kind(key: str) -> str:
    if key in REPORT_AMOUNTS:
        return "amount"
    if key in REPORT_QUANTITIES:
        return "quantity"
    return "date" if key == "date" else "text"


def report_title(name: str, params: Mapping[str, Any]) -> tuple[str, str]:
    """A report's title and the line saying which period or day it covers."""
    title = name.replace("_", " ").capitalize().replace("Ar ", "Receivables ").replace("Ap ", "Payables ")
    shown = [f"{key.replace('_', ' ')} {value}" for key, value in params.items() if value]
    return title, ", ".join(shown)


def report_table(made: Mapping[str, Any]) -> ExportTable:
    """The wire form of a report (``{report, params, currency, columns, rows, totals}``) as a
    table: amounts in the report's currency, its parameters as the description, keys as the
    CSV header (what the report API's CSV has always had)."""
    title, description = report_title(made["report"], made.get("params") or {})
    columns = [
        ExportColumn(key, REPORT_TITLES.get(key, key.replace("_", " ").capitalize()), kind=_report_kind(key))
        for key in made["columns"]
    ]
    return ExportTable(
        title=title,
        columns=columns,
        rows=made["rows"],
        currency=made.get("currency"),
        total=len(made["rows"]),
        description=description,
        totals=made.get("totals") or {},
        header_keys=True,
    )


__all__ = [
    "FORMATS",
    "ExportCancelled",
    "ExportColumn",
    "ExportTable",
    "ExportTooLarge",
    "column_readable",
    "export",
    "export_bytes",
    "human_text",
    "readable_table",
    "report_table",
    "safe_text",
]

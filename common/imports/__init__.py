"""Imports from CSV or XLSX: read, match columns, plan ordinary commands, name every problem.

:func:`read_table` reads a file's header and rows, :func:`match_columns` matches its columns to
an import's fields by name (the user may change the mapping), :func:`plan_import` turns every
row into the command that makes the store agree with it — a create for a new natural key (SKU,
code, e-mail), an update with ``changes`` and ``base`` for a changed one, nothing for an
unchanged one, so importing the same file twice changes nothing — and lists every problem by
row and column. Commands are validated with their own args models; :func:`run_plan` then applies
them through the caller's ``apply`` (the desktop's local store: offline, queued for sync,
audited by the server like any other command), collecting refusals by row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.commands import CommandError
from common.commands.finance import CreateAccountArgs
from common.commands.hr import CreateEmployeeArgs
from common.commands.inventory import CreateProductArgs, CreateSupplierArgs, RecordStockMoveArgs
from common.commands.sales import CreateCustomerArgs
from common.imports.kinds import KINDS, ImportField, ImportKind, RowProblem
from common.money import currency_exponent, parse_quantity

MAX_ROWS = 200_000
MAX_CELL = 4000

ARGS_MODELS: Mapping[str, type[BaseModel]] = {
    "inventory.create_product": CreateProductArgs,
    "inventory.create_supplier": CreateSupplierArgs,
    "sales.create_customer": CreateCustomerArgs,
    "finance.create_account": CreateAccountArgs,
    "hr.create_employee": CreateEmployeeArgs,
    "inventory.record_stock_move": RecordStockMoveArgs,
}


class ImportFileError(ValueError):
    """The file cannot be read as a table (not CSV/XLSX, no header, too many rows)."""


@dataclass(frozen=True)
class RawTable:
    header: list[str]
    rows: list[list[str]]  # row i is line i + 2 of the file (the header is line 1)


@dataclass(frozen=True)
class Problem:
    """What is wrong, where: ``row`` as the spreadsheet numbers it (header = 1), the file's
    ``column`` name (or the field's title when the column is missing)."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"Row {self.row}, {self.column}: {self.message}"


@dataclass(frozen=True)
class Planned:
    row: int
    name: str
    args: dict[str, Any]


@dataclass
class ImportPlan:
    kind: ImportKind
    commands: list[Planned] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return f"{self.created:,} new, {self.updated:,} changed, {self.unchanged:,} unchanged" + (
            f"; {len(self.problems):,} problems" if self.problems else ""
        )


# -- reading --------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()[:10]
    return str(value).strip()


def read_table(data: bytes, filename: str) -> RawTable:
    """The header and rows of a CSV (UTF-8, with or without BOM; comma or semicolon) or XLSX file."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except Exception as exc:
            raise ImportFileError(
                f"{filename}: not a readable XLSX workbook ({type(exc).__name__})"
            ) from None
        lines = ([_text(v) for v in row] for row in sheet.iter_rows(values_only=True))
    elif name.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportFileError(f"{filename}: not UTF-8 text; save the CSV as UTF-8") from None
        dialect = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
        lines = ([cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), delimiter=dialect))
    else:
        raise ImportFileError(f"{filename}: choose a .csv or .xlsx file")
    header: list[str] | None = None
    rows: list[list[str]] = []
    for line in lines:
        if header is None:
            if any(line):
                header = line
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(f"{filename}: more than {MAX_ROWS:,} rows; split the file")
        rows.append([cell[:MAX_CELL] for cell in line])
    if header is None:
        raise ImportFileError(f"{filename}: the file is empty (the first line must name the columns)")
    return RawTable(header=header, rows=rows)


def _norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def match_columns(header: Sequence[str], kind: ImportKind) -> dict[str, int | None]:
    """Each field's column index in ``header``, matched by its key, title or an alias."""
    found: dict[str, int | None] = {}
    names = [_norm(h) for h in header]
    for spec in kind.fields:
        wanted = {_norm(spec.key), _norm(spec.title), *(_norm(a) for a in spec.aliases)}
        found[spec.key] = next((i for i, n in enumerate(names) if n and n in wanted), None)
    return found


# -- values ---------------------------------------------------------------------------------------
class _Bad(ValueError):
    pass


def _decimal(text: str) -> Decimal:
    cleaned = text.replace(" ", "").replace("\u00a0", "")
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(",", "")  # 1,234.50
    elif "," in cleaned:
        cleaned = cleaned.replace(",", ".")  # 12,50
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise _Bad(f"“{text}” is not a number") from None


def _money(text: str, currency: str) -> int:
    amount = _decimal(text)
    try:
        exponent = currency_exponent(currency)
    except (KeyError, ValueError):
        raise _Bad(f"“{currency}” is not a currency code") from None
    minor = amount.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise _Bad(f"“{text}” has more decimals than {currency} allows ({exponent})")
    return int(minor)


def _value(spec: ImportField, text: str, currency: str) -> Any:
    if spec.kind == "money":
        return _money(text, currency)
    if spec.kind == "quantity":
        try:
            return parse_quantity(_decimal(text))
        except (ValueError, ArithmeticError) as exc:
            raise _Bad(str(exc)) from None
    if spec.kind == "date":
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            raise _Bad(f"“{text}” is not a date (YYYY-MM-DD)") from None
    if spec.kind == "choice":
        lowered = text.lower()
        if lowered not in spec.choices:
            raise _Bad(f"“{text}” must be one of {', '.join(spec.choices)}")
        return lowered
    return text


# -- planning -------------------------------------------------------------------------------------
def _existing(session: Session, org_id: str, kind: ImportKind) -> dict[Any, dict[str, Any]]:
    if kind.existing is not None:
        return kind.existing(session, org_id)
    table = kind.model.__table__
    key = table.c[kind.natural_key]
    stmt = select(*table.c).where(table.c.org_id == org_id, table.c.deleted.is_(False), key.is_not(None))
    found = {}
    for row in session.execute(stmt).mappings():
        value = row[kind.natural_key]
        found[value.lower() if kind.key_case_insensitive else value] = dict(row)
    return found


def _column_name(spec: ImportField, header: Sequence[str], mapping: Mapping[str, int | None]) -> str:
    index = mapping.get(spec.key)
    return header[index] if index is not None and index < len(header) else spec.title


def _validate(planned: Planned, kind: ImportKind, names: Mapping[str, str]) -> list[Problem]:
    model = ARGS_MODELS.get(planned.name)
    if model is None:
        return []
    try:
        model.model_validate(planned.args)
    except ValidationError as exc:
        return [
            Problem(planned.row, names.get(str(err["loc"][0]) if err["loc"] else "", kind.title), err["msg"])
            for err in exc.errors()
        ]
    return []


def plan_import(
    session: Session,
    org_id: str,
    kind_name: str,
    table: RawTable,
    mapping: Mapping[str, int | None],
    *,
    default_currency: str,
    progress: Callable[[int, int], None] | None = None,
) -> ImportPlan:
    """The commands that make the store agree with ``table``, and every problem by row/column."""
    kind = KINDS[kind_name]
    plan = ImportPlan(kind)
    names = {spec.key: _column_name(spec, table.header, mapping) for spec in kind.fields}
    for spec in kind.fields:
        if spec.required and mapping.get(spec.key) is None:
            plan.problems.append(Problem(1, spec.title, "no column is matched to this required field"))
    if plan.problems:
        return plan
    existing = _existing(session, org_id, kind)
    lookups = kind.lookups(session, org_id) if kind.lookups else {}
    seen: dict[Any, int] = {}
    for offset, cells in enumerate(table.rows):
        row_no = offset + 2
        if progress is not None and offset % 1000 == 0:
            progress(offset, len(table.rows))
        if not any(cells):
            continue
        raw = {
            key: (cells[index] if index is not None and index < len(cells) else "")
            for key, index in mapping.items()
        }
        currency = (raw.get("currency") or default_currency).upper()
        values: dict[str, Any] = {}
        bad = False
        for spec in kind.fields:
            text = raw.get(spec.key, "")
            if not text:
                if spec.required:
                    plan.problems.append(Problem(row_no, names[spec.key], "is required"))
                    bad = True
                continue
            try:
                values[spec.key] = _value(spec, text, currency)
            except _Bad as exc:
                plan.problems.append(Problem(row_no, names[spec.key], str(exc)))
                bad = True
        if bad:
            continue
        if "currency" in {s.key for s in kind.fields}:
            values["currency"] = currency
        natural_id = kind.key_of(values)
        if natural_id in seen:
            plan.problems.append(
                Problem(
                    row_no,
                    names[kind.natural_key],
                    f"“{values[kind.natural_key]}” is also on row {seen[natural_id]}",
                )
            )
            continue
        seen[natural_id] = row_no
        try:
            commands = kind.build(values, existing.get(natural_id), lookups)
        except RowProblem as exc:
            plan.problems.append(Problem(row_no, names.get(exc.key, kind.title), exc.message))
            continue
        if not commands:
            plan.unchanged += 1
            continue
        for name, args in commands:
            planned = Planned(row_no, name, args)
            found = _validate(planned, kind, names)
            if found:
                plan.problems.extend(found)
                break
            plan.commands.append(planned)
        else:
            if existing.get(natural_id) is None:
                plan.created += 1
            else:
                plan.updated += 1
    return plan


def run_plan(
    plan: ImportPlan,
    apply: Callable[[str, dict[str, Any]], Any],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[Problem]:
    """Apply every planned command through ``apply``; refusals come back as problems by row.

    ``apply`` runs one command and raises :class:`CommandError` when it is refused (the caller
    puts each in a savepoint and rolls back the whole import, or commits it, as it decides).
    """
    names = {spec.key: spec.title for spec in plan.kind.fields}
    problems: list[Problem] = []
    total = len(plan.commands)
    for done, planned in enumerate(plan.commands):
        if progress is not None and done % 500 == 0:
            progress(done, total)
        try:
            apply(planned.name, planned.args)
        except CommandError as exc:
            column = names.get(exc.field or "", plan.kind.title)
            problems.append(Problem(planned.row, column, exc.message))
        except Exception as exc:
            exc.import_row = planned.row  # type: ignore[attr-defined]  # the caller names the row
            raise
    if progress is not None:
        progress(total, total)
    return problems


__all__ = [
    "KINDS",
    "ImportFileError",
    "ImportKind",
    "ImportPlan",
    "Planned",
    "Problem",
    "RawTable",
    "match_columns",
    "plan_import",
    "read_table",
    "run_plan",
]

"""Imports from CSV or XLSX: read, match columns, plan ordinary commands, name every problem.

:func:`read_table` reads a file's header and rows, :func:`match_columns` matches its columns to
an import's fields by name (the user may change the mapping), :func:`plan_import` turns every
row into the command that makes the store agree with it — a create for a new natural key (SKU,
code, e-mail), an update with ``changes`` and ``base`` for a changed one, nothing for an
unchanged one, so importing the same file twice changes nothing — and lists every problem by
row and column. Commands are validated with their own args models; :func:`run_plan` then applies
them through the caller's ``apply`` (the desktop's local store: offline, queued for sync,
audited by the server like any other command), collecting refusals by row.

Numbers are read exactly or refused (:mod:`common.imports.values`); a kind whose whole file is
one document plans it at once (opening balances, :mod:`common.imports.opening`); the plan's
types live in :mod:`common.imports.plan`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import cache
from importlib import import_module
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.commands import REGISTRY, CommandError
from common.imports.kinds import KINDS, ImportField, ImportKind, RowProblem
from common.imports.plan import ImportOptions, ImportPlan, Planned, Problem, RawTable, refusal
from common.imports.values import DECIMAL_MARKS, CellProblem, cell_value, number_cell, parse_number

MAX_ROWS = 200_000
MAX_CELL = 4000


class ImportFileError(ValueError):
    """The file cannot be read as a table (not CSV/XLSX, no header, too many rows)."""


# -- reading --------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return number_cell(value)  # exact, never re-read as a locale's text
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
        rows.append([cell if len(cell) <= MAX_CELL else cell[:MAX_CELL] for cell in line])
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


@cache
def _field_type(model: type[BaseModel], key: str) -> TypeAdapter[Any] | None:
    info = model.model_fields.get(key)
    if info is None or info.annotation is None:
        return None
    field_type: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    return TypeAdapter(field_type)


def _validate(planned: Planned, kind: ImportKind, names: Mapping[str, str]) -> list[Problem]:
    """The command's own args model checks the row, as the form and the server would; an
    update's changed values are checked by the types the create command gives those fields."""
    problems = []
    try:
        REGISTRY[planned.name].args_model.model_validate(planned.args)
    except ValidationError as exc:
        for err in exc.errors():
            loc = str(err["loc"][0]) if err["loc"] else ""
            problems.append(Problem(planned.row, names.get(loc, kind.title), err["msg"]))
    if planned.name == kind.update:
        create = REGISTRY[kind.create].args_model
        for key, value in planned.args["changes"].items():
            adapter = _field_type(create, key)
            try:
                if adapter is not None:
                    adapter.validate_python(value)
            except ValidationError as exc:
                problems.append(Problem(planned.row, names.get(key, kind.title), exc.errors()[0]["msg"]))
    return problems


def plan_import(
    session: Session,
    org_id: str,
    kind_name: str,
    table: RawTable,
    mapping: Mapping[str, int | None],
    *,
    default_currency: str,
    decimal_mark: str | None = None,
    opening_date: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportPlan:
    """The commands that make the store agree with ``table``, and every problem by row/column.

    ``decimal_mark``: the file's decimal separator, or ``None`` to read each number's own and
    refuse the ambiguous ones (:mod:`common.imports.values`). ``opening_date``: for the kinds
    that ask for a date (opening balances).
    """
    kind = KINDS[kind_name]
    if decimal_mark not in (None, *DECIMAL_MARKS):
        raise ValueError(f"decimal_mark must be one of {DECIMAL_MARKS} or None, not {decimal_mark!r}")
    options = ImportOptions(default_currency, decimal_mark, opening_date)
    plan = ImportPlan(kind)
    names = {spec.key: _column_name(spec, table.header, mapping) for spec in kind.fields}
    for spec in kind.fields:
        if spec.required and mapping.get(spec.key) is None:
            plan.problems.append(Problem(1, spec.title, "no column is matched to this required field"))
    if plan.problems:
        return plan
    if kind.planner is not None:
        module, _, function = kind.planner.partition(":")
        planner = getattr(import_module(module), function)
        result: ImportPlan = planner(session, org_id, kind, table, mapping, names, options, progress)
        return result
    existing = _existing(session, org_id, kind)
    lookups = kind.lookups(session, org_id) if kind.lookups else {}
    seen: dict[Any, int] = {}
    has_currency = any(spec.key == "currency" for spec in kind.fields)
    for row_no, raw in table.records(mapping, progress):
        # Without a currency in the file, a record keeps its own: its amounts are read in it and
        # the import does not change it (a USD product stays USD when re-imported).
        stored_currency = None
        if not raw.get("currency") and has_currency:
            stored_currency = (existing.get(kind.key_of(raw)) or {}).get("currency")
        currency = (raw.get("currency") or stored_currency or default_currency).upper()
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
                values[spec.key] = cell_value(spec, text, currency, decimal_mark)
            except CellProblem as exc:
                plan.problems.append(Problem(row_no, names[spec.key], str(exc)))
                bad = True
        if bad:
            continue
        if has_currency and stored_currency is None:
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
    problems: list[Problem] = []
    total = len(plan.commands)
    for done, planned in enumerate(plan.commands):
        if progress is not None and done % 500 == 0:
            progress(done, total)
        try:
            apply(planned.name, planned.args)
        except CommandError as exc:
            problems.append(refusal(plan.kind, planned, exc))
        except Exception as exc:
            exc.import_planned = planned  # type: ignore[attr-defined]  # the caller names the row
            raise
    if progress is not None:
        progress(total, total)
    return problems


__all__ = [
    "DECIMAL_MARKS",
    "KINDS",
    "ImportFileError",
    "ImportKind",
    "ImportOptions",
    "ImportPlan",
    "Planned",
    "Problem",
    "RawTable",
    "match_columns",
    "parse_number",
    "plan_import",
    "read_table",
    "refusal",
    "run_plan",
]

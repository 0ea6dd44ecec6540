"""The export engine: tables through the read rules, written to CSV, XLSX and PDF and read back
with real parsers (csv, openpyxl, pypdf)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from pypdf import PdfReader

from common.exports import (
    ExportCancelled,
    ExportColumn,
    ExportTable,
    ExportTooLarge,
    export,
    export_bytes,
    readable_table,
    report_table,
)
from common.exports.xlsx import MAX_ROWS, SheetWriter, text_cell
from common.permissions import BUILTIN_ROLES as ROLE_PERMISSIONS

EMPLOYEES = [
    {"id": f"e{n}", "name": name, "job_title": title, "hire_date": date(2024, 1, n + 1),
     "salary": salary, "salary_currency": "EUR", "national_id": f"NI-{n:04d}"}
    for n, (name, title, salary) in enumerate(
        [("Ada Lovelace", "Engineer", 612345), ("=HYPERLINK(\"x\")", "Clerk", 400000), ("Émile Zola", None, 350050)]
    )
]  # fmt: skip
COLUMNS = [
    ExportColumn("name", "Name"),
    ExportColumn("job_title", "Job title"),
    ExportColumn("hire_date", "Hired", kind="date"),
    ExportColumn("salary", "Salary", kind="money", currency_key="salary_currency"),
    ExportColumn("national_id", "National id"),
]


def employees(permissions: frozenset[str]) -> ExportTable:
    table = ExportTable("Employees", COLUMNS, EMPLOYEES, entity="employee", description="Filter: all")
    return readable_table(table, permissions)


def read_back(fmt: str, table: ExportTable) -> list[list[Any]]:
    data = export_bytes(table, fmt)
    if fmt == "csv":
        return list(csv.reader(io.StringIO(data.decode("utf-8"))))
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(data)).active
        assert sheet is not None
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    return [[page.extract_text()] for page in PdfReader(io.BytesIO(data)).pages]


HR = frozenset(ROLE_PERMISSIONS["hr"])
HR_WITHOUT_SENSITIVE = HR - {"hr.sensitive.read"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_a_sensitive_field_is_absent_without_the_right_and_present_with_it(fmt: str) -> None:
    masked = read_back(fmt, employees(HR_WITHOUT_SENSITIVE))
    full = read_back(fmt, employees(HR))
    flat_masked = " ".join(str(v) for row in masked for v in row)
    flat_full = " ".join(str(v) for row in full for v in row)
    for secret in ("NI-0000", "6,123.45", "6123.45", "National id", "Salary"):
        assert secret not in flat_masked, secret
    assert "Ada Lovelace" in flat_masked and "Ada Lovelace" in flat_full
    assert "NI-0000" in flat_full and "National id" in flat_full
    if fmt == "pdf":
        assert "6,123.45 EUR" in flat_full and "2024-01-01" in flat_full
    elif fmt == "csv":
        assert full[0] == ["Name", "Job title", "Hired", "Salary", "Currency", "National id"]
        assert full[1] == ["Ada Lovelace", "Engineer", "2024-01-01", "6123.45", "EUR", "NI-0000"]
        assert masked[0] == ["Name", "Job title", "Hired"]
        # A name that a spreadsheet would run as a formula is written as text.
        assert full[2][0] == '\'=HYPERLINK("x")'
    else:
        assert full[1][:4] == ["Ada Lovelace", "Engineer", full[1][2], 6123.45]
        assert full[1][2].date() == date(2024, 1, 1)
        assert full[2][0] == '=HYPERLINK("x")'  # kept as text, not turned into a formula
        assert masked[0] == ["Name", "Job title", "Hired"]


def test_xlsx_cells_are_numbers_with_their_currency_and_formulas_stay_text() -> None:
    data = export_bytes(employees(HR), "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    salary = sheet["D2"]
    assert salary.data_type == "n" and salary.value == 6123.45
    assert '"EUR"' in salary.number_format
    assert sheet["A3"].data_type == "s"
    assert sheet["C2"].is_date


def test_other_organisations_roles_read_only_the_directory_fields() -> None:
    # A warehouse login reads only the public fields of employees (the directory rule does not
    # reach the employee entity itself): no column at all.
    assert [c.key for c in employees(frozenset(ROLE_PERMISSIONS["warehouse"])).columns] == []
    auditor = employees(frozenset(ROLE_PERMISSIONS["auditor"]))
    assert [c.key for c in auditor.columns] == ["name", "job_title", "hire_date"]


def test_a_column_naming_no_stored_field_is_a_programming_error() -> None:
    table = ExportTable("x", [ExportColumn("nope", "Nope")], [], entity="product")
    with pytest.raises(ValueError, match=r"product\.nope"):
        readable_table(table, HR)


def test_cancel_stops_a_long_export_and_progress_is_reported() -> None:
    rows = ({"sku": f"S{n}", "name": "x"} for n in range(100_000))
    table = ExportTable("P", [ExportColumn("sku", "SKU"), ExportColumn("name", "Name")], rows, total=100_000)
    seen: list[tuple[int, int | None]] = []
    for fmt in ("csv", "xlsx", "pdf"):
        seen.clear()
        with pytest.raises(ExportCancelled):
            export(
                table,
                fmt,
                io.BytesIO(),
                progress=lambda d, t: seen.append((d, t)),
                cancelled=lambda: len(seen) >= 3,
            )
        assert seen[:3] == [(500, 100_000), (1000, 100_000), (1500, 100_000)]
        table = ExportTable("P", table.columns, ({"sku": f"S{n}"} for n in range(100_000)), total=100_000)


def test_a_report_as_table_keeps_the_wire_header_in_csv_and_amounts_exact() -> None:
    made = {
        "report": "ar_aging",
        "params": {"as_of": "2031-01-31"},
        "currency": "JPY",
        "columns": ["name", "current", "over_90", "total"],
        "rows": [{"name": "-Dash Ltd", "current": "1200", "over_90": "-5", "total": "1195"}],
        "totals": {"current": "1200", "over_90": "-5", "total": "1195"},
    }
    rows = read_back("csv", report_table(made))
    assert rows == [["name", "current", "over_90", "total"], ["'-Dash Ltd", "1200", "-5", "1195"]]
    sheet = read_back("xlsx", report_table(made))
    assert sheet[0] == ["Name", "Current", "Over 90 days", "Total"]
    assert sheet[1] == ["-Dash Ltd", 1200, -5, 1195]
    assert sheet[-3:] == [
        ["Total current", 1200, None, None],
        ["Total over 90 days", -5, None, None],
        ["Total", 1195, None, None],
    ]
    (page,) = read_back("pdf", report_table(made))
    assert "Receivables aging" in page[0] and "as of 2031-01-31" in page[0]
    assert "1,200" in page[0] and "Total (JPY)" in page[0]


def test_xlsx_keeps_awkward_text_dates_formats_and_layout() -> None:
    """The sheet as a spreadsheet program reads it (openpyxl): every text as written (control
    characters through Excel's escapes, markup-like text as text, at most 32,767 characters),
    dates of either side of Excel's 1900 leap day, one number format per currency, the bold
    frozen header, the column widths and a sheet name Excel accepts."""
    columns = [
        ExportColumn("text", "Text"),
        ExportColumn("price", "Price", kind="money"),
        ExportColumn("currency", "Currency", companion=True),
        ExportColumn("qty", "Qty", kind="quantity"),
        ExportColumn("day", "Day", kind="date"),
        ExportColumn("at", "At", kind="datetime"),
        ExportColumn("ok", "Ok", kind="bool"),
    ]
    texts = ["a&b<c>\"d'", " both ", "tab\tand\nline", "ctl\x01\x1f", "_x0041_", "<r>x</r>", "x" * 40_000]
    rows = [
        {"text": text, "price": 123456, "currency": code, "qty": Decimal("1.250"),
         "day": day, "at": datetime(2026, 1, 2, 3, 4, 5), "ok": n % 2 == 0}
        for n, (text, code, day) in enumerate(zip(texts, ["EUR", "JPY", "KWD", "EUR", None, "EUR", "EUR"],
                                                  [date(1900, 2, 28), date(1900, 3, 1), "2026-12-31", None,
                                                   "not a date", date(2026, 1, 1), date(1999, 12, 31)], strict=True))
    ]  # fmt: skip
    table = ExportTable("'Stock: [all]'", columns, rows, currency="USD", totals={"total": Decimal("-3.5")})
    book = openpyxl.load_workbook(io.BytesIO(export_bytes(table, "xlsx")))
    sheet = book.active
    assert sheet is not None
    assert sheet.title == "Stock_ _all_"
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == [c.title for c in columns] and all(c.font.b for c in sheet[1])
    assert not sheet["A2"].font.b
    assert (
        sheet.column_dimensions["A"].width == 24.7109375 and sheet.column_dimensions["B"].width == 14.7109375
    )
    # Control characters go in Excel's escapes (and a literal escape is protected), which Excel
    # reads back as written; openpyxl shows the escapes.
    shown = [*texts[:3], "ctl_x0001__x001F_", "_x005F_x0041_", "<r>x</r>"]
    assert [sheet.cell(n + 2, 1).value for n in range(6)] == shown
    assert sheet["A8"].value == "x" * 32_767
    assert [(sheet[f"B{n}"].value, sheet[f"B{n}"].number_format) for n in (2, 3, 4, 6)] == [
        (1234.56, '#,##0.00 "EUR";-#,##0.00 "EUR"'),
        (123456, '#,##0 "JPY";-#,##0 "JPY"'),
        (123.456, '#,##0.000 "KWD";-#,##0.000 "KWD"'),
        (1234.56, '#,##0.00 "USD";-#,##0.00 "USD"'),  # no currency of its own: the table's
    ]
    assert sheet["D2"].value == 1.25 and sheet["D2"].data_type == "n"
    assert [sheet[f"E{n}"].value for n in (2, 3, 4, 5, 6)] == [
        datetime(1900, 2, 28),
        datetime(1900, 3, 1),
        datetime(2026, 12, 31),
        None,
        "not a date",
    ]
    assert sheet["E2"].number_format == "yyyy-mm-dd" and sheet["F2"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet["F2"].value == datetime(2026, 1, 2, 3, 4, 5)
    assert [sheet[f"G{n}"].value for n in (2, 3)] == [True, False]
    assert [sheet["A10"].value, sheet["B10"].value, sheet["A10"].font.b] == ["total", -3.5, True]
    assert sheet.max_row == 10 and sheet.max_column == 7


def test_a_cancelled_xlsx_export_writes_nothing() -> None:
    table = ExportTable("P", [ExportColumn("sku", "SKU")], ({"sku": f"S{n}"} for n in range(5_000)))
    out = io.BytesIO()
    with pytest.raises(ExportCancelled):
        export(table, "xlsx", out, cancelled=lambda: True)
    assert out.getvalue() == b""


def test_xlsx_rows_past_excels_last_are_dropped() -> None:
    with SheetWriter("S", [10]) as sheet:
        assert sheet.add_row(MAX_ROWS - 1, text_cell(f"A{MAX_ROWS}", "last"))
        assert not sheet.add_row(MAX_ROWS, text_cell(f"A{MAX_ROWS + 1}", "beyond"))
        out = io.BytesIO()
        sheet.save(out)
    read = openpyxl.load_workbook(out, read_only=True).active
    assert read is not None and read.max_row == MAX_ROWS


def test_an_xlsx_export_with_more_rows_than_a_sheet_holds_is_refused_whole(monkeypatch: Any) -> None:
    """Nothing is dropped silently: past a sheet's last row the export fails, naming the limit
    and what to do, and writes nothing (the limit made small here: a million rows take seconds)."""
    from common.exports import writers

    monkeypatch.setattr(writers, "MAX_ROWS", 5)  # the header and four rows
    columns = [ExportColumn("n", "N", kind="quantity")]
    fits = ExportTable("Fits", columns, [{"n": Decimal(n)} for n in range(4)])
    sheet = openpyxl.load_workbook(io.BytesIO(export_bytes(fits, "xlsx"))).active
    assert sheet is not None and [c.value for c in sheet["A"]] == ["N", 0, 1, 2, 3]
    for table in (
        ExportTable("Rows", columns, [{"n": Decimal(n)} for n in range(5)]),
        # One row, a blank line and two totals fill the five lines; two rows and the totals do not.
        ExportTable("Totals", columns, [{"n": Decimal(n)} for n in range(2)], totals={"a": 1, "b": 2}),
    ):
        out = io.BytesIO()
        with pytest.raises(ExportTooLarge, match=r"at most 4 rows under its header.*CSV"):
            writers.export(table, "xlsx", out)
        assert out.getvalue() == b""
    fits_totals = ExportTable("T", columns, [{"n": Decimal(0)}], totals={"a": 1, "b": 2})
    assert export_bytes(fits_totals, "xlsx")
    assert (
        len(
            export_bytes(
                ExportTable("Rows", columns, [{"n": Decimal(n)} for n in range(5)]), "csv"
            ).splitlines()
        )
        == 6
    )

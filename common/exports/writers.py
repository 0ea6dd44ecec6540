"""CSV, XLSX (openpyxl) and PDF (reportlab) from an :class:`ExportTable`.

Every writer streams the rows once, reports ``progress(done, total)`` and stops with
:class:`ExportCancelled` as soon as ``cancelled()`` says so. Numbers stay exact: CSV carries
decimal text, XLSX numeric cells with a number format naming the currency, PDF the amounts
formatted for people. Text that a spreadsheet would run as a formula is written as text.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from common.exports.table import (
    Cancelled,
    ExportCancelled,
    ExportColumn,
    ExportTable,
    Progress,
    cell_currency,
    cell_value,
    human_text,
)
from common.money import currency_exponent

FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
CHECK_EVERY = 500  # rows between progress reports and cancel checks
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_XLSX_FAST = {"money": 1, "quantity": 2, "number": 2}  # kinds _fill_sheet writes without write_cell


def _rows(table: ExportTable, progress: Progress | None, cancelled: Cancelled | None) -> Iterator[Any]:
    done = 0
    for row in table.rows:
        if done % CHECK_EVERY == 0:
            if cancelled is not None and cancelled():
                raise ExportCancelled
            if progress is not None and done:
                progress(done, table.total)
        yield row
        done += 1
    if progress is not None:
        progress(done, table.total if table.total is not None else done)


def safe_text(text: str) -> str:
    """Text a spreadsheet would run as a formula gets a leading quote; numbers stay numbers."""
    if text.startswith(_FORMULA_START):
        try:
            Decimal(text)
        except ArithmeticError:
            return "'" + text
    return text


def _csv_cell(column: ExportColumn, row: Mapping[str, Any], currency: str | None) -> str:
    value = cell_value(column, row, currency)
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if column.kind in ("money", "amount"):
            code = cell_currency(column, row, currency)
            if code:
                return f"{value:.{currency_exponent(code)}f}"
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return safe_text(str(value))


def _csv_converter(column: ExportColumn, currency: str | None) -> Callable[[Mapping[str, Any]], str]:
    """``_csv_cell`` for one column, decided once per export by the column's kind: the same text
    for every row, without asking the kind again per cell. Other kinds take ``_csv_cell``."""
    key = column.key
    if column.kind in ("text", "status"):

        def text(row: Mapping[str, Any]) -> str:
            value = row.get(key)
            if value is None:
                return ""
            if type(value) is not str:
                value = str(value)
            return safe_text(value) if value.startswith(_FORMULA_START) else value

        return text
    if column.kind == "money":
        currency_key = column.currency_key

        def money(row: Mapping[str, Any]) -> str:
            value = row.get(key)
            if value is None:
                return ""
            code = row.get(currency_key) or currency
            if code is not None and type(value) is int:
                exponent = currency_exponent(code if type(code) is str else str(code))
                number = Decimal(value).scaleb(-exponent)
                return f"{number:.{exponent}f}" if code else format(number, "f")
            return _csv_cell(column, row, currency)

        return money
    if column.kind in ("quantity", "number"):

        def quantity(row: Mapping[str, Any]) -> str:
            value = row.get(key)
            if type(value) is Decimal:
                return format(value, "f")
            return _csv_cell(column, row, currency)

        return quantity
    return lambda row: _csv_cell(column, row, currency)


def write_csv(
    table: ExportTable, out: IO[str], progress: Progress | None = None, cancelled: Cancelled | None = None
) -> None:
    """CSV (RFC 4180, CRLF): a header line, then one line per row; amounts as plain decimals."""
    writer = csv.writer(out, lineterminator="\r\n")
    columns = list(table.columns)
    writer.writerow([c.key if table.header_keys else c.title for c in columns])
    converters = [_csv_converter(column, table.currency) for column in columns]
    writer.writerows([convert(row) for convert in converters] for row in _rows(table, progress, cancelled))


def csv_text(table: ExportTable) -> str:
    out = io.StringIO()
    write_csv(table, out)
    return out.getvalue()


def _number_format(kind: str, code: str | None) -> str:
    if kind in ("money", "amount") and code:
        places = currency_exponent(code)
        decimals = "." + "0" * places if places else ""
        return f'#,##0{decimals} "{code}";-#,##0{decimals} "{code}"'
    return "General"


def write_xlsx(
    table: ExportTable, out: IO[bytes], progress: Progress | None = None, cancelled: Cancelled | None = None
) -> None:
    """One worksheet, streamed row by row (XlsxWriter's constant-memory mode, so 100k rows stay
    in little memory): a bold frozen header, numeric cells for numbers with their currency in
    the number format, dates as dates, every text as text (never a formula)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": False})
    try:
        _fill_sheet(book, table, progress, cancelled)
    except ExportCancelled:
        with contextlib.suppress(Exception):  # removes XlsxWriter's temporary files
            book.close()
        raise
    book.close()


def _fill_sheet(
    book: Any, table: ExportTable, progress: Progress | None, cancelled: Cancelled | None
) -> None:
    sheet = book.add_worksheet(_sheet_title(table.title))
    columns = list(table.columns)
    bold = book.add_format({"bold": True})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    formats: dict[tuple[str, str | None], Any] = {}

    def number_format(kind: str, code: str | None) -> Any:
        found = formats.get((kind, code))
        if found is None:
            found = formats[(kind, code)] = book.add_format({"num_format": _number_format(kind, code)})
        return found

    for index, column in enumerate(columns):
        sheet.write_string(0, index, column.title, bold)
        sheet.set_column(index, index, 14 if column.numeric else 24)
    sheet.freeze_panes(1, 0)
    currency = table.currency
    write_string, write_number, write_datetime = sheet.write_string, sheet.write_number, sheet.write_datetime
    # Text columns are written as they come (cell_value's answer for them is str(value)); the
    # others go through cell_value. Asked once per column, not once per cell.
    plain = [(index, column.key) for index, column in enumerate(columns) if column.kind == "text"]
    typed = [(index, column) for index, column in enumerate(columns) if column.kind != "text"]

    def write_cell(line: int, index: int, column: ExportColumn, row: Mapping[str, Any]) -> None:
        value = cell_value(column, row, currency)
        if value is None:
            return
        if isinstance(value, Decimal):
            if column.kind in ("money", "amount"):
                fmt = number_format(column.kind, cell_currency(column, row, currency))
                write_number(line, index, value, fmt)
            else:
                write_number(line, index, value)
        elif isinstance(value, datetime):
            write_datetime(line, index, value.replace(tzinfo=None), moment)
        elif isinstance(value, date):
            write_datetime(line, index, datetime(value.year, value.month, value.day), day)
        elif isinstance(value, bool):
            sheet.write_boolean(line, index, value)
        else:
            write_string(line, index, str(value))

    # Money in integer minor units and Decimal quantities (a list's usual cells) are written
    # here with the number and format write_cell would choose; every other cell through it.
    # Same cells, same order, same formats created in the same order as through write_cell.
    kinds = [
        (index, column, column.key, column.currency_key, _XLSX_FAST.get(column.kind, 0))
        for index, column in typed
    ]
    line = 0
    for row in _rows(table, progress, cancelled):
        line += 1
        for index, key in plain:
            text = row.get(key)
            if text is not None:
                write_string(line, index, text if type(text) is str else str(text))
        for index, column, key, currency_key, fast in kinds:
            value = row.get(key)
            if fast == 1:  # money
                code = row.get(currency_key) or currency
                if code and type(value) is int:
                    text_code = code if type(code) is str else str(code)
                    amount = Decimal(value).scaleb(-currency_exponent(text_code))
                    write_number(line, index, amount, number_format("money", text_code))
                    continue
            elif fast == 2 and type(value) is Decimal:  # quantity, number
                write_number(line, index, value)
                continue
            write_cell(line, index, column, row)
    if table.totals:
        line += 1
        for label, value in _total_lines(table):
            line += 1
            write_string(line, 0, label, bold)
            if isinstance(value, Decimal):
                write_number(line, 1, value, number_format("amount", currency))
            else:
                write_string(line, 1, str(value))


def _sheet_title(title: str) -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip() or "Export"
    return cleaned[:31]


def _total_lines(table: ExportTable) -> list[tuple[str, Any]]:
    titles = {c.key: c.title for c in table.columns}
    lines = []
    for key, value in table.totals.items():
        title = titles.get(key, key.replace("_", " "))
        label = title if title.lower().startswith("total") else f"Total {title.lower()}"
        number = value if isinstance(value, Decimal) else None
        if number is None:
            try:
                number = Decimal(str(value))
            except ArithmeticError:
                number = None
        lines.append((label, number if number is not None else str(value)))
    return lines


def xlsx_bytes(table: ExportTable) -> bytes:
    out = io.BytesIO()
    write_xlsx(table, out)
    return out.getvalue()


def export(
    table: ExportTable,
    fmt: str,
    out: IO[bytes],
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> None:
    """Write ``table`` as ``fmt`` (``csv``, ``xlsx`` or ``pdf``) to the binary stream ``out``."""
    if fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        try:
            write_csv(table, text, progress, cancelled)
            text.flush()
        finally:
            text.detach()
    elif fmt == "xlsx":
        write_xlsx(table, out, progress, cancelled)
    elif fmt == "pdf":
        from common.exports.pdf import write_pdf

        write_pdf(table, out, progress, cancelled)
    else:
        raise ValueError(f"format: must be one of {', '.join(FORMATS)}")


def export_bytes(table: ExportTable, fmt: str) -> bytes:
    out = io.BytesIO()
    export(table, fmt, out)
    return out.getvalue()


__all__ = ["FORMATS", "export", "export_bytes", "human_text", "safe_text", "write_csv", "write_xlsx"]

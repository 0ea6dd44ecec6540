"""CSV, XLSX (:mod:`common.exports.xlsx`) and PDF (reportlab) from an :class:`ExportTable`.

Every writer streams the rows once, reports ``progress(done, total)`` and stops with
:class:`ExportCancelled` as soon as ``cancelled()`` says so. Numbers stay exact: CSV carries
decimal text, XLSX numeric cells with a number format naming the currency, PDF the amounts
formatted for people. Text that a spreadsheet would run as a formula is written as text.
"""

from __future__ import annotations

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
    ExportTooLarge,
    Progress,
    cell_currency,
    cell_value,
    human_text,
)
from common.exports.xlsx import (
    MAX_COLUMNS,
    MAX_ROWS,
    SheetWriter,
    bool_cell,
    column_letter,
    excel_serial,
    number_cell,
    text_cell,
)
from common.money import currency_exponent

FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
CHECK_EVERY = 500  # rows between progress reports and cancel checks
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_DAY = "yyyy-mm-dd"
_MOMENT = "yyyy-mm-dd hh:mm"
_HUGE = 10**300  # money in minor units beyond this goes the slow way (a cell holds a float)


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
        exponents: dict[str, int] = {}  # by currency code, asked once per code and export

        def money(row: Mapping[str, Any]) -> str:
            value = row.get(key)
            if value is None:
                return ""
            code = row.get(currency_key) or currency
            if code is not None and type(value) is int:
                text_code = code if type(code) is str else str(code)
                exponent = exponents.get(text_code)
                if exponent is None:
                    exponent = exponents[text_code] = currency_exponent(text_code)
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
    """CSV (RFC 4180, CRLF): a header line, then one line per row; amounts as plain decimals.

    Lines are made in blocks of ``CHECK_EVERY`` rows and handed to ``out`` a block at a time
    (one write, not one per line, to the encoding wrapper ``export`` puts around a file)."""
    block = io.StringIO()
    writer = csv.writer(block, lineterminator="\r\n")
    columns = list(table.columns)
    writer.writerow([c.key if table.header_keys else c.title for c in columns])
    converters = [_csv_converter(column, table.currency) for column in columns]
    lines = []
    for row in _rows(table, progress, cancelled):
        lines.append([convert(row) for convert in converters])
        if len(lines) == CHECK_EVERY:
            writer.writerows(lines)
            lines.clear()
            out.write(block.getvalue())
            block.seek(0)
            block.truncate()
    writer.writerows(lines)
    out.write(block.getvalue())


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
    """One worksheet, streamed row by row (:mod:`common.exports.xlsx`, so 100k rows stay in
    little memory): a bold frozen header, numeric cells for numbers with their currency in the
    number format, dates as dates, every text as text (never a formula). Nothing is written to
    ``out`` when the export is cancelled."""
    columns = list(table.columns)[:MAX_COLUMNS]
    widths = [14 if column.numeric else 24 for column in columns]
    with SheetWriter(_sheet_title(table.title), widths, frozen_rows=1) as sheet:
        _fill_sheet(sheet, table, columns, progress, cancelled)
        sheet.save(out)


def _xlsx_cell(
    sheet: SheetWriter, column: ExportColumn, row: Mapping[str, Any], currency: str | None, ref: str
) -> str:
    """The cell of any kind and value, as XML (``""`` when empty)."""
    value = cell_value(column, row, currency)
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if column.kind in ("money", "amount"):
            code = cell_currency(column, row, currency)
            return number_cell(ref, value, sheet.style_attr(_number_format(column.kind, code)))
        return number_cell(ref, value)
    if isinstance(value, datetime):
        return number_cell(ref, excel_serial(value.replace(tzinfo=None)), sheet.style_attr(_MOMENT))
    if isinstance(value, date):
        return number_cell(
            ref, excel_serial(datetime(value.year, value.month, value.day)), sheet.style_attr(_DAY)
        )
    if isinstance(value, bool):
        return bool_cell(ref, value)
    return text_cell(ref, str(value))


def _xlsx_converter(
    sheet: SheetWriter, column: ExportColumn, letter: str, currency: str | None
) -> Callable[[Mapping[str, Any], str], str]:
    """``_xlsx_cell`` for one column, decided once per export by the column's kind: a function
    of the row and its number (as text) giving the cell's XML. Text, money in integer minor units
    and Decimal quantities (a list's usual cells) are written directly, anything else through
    ``_xlsx_cell``; the cells are the same either way."""
    key = column.key

    def other(row: Mapping[str, Any], line: str) -> str:
        return _xlsx_cell(sheet, column, row, currency, letter + line)

    if column.kind == "text":

        def text(row: Mapping[str, Any], line: str) -> str:
            value = row.get(key)
            if value is None:
                return ""
            return text_cell(letter + line, value if type(value) is str else str(value))

        return text
    if column.kind == "money":
        currency_key = column.currency_key
        money_styles: dict[str, tuple[int, str]] = {}

        def money(row: Mapping[str, Any], line: str) -> str:
            value = row.get(key)
            code = row.get(currency_key) or currency
            if code and type(value) is int and -_HUGE < value < _HUGE:
                text_code = code if type(code) is str else str(code)
                found = money_styles.get(text_code)
                if found is None:
                    found = money_styles[text_code] = (
                        currency_exponent(text_code),
                        sheet.style_attr(_number_format("money", text_code)),
                    )
                amount = Decimal(value).scaleb(-found[0])
                return f'<c r="{letter}{line}"{found[1]}><v>{amount:.16G}</v></c>'
            return other(row, line)

        return money
    if column.kind in ("quantity", "number"):

        def quantity(row: Mapping[str, Any], line: str) -> str:
            value = row.get(key)
            if type(value) is Decimal and value.is_finite() and -300 < value.adjusted() < 300:
                return f'<c r="{letter}{line}"><v>{value:.16G}</v></c>'
            return other(row, line)

        return quantity
    return other


def _fill_sheet(
    sheet: SheetWriter,
    table: ExportTable,
    columns: list[ExportColumn],
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> None:
    bold = sheet.style_attr(bold=True)
    letters = [column_letter(index) for index in range(len(columns))]
    sheet.add_row(0, "".join(text_cell(f"{letters[i]}1", c.title, bold) for i, c in enumerate(columns)))
    currency = table.currency
    converters = [_xlsx_converter(sheet, column, letters[i], currency) for i, column in enumerate(columns)]
    add_row = sheet.add_row
    line = 0
    for row in _rows(table, progress, cancelled):
        line += 1
        if line >= MAX_ROWS:
            raise _too_large()
        number = str(line + 1)
        add_row(line, "".join([convert(row, number) for convert in converters]))
    if table.totals:
        if line + 1 + len(table.totals) >= MAX_ROWS:
            raise _too_large()
        line += 1
        for label, value in _total_lines(table):
            line += 1
            number = str(line + 1)
            cells = text_cell(f"A{number}", label, bold)
            if isinstance(value, Decimal):
                cells += number_cell(
                    f"B{number}", value, sheet.style_attr(_number_format("amount", currency))
                )
            else:
                cells += text_cell(f"B{number}", str(value))
            add_row(line, cells, 0, 1)


def _too_large() -> ExportTooLarge:
    return ExportTooLarge(
        f"an XLSX sheet holds at most {MAX_ROWS - 1:,} rows under its header and this export has more:"
        " export it as CSV, or narrow the filter or the period"
    )


def _sheet_title(title: str) -> str:
    """A name Excel takes for a sheet: none of ``[]:*?/\\`` or control characters, no apostrophe
    at either end, at most 31 UTF-16 units."""
    cleaned = "".join("_" if ch in "[]:*?/\\" or ch < " " else ch for ch in title)
    cleaned = cleaned.strip().strip("'").strip()[:31]
    while len(cleaned.encode("utf-16-le", "surrogatepass")) > 62:
        cleaned = cleaned[:-1]
    return cleaned.rstrip().rstrip("'").rstrip() or "Export"


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

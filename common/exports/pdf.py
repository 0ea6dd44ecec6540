"""PDF of an :class:`ExportTable` with reportlab: a title, what was filtered, the table with its
header repeated on every page, totals, and page numbers.

Amounts are formatted for people (``1,234.50 EUR``), right-aligned. Long text wraps inside its
column. The rows are read once into table chunks (so a cancel stops the reading), then laid out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import IO, Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus.flowables import Flowable

from common.exports.table import Cancelled, ExportCancelled, ExportColumn, ExportTable, Progress, human_text
from common.exports.writers import _rows, _total_lines

FONT, BOLD, SIZE = "Helvetica", "Helvetica-Bold", 8
CHUNK = 400  # rows per table flowable: reportlab lays out each chunk on its own
_NUMERIC_WIDTH = 28 * mm


def _widths(columns: list[ExportColumn], available: float) -> list[float]:
    numeric = [c.numeric for c in columns]
    fixed = sum(_NUMERIC_WIDTH for n in numeric if n)
    text_count = len(columns) - sum(numeric)
    rest = max(available - fixed, 20 * mm * max(text_count, 1))
    per_text = rest / text_count if text_count else 0
    widths = [_NUMERIC_WIDTH if n else per_text for n in numeric]
    scale = min(1.0, available / sum(widths)) if widths else 1.0
    return [w * scale for w in widths]


def _wrapped(text: str, width: float) -> str:
    if not text or stringWidth(text, FONT, SIZE) <= width:
        return text
    return "\n".join(simpleSplit(text, FONT, SIZE, width))


def _style(columns: list[ExportColumn]) -> TableStyle:
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT, SIZE),
        ("FONT", (0, 0), (-1, 0), BOLD, SIZE),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f2f4f7")]),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    for index, column in enumerate(columns):
        if column.numeric:
            commands.append(("ALIGN", (index, 0), (index, -1), "RIGHT"))
    return TableStyle(commands)


class _Watch(Flowable):
    """Zero-size flowable between chunks: layout stops there when the user cancelled."""

    def __init__(self, cancelled: Cancelled | None) -> None:
        super().__init__()
        self.cancelled = cancelled

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if self.cancelled is not None and self.cancelled():
            raise ExportCancelled
        return 0, 0

    def draw(self) -> None:
        pass


def write_pdf(
    table: ExportTable, out: IO[bytes], progress: Progress | None = None, cancelled: Cancelled | None = None
) -> None:
    """A PDF of ``table`` (landscape when it has more than five columns) written to ``out``."""
    columns = [c for c in table.columns if not c.companion]
    pagesize = landscape(A4) if len(columns) > 5 else A4
    margin = 12 * mm
    doc = SimpleDocTemplate(
        out,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin + 4 * mm,
        title=table.title,
    )
    widths = _widths(columns, pagesize[0] - 2 * margin)
    inner = [w - 4 for w in widths]
    styles = getSampleStyleSheet()
    story: list[Flowable] = [Paragraph(_escape(table.title), styles["Title"])]
    if table.description:
        story.append(Paragraph(_escape(table.description), styles["Normal"]))
    story.append(Spacer(1, 4 * mm))
    header = [_wrapped(c.title + _unit(c, table), w) for c, w in zip(columns, inner, strict=True)]
    style = _style(columns)
    chunk: list[list[str]] = []

    def flush() -> None:
        story.append(LongTable([header, *chunk], colWidths=widths, repeatRows=1, style=style))
        story.append(_Watch(cancelled))
        chunk.clear()

    count = 0
    for row in _rows(table, progress, cancelled):
        chunk.append([_cell(column, row, table, width) for column, width in zip(columns, inner, strict=True)])
        count += 1
        if len(chunk) >= CHUNK:
            flush()
    if chunk or count == 0:
        flush()
    if table.totals:
        story.append(Spacer(1, 3 * mm))
        lines = [[label, _total_text(value, table)] for label, value in _total_lines(table)]
        story.append(
            LongTable(
                lines,
                colWidths=[60 * mm, 40 * mm],
                hAlign="LEFT",
                style=TableStyle(
                    [("FONT", (0, 0), (-1, -1), BOLD, SIZE), ("ALIGN", (1, 0), (1, -1), "RIGHT")]
                ),
            )
        )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawString(margin, margin / 2, f"{table.title} · {stamp}")
        canvas.drawRightString(pagesize[0] - margin, margin / 2, f"Page {document.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def _unit(column: ExportColumn, table: ExportTable) -> str:
    return f" ({table.currency})" if column.kind == "amount" and table.currency else ""


def _cell(column: ExportColumn, row: Mapping[str, Any], table: ExportTable, width: float) -> str:
    text = human_text(column, row, table.currency)
    return text if column.numeric else _wrapped(text, width)


def _total_text(value: Any, table: ExportTable) -> str:
    amount = ExportColumn("v", "v", kind="amount")
    return human_text(amount, {"v": value}, table.currency) + (f" {table.currency}" if table.currency else "")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

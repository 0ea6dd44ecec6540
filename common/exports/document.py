"""Printable documents and tables as simple HTML (for Qt's rich text printing, no Qt here).

A :class:`PrintDocument` is a title, header fields, an :class:`ExportTable` of lines and closing
totals: how lists and reports print (a list or report has no header fields). Business documents
(invoices, credit notes, statements, purchase orders, payslips) have their own model and renderer
with a letterhead and a tax breakdown: :mod:`common.documents`. Every text is escaped; cells are
formatted as in the PDF export (:func:`common.exports.human_text`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from common.exports.table import ExportTable, human_text

MAX_PRINT_ROWS = 20_000  # beyond this a printout is a PDF export, not a preview


@dataclass(frozen=True)
class PrintDocument:
    title: str
    table: ExportTable
    fields: Sequence[tuple[str, str]] = ()
    totals: Sequence[tuple[str, str]] = ()
    footer: str = ""
    notes: Sequence[str] = field(default_factory=tuple)


def document_html(doc: PrintDocument, max_rows: int = MAX_PRINT_ROWS) -> str:
    """The document as HTML; stops after ``max_rows`` lines and says so."""
    table = doc.table
    columns = [c for c in table.columns if not c.companion]
    parts = [
        "<html><body style='font-family: sans-serif; font-size: 9pt'>",
        f"<h2>{escape(doc.title)}</h2>",
    ]
    if table.description:
        parts.append(f"<p style='color:#555'>{escape(table.description)}</p>")
    if doc.fields:
        parts.append("<table cellpadding='2'>")
        for label, value in doc.fields:
            parts.append(f"<tr><td><b>{escape(label)}</b></td><td>{escape(value)}</td></tr>")
        parts.append("</table><br/>")
    parts.append("<table width='100%' cellspacing='0' cellpadding='3' border='0'><thead><tr>")
    for column in columns:
        align = "right" if column.numeric else "left"
        unit = f" ({table.currency})" if column.kind == "amount" and table.currency else ""
        parts.append(
            f"<th align='{align}' style='border-bottom: 1px solid black'>{escape(column.title + unit)}</th>"
        )
    parts.append("</tr></thead><tbody>")
    for shown, row in enumerate(table.rows):
        if shown >= max_rows:
            parts.append(
                f"<tr><td colspan='{len(columns)}'><i>Only the first {max_rows:,} lines are printed; "
                "export to PDF for all of them.</i></td></tr>"
            )
            break
        cells = []
        for column in columns:
            align = "right" if column.numeric else "left"
            cells.append(f"<td align='{align}'>{escape(human_text(column, row, table.currency))}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    if doc.totals:
        parts.append("<br/><table cellpadding='2' align='right'>")
        for label, value in doc.totals:
            parts.append(
                f"<tr><td><b>{escape(label)}</b></td><td align='right'><b>{escape(value)}</b></td></tr>"
            )
        parts.append("</table>")
    for note in doc.notes:
        parts.append(f"<p>{escape(note)}</p>")
    if doc.footer:
        parts.append(f"<p style='color:#555'>{escape(doc.footer)}</p>")
    parts.append("</body></html>")
    return "".join(parts)

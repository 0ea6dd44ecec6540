"""A business document as HTML for Qt's print preview (``QTextDocument`` rich text), from the
same :class:`~common.documents.model.BusinessDocument` and locale as the PDF.

Qt's rich text knows tables, fonts and colours but not CSS layout, so the letterhead, the party
and the facts are laid out with tables. Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from common.documents.model import (
    DEFAULT_LOCALE,
    STRONG,
    BusinessDocument,
    Column,
    DocumentLocale,
    cell_text,
    column_title,
    fact_text,
)

MAX_PRINT_ROWS = 20_000  # beyond this a printout is a PDF export, not a preview


def _br(lines: Iterable[str]) -> str:
    return "<br/>".join(escape(line) for line in lines)


_FIXED = {"number": 4, "quantity": 12, "money": 17, "percent": 8, "date": 12}


def _widths(columns: tuple[Column, ...]) -> list[int]:
    """Column widths in percent: numbers fixed, the tax column narrow, text shares the rest
    (Qt's rich text otherwise squeezes the description to its longest word)."""
    fixed = [_FIXED.get(c.kind) if c.kind != "text" else (12 if c.key == "tax" else None) for c in columns]
    free = max(100 - sum(w for w in fixed if w is not None), 20)
    stretch = sum(1 for w in fixed if w is None) or 1
    return [w if w is not None else free // stretch for w in fixed]


def _table(
    columns: tuple[Column, ...], rows: Iterable[Mapping[str, Any]], currency: str, locale: DocumentLocale
) -> str:
    parts = ["<table width='100%' cellspacing='0' cellpadding='3'><thead><tr>"]
    for column, width in zip(columns, _widths(columns), strict=True):
        align = "right" if column.numeric else "left"
        parts.append(
            f"<th align='{align}' width='{width}%' style='border-bottom: 1px solid #1f2933'>"
            f"{escape(column_title(column, currency))}</th>"
        )
    parts.append("</tr></thead><tbody>")
    for index, row in enumerate(rows):
        if index >= MAX_PRINT_ROWS:
            parts.append(
                f"<tr><td colspan='{len(columns)}'><i>Only the first {MAX_PRINT_ROWS:,} lines are "
                "printed; save as PDF for all of them.</i></td></tr>"
            )
            break
        shade = " bgcolor='#f2f4f7'" if index % 2 else ""
        cells = []
        for column in columns:
            align = "right" if column.numeric else "left"
            text = escape(cell_text(column, row.get(column.key), currency, locale))
            if row.get(STRONG):
                text = f"<b>{text}</b>"
            cells.append(f"<td align='{align}'{shade}>{text}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def document_html(doc: BusinessDocument, locale: DocumentLocale = DEFAULT_LOCALE) -> str:
    """The document as HTML: the same parts, in the same order, as its PDF."""
    head = doc.letterhead
    parts = ["<html><body style='font-family: sans-serif; font-size: 9pt; color: #1f2933'>"]
    left = f"<b style='font-size: 13pt'>{escape(head.name)}</b>"
    if head.address:
        left += "<br/>" + _br(head.address)
    if head.contact:
        left += f"<br/><span style='color:#616e7c; font-size: 8pt'>{_br(head.contact)}</span>"
    right = f"<b style='font-size: 18pt'>{escape(doc.title)}</b>"
    if doc.draft:
        right += "<br/><b style='color:#c62828; font-size: 11pt'>DRAFT</b>"
    elif doc.number:
        right += f"<br/>No. {escape(doc.number)}"
    parts.append(
        "<table width='100%' cellspacing='0' cellpadding='0'><tr>"
        f"<td width='58%' valign='top'>{left}</td><td width='42%' align='right' valign='top'>{right}</td>"
        "</tr></table><hr/>"
    )
    party = ""
    if doc.party is not None:
        p = doc.party
        party = f"<span style='color:#616e7c'><b>{escape(p.label)}</b></span><br/>{_br((p.name, *p.address))}"
        if p.tax_id:
            party += f"<br/><span style='color:#616e7c'>Tax id {escape(p.tax_id)}</span>"
    facts = "".join(
        f"<tr><td style='color:#616e7c'><b>{escape(label)}</b></td>"
        f"<td>&nbsp;&nbsp;{escape(fact_text(value, locale))}</td></tr>"
        for label, value in doc.facts
    )
    parts.append(
        "<table width='100%' cellspacing='0' cellpadding='0'><tr>"
        f"<td width='55%' valign='top'>{party}</td>"
        f"<td width='45%' valign='top'><table cellspacing='0' cellpadding='1'>{facts}</table></td>"
        "</tr></table>"
    )
    if doc.draft:
        parts.append(f"<p style='color:#c62828'>{escape(doc.draft_note)}</p>")
    parts.append("<br/>")
    parts.append(_table(doc.columns, doc.lines, doc.currency, locale))
    tax = ""
    if doc.tax_lines:
        rows = "".join(
            f"<tr><td>{escape(t.label)}</td><td align='right'>&nbsp;&nbsp;{escape(locale.money(t.base, doc.currency))}"
            f"</td><td align='right'>&nbsp;&nbsp;{escape(locale.money(t.tax, doc.currency))}</td></tr>"
            for t in doc.tax_lines
        )
        tax = (
            "<table cellspacing='0' cellpadding='3'><tr><th align='left'>Tax&nbsp;&nbsp;&nbsp;</th>"
            f"<th align='right'>&nbsp;&nbsp;Net</th><th align='right'>&nbsp;&nbsp;Tax</th></tr>{rows}</table>"
        )
    totals = ""
    if doc.totals:
        rows = ""
        for total in doc.totals:
            amount = escape(locale.money(total.amount, doc.currency))
            label = escape(total.label)
            if total.strong:
                label, amount = f"<b>{label}</b>", f"<b>{amount}</b>"
            rows += f"<tr><td>{label}</td><td align='right'>&nbsp;&nbsp;{amount}</td></tr>"
        totals = f"<table cellspacing='0' cellpadding='2' align='right'>{rows}</table>"
    if tax or totals:
        parts.append(
            "<br/><table width='100%' cellspacing='0' cellpadding='0'><tr>"
            f"<td width='50%' valign='top'>{tax}</td><td width='50%' align='right' valign='top'>{totals}</td>"
            "</tr></table>"
        )
    for section in doc.sections:
        parts.append(f"<h4>{escape(section.title)}</h4>")
        parts.append(_table(section.columns, section.rows, doc.currency, locale))
    for note in doc.notes:
        parts.append(f"<p>{escape(note)}</p>")
    footer = " · ".join(
        p for p in (head.name, f"Tax id {head.tax_id}" if head.tax_id else "", head.bank) if p
    )
    parts.append(f"<br/><hr/><p style='color:#616e7c; font-size: 7pt'>{escape(footer)}</p>")
    parts.append("</body></html>")
    return "".join(parts)

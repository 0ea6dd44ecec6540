"""A business document as an A4 PDF (reportlab): the organization's letterhead, the title with
its legal number (or a DRAFT marking), the other party and the facts side by side, the lines
with their header repeated on every page, the tax breakdown per rate beside the totals, and a
footer with the organization's legal details and the page number on every page.

The standard PDF fonts cover Latin-1 (Western European) text.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

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

FONT, BOLD = "Helvetica", "Helvetica-Bold"
MARGIN = 18 * mm
# The frame's own padding (6 pt a side) is inside the margins: tables are as wide as paragraphs.
WIDTH = A4[0] - 2 * MARGIN - 12
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
RULE = colors.HexColor("#9aa5b1")
STRIPE = colors.HexColor("#f2f4f7")
DRAFT_RED = colors.HexColor("#c62828")

_BODY = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=11.5, textColor=INK)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=8, leading=10, textColor=MUTED)
_NAME = ParagraphStyle("name", parent=_BODY, fontName=BOLD, fontSize=13, leading=16)
_TITLE = ParagraphStyle("title", parent=_BODY, fontName=BOLD, fontSize=18, leading=22, alignment=TA_RIGHT)
_NUMBER = ParagraphStyle("number", parent=_BODY, fontSize=10, leading=13, alignment=TA_RIGHT)
_DRAFT = ParagraphStyle("draft", parent=_NUMBER, fontName=BOLD, textColor=DRAFT_RED)
_LABEL = ParagraphStyle("label", parent=_SMALL, fontName=BOLD)
_CELL = ParagraphStyle("cell", parent=_BODY, fontSize=8.5, leading=10.5)
_HEAD = ParagraphStyle("head", parent=_CELL, fontName=BOLD)
_HEAD_RIGHT = ParagraphStyle("head_right", parent=_HEAD, alignment=TA_RIGHT)
_SECTION = ParagraphStyle("section", parent=_BODY, fontName=BOLD, fontSize=10, leading=13, spaceBefore=4)


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _lines(texts: list[str] | tuple[str, ...], style: ParagraphStyle) -> Paragraph:
    return Paragraph("<br/>".join(escape(t) for t in texts), style)


def _header(doc: BusinessDocument) -> Table:
    head = doc.letterhead
    left: list[Flowable] = [_p(head.name, _NAME)]
    if head.address:
        left.append(_lines(head.address, _BODY))
    if head.contact:
        left.append(_lines(head.contact, _SMALL))
    right: list[Flowable] = [_p(doc.title, _TITLE)]
    if doc.draft:
        right.append(_p("DRAFT", _DRAFT))
    elif doc.number:
        right.append(_p(f"No. {doc.number}", _NUMBER))
    table = Table([[left, right]], colWidths=[WIDTH * 0.58, WIDTH * 0.42])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
                ("BOTTOMPADDING", (0, 0), (-1, 0), 6),
            ]
        )
    )
    return table


def _party_and_facts(doc: BusinessDocument, locale: DocumentLocale) -> Table:
    left: list[Flowable] = []
    if doc.party is not None:
        party = doc.party
        left.append(_p(party.label, _LABEL))
        left.append(_lines((party.name, *party.address), _BODY))
        if party.tax_id:
            left.append(_p(f"Tax id {party.tax_id}", _SMALL))
    facts = [[_p(label, _LABEL), _p(fact_text(value, locale), _BODY)] for label, value in doc.facts]
    right: Any = ""
    if facts:
        right = Table(facts, colWidths=[32 * mm, WIDTH * 0.45 - 32 * mm])
        right.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ]
            )
        )
    table = Table([[left or "", right]], colWidths=[WIDTH * 0.55, WIDTH * 0.45])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _widths(columns: tuple[Column, ...], width: float) -> list[float]:
    money = 26 * mm if sum(c.kind == "money" for c in columns) >= 3 else 30 * mm
    fixed = {"number": 9 * mm, "quantity": 20 * mm, "money": money, "percent": 19 * mm, "date": 21 * mm}
    texts = [c for c in columns if c.kind == "text"]
    used = sum(fixed.get(c.kind, 0) for c in columns if c.kind != "text")
    if any(c.key == "tax" for c in texts):
        used += 22 * mm
    free = max(width - used, 30 * mm)
    stretch = [c for c in texts if c.key != "tax"]
    return [
        22 * mm if c.key == "tax" else (free / max(len(stretch), 1) if c.kind == "text" else fixed[c.kind])
        for c in columns
    ]


def _line_table(
    columns: tuple[Column, ...], rows: Any, currency: str, locale: DocumentLocale, width: float
) -> LongTable:
    header = [_p(column_title(c, currency), _HEAD_RIGHT if c.numeric else _HEAD) for c in columns]
    widths = _widths(columns, width)
    body = []
    for row in rows:
        cells: list[Any] = []
        for column, room in zip(columns, widths, strict=True):
            text = cell_text(column, row.get(column.key), currency, locale)
            # Only text that does not fit is laid out as a (slower) wrapping paragraph.
            if column.kind == "text" and stringWidth(text, FONT, 8.5) > room - 12:
                cells.append(_p(text, _CELL))
            else:
                cells.append(text)
        body.append(cells)
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT, 8.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if body:
        style.append(("ROWBACKGROUNDS", (0, 1), (-1, -1), [None, STRIPE]))
        style.append(("LINEBELOW", (0, -1), (-1, -1), 0.4, RULE))
    for index, column in enumerate(columns):
        if column.numeric:
            style.append(("ALIGN", (index, 0), (index, -1), "RIGHT"))
    for index, row in enumerate(rows, start=1):
        if row.get(STRONG):
            style.append(("FONT", (0, index), (-1, index), BOLD, 8.5))
    return LongTable(
        [header, *body], colWidths=_widths(columns, width), repeatRows=1, style=TableStyle(style)
    )


def _tax_table(doc: BusinessDocument, locale: DocumentLocale) -> Table | str:
    if not doc.tax_lines:
        return ""
    rows: list[list[Any]] = [[_p("Tax", _HEAD), _p("Net", _HEAD_RIGHT), _p("Tax", _HEAD_RIGHT)]]
    for line in doc.tax_lines:
        rows.append([line.label, locale.money(line.base, doc.currency), locale.money(line.tax, doc.currency)])
    table = Table(rows, colWidths=[34 * mm, 25 * mm, 22 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 8.5),
                ("TEXTCOLOR", (0, 0), (-1, -1), INK),
                ("LINEBELOW", (0, 0), (-1, 0), 0.4, RULE),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return table


def _totals_table(doc: BusinessDocument, locale: DocumentLocale) -> Table | str:
    if not doc.totals:
        return ""
    rows = [[t.label, locale.money(t.amount, doc.currency)] for t in doc.totals]
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT, 9),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    for index, total in enumerate(doc.totals):
        if total.strong:
            style.append(("FONT", (0, index), (-1, index), BOLD, 10))
            style.append(("LINEABOVE", (0, index), (-1, index), 0.6, INK))
    table = Table(rows, colWidths=[48 * mm, 30 * mm], hAlign="RIGHT")
    table.setStyle(TableStyle(style))
    return table


def _footer_text(doc: BusinessDocument) -> str:
    head = doc.letterhead
    parts = [head.name]
    if head.tax_id:
        parts.append(f"Tax id {head.tax_id}")
    if head.bank:
        parts.append(head.bank)
    return " · ".join(p for p in parts if p)


class _Template(SimpleDocTemplate):
    """A page template that stamps DRAFT over each finished page (over row backgrounds too)."""

    draft = False

    def afterPage(self) -> None:
        if not self.draft:
            return
        canvas = self.canv
        canvas.saveState()
        canvas.setFont(BOLD, 96)
        canvas.setFillColor(colors.Color(0.78, 0.16, 0.16, alpha=0.08))
        canvas.translate(A4[0] / 2, A4[1] / 2)
        canvas.rotate(35)
        canvas.drawCentredString(0, 0, "DRAFT")
        canvas.restoreState()


def document_pdf(doc: BusinessDocument, locale: DocumentLocale = DEFAULT_LOCALE) -> bytes:
    """The document as an A4 PDF."""
    buffer = io.BytesIO()
    title = doc.heading + (" (draft)" if doc.draft else "")
    pdf = _Template(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 6 * mm,
        title=title,
        author=doc.letterhead.name,
        creator="Operations Management",
    )
    pdf.draft = doc.draft
    story: list[Flowable] = [_header(doc), Spacer(1, 6 * mm), _party_and_facts(doc, locale)]
    if doc.draft:
        story += [
            Spacer(1, 3 * mm),
            _p(doc.draft_note, ParagraphStyle("dn", parent=_BODY, textColor=DRAFT_RED)),
        ]
    story += [Spacer(1, 7 * mm), _line_table(doc.columns, doc.lines, doc.currency, locale, WIDTH)]
    tax, totals = _tax_table(doc, locale), _totals_table(doc, locale)
    if tax or totals:
        summary = Table([[tax, totals]], colWidths=[WIDTH * 0.5, WIDTH * 0.5])
        summary.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ]
            )
        )
        story += [Spacer(1, 4 * mm), KeepTogether([summary])]
    for section in doc.sections:
        story += [
            Spacer(1, 6 * mm),
            KeepTogether(
                [
                    _p(section.title, _SECTION),
                    Spacer(1, 2 * mm),
                    _line_table(section.columns, section.rows, doc.currency, locale, WIDTH),
                ]
            ),
        ]
    if doc.notes:
        story.append(Spacer(1, 6 * mm))
        story += [_p(note, _BODY) for note in doc.notes]
    footer = _footer_text(doc)

    def decorate(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN, MARGIN, A4[0] - MARGIN, MARGIN)
        canvas.setFont(FONT, 7)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, MARGIN - 4 * mm, footer)
        canvas.drawRightString(A4[0] - MARGIN, MARGIN - 4 * mm, f"Page {document.page}")
        canvas.restoreState()

    pdf.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()

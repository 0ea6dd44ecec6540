"""Drill-down from a report's figure: the tax lines a tax figure sums, and a posting's source
document in a read-only dialog with its lines and the journal entry it posted.

(The journal lines of an account's figure are the general ledger page itself, opened in a
dialog for that account and period: see :func:`desktop.ui.finance_reports.open_ledger`.)
"""

from __future__ import annotations

from datetime import date
from typing import Any

from desktop.formatting import display
from desktop.qt import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QScrollArea,
    Qt,
    QVBoxLayout,
    QWidget,
)
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.reports_data import (
    ENTRY_LINE_FIELDS,
    DocField,
    SourceDocument,
    source_document,
    tax_lines,
)
from desktop.ui.reports_view import (
    BusyLine,
    ReportColumn,
    ReportModel,
    ReportTable,
    locale_date,
    total_row,
)
from desktop.ui.widgets import Notice, label


def field_text(spec: DocField, row: dict[str, Any]) -> str:
    if spec.kind == "date":
        return locale_date(row.get(spec.key))
    return display(spec.kind, row, spec.key, spec.currency_key)


def _columns(fields: list[DocField] | tuple[DocField, ...]) -> tuple[ReportColumn, ...]:
    kinds = {"money": "money", "quantity": "text", "date": "date", "number": "text"}
    widths = {"money": 120, "quantity": 90, "date": 100, "number": 40}
    return tuple(
        ReportColumn(f.key, f.label, kinds.get(f.kind, "text"), widths.get(f.kind, 0),
                     stretch=f.key in ("description", "account", "memo"))
        for f in fields
    )  # fmt: skip


class _DocumentModel(ReportModel):
    """Document lines: money in the document's currency, quantities in the locale."""

    def __init__(self, fields: list[DocField], parent: Any = None) -> None:
        super().__init__(_columns(fields), parent)
        self.fields = fields

    def data(self, index: Any, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and index.isValid() and index.row() < len(self.rows):
            return field_text(self.fields[index.column()], self.rows[index.row()])
        return super().data(index, role)


class SourceDocumentDialog(QDialog):
    """A posting's source document, read-only: its fields, its lines, and the entry posted."""

    def __init__(
        self,
        parent: QWidget,
        ctx: UiContext,
        *,
        entry_number: str | None = None,
        source: str | None = None,
        source_id: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.ctx = ctx
        self.document: SourceDocument | None = None
        self.setWindowTitle("Source document")
        self.setMinimumSize(820, 640)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN)
        layout.setSpacing(theme.SPACING * 2)
        self.title = label("", "pageTitle")
        layout.addWidget(self.title)
        self.busy = BusyLine()
        self.busy.text.setText("Reading…")
        layout.addWidget(self.busy)
        self.notice = Notice()
        layout.addWidget(self.notice)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        self.body_layout.setSpacing(theme.SPACING * 2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.body)
        layout.addWidget(scroll, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        session = ctx.session

        def work() -> SourceDocument:
            with session.store.read_session() as db:
                return source_document(
                    db, session.org_id, session.permissions,
                    entry_number=entry_number, source=source, source_id=source_id,
                )  # fmt: skip

        self.busy.setVisible(True)
        ctx.run(self, work, on_success=self._fill, on_failure=self._failed, busy_text="Reading the document…")

    def _failed(self, exc: BaseException) -> None:
        self.busy.setVisible(False)
        self.notice.show_text(f"The document could not be read: {exc}")

    def _fill(self, doc: SourceDocument) -> None:
        self.busy.setVisible(False)
        self.document = doc
        self.title.setText(doc.title)
        self.setWindowTitle(doc.title)
        self.notice.show_text(
            doc.withheld or (None if doc.found else "This document is not on this computer.")
        )
        fields = doc.fields
        if fields:
            grid = QGridLayout()
            grid.setHorizontalSpacing(theme.SPACING * 3)
            grid.setVerticalSpacing(theme.SPACING // 2)
            half = (len(fields) + 1) // 2
            for index, spec in enumerate(fields):
                row, col = index % half, (index // half) * 2
                grid.addWidget(label(spec.label, "muted"), row, col)
                value = label(field_text(spec, doc.header))
                value.setObjectName(f"field_{spec.key}")
                grid.addWidget(value, row, col + 1)
            grid.setColumnStretch(1, 1)
            grid.setColumnStretch(3, 1)
            self.body_layout.addLayout(grid)
        self.lines_table: ReportTable | None = None
        if doc.lines:
            self._section("Lines")
            model = _DocumentModel(doc.line_fields, self)
            model.set_rows(doc.lines, None)
            self.lines_table = self._table(model, len(doc.lines))
        self.entry_table: ReportTable | None = None
        if doc.entry is not None:
            entry = doc.entry
            text = f"Posted as journal entry {entry['number']} on {locale_date(entry['entry_date'])}"
            if entry.get("memo"):
                text += f" — {entry['memo']}"
            if entry.get("reverses"):
                text += f" (reverses entry {entry['reverses']})"
            self._section(text)
            fields_ = list(ENTRY_LINE_FIELDS)
            model = _DocumentModel(fields_, self)
            model.set_rows(doc.entry_lines, None)
            self.entry_table = self._table(model, len(doc.entry_lines))
        self.body_layout.addStretch(1)

    def _table(self, model: ReportModel, rows: int) -> ReportTable:
        table = ReportTable(model)
        height = table.horizontalHeader().sizeHint().height() + min(max(rows, 1), 10) * 28 + 4
        table.setFixedHeight(height)
        self.body_layout.addWidget(table)
        return table

    def _section(self, text: str) -> None:
        heading = label(text, wrap=True)
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        self.body_layout.addWidget(heading)


TAX_COLUMNS = (
    ReportColumn("date", "Date", "date", 100),
    ReportColumn("document", "Document", width=170),
    ReportColumn("description", "Description", stretch=True),
    ReportColumn("base", "Taxable", "money", 120),
    ReportColumn("tax", "Tax", "money", 110),
)


class TaxLinesDialog(QDialog):
    """The document lines one tax figure sums; a double-click opens a line's document."""

    def __init__(
        self,
        parent: QWidget,
        ctx: UiContext,
        tax_rate_id: str | None,
        start: date,
        end: date,
        side: str | None,
        what: str,
    ) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.ctx = ctx
        self.setWindowTitle(f"Tax lines — {what}")
        self.resize(900, 520)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN)
        heading = label(what, "pageTitle")
        layout.addWidget(heading)
        layout.addWidget(
            label(
                f"{locale_date(start)} – {locale_date(end)}. Double-click a line to open its document.",
                "muted",
            )
        )
        self.busy = BusyLine()
        layout.addWidget(self.busy)
        self.model = ReportModel(TAX_COLUMNS, self)
        self.table = ReportTable(self.model)
        self.table.drill.connect(lambda row, _column: self.open_line(row))
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        session = ctx.session

        def work() -> dict[str, Any]:
            with session.store.read_session() as db:
                return tax_lines(db, session.org_id, tax_rate_id, start, end, side)

        self.busy.setVisible(True)
        ctx.run(self, work, on_success=self._fill, busy_text="Reading tax lines…")

    def _fill(self, found: dict[str, Any]) -> None:
        self.busy.setVisible(False)
        rows = [{**row, "currency": found["currency"]} for row in found["rows"]]
        rows.append(total_row("", document="Total", currency=found["currency"], **found["totals"]))
        self.model.set_rows(rows, found["currency"])

    def open_line(self, row: int) -> SourceDocumentDialog | None:
        found = self.model.row_at(row)
        if found is None or found.get("_style"):
            return None
        dialog = SourceDocumentDialog(self, self.ctx, source=found["source"], source_id=found["source_id"])
        dialog.open()
        return dialog

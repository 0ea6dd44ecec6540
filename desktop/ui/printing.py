"""Print with preview: documents (purchase orders) and lists, through Qt's print preview.

The document's HTML is made off the GUI thread (it reads the local store); the preview then
lays it out with ``QTextDocument`` and prints it to whatever printer the user picks, PDF
included. ``print_html_to_pdf`` is the same path to a file (tests read it back).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from common.exports.document import PrintDocument, document_html
from desktop.background import run_op
from desktop.printing import list_document, purchase_order_document
from desktop.qt import (
    QMarginsF,
    QMessageBox,
    QObject,
    QPageLayout,
    QPageSize,
    QPrinter,
    QPrintPreviewDialog,
    QTextDocument,
    QWidget,
    Signal,
)

if TYPE_CHECKING:
    from desktop.ui.list_page import ListPage


def _text_document(html: str) -> QTextDocument:
    document = QTextDocument()
    document.setHtml(html)
    return document


def _set_up(printer: QPrinter) -> None:
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    printer.setPageMargins(QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter)


def print_html_to_pdf(html: str, path: str) -> None:
    """Print ``html`` as the preview would, into a PDF file."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    _set_up(printer)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(path)
    _text_document(html).print_(printer)


class PrintPreview(QObject):
    """Makes the HTML in the background, then opens the preview (``ready`` carries the dialog)."""

    ready = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QWidget, title: str, make: Callable[[], PrintDocument]) -> None:
        super().__init__(parent)
        self.parent_widget, self.title, self.make = parent, title, make
        self.html = ""
        self.dialog: QPrintPreviewDialog | None = None

    def start(self, *, show: bool = True) -> None:
        def work(_progress: Any) -> str:
            return document_html(self.make())

        run_op(self, work, on_success=lambda html: self._open(html, show), on_failure=self._failed)

    def _open(self, html: str, show: bool) -> None:
        self.html = html
        document = _text_document(html)
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        _set_up(printer)
        dialog = QPrintPreviewDialog(printer, self.parent_widget)
        dialog.setWindowTitle(f"Print — {self.title}")
        dialog.paintRequested.connect(document.print_)
        # The dialog only points at the printer and the document: both live as long as this.
        self._printer, self._document = printer, document
        self.dialog = dialog
        self.ready.emit(dialog)
        if show:
            dialog.open()

    def _failed(self, exc: BaseException) -> None:
        message = f"Could not prepare the printout: {exc}"
        self.failed.emit(message)
        box = QMessageBox(QMessageBox.Icon.Warning, "Print", message, parent=self.parent_widget)
        box.open()


def print_page(page: ListPage, *, show: bool = True) -> PrintPreview:
    """Print the page's list as filtered and sorted, with preview."""
    from desktop.ui.exporting import list_view

    source, view, session, total = page.model.source, list_view(page), page.ctx.session, page.model.total
    preview = PrintPreview(page, page.title, lambda: list_document(source, page.title, view, session, total))
    preview.start(show=show)
    return preview


def print_purchase_order(parent: QWidget, session: Any, order_id: str, *, show: bool = True) -> PrintPreview:
    """Print one purchase order, with preview."""
    preview = PrintPreview(parent, "Purchase order", lambda: purchase_order_document(session, order_id))
    preview.start(show=show)
    return preview


def print_report(
    parent: QWidget, session: Any, name: str, params: dict[str, str], *, show: bool = True
) -> PrintPreview:
    """Print a report of the local books with preview."""
    from desktop.ui.exporting import report_export_table

    def make() -> PrintDocument:
        from common.exports.table import ExportColumn, human_text
        from common.exports.writers import _total_lines

        table = report_export_table(session, name, params)
        amount = ExportColumn("v", "v", kind="amount")
        totals = [(label, human_text(amount, {"v": value}, table.currency) + f" {table.currency}")
                  for label, value in _total_lines(table)]  # fmt: skip
        return PrintDocument(title=table.title, table=table, totals=totals)

    preview = PrintPreview(parent, name.replace("_", " ").capitalize(), make)
    preview.start(show=show)
    return preview

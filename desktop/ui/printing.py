"""Print with preview, and save as PDF: business documents (invoices, credit notes, customer
statements, purchase orders, payslips) and lists, through Qt's print preview.

The document is read and its HTML made off the GUI thread (it reads the local store); the preview
then lays it out with ``QTextDocument`` and prints it to whatever printer the user picks, PDF
included. :func:`save_document_pdf` writes the same document with the PDF renderer of
:mod:`common.documents` (the server's), also off the GUI thread. ``print_html_to_pdf`` is the
preview's path to a file (tests read it back).

Other screens call :func:`print_document` and :func:`save_document_pdf` with a kind of
:data:`DOCUMENT_KINDS` and the document's id (a statement: the customer's id and a period).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.documents import (
    KIND_TITLES,
    BusinessDocument,
    DocumentLocale,
    DocumentNotFound,
    DocumentUnavailable,
    Period,
    document_pdf,
)
from common.documents import document_html as business_html
from common.exports.document import PrintDocument, document_html
from desktop.background import run_op
from desktop.printing import DOCUMENT_KINDS, business_document, document_locale, list_document
from desktop.qt import (
    QLocale,
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
from desktop.ui import qt_number_locale

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


def user_document_locale() -> DocumentLocale:
    """The signed-in user's locale for documents (read on the GUI thread: it asks ``QLocale``)."""
    return document_locale(qt_number_locale(), QLocale().dateFormat(QLocale.FormatType.ShortFormat))


class PrintPreview(QObject):
    """Makes the HTML in the background, then opens the preview (``ready`` carries the dialog).

    ``make`` gives a business document (rendered in ``locale``) or a list's printout.
    """

    ready = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        parent: QWidget,
        title: str,
        make: Callable[[], PrintDocument | BusinessDocument],
        locale: DocumentLocale | None = None,
    ) -> None:
        super().__init__(parent)
        self.parent_widget, self.title, self.make = parent, title, make
        self.locale = locale or user_document_locale()
        self.html = ""
        self.dialog: QPrintPreviewDialog | None = None

    def start(self, *, show: bool = True) -> None:
        locale = self.locale

        def work(_progress: Any) -> str:
            made = self.make()
            if isinstance(made, BusinessDocument):
                return business_html(made, locale)
            return document_html(made)

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


def _kind(kind: str) -> str:
    if kind not in DOCUMENT_KINDS:
        raise ValueError(f"kind: must be one of {', '.join(DOCUMENT_KINDS)}")
    return kind


def print_document(
    parent: QWidget,
    session: Any,
    kind: str,
    doc_id: str,
    *,
    show: bool = True,
    period: Period | None = None,
) -> PrintPreview:
    """Print one document with preview: ``kind`` is ``invoice``, ``credit_note``, ``statement``
    (``doc_id`` the customer's; ``period`` the month so far when omitted), ``purchase_order`` or
    ``payslip``. ``ready`` carries the preview dialog; ``failed`` the message (also shown). A
    payslip whose amounts this computer does not hold (no ``hr.sensitive.read``) fails with a
    message saying so: :func:`save_document_pdf` then fetches the server's PDF."""
    _kind(kind)
    preview = PrintPreview(
        parent, KIND_TITLES[kind], lambda: business_document(session, kind, doc_id, period=period)
    )
    preview.start(show=show)
    return preview


class DocumentSave(QObject):
    """One document saved as a PDF file: ``done(path)`` once written, or ``failed(message)``.

    The file appears whole or not at all (written beside it, then renamed).
    """

    done = Signal(str)
    failed = Signal(str)

    def __init__(
        self,
        parent: QWidget,
        make: Callable[[], BusinessDocument],
        path: str,
        from_server: Callable[[], bytes] | None = None,
    ) -> None:
        super().__init__(parent)
        self.parent_widget, self.make, self.path = parent, make, path
        self.from_server = from_server
        self.locale = user_document_locale()

    def start(self) -> None:
        run_op(self, self._work, on_success=self.done.emit, on_failure=self._failed)

    def _work(self, _progress: Any) -> str:
        try:
            body = document_pdf(self.make(), self.locale)
        except (DocumentUnavailable, DocumentNotFound):
            # Not (all) on this computer — an employee's own payslip: neither its amounts nor its
            # payroll run are here — the server makes it.
            if self.from_server is None:
                raise
            body = self.from_server()
        target = Path(self.path)
        handle, temporary = tempfile.mkstemp(prefix=".document-", suffix=".pdf", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(body)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return str(target)

    def _failed(self, exc: BaseException) -> None:
        message = f"Could not save the PDF: {exc}"
        self.failed.emit(message)
        QMessageBox(QMessageBox.Icon.Warning, "Save as PDF", message, parent=self.parent_widget).open()


def save_document_pdf(
    parent: QWidget,
    session: Any,
    kind: str,
    doc_id: str,
    path: str,
    *,
    period: Period | None = None,
) -> DocumentSave:
    """Save one document (kinds as :func:`print_document`) as a PDF file at ``path``, off the
    GUI thread; the returned job says ``done(path)`` or ``failed(message)``."""
    _kind(kind)
    from_server = None
    if kind == "payslip":
        from_server = lambda: session.api.payslip_pdf(session.org_id, doc_id)  # noqa: E731
    job = DocumentSave(
        parent, lambda: business_document(session, kind, doc_id, period=period), path, from_server
    )
    job.start()
    return job


def print_purchase_order(parent: QWidget, session: Any, order_id: str, *, show: bool = True) -> PrintPreview:
    """Print one purchase order, with preview."""
    return print_document(parent, session, "purchase_order", order_id, show=show)


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

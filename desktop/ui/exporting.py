"""Export… and Print… on every list page, and its right-click menu.

An export runs off the GUI thread (:func:`desktop.background.run_op`) with a progress dialog
whose Cancel stops the writer at its next check. It writes to a temporary file beside the
target and renames it only when complete, so a cancel or an error leaves no half-written file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.exports import FORMATS, ExportCancelled, ExportTable, export
from desktop.background import Progress, run_op
from desktop.list_export import ListView, list_table
from desktop.qt import (
    QAction,
    QApplication,
    QFileDialog,
    QMenu,
    QMessageBox,
    QObject,
    QPoint,
    QProgressDialog,
    Qt,
    QWidget,
    Signal,
)
from desktop.ui.widgets import button

if TYPE_CHECKING:
    from desktop.ui.list_page import ListPage

FORMAT_NAMES = {"csv": "CSV (*.csv)", "xlsx": "Excel workbook (*.xlsx)", "pdf": "PDF (*.pdf)"}
FORMAT_LABELS = {"csv": "CSV…", "xlsx": "Excel (XLSX)…", "pdf": "PDF…"}


class ExportJob(QObject):
    """One export to one file: ``done(path)`` when written, ``cancelled()``, or ``failed(message)``."""

    done = Signal(str)
    cancelled = Signal()
    failed = Signal(str)

    def __init__(self, parent: QWidget, table: ExportTable, fmt: str, path: str) -> None:
        super().__init__(parent)
        if fmt not in FORMATS:
            raise ValueError(f"format: must be one of {', '.join(FORMATS)}")
        self.table, self.fmt, self.path = table, fmt, path
        self._stop = threading.Event()
        self.progress = QProgressDialog(f"Exporting {table.title}…", "Cancel", 0, 0, parent)
        self.progress.setWindowTitle("Export")
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.setMinimumDuration(300)
        self.progress.canceled.connect(self.cancel)
        self.finished = False

    def cancel(self) -> None:
        self._stop.set()

    def start(self) -> None:
        run_op(
            self,
            self._work,
            on_success=self._succeeded,
            on_failure=self._failed,
            on_progress=self._progressed,
        )

    def _work(self, report: Any) -> str:
        target = Path(self.path)
        handle, temporary = tempfile.mkstemp(prefix=".export-", suffix=f".{self.fmt}", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                export(
                    self.table,
                    self.fmt,
                    out,
                    progress=lambda done, total: report(done, total, f"{done:,} rows"),
                    cancelled=self._stop.is_set,
                )
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return str(target)

    def _progressed(self, progress: Progress) -> None:
        if progress.total:
            self.progress.setMaximum(progress.total)
            self.progress.setValue(min(progress.done, progress.total))
        self.progress.setLabelText(f"Exporting {self.table.title}… {progress.text}")

    def _close(self) -> None:
        self.finished = True
        self.progress.canceled.disconnect(self.cancel)
        self.progress.close()

    def _succeeded(self, path: str) -> None:
        self._close()
        self.done.emit(path)

    def _failed(self, exc: BaseException) -> None:
        self._close()
        if isinstance(exc, ExportCancelled):
            self.cancelled.emit()
        else:
            self.failed.emit(f"The export could not be written: {exc}")


def list_view(page: ListPage) -> ListView:
    model = page.model
    return ListView(model.search, model.sort_key, model.descending, tuple(page.export_filters()))


def page_table(page: ListPage) -> ExportTable:
    """What the page shows, as an export: its readable columns, search, filters and sort."""
    return list_table(
        page.model.source, page.title, list_view(page), page.ctx.session.permissions, total=page.model.total
    )


def export_page(page: ListPage, fmt: str, path: str | None = None) -> ExportJob | None:
    """Export the page to ``path`` (asked for when ``None``); returns the running job."""
    if path is None:
        suggested = str(Path.home() / f"{page.title.lower().replace(' ', '-')}.{fmt}")
        path, _ = QFileDialog.getSaveFileName(page, f"Export {page.title}", suggested, FORMAT_NAMES[fmt])
        if not path:
            return None
    job = ExportJob(page, page_table(page), fmt, path)
    job.failed.connect(
        lambda message: QMessageBox(QMessageBox.Icon.Warning, "Export", message, parent=page).open()
    )
    job.start()
    return job


def install_list_tools(page: ListPage) -> None:
    """Add Export… and Print… to the page's header and a context menu to its table."""
    from desktop.ui.printing import print_page

    exporting = button("Export", tooltip="Export this list as it is filtered and sorted")
    menu = QMenu(exporting)
    for fmt, text in FORMAT_LABELS.items():
        action = menu.addAction(text)
        action.triggered.connect(lambda _checked=False, f=fmt: export_page(page, f))
    menu.addSeparator()
    menu.addAction("Print…").triggered.connect(lambda: print_page(page))
    exporting.setMenu(menu)
    page.header.add_action(exporting)
    page.export_button = exporting
    page.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    page.table.customContextMenuRequested.connect(lambda point: show_context_menu(page, point))


def context_actions(page: ListPage, point: QPoint) -> list[QAction]:
    """The right-click menu's actions for the row under ``point``."""
    from desktop.ui.printing import print_page

    index = page.table.indexAt(point)
    row = page.model.row_at(index.row()) if index.isValid() else None
    actions: list[QAction] = []

    def add(text: str, slot: Any, enabled: bool = True) -> None:
        action = QAction(text, page)
        action.setEnabled(enabled)
        action.triggered.connect(slot)
        actions.append(action)

    if row is not None:
        page.table.setCurrentIndex(index)
        add("Open", lambda: page.open_row(row))
        if type(page).print_row is not _base_print_row():
            add(f"Print {page.noun}…", lambda: page.print_row(row))
        text = str(page.model.data(index) or "")
        add("Copy", lambda: QApplication.clipboard().setText(text))
        if page.history_entity:
            add("History…", lambda: page.show_history(row, str(row.get("name") or row.get("number") or "")))
    for fmt, label in FORMAT_LABELS.items():
        add(f"Export as {label}", lambda _checked=False, f=fmt: export_page(page, f))
    add("Print…", lambda: print_page(page))
    return actions


def _base_print_row() -> Any:
    from desktop.ui.list_page import ListPage

    return ListPage.print_row


def show_context_menu(page: ListPage, point: QPoint) -> None:
    menu = QMenu(page)
    for action in context_actions(page, point):
        menu.addAction(action)
    menu.popup(page.table.viewport().mapToGlobal(point))


def report_export_table(session: Any, name: str, params: dict[str, str]) -> ExportTable:
    """A report of the local books as an export table, under the user's report permission."""
    from common.exports import report_table
    from common.reports import run_report

    with session.store.read_session() as db:
        made = run_report(db, session.org_id, name, params, session.permissions)
    return report_table(made)


def export_report(
    parent: QWidget, session: Any, name: str, params: dict[str, str], fmt: str, path: str
) -> ExportJob:
    """Export report ``name`` of the local books (same engine and rules as the server's
    ``format=`` answers); raises :class:`common.reports.ReportError` when it cannot be made."""
    job = ExportJob(parent, report_export_table(session, name, params), fmt, path)
    job.start()
    return job

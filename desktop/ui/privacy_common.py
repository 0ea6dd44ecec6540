"""Pieces the privacy screens share: a download with progress and Cancel, a small read-only table,
and the words for a server that cannot be reached."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from desktop.api_client import ApiError, DownloadCancelled, OfflineError, SessionEndedError
from desktop.background import Progress, run_op
from desktop.formatting import count
from desktop.qt import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui import theme
from desktop.ui.list_page import HEADER_ROOM, header_metrics
from desktop.ui.widgets import button, label

# Room a cell's text needs besides its width (the theme's padding on each side).
CELL_ROOM = 24
# A download's work: (progress(done, total), cancelled()) → bytes written.
DownloadWork = Callable[[Callable[[int, int | None], None], Callable[[], bool]], int]


def problem_text(exc: BaseException, what: str) -> str:
    """Words for a failed server call; offline says the page needs the server."""
    if isinstance(exc, OfflineError):
        return f"{what} needs the server, which cannot be reached now. Try again when you are online."
    if isinstance(exc, SessionEndedError) and exc.code == "not_signed_in":
        return (
            f"{what} needs the server: this session started offline and reconnects when the server answers."
        )
    if isinstance(exc, ApiError):
        return f"{what}: {exc.message}"
    return f"{what} failed: {type(exc).__name__}"


def size_text(n: int) -> str:
    if n < 1024:
        return f"{count(n)} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


class DownloadBar(QWidget):
    """A file download off the GUI thread: progress, Cancel, and the outcome in one line."""

    finished = Signal(object)  # the Path written
    failed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.SPACING)
        self.bar = QProgressBar()
        self.bar.setObjectName("downloadProgress")
        self.bar.setMaximumWidth(260)
        self.bar.setTextVisible(False)
        self.cancel_button = button("Cancel", tooltip="Stop the download (nothing is kept)")
        self.cancel_button.clicked.connect(self.cancel)
        self.text = label("", "muted", wrap=True)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.text, 1)
        self.bar.hide()
        self.cancel_button.hide()
        self.hide()  # shown from the first download on: its progress, then its outcome
        self._stop = threading.Event()
        self.running = False

    def start(self, target: Path, work: DownloadWork) -> None:
        if self.running:
            return
        self.running = True
        self.show()
        self._stop.clear()
        self.bar.setRange(0, 0)
        self.bar.show()
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        self.text.setText(f"Downloading to {target.name}…")

        def run(report: Callable[[int, int | None, str], None]) -> int:
            return work(lambda done, total: report(done, total, ""), self._stop.is_set)

        run_op(
            self,
            run,
            on_success=lambda n: self._done(target, n),
            on_failure=self._failed,
            on_progress=self._progress,
        )

    def cancel(self) -> None:
        self._stop.set()
        self.cancel_button.setEnabled(False)
        self.text.setText("Cancelling…")

    def _progress(self, progress: Progress) -> None:
        if progress.total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * progress.done / progress.total))
        self.text.setText(f"Downloading… {size_text(progress.done)}")

    def _finish(self) -> None:
        self.running = False
        self.bar.hide()
        self.cancel_button.hide()

    def _done(self, target: Path, size: int) -> None:
        self._finish()
        self.text.setText(f"Saved {target} ({size_text(size)}).")
        self.finished.emit(target)

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        message = (
            "The download was cancelled; nothing was kept."
            if isinstance(exc, DownloadCancelled)
            else (problem_text(exc, "Downloading"))
        )
        self.text.setText(message)
        self.failed.emit(message)


class PageNotice(QFrame):
    """The calm yellow note of a page (the server cannot be reached…); hidden while empty. The
    padding is the frame's, so the wrapped text inside gets its full height."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pageNotice")
        self.setStyleSheet(
            "QFrame#pageNotice { background: #fff8e6; border: 1px solid #f3d48a; border-radius: 4px; }"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.SPACING, theme.SPACING, theme.SPACING, theme.SPACING)
        self.label = label("", None, wrap=True)
        self.label.setStyleSheet("background: transparent; border: none;")
        layout.addWidget(self.label)
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def show_text(self, text: str | None) -> None:
        self.label.setText(text or "")
        self.setVisible(bool(text))


def card(title: str, text: str = "") -> tuple[QFrame, QVBoxLayout]:
    """A white section with a heading and a line of explanation; its layout for the content."""
    frame = QFrame()
    frame.setObjectName("card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(2 * theme.SPACING, 2 * theme.SPACING, 2 * theme.SPACING, 2 * theme.SPACING)
    layout.setSpacing(theme.SPACING)
    heading = label(title, "sectionTitle")
    heading.setStyleSheet("font-size: 12pt; font-weight: 600;")
    layout.addWidget(heading)
    if text:
        layout.addWidget(label(text, "muted", wrap=True))
    return frame, layout


class SmallTable(QTableWidget):
    """A short read-only list (tens of rows: a person's requests, an export's contents)."""

    def __init__(self, headers: Sequence[str], name: str, parent: QWidget | None = None) -> None:
        super().__init__(0, len(headers), parent)
        self.setObjectName(name)
        self.setHorizontalHeaderLabels(list(headers))
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.row_data: list[Any] = []
        self.fit_columns()

    def fit_columns(self) -> None:
        """Each column as wide as its widest cell or its title as painted (bold, with padding)."""
        self.resizeColumnsToContents()
        header = self.horizontalHeader()
        bold = header_metrics(self)
        for column in range(self.columnCount() - 1):
            item = self.horizontalHeaderItem(column)
            title = bold.horizontalAdvance(item.text() if item is not None else "") + HEADER_ROOM
            header.resizeSection(column, max(header.sectionSize(column) + CELL_ROOM, title))

    def fill(self, rows: Sequence[Sequence[str]], data: Sequence[Any] | None = None) -> None:
        self.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                self.setItem(r, c, item)
        self.row_data = list(data) if data is not None else [None] * len(rows)
        self.fit_columns()
        # As tall as its rows (up to ten, then it scrolls): a short list leaves no empty box.
        shown = min(max(len(rows), 1), 10)
        self.setFixedHeight(
            self.horizontalHeader().sizeHint().height()
            + shown * self.verticalHeader().defaultSectionSize()
            + 4
        )

    def cell_text(self, row: int, column: int) -> str:
        item = self.item(row, column)
        return item.text() if item is not None else ""

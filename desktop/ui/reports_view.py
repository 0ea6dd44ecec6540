"""The shape every finance report screen shares: date controls, a table computed off the GUI
thread with a busy line, totals, Export… and Print…, and drill-down by double-click or Enter.

A screen subclasses :class:`ReportPage`, names its report (``common.reports``), its columns, the
parameters its controls give, how the report's wire form becomes rows (headings and totals
included) and what a double-click on a row does. The report runs on the local store with the
session's permissions, exactly as the server's report API runs it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from common.exports import report_table
from common.money import currency_exponent
from common.reports import ReportError, run_report
from desktop.formatting import day, number_locale
from desktop.numbers import format_decimal
from desktop.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QColor,
    QComboBox,
    QDate,
    QFileDialog,
    QFont,
    QHBoxLayout,
    QHeaderView,
    QKeyEvent,
    QLocale,
    QMenu,
    QMessageBox,
    QModelIndex,
    QPersistentModelIndex,
    QProgressBar,
    QShowEvent,
    QStackedWidget,
    Qt,
    QTableView,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.exporting import FORMAT_LABELS, FORMAT_NAMES, ExportJob
from desktop.ui.forms import DateInput
from desktop.ui.list_page import header_metrics
from desktop.ui.printing import PrintPreview, print_report
from desktop.ui.reports_data import PRESETS, preset_of, preset_range
from desktop.ui.widgets import EmptyState, PageHeader, button, label

ROW_ROLE = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex
HEADER_ROOM = 30
CELL_ROOM = 24  # besides a cell's text: the stylesheet's padding and the grid
FIT_ROWS = 1000  # columns fit the first rows' texts (a ledger may have 50,000)
RECOMPUTE_DELAY_MS = 150


def locale_date(value: Any) -> str:
    """A date in the user's locale (:func:`desktop.formatting.day`: short format, four-digit year)."""
    return day(value)


def locale_month(value: Any) -> str:
    """``2031-03`` as the locale's month name and year (``March 2031``, ``März 2031``)."""
    parsed = QDate.fromString(f"{value}-01", "yyyy-MM-dd")
    return str(QLocale().toString(parsed, "MMMM yyyy")) if parsed.isValid() else str(value or "")


def amount_text(value: Any, currency: str | None) -> str:
    """A report amount (exact decimal text, as on the wire) in the user's locale."""
    if value is None or value == "":
        return ""
    places = currency_exponent(currency or "")
    return format_decimal(Decimal(str(value)), number_locale(), places)


@dataclass(frozen=True)
class ReportColumn:
    """``kind``: ``text``, ``amount`` (decimal text), ``money`` (minor units), ``date``,
    ``month``, ``source`` (a posting's source, in words), ``rate`` (a percentage)."""

    key: str
    title: str
    kind: str = "text"
    width: int = 0
    stretch: bool = False

    @property
    def numeric(self) -> bool:
        return self.kind in ("amount", "money", "rate")


def cell_text(column: ReportColumn, row: dict[str, Any], currency: str | None) -> str:
    value = row.get(column.key)
    if column.kind == "amount":
        return amount_text(value, currency)
    if column.kind == "money":
        if value is None or value == "":
            return ""
        places = currency_exponent(row.get("currency") or currency or "")
        return format_decimal(Decimal(int(value)).scaleb(-places), number_locale(), places)
    if column.kind == "date":
        return locale_date(value)
    if column.kind == "month":
        return locale_month(value)
    if column.kind == "rate":
        return f"{format_decimal(Decimal(str(value)), number_locale())} %" if value not in (None, "") else ""
    if column.kind == "source":
        from desktop.ui.reports_data import SOURCE_TITLES

        return SOURCE_TITLES.get(str(value), str(value or "").replace("_", " ").capitalize())
    return "" if value is None else str(value)


class ReportModel(QAbstractTableModel):
    """Rows of a report as shown: ``_style`` ``heading`` or ``total`` rows are bold."""

    def __init__(self, columns: tuple[ReportColumn, ...], parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = columns
        self.rows: list[dict[str, Any]] = []
        self.currency: str | None = None
        self.red_negatives = True

    def set_rows(self, rows: list[dict[str, Any]], currency: str | None) -> None:
        self.beginResetModel()
        self.rows, self.currency = rows, currency
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def text(self, row: int, key: str) -> str:
        """What the cell of ``key`` in ``row`` shows (tests read the screen through it)."""
        column = next(c for c in self.columns if c.key == key)
        return cell_text(column, self.rows[row], self.currency)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row, column = self.rows[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(column, row, self.currency)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignRight if column.numeric else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and row.get("_style"):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole:
            if row.get("_style") == "heading":
                return QColor(theme.MUTED)
            if self.red_negatives and column.numeric and str(row.get(column.key) or "").startswith("-"):
                return QColor(theme.ERROR)
            return None
        if role == Qt.ItemDataRole.ToolTipRole and row.get("_drill"):
            return row["_drill"]
        if role == ROW_ROLE:
            return row
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or section >= len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignRight if column.numeric else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        return None

    def row_at(self, row: int) -> dict[str, Any] | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None


class ReportTable(QTableView):
    """A report's table: Enter or a double-click drills into the current cell."""

    drill = Signal(int, int)  # row, column

    def __init__(self, model: ReportModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(28)
        self.setShowGrid(False)
        self.horizontalHeader().setHighlightSections(False)
        self.doubleClicked.connect(lambda index: self.drill.emit(index.row(), index.column()))
        model.modelReset.connect(self.fit_columns)
        self.fit_columns()

    def fit_columns(self) -> None:
        """Fixed columns as wide as their title and what they show (the first thousand rows, Qt's
        sampling), never below their usual width when empty; the stretching column gets the rest."""
        model = self.model()
        assert isinstance(model, ReportModel)
        header = self.horizontalHeader()
        bold = header_metrics(self)
        for index, column in enumerate(model.columns):
            if column.stretch:
                header.setSectionResizeMode(index, QHeaderView.ResizeMode.Stretch)
                continue
            title = bold.horizontalAdvance(column.title) + HEADER_ROOM
            content = self._content_width(model, column) if model.rows else column.width
            header.resizeSection(index, max(title, content))

    def _content_width(self, model: ReportModel, column: ReportColumn) -> int:
        plain, bold = self.fontMetrics(), header_metrics(self)
        place = model.columns.index(column)
        widest = 0
        for number, row in enumerate(model.rows[:FIT_ROWS]):
            metrics = bold if row.get("_style") else plain
            text = str(model.data(model.index(number, place)) or "")
            widest = max(widest, metrics.horizontalAdvance(text))
        return widest + CELL_ROOM

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit_columns()  # the fonts are final once shown and polished

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.drill.emit(self.currentIndex().row(), self.currentIndex().column())
            return
        super().keyPressEvent(event)


class PeriodControls(QWidget):
    """Period presets (this month, last month, this quarter, this year, custom) and the first
    and last day, picked in the locale's date format. ``changed`` fires on every change."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, today: date | None = None) -> None:
        super().__init__(parent)
        self.today = today or date.today()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.SPACING)
        self.preset = QComboBox()
        for key, title in PRESETS:
            self.preset.addItem(title, key)
        self.start = DateInput(optional=False)
        self.end = DateInput(optional=False)
        for text, widget in (("Period", self.preset), ("From", self.start), ("To", self.end)):
            layout.addWidget(label(text, "muted"))
            layout.addWidget(widget)
        self._quiet = False
        self.set_preset("this_month")
        self.preset.currentIndexChanged.connect(self._preset_changed)
        self.start.changed.connect(self._dates_changed)
        self.end.changed.connect(self._dates_changed)

    def range(self) -> tuple[date, date]:
        return date.fromisoformat(self.start.value()), date.fromisoformat(self.end.value())

    def set_preset(self, key: str) -> None:
        self.preset.setCurrentIndex(self.preset.findData(key))
        self._preset_changed()

    def set_range(self, start: date, end: date) -> None:
        self._quiet = True
        try:
            self.start.set_value(start.isoformat())
            self.end.set_value(end.isoformat())
            self.preset.setCurrentIndex(self.preset.findData(preset_of(start, end, self.today)))
        finally:
            self._quiet = False
        self.changed.emit()

    def _preset_changed(self) -> None:
        key = self.preset.currentData()
        if key == "custom" or self._quiet:
            return
        start, end = preset_range(key, self.today)
        self._quiet = True
        try:
            self.start.set_value(start.isoformat())
            self.end.set_value(end.isoformat())
        finally:
            self._quiet = False
        self.changed.emit()

    def _dates_changed(self) -> None:
        if self._quiet:
            return
        start, end = self.range()
        self._quiet = True
        try:
            self.preset.setCurrentIndex(self.preset.findData(preset_of(start, end, self.today)))
        finally:
            self._quiet = False
        self.changed.emit()


class BusyLine(QWidget):
    """ "Computing…" with a moving bar, beside the controls, while a report is made."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.text = label("Computing…", "muted")
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setFixedSize(90, 10)
        self.bar.setTextVisible(False)
        layout.addWidget(self.text)
        layout.addWidget(self.bar)
        self.setVisible(False)


class ReportPage(QWidget):
    """A finance report on screen. Subclasses set the class attributes and override
    :meth:`params`, :meth:`arrange` and :meth:`drill`."""

    report = ""
    title = ""
    subtitle = ""
    columns: tuple[ReportColumn, ...] = ()
    hint = "Double-click a figure to see its journal lines."
    empty_title = "Nothing posted in this period"
    empty_hint = "Choose another period, or post documents: invoices, bills, payments, journal entries."
    red_negatives = True  # a loss or an overdrawn account in red (not a trial balance's credits)

    def __init__(
        self,
        ctx: UiContext,
        parent: QWidget | None = None,
        *,
        start: date | None = None,
        end: date | None = None,
        today: date | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.made: dict[str, Any] | None = None
        self.generation = 0
        self.computing = False
        self.last_ms: float | None = None  # from asking to the table filled (bench, tests)
        self.last_error: str | None = None
        self._stale = True
        self._build(today)
        if start is not None and end is not None:
            self.period.set_range(start, end)
        self.period.changed.connect(self.schedule)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RECOMPUTE_DELAY_MS)
        self._timer.timeout.connect(self.compute)
        ctx.data_changed.connect(self.refresh)

    # -- to override ---------------------------------------------------------------------------
    def params(self) -> dict[str, str]:
        start, end = self.period.range()
        return {"from": start.isoformat(), "to": end.isoformat()}

    def problem(self) -> str | None:
        """What keeps the report from being made with the controls as they are."""
        start, end = self.period.range()
        return "To: must not be before From." if end < start else None

    def arrange(self, made: dict[str, Any]) -> list[dict[str, Any]]:
        return list(made["rows"])

    def summary(self, made: dict[str, Any]) -> str:
        return ""

    def is_empty(self, made: dict[str, Any]) -> bool:
        """Nothing to show: the page says so instead of a table of zeros."""
        return not made["rows"]

    def drill(self, row: dict[str, Any], key: str) -> Any:
        """Enter or double-click on ``row`` in the column ``key``: returns the opened dialog."""
        return None

    def add_controls(self, bar: QHBoxLayout) -> None:
        """Controls before the period (the general ledger's account)."""

    # -- building ------------------------------------------------------------------------------
    def _build(self, today: date | None) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.SPACING * 2)
        layout.setSpacing(theme.SPACING * 2)
        self.header = PageHeader(self.title, self.subtitle)
        layout.addWidget(self.header)
        self.export_button = button("Export", tooltip="Export this report as it is shown")
        menu = QMenu(self.export_button)
        for fmt, text in FORMAT_LABELS.items():
            menu.addAction(text).triggered.connect(lambda _checked=False, f=fmt: self.export_shown(f))
        self.export_button.setMenu(menu)
        self.print_button = button("Print…", tooltip="Print this report with preview (Ctrl+P)")
        self.print_button.clicked.connect(lambda: self.print_shown())
        self.refresh_button = button("Refresh", tooltip="Compute the report again")
        self.refresh_button.clicked.connect(self.compute)
        for widget in (self.refresh_button, self.export_button, self.print_button):
            widget.setAutoDefault(False)  # in a drill-down dialog, Enter drills; it presses nothing
            self.header.add_action(widget)
        bar = QHBoxLayout()
        bar.setSpacing(theme.SPACING)
        self.add_controls(bar)
        self.period = PeriodControls(today=today)
        bar.addWidget(self.period)
        bar.addStretch(1)
        layout.addLayout(bar)
        self.model = ReportModel(self.columns, self)
        self.model.red_negatives = self.red_negatives
        self.table = ReportTable(self.model)
        self.table.drill.connect(self._drill_at)
        self.empty = EmptyState()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        layout.addWidget(self.stack, 1)
        footer = QHBoxLayout()
        footer.setSpacing(theme.SPACING * 2)
        # wraps rather than widen the page: the window never grows past the screen for a long line
        self.summary_label = label("", "reportSummary", wrap=True)
        footer.addWidget(self.summary_label, 1)
        self.busy = BusyLine()  # here, not beside the controls: showing it never widens the page
        footer.addWidget(self.busy)
        self.currency_label = label("", "muted")
        footer.addWidget(self.currency_label)
        footer.addWidget(label(self.hint, "muted"))
        layout.addLayout(footer)
        self._set_ready(False)

    def _set_ready(self, ready: bool) -> None:
        self.export_button.setEnabled(ready)
        self.print_button.setEnabled(ready)

    # -- behaviour -----------------------------------------------------------------------------
    def activate(self) -> None:
        """Shown by the main window: compute if anything changed since the last time."""
        if self._stale:
            self.compute()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale and not self.computing:
            self.compute()

    def refresh(self) -> None:
        """Something changed in the books: recompute now if shown, else when shown next."""
        self._stale = True
        if self.isVisible():
            self.schedule()

    def schedule(self) -> None:
        """Recompute shortly (typing a date changes it several times in a row)."""
        self._timer.start()

    def compute(self) -> None:
        """Make the report off the GUI thread; a newer request makes an older answer moot."""
        self._timer.stop()
        self._stale = False
        problem = self.problem()
        if problem is not None:
            self._show_problem(problem)
            return
        self.generation += 1
        generation, params, name = self.generation, self.params(), self.report
        session = self.ctx.session
        started = time.perf_counter()

        def work() -> dict[str, Any]:
            with session.store.read_session() as db:
                return run_report(db, session.org_id, name, params, session.permissions)

        def done(made: dict[str, Any]) -> None:
            if generation == self.generation:
                self._show(made, started)

        def failed(exc: BaseException) -> None:
            if generation == self.generation:
                self.computing = False
                self.busy.setVisible(False)
                self._show_problem(exc.message if isinstance(exc, ReportError) else f"Not computed: {exc}")

        self.computing = True
        self.busy.setVisible(True)
        self.ctx.run(
            self, work, on_success=done, on_failure=failed, busy_text=f"Computing {self.title.lower()}…"
        )

    def _show(self, made: dict[str, Any], started: float) -> None:
        self.computing = False
        self.last_error = None
        self.made = made
        rows = self.arrange(made)
        self.model.set_rows(rows, made["currency"])
        self.currency_label.setText(f"Amounts in {made['currency']}.")
        self.summary_label.setText(self.summary(made))
        if not self.is_empty(made):
            self.stack.setCurrentWidget(self.table)
        else:
            self.empty.show_message(self.empty_title, self.empty_hint)
            self.stack.setCurrentWidget(self.empty)
        self._set_ready(True)
        self.busy.setVisible(False)
        self.last_ms = (time.perf_counter() - started) * 1000

    def _show_problem(self, message: str) -> None:
        self.last_error = message
        self.made = None
        self.model.set_rows([], None)
        self.summary_label.setText("")
        self.empty.show_message("The report cannot be made", message)
        self.stack.setCurrentWidget(self.empty)
        self._set_ready(False)

    def _drill_at(self, row: int, column: int) -> Any:
        found = self.model.row_at(row)
        if found is None or found.get("_style") == "heading":
            return None
        return self.drill(found, self.model.columns[column].key)

    def drill_row(self, row: int, key: str) -> Any:
        """Drill into row ``row`` at the column ``key`` (what a double-click there does)."""
        column = next(i for i, c in enumerate(self.model.columns) if c.key == key)
        return self._drill_at(row, column)

    def row_index(self, **match: Any) -> int:
        """The index of the first shown row whose values include ``match`` (tests)."""
        return next(
            i for i, row in enumerate(self.model.rows) if all(row.get(k) == v for k, v in match.items())
        )

    # -- export and print ----------------------------------------------------------------------
    def export_shown(self, fmt: str, path: str | None = None) -> ExportJob | None:
        """Export the report as shown (the same table the server's ``format=`` answers)."""
        if self.made is None:
            return None
        if path is None:
            suggested = f"{self.report.replace('_', '-')}.{fmt}"
            path, _ = QFileDialog.getSaveFileName(self, f"Export {self.title}", suggested, FORMAT_NAMES[fmt])
            if not path:
                return None
        job = ExportJob(self, report_table(self.made), fmt, path)
        job.failed.connect(
            lambda message: QMessageBox(QMessageBox.Icon.Warning, "Export", message, parent=self).open()
        )
        job.start()
        return job

    def print_shown(self, *, show: bool = True) -> PrintPreview | None:
        if self.made is None:
            return None
        return print_report(self, self.ctx.session, self.report, self.params(), show=show)


def total_row(name: str, **values: Any) -> dict[str, Any]:
    return {"name": name, "_style": "total", **values}


def heading_row(name: str) -> dict[str, Any]:
    return {"name": name, "_style": "heading"}


def decimal_sum(rows: list[dict[str, Any]], key: str) -> str:
    """The exact sum of a column of decimal text (``"0"`` for none)."""
    return str(sum((Decimal(str(row[key])) for row in rows if row.get(key) not in (None, "")), Decimal(0)))


Opener = Callable[..., Any]

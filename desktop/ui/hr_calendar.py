"""Who is away: a month calendar of approved leave (names only; the kind of leave is personal)."""

from __future__ import annotations

from datetime import date
from typing import Any

from common.commands.leave import who_is_away
from common.hr_forms import away_by_day, month_bounds, month_weeks
from desktop.modules import page
from desktop.qt import (
    QAbstractItemView,
    QColor,
    QHBoxLayout,
    QHeaderView,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.widgets import PageHeader, button, label

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
AWAY_BACKGROUND = "#eef4fb"
WEEKEND_BACKGROUND = "#f4f5f7"


@page("hr", "leave_calendar", "Who is away", opens="hr.read", position=30)
class LeaveCalendarPage(QWidget):
    """One month at a time, Monday first; each working day lists who is on approved leave."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        today = date.today()
        self.year, self.month = today.year, today.month
        self.days: dict[date, list[str]] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.SPACING * 2)
        layout.setSpacing(theme.SPACING * 2)
        header = PageHeader(
            "Who is away", "Approved leave, month by month. Requests waiting for a decision are not shown."
        )
        self.previous_button = button("◀  Previous", tooltip="The month before")
        self.today_button = button("This month")
        self.next_button = button("Next  ▶", tooltip="The month after")
        self.previous_button.clicked.connect(lambda: self.step_month(-1))
        self.today_button.clicked.connect(self.this_month)
        self.next_button.clicked.connect(lambda: self.step_month(1))
        for widget in (self.previous_button, self.today_button, self.next_button):
            header.add_action(widget)
        layout.addWidget(header)
        bar = QHBoxLayout()
        self.month_label = label("")
        font = self.month_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() + 2)
        self.month_label.setFont(font)
        self.summary = label("", "muted")
        bar.addWidget(self.month_label)
        bar.addStretch(1)
        bar.addWidget(self.summary)
        layout.addLayout(bar)
        self.grid = QTableWidget(0, 7)
        self.grid.setObjectName("leaveCalendar")
        self.grid.setHorizontalHeaderLabels(list(WEEKDAYS))
        self.grid.verticalHeader().setVisible(False)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setWordWrap(True)
        self.grid.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.grid.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.grid, 1)
        ctx.data_changed.connect(self.refresh)
        self._stale = True

    # -- navigation ----------------------------------------------------------------------------
    def activate(self) -> None:
        if self._stale:
            self.show_month(self.year, self.month)

    def refresh(self) -> None:
        if self.isVisible():
            self.show_month(self.year, self.month)
        else:
            self._stale = True

    def step_month(self, months: int) -> None:
        index = self.year * 12 + (self.month - 1) + months
        self.show_month(index // 12, index % 12 + 1)

    def this_month(self) -> None:
        today = date.today()
        self.show_month(today.year, today.month)

    def show_month(self, year: int, month: int) -> None:
        """Read the month's approved leave from the local store and lay it out."""
        self._stale = False
        self.year, self.month = year, month
        first, last = month_bounds(year, month)
        with self.ctx.session.store.read_session() as db:
            absences = who_is_away(db, self.ctx.session.org_id, first, last)
        self.days = away_by_day(absences, first, last)
        self.month_label.setText(first.strftime("%B %Y"))
        people = len({a.employee_id for a in absences})
        self.summary.setText(
            f"{people} {'person' if people == 1 else 'people'} away this month"
            if people
            else "Nobody is away this month"
        )
        weeks = month_weeks(year, month)
        self.grid.clearContents()
        self.grid.setRowCount(len(weeks))
        for row, week in enumerate(weeks):
            for column, day in enumerate(week):
                self.grid.setItem(row, column, self._cell(day, column >= 5))

    def _cell(self, day: date | None, weekend: bool) -> QTableWidgetItem:
        item = QTableWidgetItem()
        item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        if day is None:
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            return item
        names = self.days.get(day, [])
        item.setText("\n".join([str(day.day), *names]))
        item.setToolTip(f"{day.isoformat()}: " + (", ".join(names) if names else "nobody away"))
        if names:
            item.setBackground(QColor(AWAY_BACKGROUND))
        elif weekend:
            item.setBackground(QColor(WEEKEND_BACKGROUND))
            item.setForeground(QColor(theme.MUTED))
        return item

    def names_on(self, day: date) -> list[str]:
        """Who the calendar shows away on ``day`` (for tests and screen readers)."""
        return list(self.days.get(day, []))

    def cell_text(self, day: date) -> Any:
        for row, week in enumerate(month_weeks(self.year, self.month)):
            if day in week:
                item = self.grid.item(row, week.index(day))
                return item.text() if item is not None else None
        return None

"""The timesheet as a week grid: rows are projects (and tasks), columns the days, hours typed in
the user's locale, totals as you type. Saving turns the changed cells into commands
(:func:`common.project_forms.plan_week`), applied locally (offline too) and synced later.

The grid serves the Timesheets page (anyone's week, for project managers) and My work (one's own).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from common.commands import CommandError
from common.commands.projects import WORKABLE
from common.ids import new_id
from common.money import quantity_text
from common.project_forms import DAY_NAMES, WeekLine, WeekPlan, monday_of, own_employee, plan_week, week_lines
from common.schema import EmployeeDirectory, Project, Task
from desktop.formatting import parse_quantity_input, quantity, quantity_input
from desktop.lists import live
from desktop.modules import page
from desktop.qt import (
    QAbstractItemView,
    QBrush,
    QColor,
    QComboBox,
    QFont,
    QHBoxLayout,
    QHeaderView,
    QKeySequence,
    QMessageBox,
    QShortcut,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.pickers import fill_combo
from desktop.ui.widgets import PageHeader, ask_once, button, label

TOTAL_COLUMN = 8
INVALID = QColor("#fde8e7")
WEEKEND = QColor("#f4f6f8")


def hours_text(value: Decimal | None) -> str:
    """Hours as shown: ``20`` not ``20.000``, in the user's locale (``7,5`` in de)."""
    return "" if value is None else quantity(Decimal(quantity_text(Decimal(value))))


def project_labels(ctx: UiContext) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Projects and tasks on this computer by id (code, name, status; title, project)."""
    org_id = ctx.session.org_id
    p, t = Project.__table__.c, Task.__table__.c
    with ctx.session.store.read_session() as db:
        projects = {
            r["id"]: dict(r)
            for r in db.execute(
                select(p.id, p.code, p.name, p.status).where(live(Project, org_id))
            ).mappings()
        }
        tasks = {
            r["id"]: dict(r)
            for r in db.execute(
                select(t.id, t.project_id, t.title, t.status).where(live(Task, org_id))
            ).mappings()
        }
    return projects, tasks


def week_title(monday: date) -> str:
    sunday = monday + timedelta(days=6)
    week = monday.isocalendar().week
    if monday.month == sunday.month:
        return f"Week {week} · {monday.day}–{sunday.day} {sunday:%b %Y}"
    return f"Week {week} · {monday.day} {monday:%b} – {sunday.day} {sunday:%b %Y}"


class WeekGrid(QWidget):
    """One employee's week. ``saved`` fires once typed hours are applied."""

    saved = Signal()

    def __init__(self, ctx: UiContext, *, writable: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.writable = writable
        self.employee_id: str | None = None
        self.monday = monday_of(date.today())
        self.lines: list[WeekLine] = []
        self.loaded_text: dict[tuple[int, int], str] = {}
        self.plan = WeekPlan([], {}, {})
        self.projects: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.saving = False
        self._filling = False
        self._build()

    # -- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.SPACING)
        bar = QHBoxLayout()
        self.previous_button = button("◀", tooltip="Previous week")
        self.next_button = button("▶", tooltip="Next week")
        self.this_week_button = button("This week")
        self.week_label = label("", "sectionTitle")
        font = self.week_label.font()
        font.setBold(True)
        self.week_label.setFont(font)
        self.previous_button.clicked.connect(lambda: self.go_to_week(self.monday - timedelta(days=7)))
        self.next_button.clicked.connect(lambda: self.go_to_week(self.monday + timedelta(days=7)))
        self.this_week_button.clicked.connect(lambda: self.go_to_week(monday_of(date.today())))
        navigation: tuple[QWidget, ...] = (
            self.previous_button,
            self.week_label,
            self.next_button,
            self.this_week_button,
        )
        for widget in navigation:
            bar.addWidget(widget)
        bar.addStretch(1)
        self.project_combo = QComboBox()
        self.project_combo.currentIndexChanged.connect(self._fill_tasks)
        self.task_combo = QComboBox()
        for combo, width in ((self.project_combo, 180), (self.task_combo, 130)):
            # Not as wide as the longest name: the window keeps its size (the list opens wider).
            combo.setFixedWidth(width)
            combo.view().setMinimumWidth(320)
        self.add_button = button("Add row", tooltip="Add the project (and task) to this week")
        self.add_button.clicked.connect(self._add_chosen_row)
        self.save_button = button("Save hours", primary=True, tooltip="Save the hours typed (Ctrl+S)")
        self.save_button.clicked.connect(self.save)
        editing: tuple[QWidget, ...] = (
            self.project_combo,
            self.task_combo,
            self.add_button,
            self.save_button,
        )
        for widget in editing:
            bar.addWidget(widget)
            widget.setVisible(self.writable)
        layout.addLayout(bar)
        self.table = QTableWidget(0, 9)
        self.table.setObjectName("weekGrid")
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 9):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(column, 84)
        self.table.itemChanged.connect(self._cell_changed)
        layout.addWidget(self.table, 1)
        self.problem_label = label("", "formError", wrap=True)
        layout.addWidget(self.problem_label)
        shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.save)

    # -- loading -------------------------------------------------------------------------------
    def go_to_week(self, monday: date) -> QMessageBox | None:
        """Show another week; hours typed and not saved are discarded only once the user agrees."""
        if not self.typed_cells():
            self.set_week(monday)
            return None
        self.discard_prompt = ask_once(
            self,
            "Discard hours?",
            "You typed hours that are not saved. Save them first (Save hours), or discard them?",
            "Discard hours",
            lambda: self.set_week(monday),
            stay_text="Keep editing",
        )
        return self.discard_prompt

    def set_employee(self, employee_id: str | None) -> None:
        self.employee_id = employee_id
        self.reload(keep_typed=False)

    def set_week(self, monday: date) -> None:
        self.monday = monday_of(monday)
        self.reload(keep_typed=False)

    def reload(self, *, keep_typed: bool = True) -> None:
        """Read the week from the local store (one indexed query) and show it. Hours typed and
        not saved yet, and rows added for them, stay (a sync finishing meanwhile loses nothing)."""
        typed = (
            {(self.lines[r].key, d): text for (r, d), text in self.typed_cells().items()}
            if keep_typed
            else {}
        )
        kept_rows = [line.key for line in self.lines] if keep_typed else []
        self.projects, self.tasks = project_labels(self.ctx)
        if self.employee_id is None:
            self.lines = []
        else:
            with self.ctx.session.store.read_session() as db:
                self.lines = week_lines(db, self.ctx.session.org_id, self.employee_id, self.monday)
        self.lines.sort(key=self._line_order)
        for key in kept_rows:
            if key not in {line.key for line in self.lines}:
                self.lines.append(WeekLine(*key))
        self._fill_projects()
        self._show()
        if typed:
            rows = {line.key: row for row, line in enumerate(self.lines)}
            self._filling = True
            for (key, day), text in typed.items():
                self.cell(rows[key], day + 1).setText(text)
            self._filling = False
            self._replan()

    def _line_order(self, line: WeekLine) -> tuple[str, str]:
        """Rows by project code, then task title (time without a task first)."""
        task = self.tasks.get(line.task_id or "")
        return (self.projects.get(line.project_id, {}).get("code", ""), task["title"] if task else "")

    def _workable(self, project_id: str) -> bool:
        return self.projects.get(project_id, {}).get("status") in WORKABLE

    def row_label(self, line: WeekLine) -> tuple[str, str]:
        """What a row says (the project's code and the task, or the project's name without one)
        and its tooltip (both names in full)."""
        project = self.projects.get(line.project_id)
        if project is None:
            return "(project not on this computer)", ""
        full = f"{project['code']} — {project['name']}"
        if line.task_id is None:
            return full, full
        task = self.tasks.get(line.task_id)
        title = task["title"] if task else "task"
        return f"{project['code']}  ·  {title}", f"{full}\n{title}"

    def _show(self) -> None:
        self._filling = True
        self.week_label.setText(week_title(self.monday))
        headers = ["Project / task"]
        for day in range(7):
            headers.append(f"{DAY_NAMES[day]} {(self.monday + timedelta(days=day)).day}")
        headers.append("Total")
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(self.lines) + 1)
        self.loaded_text = {}
        bold = QFont(self.table.font())
        bold.setBold(True)
        for row, line in enumerate(self.lines):
            text, tooltip = self.row_label(line)
            name = QTableWidgetItem(text)
            name.setToolTip(tooltip)
            name.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            self.table.setItem(row, 0, name)
            editable = self.writable and self._workable(line.project_id)
            for day in range(7):
                hours = line.hours(day)
                text = quantity_input(hours) if hours else ""
                self.loaded_text[(row, day)] = text
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                if editable:
                    flags |= Qt.ItemFlag.ItemIsEditable
                item.setFlags(flags)
                if day >= 5:
                    item.setBackground(QBrush(WEEKEND))
                self.table.setItem(row, day + 1, item)
            total = QTableWidgetItem("")
            total.setFlags(Qt.ItemFlag.ItemIsEnabled)
            total.setFont(bold)
            total.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, TOTAL_COLUMN, total)
        last = len(self.lines)
        for column in range(9):
            item = QTableWidgetItem("Total" if column == 0 else "")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item.setFont(bold)
            if column:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(last, column, item)
        self._filling = False
        self._replan()

    def _fill_projects(self) -> None:
        choices = [
            (pid, f"{p['code']} — {p['name']}")
            for pid, p in sorted(self.projects.items(), key=lambda kv: kv[1]["code"])
            if p["status"] in WORKABLE
        ]
        fill_combo(self.project_combo, choices, empty="Project…")
        self._fill_tasks()

    def _fill_tasks(self, *_: Any) -> None:
        project_id = self.project_combo.currentData()
        choices = [
            (tid, t["title"])
            for tid, t in sorted(self.tasks.items(), key=lambda kv: kv[1]["title"])
            if t["project_id"] == project_id and t["status"] != "done"
        ]
        fill_combo(self.task_combo, choices, empty="No task")

    # -- editing -------------------------------------------------------------------------------
    def _add_chosen_row(self) -> None:
        project_id = self.project_combo.currentData()
        if project_id is None:
            self.problem_label.setText("Pick a project to add a row for it.")
            return
        self.add_row(str(project_id), self.task_combo.currentData())

    def add_row(self, project_id: str, task_id: str | None) -> int:
        """Add a row for the project (and task), or find the one already there; its index."""
        for row, line in enumerate(self.lines):
            if line.key == (project_id, task_id):
                return row
        typed = self.typed_cells()
        self.lines.append(WeekLine(project_id, task_id))
        self._show()
        self._filling = True
        for (row, day), text in typed.items():
            self.cell(row, day + 1).setText(text)
        self._filling = False
        self._replan()
        return len(self.lines) - 1

    def cell(self, row: int, column: int) -> QTableWidgetItem:
        item = self.table.item(row, column)
        assert item is not None  # every cell is filled by _show
        return item

    def set_hours(self, row: int, day: int, text: str) -> None:
        """Type ``text`` into the cell of ``row`` and ``day`` (0 = Monday), as a user would."""
        self.cell(row, day + 1).setText(text)

    def typed_cells(self) -> dict[tuple[int, int], str]:
        """Cells whose text differs from what was loaded."""
        typed: dict[tuple[int, int], str] = {}
        for row in range(len(self.lines)):
            for day in range(7):
                text = self.cell(row, day + 1).text().strip()
                if text != self.loaded_text.get((row, day), ""):
                    typed[(row, day)] = text
        return typed

    def _cell_changed(self, item: QTableWidgetItem) -> None:
        if not self._filling and 1 <= item.column() <= 7:
            self._replan()

    def _replan(self) -> None:
        employee = self.employee_id or ""
        self.plan = plan_week(
            employee, self.monday, self.lines, self.typed_cells(), parse_quantity_input, new_id
        )
        self._filling = True
        for row in range(len(self.lines)):
            for day in range(7):
                item = self.cell(row, day + 1)
                problem = self.plan.problems.get((row, day))
                item.setToolTip(problem or "")
                item.setBackground(
                    QBrush(INVALID if problem else WEEKEND if day >= 5 else QColor(0, 0, 0, 0))
                )
            total = sum(
                (self.plan.typed.get((row, d), self.lines[row].hours(d)) for d in range(7)), Decimal(0)
            )
            self.cell(row, TOTAL_COLUMN).setText(hours_text(total))
        last = len(self.lines)
        week = Decimal(0)
        for day in range(7):
            day_total = self.plan.day_total(self.lines, day)
            week += day_total
            self.cell(last, day + 1).setText(hours_text(day_total) if day_total else "")
        self.cell(last, TOTAL_COLUMN).setText(hours_text(week))
        self._filling = False
        problems = [self.plan.problems[key] for key in sorted(self.plan.problems)]
        if problems:
            self.problem_label.setText("Not saved: " + "; ".join(problems))
        elif not self.saving:
            self.problem_label.setText("")
        self.save_button.setEnabled(not self.saving and not problems and bool(self.plan.commands))

    def week_total(self) -> str:
        return self.cell(len(self.lines), TOTAL_COLUMN).text()

    # -- saving --------------------------------------------------------------------------------
    def save(self) -> None:
        if self.saving or not self.writable or self.employee_id is None:
            return
        self._replan()
        if self.plan.problems or not self.plan.commands:
            return
        commands = list(self.plan.commands)
        session = self.ctx.session
        self.saving = True
        self.save_button.setEnabled(False)

        def work() -> int:
            for name, args in commands:
                session.apply(name, args)
            return len(commands)

        def done(_count: int) -> None:
            self.saving = False
            self.reload(keep_typed=False)  # what was typed is saved now
            self.ctx.data_changed.emit()
            self.saved.emit()

        def failed(exc: BaseException) -> None:
            self.saving = False
            self.ctx.data_changed.emit()  # what was applied before the refusal stays
            self.reload()
            message = exc.message if isinstance(exc, CommandError) else str(exc)
            self.problem_label.setText(f"Not saved: {message}")

        self.ctx.run(self, work, on_success=done, on_failure=failed, busy_text="Saving hours…")


def employee_choices(ctx: UiContext) -> list[tuple[str, str]]:
    t = EmployeeDirectory.__table__.c
    with ctx.session.store.read_session() as db:
        rows = db.execute(
            select(t.id, t.name).where(live(EmployeeDirectory, ctx.session.org_id)).order_by(t.name)
        ).all()
    return [(row.id, row.name) for row in rows]


@page("projects", "timesheets", "Timesheets", writes="projects.log_time", position=30)
class TimesheetPage(QWidget):
    """Anyone's week for those who write projects; others read it."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.SPACING * 2)
        layout.setSpacing(theme.SPACING * 2)
        header = PageHeader(
            "Timesheets",
            "Hours per project and day. Type hours in a cell (Enter), then Save hours (Ctrl+S); "
            "fewer hours than logged reverse the day's entries.",
        )
        self.employee_combo = QComboBox()
        self.employee_combo.setMinimumWidth(220)
        header.add_action(label("Employee", "muted"))
        header.add_action(self.employee_combo)
        layout.addWidget(header)
        self.grid = WeekGrid(ctx, writable=ctx.writable)
        layout.addWidget(self.grid, 1)
        self.employee_combo.currentIndexChanged.connect(lambda *_: self._employee_chosen())
        ctx.data_changed.connect(self._changed)
        self._stale = True

    def _employee_chosen(self) -> None:
        chosen = self.employee_combo.currentData()
        if not self.grid.typed_cells():
            self.grid.set_employee(chosen)
            return

        def back() -> None:  # keep the employee whose hours are being typed
            self.employee_combo.blockSignals(True)
            self.employee_combo.setCurrentIndex(self.employee_combo.findData(self.grid.employee_id))
            self.employee_combo.blockSignals(False)

        self.discard_prompt = ask_once(
            self,
            "Discard hours?",
            "You typed hours that are not saved. Save them first (Save hours), or discard them?",
            "Discard hours",
            lambda: self.grid.set_employee(chosen),
            back,
            stay_text="Keep editing",
        )

    def activate(self) -> None:
        if self._stale:
            self._stale = False
            self.load()

    def _changed(self) -> None:
        if self.isVisible() and not self.grid.saving:
            self.load()
        else:
            self._stale = True

    def load(self) -> None:
        session = self.ctx.session
        choices = employee_choices(self.ctx)
        self.employee_combo.blockSignals(True)
        fill_combo(self.employee_combo, choices)
        if self.employee_combo.currentIndex() <= 0 and self.grid.employee_id is None:
            with session.store.read_session() as db:
                mine = own_employee(db, session.org_id, session.user.id, session.permissions)
            index = self.employee_combo.findData(mine["id"]) if mine is not None else 0
            self.employee_combo.setCurrentIndex(max(index, 0))
        self.employee_combo.blockSignals(False)
        chosen = self.employee_combo.currentData()
        if chosen != self.grid.employee_id:
            self.grid.set_employee(chosen)
        else:
            self.grid.reload()

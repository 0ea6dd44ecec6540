"""My work: what every member with ``hr.self_service`` does for themselves — their profile (and
correcting their contact details), leave (balance, request, cancel), payslips, their week's
timesheet and their tasks. Everything reads the local store and writes through the local
recorder, so it works offline and syncs later.

Only one's own records are on an employee's computer (the owner rule of :mod:`common.access`);
payslip amounts are sensitive and stay off it: the payslip document carries them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from common.commands.leave import leave_balances
from common.commands.payroll import working_days
from common.commands.self_service import CONTACT_FIELDS
from common.ids import new_id
from common.project_forms import build_contact_details, build_leave_request, own_employee
from common.schema import Department, LeaveRequest, LeaveType, Payslip, Project, Task
from desktop.formatting import day, status
from desktop.lists import live
from desktop.modules import page
from desktop.qt import (
    QAbstractItemView,
    QColor,
    QDesktopServices,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QStackedWidget,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QUrl,
    QVBoxLayout,
    QWidget,
)
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.forms import FormDialog, FormField, apply_from_form
from desktop.ui.printing import DocumentSave, save_document_pdf
from desktop.ui.projects_board import STATUSES
from desktop.ui.projects_timesheet import WeekGrid, hours_text
from desktop.ui.widgets import EmptyState, PageHeader, button, label

TASK_STATUS_TITLES = dict(STATUSES)
# Room beside a cell's text: the theme's padding and the bold header's (nothing is elided).
CELL_ROOM = 32
OVERDUE = QColor("#b42318")
CONTACT_LABELS = {
    "work_phone": "Work phone",
    "personal_email": "Personal e-mail",
    "personal_phone": "Personal phone",
    "home_address": "Home address",
}


def table(headers: list[str], *, stretch: int = 0) -> QTableWidget:
    widget = QTableWidget(0, len(headers))
    widget.setHorizontalHeaderLabels(headers)
    widget.verticalHeader().setVisible(False)
    widget.verticalHeader().setDefaultSectionSize(30)
    widget.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    widget.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    widget.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    widget.setAlternatingRowColors(True)
    widget.setShowGrid(False)
    header = widget.horizontalHeader()
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    widget.setProperty("stretch_column", stretch)
    return widget


def fill(
    widget: QTableWidget, rows: list[list[str]], ids: list[str] | None = None, numeric: tuple[int, ...] = ()
) -> None:
    widget.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, text in enumerate(values):
            item = QTableWidgetItem(text)
            if c in numeric:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if ids is not None and c == 0:
                item.setData(Qt.ItemDataRole.UserRole, ids[r])
            widget.setItem(r, c, item)
    for c in numeric:
        title = widget.horizontalHeaderItem(c)
        if title is not None:
            title.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    widget.resizeColumnsToContents()
    header = widget.horizontalHeader()
    for c in range(widget.columnCount()):
        if c != widget.property("stretch_column"):
            header.resizeSection(c, header.sectionSize(c) + CELL_ROOM)


def selected_id(widget: QTableWidget) -> str | None:
    row = widget.currentRow()
    item = widget.item(row, 0) if row >= 0 else None
    return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None


@page("hr", "my_work", "My work", opens="hr.self_service", writes="hr.request_leave", position=1, lands=10)
class MyWorkPage(QWidget):
    # A saved payslip opens in the system's PDF viewer (the tests read the file instead).
    open_after_saving = True

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.employee: dict[str, Any] | None = None
        self.leave_rows: dict[str, dict[str, Any]] = {}
        self.payslips: list[dict[str, Any]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.SPACING * 2)
        layout.setSpacing(theme.SPACING * 2)
        self.header = PageHeader("My work", "Your profile, leave, payslips, timesheet and tasks.")
        layout.addWidget(self.header)
        self.stack = QStackedWidget()
        self.empty = EmptyState()
        self.empty.show_message(
            "No employee record of yours is on this computer",
            "HR links your user to your employee record; sync (F5) once they have.",
        )
        self.tabs = QTabWidget()
        self.tabs.setObjectName("myWorkTabs")
        self.tabs.addTab(self._profile_tab(), "My profile")
        self.tabs.addTab(self._leave_tab(), "My leave")
        self.tabs.addTab(self._payslips_tab(), "My payslips")
        self.grid = WeekGrid(ctx, writable=ctx.writable)
        self.tabs.addTab(self._padded(self.grid), "My timesheet")
        self.tabs.addTab(self._tasks_tab(), "My tasks")
        self.stack.addWidget(self.tabs)
        self.stack.addWidget(self.empty)
        layout.addWidget(self.stack, 1)
        ctx.data_changed.connect(self.refresh)
        self._stale = True

    @staticmethod
    def _padded(inner: QWidget) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(theme.SPACING * 2, theme.SPACING * 2, theme.SPACING * 2, theme.SPACING)
        layout.addWidget(inner)
        return box

    # -- tabs ----------------------------------------------------------------------------------
    def _profile_tab(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(theme.SPACING * 2, theme.SPACING * 2, theme.SPACING * 2, theme.SPACING)
        form = QFormLayout()
        form.setHorizontalSpacing(theme.SPACING * 3)
        form.setVerticalSpacing(theme.SPACING)
        self.profile_values: dict[str, Any] = {}
        for key, title in (
            ("name", "Name"),
            ("job_title", "Job title"),
            ("department", "Department"),
            ("hire_date", "With us since"),
            ("work_email", "Work e-mail"),
            *CONTACT_LABELS.items(),
        ):
            value = label("", wrap=True)
            value.setObjectName(f"profile_{key}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.profile_values[key] = value
            form.addRow(label(title, "muted"), value)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.contact_button = button("Correct my contact details…", primary=True)
        self.contact_button.clicked.connect(lambda: self.edit_contact_details())
        self.contact_button.setVisible(self.ctx.writable)
        row.addWidget(self.contact_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(
            label(
                "Your name, job, department, salary and bank details are kept by HR: ask them to change those.",
                "muted",
                wrap=True,
            )
        )
        layout.addStretch(1)
        return box

    def _leave_tab(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(theme.SPACING * 2, theme.SPACING * 2, theme.SPACING * 2, theme.SPACING)
        self.balance_title = label("", "muted")
        layout.addWidget(self.balance_title)
        self.balances = table(["Kind of leave", "Entitlement", "Taken", "Waiting", "Left"])
        self.balances.setObjectName("leaveBalances")
        self.balances.setMaximumHeight(150)
        layout.addWidget(self.balances)
        row = QHBoxLayout()
        row.addWidget(label("My requests", "muted"))
        row.addStretch(1)
        self.cancel_button = button(
            "Cancel request", tooltip="Cancel the selected request (waiting or approved)"
        )
        self.request_button = button("Request leave…", primary=True)
        self.cancel_button.clicked.connect(lambda: self.cancel_leave())
        self.request_button.clicked.connect(lambda: self.request_leave())
        for widget in (self.cancel_button, self.request_button):
            row.addWidget(widget)
            widget.setVisible(self.ctx.writable)
        layout.addLayout(row)
        self.requests = table(["From", "To", "Kind of leave", "Working days", "Status", "Note"], stretch=5)
        self.requests.setObjectName("leaveRequests")
        self.requests.itemSelectionChanged.connect(self._leave_selected)
        layout.addWidget(self.requests, 1)
        self.leave_problem = label("", "formError", wrap=True)
        layout.addWidget(self.leave_problem)
        return box

    def _payslips_tab(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(theme.SPACING * 2, theme.SPACING * 2, theme.SPACING * 2, theme.SPACING)
        row = QHBoxLayout()
        row.addWidget(
            label("Amounts are on the payslip itself (they are not stored on this computer).", "muted")
        )
        row.addStretch(1)
        self.pdf_button = button("PDF", primary=True, tooltip="Open the selected payslip")
        self.pdf_button.clicked.connect(lambda: self.open_payslip())
        row.addWidget(self.pdf_button)
        layout.addLayout(row)
        self.payslip_table = table(["Period", "From", "To", "Paid days", "Currency"], stretch=0)
        self.payslip_table.setObjectName("payslips")
        self.payslip_table.itemSelectionChanged.connect(
            lambda: self.pdf_button.setEnabled(self.selected_payslip() is not None)
        )
        layout.addWidget(self.payslip_table, 1)
        return box

    def _tasks_tab(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(theme.SPACING * 2, theme.SPACING * 2, theme.SPACING * 2, theme.SPACING)
        self.tasks_title = label("", "muted")
        layout.addWidget(self.tasks_title)
        self.task_table = table(["Task", "Project", "Status", "Due", "Estimate (h)"])
        self.task_table.setObjectName("myTasks")
        layout.addWidget(self.task_table, 1)
        return box

    # -- loading -------------------------------------------------------------------------------
    def activate(self) -> None:
        if self._stale:
            self._stale = False
            self.reload()

    def refresh(self) -> None:
        if self.isVisible() and not self.grid.saving:
            self.reload()
        else:
            self._stale = True

    def reload(self) -> None:
        session = self.ctx.session
        org_id = session.org_id
        with session.store.read_session() as db:
            self.employee = own_employee(db, org_id, session.user.id, session.permissions)
            if self.employee is None:
                self.stack.setCurrentWidget(self.empty)
                return
            employee_id = self.employee["id"]
            department = None
            if self.employee.get("department_id"):
                d = Department.__table__.c
                department = db.execute(
                    select(d.name).where(live(Department, org_id), d.id == self.employee["department_id"])
                ).scalar()
            year = date.today().year
            balances = leave_balances(db, org_id, employee_id, year)
            lr, lt = LeaveRequest.__table__.c, LeaveType.__table__.c
            types = dict(db.execute(select(lt.id, lt.name).where(live(LeaveType, org_id))).all())
            requests = [
                dict(r)
                for r in db.execute(
                    select(*LeaveRequest.__table__.columns)
                    .where(live(LeaveRequest, org_id), lr.employee_id == employee_id)
                    .order_by(lr.start_date.desc())
                ).mappings()
            ]
            ps = Payslip.__table__.c
            self.payslips = [
                dict(r)
                for r in db.execute(
                    select(ps.id, ps.period_start, ps.period_end, ps.paid_days, ps.currency)
                    .where(live(Payslip, org_id), ps.employee_id == employee_id)
                    .order_by(ps.period_start.desc())
                ).mappings()
            ]
            t, p = Task.__table__.c, Project.__table__.c
            tasks = [
                dict(r)
                for r in db.execute(
                    select(t.id, t.title, t.status, t.due_date, t.estimate_hours, p.code)
                    .join(Project.__table__, (p.id == t.project_id) & (p.org_id == t.org_id))
                    .where(live(Task, org_id), t.assignee_employee_id == employee_id)
                ).mappings()
            ]
        self.stack.setCurrentWidget(self.tabs)
        self.header.subtitle.setText(
            f"{self.employee['name']} — your profile, leave, payslips, timesheet and tasks."
        )
        self._show_profile(department)
        self._show_leave(year, balances, requests, types)
        fill(
            self.payslip_table,
            [
                [
                    f"{s['period_start']:%B %Y}",
                    day(s["period_start"]),
                    day(s["period_end"]),
                    str(s["paid_days"] if s["paid_days"] is not None else ""),
                    s["currency"],
                ]
                for s in self.payslips
            ],
            [s["id"] for s in self.payslips],
            numeric=(3,),
        )
        self.pdf_button.setEnabled(self.selected_payslip() is not None)
        tasks.sort(key=lambda task: (task["status"] == "done", task["due_date"] or date.max, task["title"]))
        fill(
            self.task_table,
            [
                [
                    task["title"],
                    task["code"],
                    TASK_STATUS_TITLES.get(task["status"], status(task["status"])),
                    day(task["due_date"]),
                    hours_text(task["estimate_hours"]),
                ]
                for task in tasks
            ],
            [task["id"] for task in tasks],
            numeric=(4,),
        )
        today = date.today()
        for row, task in enumerate(tasks):
            if task["status"] != "done" and task["due_date"] is not None and task["due_date"] < today:
                due = self.task_table.item(row, 3)
                if due is not None:
                    due.setForeground(OVERDUE)
                    due.setToolTip("Overdue")
        open_tasks = sum(1 for task in tasks if task["status"] != "done")
        self.tasks_title.setText(f"Tasks assigned to you: {open_tasks} open, {len(tasks) - open_tasks} done.")
        if self.grid.employee_id != employee_id:
            self.grid.set_employee(employee_id)
        elif not self.grid.saving:
            self.grid.reload()

    def _show_profile(self, department: str | None) -> None:
        assert self.employee is not None
        shown = {**self.employee, "department": department, "hire_date": day(self.employee.get("hire_date"))}
        for key, widget in self.profile_values.items():
            widget.setText(str(shown.get(key) or "—"))

    def _show_leave(
        self, year: int, balances: list[Any], requests: list[dict[str, Any]], types: dict[str, str]
    ) -> None:
        self.balance_title.setText(f"Balance {year}, in working days")
        fill(
            self.balances,
            [
                [
                    b.name,
                    hours_text(b.entitlement) if b.entitlement is not None else "not limited",
                    str(b.taken),
                    str(b.pending),
                    hours_text(b.remaining) if b.remaining is not None else "—",
                ]
                for b in balances
            ],
            numeric=(1, 2, 3, 4),
        )
        self.leave_rows = {r["id"]: r for r in requests}
        fill(
            self.requests,
            [
                [
                    day(r["start_date"]),
                    day(r["end_date"]),
                    types.get(r["leave_type_id"] or "", status(r["kind"])),
                    str(working_days(r["start_date"], r["end_date"])),
                    status(r["status"]),
                    r["note"] or "",
                ]
                for r in requests
            ],
            [r["id"] for r in requests],
            numeric=(3,),
        )
        self._leave_selected()

    def _leave_selected(self) -> None:
        leave = self.leave_rows.get(selected_id(self.requests) or "")
        self.cancel_button.setEnabled(leave is not None and leave["status"] in ("requested", "approved"))

    # -- actions -------------------------------------------------------------------------------
    def edit_contact_details(self) -> FormDialog | None:
        employee = self.employee
        if employee is None or not self.ctx.writable:
            return None
        fields = [FormField(key, title, max_length=500 if key == "home_address" else 254)
                  for key, title in CONTACT_LABELS.items()]  # fmt: skip

        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
            built = build_contact_details(employee, raw)
            return built.args, built.problems

        dialog = FormDialog(
            self,
            "My contact details",
            fields,
            build=build,
            save=apply_from_form(self.ctx, "hr.update_own_contact_details"),
            intro="Correct how you are reached; the work phone shows in the directory.",
            initial={key: employee.get(key) or "" for key in CONTACT_FIELDS},
        )
        dialog.open()
        return dialog

    def request_leave(self) -> FormDialog | None:
        employee = self.employee
        if employee is None or not self.ctx.writable:
            return None
        lt = LeaveType.__table__.c
        with self.ctx.session.store.read_session() as db:
            kinds = [
                (row.id, row.name)
                for row in db.execute(
                    select(lt.id, lt.name)
                    .where(live(LeaveType, self.ctx.session.org_id), lt.active.is_(True))
                    .order_by(lt.code)
                )
            ]
        request_id = new_id()
        fields = [
            FormField("leave_type_id", "Kind of leave", kind="choice", required=True, choices=[("", "Pick one…"), *kinds]),
            FormField("start_date", "First day", kind="date", required=True),
            FormField("end_date", "Last day", kind="date", required=True),
            FormField("note", "Note", kind="multiline", max_length=500, placeholder="optional, for HR"),
        ]  # fmt: skip

        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
            built = build_leave_request(request_id, employee["id"], raw)
            return built.args, built.problems

        dialog = FormDialog(
            self,
            "Request leave",
            fields,
            build=build,
            save=apply_from_form(self.ctx, "hr.request_leave"),
            intro="Counted in working days (Monday to Friday); HR approves or rejects it.",
            save_text="Send request",
        )
        dialog.open()
        return dialog

    def cancel_leave(self) -> QMessageBox | None:
        leave = self.leave_rows.get(selected_id(self.requests) or "")
        if leave is None or not self.ctx.writable:
            return None
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Cancel leave",
            f"Cancel your leave from {day(leave['start_date'])} to {day(leave['end_date'])}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )

        def answered(button_id: int) -> None:
            if box.standardButton(box.clickedButton()) == QMessageBox.StandardButton.Yes:
                self.ctx.apply(
                    self,
                    "hr.cancel_leave",
                    {"id": leave["id"]},
                    on_refused=lambda error: self.leave_problem.setText(f"Not cancelled: {error.message}"),
                )

        box.finished.connect(answered)
        box.open()
        self.cancel_box = box
        return box

    def selected_payslip(self) -> dict[str, Any] | None:
        payslip_id = selected_id(self.payslip_table)
        return next((s for s in self.payslips if s["id"] == payslip_id), None)

    def _payslip_failed(self, message: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Payslip not saved", message, parent=self)
        box.open()  # not modal: the page stays usable
        self.payslip_box = box

    def open_payslip(self, path: str | None = None) -> DocumentSave | None:
        """Save the selected payslip as a PDF where the employee chooses and open it. Its amounts
        are not on this computer (they are sensitive): the server's copy is fetched."""
        slip = self.selected_payslip()
        if slip is None:
            return None
        if path is None:
            suggested = f"payslip-{slip['period_end']}.pdf" if slip.get("period_end") else "payslip.pdf"
            path, _ = QFileDialog.getSaveFileName(self, "Save payslip", suggested, "PDF (*.pdf)")
            if not path:
                return None
        job = save_document_pdf(self, self.ctx.session, "payslip", slip["id"], path)
        if self.open_after_saving:
            job.done.connect(lambda saved: QDesktopServices.openUrl(QUrl.fromLocalFile(saved)))
        job.failed.connect(self._payslip_failed)
        self.payslip_job = job
        return job

"""Employees: the list, the form (employment dates, contact and, for payroll staff, pay), and
termination.

Pay details (salary, bank account, national id) are ``sensitive``: a user without
``hr.sensitive.read`` has none of them on this computer (the server never sends them), so the
form leaves them out and says so instead of showing empty fields — and never sends them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.commands.fields import text_limit
from common.commands.hr import CreateEmployeeArgs
from common.hr_forms import (
    SENSITIVE_NOTICE,
    build_employee,
    build_rehire,
    build_termination,
    employee_keys,
    employee_values,
)
from common.schema import Department, Employee
from desktop.formatting import day, money_input, parse_money
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.qt import QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.forms import FormDialog, FormField, apply_from_form
from desktop.ui.master_data import MasterDataPage
from desktop.ui.pickers import fill_combo
from desktop.ui.products import CURRENCY_CHOICES
from desktop.ui.widgets import PageHeader, button, label

SENSITIVE_PERMISSION = "hr.sensitive.read"
STATUS_CHOICES = (("active", "Active"), ("on_leave", "On leave"), ("terminated", "Left"))

COLUMNS = (
    Column("name", "Name", stretch=True),
    Column("job_title", "Job title", width=200),
    Column("department", "Department", width=170),
    Column("status", "Status", kind="status", width=90),
    Column("hire_date", "Hired", kind="date", width=105),
    Column("termination_date", "Left", kind="date", width=105),
)
SALARY_COLUMN = Column("salary", "Salary", kind="money", currency_key="salary_currency", width=140)


def _limit(key: str) -> int:
    return text_limit(CreateEmployeeArgs, key)


BASE_FIELDS = (
    FormField("name", "Name", required=True, max_length=_limit("name")),
    FormField("job_title", "Job title", max_length=_limit("job_title")),
    FormField("department_id", "Department", kind="choice"),
    FormField("work_email", "Work e-mail", max_length=_limit("work_email")),
    FormField("work_phone", "Work phone", max_length=_limit("work_phone")),
    FormField("hire_date", "Hire date", kind="date", hint="Pay starts on this day (prorated)."),
    FormField("personal_email", "Private e-mail", max_length=_limit("personal_email")),
    FormField("personal_phone", "Private phone", max_length=_limit("personal_phone")),
    FormField("home_address", "Home address", kind="multiline", max_length=_limit("home_address")),
    FormField("birth_date", "Birth date", kind="date"),
)
PAY_FIELDS = (
    FormField("salary", "Monthly salary", kind="money", max_length=24, hint="Gross pay for a full month."),
    FormField("salary_currency", "Salary currency", kind="choice", choices=[("", "—"), *CURRENCY_CHOICES]),
    FormField("bank_account", "Bank account (IBAN)", max_length=_limit("bank_account")),
    FormField("national_id", "National id", max_length=_limit("national_id")),
)
REHIRE_FIELDS = (
    FormField("hire_date", "New hire date", kind="date", required=True, hint="Pay starts again on this day."),
)
TERMINATION_FIELDS = (
    FormField(
        "termination_date",
        "Last day",
        kind="date",
        required=True,
        hint="Paid up to and including this day; then off the employee directory.",
    ),
)


# The form's second column: private details, then pay (what a short screen has no room for below).
SIDE_KEYS = ("personal_email", "personal_phone", "home_address", "birth_date", *(f.key for f in PAY_FIELDS))


class EmployeeDialog(FormDialog):
    """The employee form in two columns, so that it fits a 1280×800 screen with pay details."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.side_form = QFormLayout()
        self.side_form.setHorizontalSpacing(self.form.horizontalSpacing())
        self.side_form.setVerticalSpacing(self.form.verticalSpacing())
        self.side_form.setLabelAlignment(self.form.labelAlignment())
        moved = [key for key in SIDE_KEYS if key in self.rows]
        taken = []
        for key in reversed(moved):  # from the last row up: the rows above keep their index
            result = self.form.takeRow(self.rows.pop(key))
            title, cell = result.labelItem.widget(), result.fieldItem.layout()
            assert title is not None and cell is not None
            taken.append((title, cell))
        for label_widget, cell in reversed(taken):
            self.side_form.addRow(label_widget, cell)
        self.side_keys = frozenset(moved)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        index = layout.indexOf(self.form)
        layout.removeItem(self.form)
        self.form.setParent(None)  # type: ignore[call-overload]
        columns = QHBoxLayout()
        columns.setSpacing(theme.SPACING * 4)
        columns.addLayout(self.form, 1)
        columns.addLayout(self.side_form, 1)
        layout.insertLayout(index, columns)
        if moved:
            self.setMinimumWidth(960)

    def form_row_visible(self, key: str) -> bool:
        return key in getattr(self, "side_keys", ()) or super().form_row_visible(key)

    def add_side_row(self, title: str, widget: QWidget) -> None:
        """A row under the second column (the dialog is open: shown at once)."""
        self.side_form.addRow(title, widget)
        widget.show()
        title_widget = self.side_form.labelForField(widget)
        if title_widget is not None:
            title_widget.show()


def department_choices(ctx: UiContext) -> list[tuple[str, str]]:
    t = Department.__table__.c
    with ctx.session.store.read_session() as db:
        rows = db.execute(
            select(t.id, t.code, t.name).where(live(Department, ctx.session.org_id)).order_by(t.name)
        ).all()
    return [(row.id, f"{row.name} ({row.code})") for row in rows]


def employee_source(ctx: UiContext, *, sensitive: bool, include_leavers: bool = False) -> ListSource:
    e, d = Employee.__table__, Department.__table__
    columns = COLUMNS + ((SALARY_COLUMN,) if sensitive else ())

    def build() -> Any:
        stmt = (
            select(
                *(c for c in e.c if c.name not in ("org_id", "version", "updated_by", "deleted")),
                d.c.name.label("department"),
            )
            .select_from(e)
            .join(d, (d.c.org_id == e.c.org_id) & (d.c.id == e.c.department_id), isouter=True)
            .where(live(Employee, ctx.session.org_id))
        )
        return stmt if include_leavers else stmt.where(e.c.status != "terminated")

    return ListSource(
        ctx.session.store,
        columns,
        build,
        search_keys=("name", "job_title", "department", "work_email"),
        default_sort="name",
    )


@page("hr", "employees", "Employees", opens="hr.read", writes="hr.create_employee", position=10)
class EmployeesPage(MasterDataPage):
    title = "Employees"
    subtitle = "Everyone employed: contact, employment dates and, for payroll staff, pay."
    noun = "employee"
    search_placeholder = "Search by name, job title, department or e-mail  (Ctrl+F)"
    empty_hint = "Add your first employee with New employee (Ctrl+N)."
    entity = "employee"
    command_module = "hr"
    archivable = False
    dialog_class = EmployeeDialog

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        self.sensitive = ctx.can(SENSITIVE_PERMISSION)
        self.include_leavers = False
        self.fields = BASE_FIELDS + (PAY_FIELDS if self.sensitive else ())
        self.editable = employee_keys(sensitive=self.sensitive)
        super().__init__(ctx, parent)
        self.history_entity = "employee"

    def make_source(self) -> ListSource:
        return employee_source(self.ctx, sensitive=self.sensitive, include_leavers=self.include_leavers)

    def add_filters(self, bar: QHBoxLayout) -> None:
        self.leavers_box = QCheckBox("Show leavers")
        self.leavers_box.toggled.connect(self._toggle_leavers)
        bar.addWidget(self.leavers_box)

    def _toggle_leavers(self, checked: bool) -> None:
        self.include_leavers = checked
        self.model.source = self.source = self.make_source()
        self.model.reload()

    def add_actions(self, header: PageHeader) -> None:
        self.terminate_button = button("Terminate…", tooltip="The employee leaves: set their last day")
        self.terminate_button.clicked.connect(self._terminate_current)
        header.add_action(self.terminate_button)
        super().add_actions(header)
        self.terminate_button.setVisible(self.ctx.writable)

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        super().selection_changed(row)
        self.terminate_button.setEnabled(row is not None)
        left = row is not None and row.get("status") == "terminated"
        self.terminate_button.setText("Re-hire…" if left else "Terminate…")
        self.terminate_button.setToolTip(
            "The leaver is employed again from a new hire date"
            if left
            else "The employee leaves: set their last day"
        )

    # -- the form ------------------------------------------------------------------------------
    def args_from_form(self, raw: dict[str, Any], entity_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        built = build_employee(entity_id, raw, parse_money, sensitive=self.sensitive)
        return built.args, built.problems

    def values_from_row(self, row: dict[str, Any]) -> dict[str, Any]:
        return employee_values(row, sensitive=self.sensitive)

    def form_from_row(self, row: dict[str, Any]) -> dict[str, Any]:
        values = {key: ("" if value is None else value) for key, value in self.values_from_row(row).items()}
        values["department_id"] = row.get("department_id")
        if self.sensitive:
            values["salary"] = money_input(row.get("salary"), row.get("salary_currency"))
            values["salary_currency"] = row.get("salary_currency") or ""
        return values

    def new_defaults(self) -> dict[str, Any]:
        return {"salary_currency": "EUR"} if self.sensitive else {}

    def row_title(self, row: dict[str, Any]) -> str:
        return str(row["name"])

    def new_item(self) -> FormDialog | None:
        dialog = super().new_item()
        if dialog is not None:
            self._complete(dialog)
        return dialog

    def edit(self, row: dict[str, Any]) -> FormDialog:
        dialog = super().edit(row)
        self._complete(dialog, row)
        return dialog

    def _complete(self, dialog: FormDialog, row: dict[str, Any] | None = None) -> None:
        """Departments to choose from, the leaving date when there is one, and the pay notice."""
        combo = dialog.inputs["department_id"]
        assert isinstance(combo, QComboBox)
        fill_combo(combo, department_choices(self.ctx), empty="No department")
        if row is not None and row.get("department_id"):
            combo.setCurrentIndex(max(combo.findData(row["department_id"]), 0))
        assert isinstance(dialog, EmployeeDialog)
        if row is not None and row.get("termination_date"):
            dialog.add_side_row("Left", label(f"Last day {day(row['termination_date'])}", "muted"))
        if not self.sensitive:
            notice = label(SENSITIVE_NOTICE, "muted", wrap=True)
            notice.setObjectName("sensitiveNotice")
            dialog.add_side_row("Pay", notice)
            dialog.sensitive_notice = notice  # type: ignore[attr-defined]
        dialog.baseline = dialog.snapshot()  # what the form holds now is its starting point
        dialog.validate()

    # -- termination ---------------------------------------------------------------------------
    def _terminate_current(self) -> None:
        row = self.current_row()
        if row is not None and row.get("status") == "terminated":
            self.rehire(row)
        elif row is not None:
            self.terminate(row)

    def rehire(self, row: dict[str, Any]) -> FormDialog | None:
        if not self.ctx.writable:
            return None

        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
            built = build_rehire(row, raw)
            return built.args, built.problems

        dialog = FormDialog(
            self,
            f"Re-hire: {row['name']}",
            REHIRE_FIELDS,
            build=build,
            save=apply_from_form(self.ctx, "hr.update_employee"),
            intro=f"{row['name']} is employed again and back on the employee directory.",
            save_text="Re-hire",
        )
        dialog.open()
        return dialog

    def terminate(self, row: dict[str, Any]) -> FormDialog | None:
        if not self.ctx.writable:
            return None

        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
            built = build_termination(row, raw)
            return built.args, built.problems

        dialog = FormDialog(
            self,
            f"Terminate: {row['name']}",
            TERMINATION_FIELDS,
            build=build,
            save=apply_from_form(self.ctx, "hr.update_employee"),
            intro=f"{row['name']} leaves the organization. Their records stay; payroll pays them up "
            "to their last day.",
            save_text="Terminate employment",
        )
        dialog.open()
        return dialog


def sensitive_notice_of(dialog: FormDialog) -> QLabel | None:
    """The "pay details are for payroll staff" notice of an employee form, if it shows one."""
    found = getattr(dialog, "sensitive_notice", None)
    return found if isinstance(found, QLabel) else None

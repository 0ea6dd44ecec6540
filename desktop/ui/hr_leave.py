"""Leave requests: request leave for an employee, approve or reject it, cancel it; the balances.

A request counts working days (Monday to Friday) against its leave type's yearly entitlement; the
command refuses one that would take the balance below zero, naming what is left. The balances of
the selected request's employee for its year are shown under the list.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from common.commands.hr import LEAVE_TRANSITIONS
from common.commands.leave import LeaveBalance, leave_balances
from common.commands.payroll import working_days
from common.hr_forms import build_leave_request
from common.ids import new_id
from common.schema import Employee, LeaveRequest, LeaveType
from desktop.formatting import count, quantity
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.qt import QComboBox, QMessageBox, QVBoxLayout, QWidget
from desktop.ui.context import UiContext
from desktop.ui.forms import FormDialog, FormField, apply_from_form
from desktop.ui.list_page import StatusListPage
from desktop.ui.pickers import fill_combo
from desktop.ui.widgets import PageHeader, button, label

STATUSES = tuple(LEAVE_TRANSITIONS)
COLUMNS = (
    Column("employee", "Employee", stretch=True),
    Column("leave_type", "Leave type", width=170),
    Column("start_date", "From", kind="date", width=105),
    Column("end_date", "To", kind="date", width=105),
    Column("days", "Working days", kind="number", sortable=False, width=120),
    Column("status", "Status", kind="status", width=100),
    Column("note", "Note", width=200),
)
FIELDS = (
    FormField("employee_id", "Employee", kind="choice", required=True),
    FormField("leave_type_id", "Leave type", kind="choice", required=True),
    FormField("start_date", "First day", kind="date", required=True),
    FormField("end_date", "Last day", kind="date", required=True),
    FormField("note", "Note", kind="multiline", max_length=500),
)


def leave_source(ctx: UiContext, status: str | None = None) -> ListSource:
    r, e, t = LeaveRequest.__table__, Employee.__table__, LeaveType.__table__

    def build() -> Any:
        stmt = (
            select(
                r.c.id,
                r.c.employee_id,
                r.c.leave_type_id,
                r.c.kind,
                r.c.start_date,
                r.c.end_date,
                r.c.status,
                r.c.note,
                e.c.name.label("employee"),
                t.c.name.label("leave_type"),
            )
            .select_from(r)
            .join(e, (e.c.org_id == r.c.org_id) & (e.c.id == r.c.employee_id), isouter=True)
            .join(t, (t.c.org_id == r.c.org_id) & (t.c.id == r.c.leave_type_id), isouter=True)
            .where(live(LeaveRequest, ctx.session.org_id))
        )
        return stmt.where(r.c.status == status) if status else stmt

    def decorate(_session: Any, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            row["days"] = working_days(row["start_date"], row["end_date"])
            if not row["leave_type"]:
                row["leave_type"] = str(row["kind"]).capitalize()

    return ListSource(
        ctx.session.store,
        COLUMNS,
        build,
        search_keys=("employee", "leave_type", "note"),
        default_sort="start_date",
        default_descending=True,
        decorate=decorate,
    )


def employee_choices(ctx: UiContext) -> list[tuple[str, str]]:
    t = Employee.__table__.c
    with ctx.session.store.read_session() as db:
        rows = db.execute(
            select(t.id, t.name)
            .where(live(Employee, ctx.session.org_id), t.status != "terminated")
            .order_by(t.name)
        ).all()
    return [(row.id, row.name) for row in rows]


def leave_type_choices(ctx: UiContext) -> list[tuple[str, str]]:
    t = LeaveType.__table__.c
    with ctx.session.store.read_session() as db:
        rows = db.execute(
            select(t.id, t.name, t.yearly_entitlement)
            .where(live(LeaveType, ctx.session.org_id), t.active.is_(True))
            .order_by(t.name)
        ).all()
    return [
        (
            row.id,
            f"{row.name} ({quantity(row.yearly_entitlement)} days a year)"
            if row.yearly_entitlement
            else row.name,
        )
        for row in rows
    ]


def balance_text(balance: LeaveBalance) -> str:
    """``Annual leave: 5 taken, 2 pending, 18 of 25 days left`` (or ``not limited``)."""
    used = f"{count(balance.taken)} taken" + (
        f", {count(balance.pending)} pending" if balance.pending else ""
    )
    if balance.entitlement is None or balance.remaining is None:
        return f"{balance.name}: {used} (not limited)"
    return (
        f"{balance.name}: {used}, {quantity(balance.remaining)} of {quantity(balance.entitlement)} days left"
    )


class LeaveRequestDialog(FormDialog):
    """A new leave request; shows its working days and the balance it counts against."""

    def __init__(self, page: QWidget, ctx: UiContext, employee_id: str | None = None) -> None:
        self.ctx = ctx
        self.leave_id = new_id()
        self.info = label("", "muted", wrap=True)
        super().__init__(
            page,
            "Request leave",
            FIELDS,
            build=self.build_args,
            save=apply_from_form(ctx, "hr.request_leave"),
            save_text="Request leave",
        )
        for key, choices, empty in (
            ("employee_id", employee_choices(ctx), "Choose an employee…"),
            ("leave_type_id", leave_type_choices(ctx), "Choose a leave type…"),
        ):
            combo = self.inputs[key]
            assert isinstance(combo, QComboBox)
            fill_combo(combo, choices, empty=empty)
        if employee_id is not None:
            self.set_value("employee_id", employee_id)
        # Room for the days and the balance kept from the start: the form does not move as they change.
        self.info.setMinimumHeight(self.info.fontMetrics().lineSpacing() * 3 + 4)
        self.setMinimumWidth(600)
        self.form.addRow("", self.info)
        self.validate()

    def build_args(self, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        built = build_leave_request(self.leave_id, raw)
        self.show_info(raw, int(built.extra.get("working_days", 0)))
        return built.args, built.problems

    def show_info(self, raw: dict[str, Any], days: int) -> None:
        parts = []
        if days:
            parts.append(f"{count(days)} working day{'s' if days != 1 else ''}")
        if raw.get("employee_id") and raw.get("leave_type_id"):
            year = date.fromisoformat(raw["start_date"]).year if raw.get("start_date") else date.today().year
            with self.ctx.session.store.read_session() as db:
                balances = leave_balances(db, self.ctx.session.org_id, raw["employee_id"], year)
            found = next((b for b in balances if b.leave_type_id == raw["leave_type_id"]), None)
            if found is not None:
                parts.append(f"in {year} so far — {balance_text(found)}")
        self.info.setText(" · ".join(parts))


@page("hr", "leave", "Leave", opens="hr.read", writes="hr.approve_leave", position=20)
class LeavePage(StatusListPage):
    title = "Leave"
    subtitle = "Leave requests of every employee: approve or reject them. Balances count working days."
    noun = "leave request"
    search_placeholder = "Search by employee, leave type or note  (Ctrl+F)"
    empty_hint = "Record a request with New request (Ctrl+N). Leave types come first (Leave types)."
    history_entity = "leave_request"

    statuses = tuple((status, status.capitalize()) for status in STATUSES)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        self.balances = label("", "muted", wrap=True)
        self.balances.setObjectName("balances")
        layout.addWidget(self.balances)
        self.selection_changed(self.current_row())

    def make_source(self) -> ListSource:
        return leave_source(self.ctx, self.status)

    @property
    def can_create(self) -> bool:
        return self.ctx.writable

    def add_actions(self, header: PageHeader) -> None:
        self.cancel_leave_button = button("Cancel leave", danger=True)
        self.reject_button = button("Reject")
        self.approve_button = button("Approve")
        self.new_button = button("New request", primary=True, tooltip="Ctrl+N")
        for widget, slot in (
            (self.cancel_leave_button, lambda: self._with_row(self.cancel_leave)),
            (self.reject_button, lambda: self._with_row(self.reject)),
            (self.approve_button, lambda: self._with_row(self.approve)),
            (self.new_button, self.new_item),
        ):
            widget.clicked.connect(slot)
            header.add_action(widget)
            widget.setVisible(self.ctx.writable)

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        allowed = LEAVE_TRANSITIONS.get(row["status"] if row else "", frozenset())
        self.approve_button.setEnabled("approved" in allowed)
        self.reject_button.setEnabled("rejected" in allowed)
        self.cancel_leave_button.setEnabled("cancelled" in allowed)
        if hasattr(self, "balances"):
            self.show_balances(row)

    def show_balances(self, row: dict[str, Any] | None) -> None:
        if row is None:
            self.balances.setText("Select a request to see the employee's balances.")
            return
        year = row["start_date"].year
        with self.ctx.session.store.read_session() as db:
            balances = leave_balances(db, self.ctx.session.org_id, row["employee_id"], year)
        shown = " · ".join(balance_text(b) for b in balances) or "no leave types yet"
        self.balances.setText(f"Balances of {row['employee']} in {year}: {shown}")

    def _with_row(self, action: Any) -> None:
        row = self.current_row()
        if row is not None:
            action(row)

    def new_item(self) -> LeaveRequestDialog | None:
        if not self.can_create:
            return None
        dialog = LeaveRequestDialog(self, self.ctx)

        def created() -> None:
            self.model.reload()
            self.select_id(dialog.leave_id)

        dialog.accepted.connect(created)
        dialog.open()
        return dialog

    def _decide(self, command: str, row: dict[str, Any], refused: str) -> None:
        self.ctx.apply(
            self,
            command,
            {"id": row["id"]},
            on_done=lambda _outcome: self._reselect(row["id"]),
            on_refused=lambda error: QMessageBox.warning(self, refused, error.message),
        )

    def _reselect(self, leave_id: str) -> None:
        self.select_id(leave_id)

    def approve(self, row: dict[str, Any]) -> None:
        self._decide("hr.approve_leave", row, "Not approved")

    def reject(self, row: dict[str, Any]) -> None:
        self._decide("hr.reject_leave", row, "Not rejected")

    def cancel_leave(self, row: dict[str, Any]) -> None:
        answer = QMessageBox.question(self, "Cancel leave", f"Cancel the leave of {row['employee']}?")
        if answer == QMessageBox.StandardButton.Yes:
            self._decide("hr.cancel_leave", row, "Not cancelled")

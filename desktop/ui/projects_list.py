"""Projects: the list with budget against actual, create and edit, and billing a project's time.

Budget vs actual: the hours logged (reversals included) against the budgeted hours, and those
hours at the project's rate against the budget amount. Billing (``projects.invoice_time``, a
sales action) makes a draft invoice for the project's customer from its billable time not yet
billed; the draft's lines are shown once made.
"""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.commands.fields import text_limit
from common.commands.project_time import budget_vs_actual
from common.commands.projects import CreateProjectArgs
from common.ids import new_id
from common.money import CURRENCIES, line_amount, quantity_text
from common.project_forms import PROJECT_FIELDS, build_invoice_time, build_project, update_args
from common.schema import Customer, InvoiceLine, Project, TimesheetEntry
from desktop.formatting import money, money_input, parse_money, parse_quantity_input, quantity_input
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.qt import QMessageBox, QProgressBar, QWidget
from desktop.ui.context import UiContext
from desktop.ui.forms import FormDialog, FormField, apply_from_form
from desktop.ui.list_page import StatusListPage
from desktop.ui.projects_timesheet import hours_text
from desktop.ui.widgets import PageHeader, button, label

COLUMNS = (
    Column("code", "Code", width=100),
    Column("name", "Name", stretch=True),
    Column("customer_name", "Customer", width=180),
    Column("status", "Status", kind="status", width=100),
    Column("budget_hours", "Budget h", kind="quantity", width=90),
    Column("actual_hours", "Actual h", kind="quantity", sortable=False, width=90),
    Column("budget", "Budget", kind="money", width=130),
    Column("actual_amount", "Actual", kind="money", sortable=False, width=130),
)

STATUS_CHOICES = [(s, s.capitalize()) for s in ("planned", "active", "completed", "cancelled")]
CURRENCY_CHOICES = [("", "—")] + [(code, code) for code in sorted(CURRENCIES)]


def customer_choices(ctx: UiContext) -> list[tuple[str, str]]:
    t = Customer.__table__.c
    with ctx.session.store.read_session() as db:
        rows = db.execute(
            select(t.id, t.name)
            .where(live(Customer, ctx.session.org_id), t.archived.is_(False))
            .order_by(t.name)
        ).all()
    return [("", "— none —")] + [(row.id, row.name) for row in rows]


def project_fields(ctx: UiContext, *, editing: bool) -> list[FormField]:
    customers = customer_choices(ctx)
    fields = [
        FormField("code", "Code", required=True, max_length=text_limit(CreateProjectArgs, "code"),
                  placeholder="e.g. P-300"),
        FormField("name", "Name", required=True, max_length=text_limit(CreateProjectArgs, "name")),
        FormField("customer_id", "Customer", kind="choice", choices=customers,
                  hint="" if len(customers) > 1 else "Customers are listed for those who may read sales."),
        FormField("start_date", "Start", kind="date"),
        FormField("end_date", "End", kind="date"),
        FormField("currency", "Currency", kind="choice", choices=CURRENCY_CHOICES,
                  hint="The currency of the budget and the hourly rate."),
        FormField("budget", "Budget", kind="money", placeholder="optional", max_length=24),
        FormField("budget_hours", "Budget hours", kind="quantity", placeholder="optional", max_length=24),
        FormField("hourly_rate", "Hourly rate", kind="money", placeholder="optional", max_length=24,
                  hint="What billable time is invoiced at."),
    ]  # fmt: skip
    if editing:
        fields.append(FormField("status", "Status", kind="choice", choices=STATUS_CHOICES))
    return fields


def project_source(ctx: UiContext, status: str | None = None) -> ListSource:
    org_id = ctx.session.org_id
    p, c = Project.__table__.c, Customer.__table__.c

    def build(scan: bool = False) -> Any:
        return (
            select(
                p.id,
                p.code,
                p.name,
                p.status,
                p.customer_id,
                c.name.label("customer_name"),
                p.start_date,
                p.end_date,
                p.currency,
                p.budget,
                p.budget_hours,
                p.hourly_rate,
            )
            .outerjoin(Customer.__table__, (c.id == p.customer_id) & (c.org_id == p.org_id))
            .where(live(Project, org_id, scan=scan), *([p.status == status] if status else []))
        )

    def decorate(session: Session, rows: list[dict[str, Any]]) -> None:
        t = TimesheetEntry.__table__.c
        hours: dict[str, Decimal] = defaultdict(Decimal)
        stmt = select(t.project_id, t.hours).where(
            live(TimesheetEntry, org_id), t.project_id.in_([r["id"] for r in rows])
        )
        for project_id, logged in session.execute(stmt):
            hours[project_id] += Decimal(logged)
        for row in rows:
            row["actual_hours"] = Decimal(quantity_text(hours.get(row["id"], Decimal(0))))
            rate = row["hourly_rate"]
            row["actual_amount"] = line_amount(row["actual_hours"], int(rate)) if rate is not None else None

    return ListSource(
        ctx.session.store,
        COLUMNS,
        build,
        search_keys=("code", "name", "customer_name"),
        default_sort="code",
        decorate=decorate,
        build_for_search=lambda: build(scan=True),
    )


def percent(part: Decimal | int, whole: Decimal | int) -> str:
    return f"{Decimal(part) * 100 / Decimal(whole):.0f} %" if whole else ""


@page("projects", "projects", "Projects", writes="projects.create_project", position=10)
class ProjectsPage(StatusListPage):
    title = "Projects"
    subtitle = "Budgets in hours and money against the time logged."
    noun = "project"
    search_placeholder = "Search by code, name or customer  (Ctrl+F)"
    empty_hint = "Add a project with New project (Ctrl+N)."

    history_entity = "project"

    statuses = tuple(STATUS_CHOICES)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.budget_title = label("", "muted")
        self.hours_bar = QProgressBar()
        self.hours_bar.setObjectName("budgetBar")
        self.hours_bar.setTextVisible(True)
        self.hours_bar.setMaximumHeight(18)
        self.budget_text = label("", wrap=True)
        self.budget_text.setObjectName("budgetText")
        layout = self.layout()
        assert layout is not None
        for widget in (self.budget_title, self.hours_bar, self.budget_text):
            layout.addWidget(widget)
        self.last_invoice_lines: list[dict[str, Any]] = []
        self.selection_changed(None)

    def make_source(self) -> ListSource:
        return project_source(self.ctx, self.status)

    @property
    def can_create(self) -> bool:
        return self.ctx.writable

    @property
    def can_bill(self) -> bool:
        return self.ctx.can("sales.write") and self.ctx.can("projects.read")

    def add_actions(self, header: PageHeader) -> None:
        self.history_button = button("History", tooltip="Changes to this project on the server")
        self.history_button.clicked.connect(lambda: self._history())
        header.add_action(self.history_button)
        self.history_button.setVisible(self.ctx.can("admin.audit"))
        self.bill_button = button("Bill time…", tooltip="A draft invoice for the customer from billable time")
        self.edit_button = button("Edit…", tooltip="Edit the selected project (Enter)")
        self.new_button = button("New project", primary=True, tooltip="Ctrl+N")
        self.bill_button.clicked.connect(lambda: self.bill_time())
        self.edit_button.clicked.connect(self.open_current)
        self.new_button.clicked.connect(self.new_item)
        for widget in (self.bill_button, self.edit_button, self.new_button):
            header.add_action(widget)
        self.new_button.setVisible(self.ctx.writable)
        self.bill_button.setVisible(self.can_bill)

    def _history(self) -> None:
        row = self.current_row()
        if row is not None:
            self.show_history(row, f"{row['code']} — {row['name']}")

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        self.history_button.setEnabled(row is not None)
        self.edit_button.setEnabled(row is not None)
        self.edit_button.setText("Edit…" if self.ctx.writable else "View…")
        self.bill_button.setEnabled(row is not None)
        if hasattr(self, "budget_text"):
            self.show_budget(row)

    # -- budget vs actual ----------------------------------------------------------------------
    def show_budget(self, row: dict[str, Any] | None) -> None:
        visible = row is not None
        for widget in (self.budget_title, self.hours_bar, self.budget_text):
            widget.setVisible(visible)
        if row is None:
            return
        with self.ctx.session.store.read_session() as db:
            figures = budget_vs_actual(db, self.ctx.session.org_id, row["id"])
        self.budget_title.setText(f"Budget vs actual — {row['code']} {row['name']}")
        currency = figures.currency
        parts = []
        if figures.budget_hours:
            share = min(int(figures.actual_hours * 100 / figures.budget_hours), 100)
            self.hours_bar.setValue(share)
            self.hours_bar.setFormat(
                f"{hours_text(figures.actual_hours)} of {hours_text(figures.budget_hours)} h "
                f"({percent(figures.actual_hours, figures.budget_hours)})"
            )
            parts.append(f"{hours_text(figures.remaining_hours)} h left")
        else:
            self.hours_bar.setValue(0)
            self.hours_bar.setFormat(f"{hours_text(figures.actual_hours)} h logged, no hour budget")
        if figures.budget is not None and figures.actual_amount is not None:
            parts.append(
                f"{money(figures.actual_amount, currency)} of {money(figures.budget, currency)} "
                f"({percent(figures.actual_amount, figures.budget)}); "
                f"{money(figures.remaining_amount, currency)} left"
            )
        elif figures.actual_amount is not None:
            parts.append(f"{money(figures.actual_amount, currency)} at the hourly rate, no budget amount")
        parts.append(
            f"billable {hours_text(figures.billable_hours)} h, billed {hours_text(figures.billed_hours)} h"
        )
        self.budget_text.setText(" · ".join(parts))

    # -- create and edit -----------------------------------------------------------------------
    def _build_args(self, raw: dict[str, Any], project_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        built = build_project(project_id, raw, parse_quantity_input, parse_money)
        return built.args, built.problems

    def new_item(self) -> FormDialog | None:
        if not self.can_create:
            return None
        project_id = new_id()
        currency = (
            self.model.rows[0]["currency"] if self.model.rows and self.model.rows[0]["currency"] else "EUR"
        )
        dialog = FormDialog(
            self,
            "New project",
            project_fields(self.ctx, editing=False),
            build=lambda raw: self._build_args(raw, project_id),
            save=apply_from_form(self.ctx, "projects.create_project"),
            initial={"currency": currency},
            save_text="Create project",
        )

        def created() -> None:
            self.model.reload()
            self.select_id(project_id)

        dialog.accepted.connect(created)
        dialog.open()
        return dialog

    def open_row(self, row: dict[str, Any]) -> FormDialog:
        return self.edit(row)

    def edit(self, row: dict[str, Any]) -> FormDialog:
        keys = (*PROJECT_FIELDS, "status")
        before = {key: row.get(key) for key in keys}
        for key in ("start_date", "end_date"):
            before[key] = row[key].isoformat() if row.get(key) else None
        if before["budget_hours"] is not None:
            before["budget_hours"] = quantity_text(Decimal(before["budget_hours"]))

        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
            args, found = self._build_args(raw, row["id"])
            args["status"] = raw.get("status")
            update = update_args(row["id"], before, args, keys)
            if not found and not update["changes"]:
                found[""] = "Nothing to save yet: no field was changed."
            return update, found

        currency = row.get("currency") or ""
        dialog = FormDialog(
            self,
            f"Edit project: {row['code']}",
            project_fields(self.ctx, editing=True),
            build=build,
            save=apply_from_form(self.ctx, "projects.update_project"),
            initial={
                **{key: row.get(key) or "" for key in ("code", "name", "customer_id", "status", "currency")},
                "start_date": row.get("start_date"),
                "end_date": row.get("end_date"),
                "budget": money_input(row.get("budget"), currency),
                "hourly_rate": money_input(row.get("hourly_rate"), currency),
                "budget_hours": quantity_input(row.get("budget_hours")),
            },
        )
        if not self.ctx.writable:
            dialog.setWindowTitle(f"{row['code']} — {row['name']}")
            dialog.save_button.hide()
            for widget in dialog.inputs.values():
                widget.setEnabled(False)
        dialog.open()
        return dialog

    # -- billing -------------------------------------------------------------------------------
    def bill_time(self, row: dict[str, Any] | None = None) -> FormDialog | None:
        """Ask up to which day to bill, then make the draft invoice (``projects.invoice_time``)."""
        row = row or self.current_row()
        if row is None or not self.can_bill:
            return None
        invoice_id = new_id()
        fields = [
            FormField("through_date", "Time up to", kind="date", required=True,
                      hint="Billable time logged up to and including this day, not billed before."),
            FormField("issue_date", "Invoice date", kind="date", hint="Empty: today."),
        ]  # fmt: skip

        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
            built = build_invoice_time(
                invoice_id, row, raw.get("through_date") or "", raw.get("issue_date") or None
            )
            return built.args, built.problems

        def save(dialog: FormDialog, args: dict[str, Any]) -> None:
            def done(outcome: Any) -> None:
                dialog.saved(outcome)
                warnings = [w["message"] for w in getattr(outcome, "warnings", [])]
                self.show_invoice(invoice_id, row, warnings)

            self.ctx.apply(
                dialog,
                "projects.invoice_time",
                args,
                on_done=done,
                on_refused=dialog.refused,
                on_error=dialog.failed,
            )

        dialog = FormDialog(
            self,
            f"Bill time: {row['code']} — {row['name']}",
            fields,
            build=build,
            save=save,
            intro="One draft invoice line per task: the hours × the project's hourly rate. Each hour is billed once.",
            initial={"through_date": date.today().isoformat()},
            save_text="Make draft invoice",
        )
        dialog.open()
        return dialog

    def show_invoice(
        self, invoice_id: str, project: dict[str, Any], warnings: list[str] | None = None
    ) -> QMessageBox:
        """Say what the draft invoice holds: its lines, amounts in the project's currency."""
        t = InvoiceLine.__table__.c
        with self.ctx.session.store.read_session() as db:
            lines = [
                dict(r)
                for r in db.execute(
                    select(t.description, t.quantity, t.unit_price, t.line_total)
                    .where(live(InvoiceLine, self.ctx.session.org_id), t.invoice_id == invoice_id)
                    .order_by(t.line_no)
                ).mappings()
            ]
        self.last_invoice_lines = lines
        currency = project.get("currency")
        rows = "".join(
            f"<tr><td>{html.escape(line['description'])}</td><td align='right'>&nbsp;{hours_text(line['quantity'])} h × "
            f"{money(line['unit_price'], currency)}</td><td align='right'>&nbsp;{money(line['line_total'], currency)}</td></tr>"
            for line in lines
        )
        total = sum(line["line_total"] for line in lines)
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Draft invoice made",
            f"<p>A draft invoice for {html.escape(project.get('customer_name') or 'the customer')}:</p><table>{rows}</table>"
            f"<p><b>Total before tax: {money(total, currency)}</b></p><p>It gets its number when it is posted.</p>"
            + "".join(f"<p><b>Note:</b> {html.escape(text)}</p>" for text in warnings or ()),
            parent=self,
        )
        box.setObjectName("invoiceMade")
        box.open()
        self.invoice_box = box
        self.model.reload(keep_loaded=True)
        return box

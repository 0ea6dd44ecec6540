"""Project time: the week grid of a timesheet, budget against actual, and billing billable time.

``projects.invoice_time`` makes a draft invoice (:func:`common.commands.invoicing.create_invoice`)
for the project's customer from its billable time not yet billed, up to a day: one line per
task (``General`` for time without one), hours × the project's hourly rate. Each entry billed
records its invoice line, so no hour is billed twice; a reversal of time already billed is left
out with a warning (a credit note corrects the invoice). Billing is a sales action
(``sales.write``) that reads timesheets: the caller needs ``projects.read`` too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.commands.fields import Args, Id, PositiveQuantity
from common.commands.framework import CommandContext, CommandError, command, invalid
from common.commands.invoicing import CreateInvoiceArgs, create_invoice
from common.money import line_amount
from common.schema import Project, Task, TimesheetEntry
from common.schema.base import table_of

_ENTRIES = table_of(TimesheetEntry)


def _entries(session: Session, org_id: str, *where: Any) -> list[dict[str, Any]]:
    stmt = select(*_ENTRIES.columns).where(_ENTRIES.c.org_id == org_id, _ENTRIES.c.deleted.is_(False), *where)
    return [dict(r) for r in session.execute(stmt).mappings()]


@dataclass
class WeekRow:
    project_id: str
    task_id: str | None
    hours: list[Decimal] = field(default_factory=lambda: [Decimal(0)] * 7)

    @property
    def total(self) -> Decimal:
        return sum(self.hours, Decimal(0))


def week_grid(session: Session, org_id: str, employee_id: str, monday: date) -> list[WeekRow]:
    """The employee's net hours (reversals included) of the week starting ``monday``, one row
    per project and task, Monday to Sunday, ordered by project and task id."""
    if monday.weekday() != 0:
        raise ValueError(f"{monday.isoformat()} is not a Monday")
    rows: dict[tuple[str, str | None], WeekRow] = {}
    for entry in _entries(
        session,
        org_id,
        _ENTRIES.c.employee_id == employee_id,
        _ENTRIES.c.work_date >= monday,
        _ENTRIES.c.work_date <= monday + timedelta(days=6),
    ):
        key = (entry["project_id"], entry["task_id"])
        row = rows.setdefault(key, WeekRow(*key))
        row.hours[(entry["work_date"] - monday).days] += Decimal(entry["hours"])
    return [rows[k] for k in sorted(rows, key=lambda k: (k[0], k[1] or ""))]


@dataclass(frozen=True)
class BudgetVsActual:
    budget_hours: Decimal | None
    actual_hours: Decimal
    billable_hours: Decimal
    billed_hours: Decimal
    currency: str | None
    budget: int | None
    # Actual hours at the project's hourly rate (``None`` without a rate).
    actual_amount: int | None

    @property
    def remaining_hours(self) -> Decimal | None:
        return None if self.budget_hours is None else self.budget_hours - self.actual_hours

    @property
    def remaining_amount(self) -> int | None:
        if self.budget is None or self.actual_amount is None:
            return None
        return self.budget - self.actual_amount


def budget_vs_actual(session: Session, org_id: str, project_id: str) -> BudgetVsActual:
    """The project's budget (hours and amount) against the time logged on it."""
    projects = table_of(Project)
    project = (
        session.execute(
            select(*projects.columns).where(projects.c.org_id == org_id, projects.c.id == project_id)
        )
        .mappings()
        .one()
    )
    actual = billable = billed = Decimal(0)
    for entry in _entries(session, org_id, _ENTRIES.c.project_id == project_id):
        hours = Decimal(entry["hours"])
        actual += hours
        if entry["billable"]:
            billable += hours
        if entry["invoice_line_id"] is not None:
            billed += hours
    rate = project["hourly_rate"]
    return BudgetVsActual(
        budget_hours=Decimal(project["budget_hours"]) if project["budget_hours"] is not None else None,
        actual_hours=actual,
        billable_hours=billable,
        billed_hours=billed,
        currency=project["currency"],
        budget=project["budget"],
        actual_amount=line_amount(actual, int(rate)) if rate is not None else None,
    )


class InvoiceTimeArgs(Args):
    # The draft invoice's id.
    id: Id
    project_id: Id
    # Billable time logged up to and including this day.
    through_date: date
    issue_date: date | None = None
    due_date: date | None = None
    tax_rate_id: Id | None = None
    exchange_rate: PositiveQuantity | None = None


@command("projects.invoice_time", args=InvoiceTimeArgs, permission="sales.write")
def invoice_time(ctx: CommandContext, args: InvoiceTimeArgs) -> None:
    """Bill a project's billable time not yet billed: a draft invoice for its customer."""
    if "projects.read" not in ctx.permissions:
        raise CommandError(
            "forbidden",
            "project_id: billing time reads timesheets, which needs the permission projects.read",
            field="project_id",
            details={"permission": "projects.read"},
        )
    project = ctx.require(Project, args.project_id, "project_id")
    if project["customer_id"] is None:
        raise invalid("project_id", f"project {project['code']} has no customer to bill")
    if project["hourly_rate"] is None:
        raise invalid("project_id", f"project {project['code']} has no hourly rate")
    entries = ctx.fetch(
        ctx.select(
            TimesheetEntry,
            TimesheetEntry.project_id == args.project_id,
            TimesheetEntry.billable.is_(True),
            TimesheetEntry.invoice_line_id.is_(None),
            TimesheetEntry.work_date <= args.through_date,
        ).order_by(TimesheetEntry.work_date, TimesheetEntry.id)
    )
    billed_originals = {
        e["reverses_entry_id"]
        for e in entries
        if e["reverses_entry_id"] is not None
        and (ctx.get(TimesheetEntry, e["reverses_entry_id"]) or {}).get("invoice_line_id") is not None
    }
    late = [e["id"] for e in entries if e["reverses_entry_id"] in billed_originals]
    if late:
        ctx.warn(
            "reversal_of_billed_time",
            f"{len(late)} reversal(s) of time already billed are left out: correct that invoice with a credit note",
            entry_ids=late,
        )
    groups: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        if entry["id"] not in late:
            groups[entry["task_id"]].append(entry)
    lines: list[dict[str, Any]] = []
    billed: list[tuple[str, str]] = []
    for task_id in sorted(groups, key=lambda t: t or ""):
        hours = sum((Decimal(e["hours"]) for e in groups[task_id]), Decimal(0))
        if hours <= 0:
            continue
        task = ctx.get(Task, task_id) if task_id is not None else None
        title = task["title"] if task is not None else "General"
        line_id = ctx.derived_id("invoice_line", args.project_id, task_id or "")
        lines.append(
            {
                "id": line_id,
                "description": f"{project['code']} {title}: {hours.normalize():f} h"[:500],
                "quantity": hours,
                "unit_price": int(project["hourly_rate"]),
                "tax_rate_id": args.tax_rate_id,
            }
        )
        billed.extend((e["id"], line_id) for e in groups[task_id])
    if not lines:
        raise invalid(
            "through_date", f"project {project['code']} has no billable time to bill up to this day"
        )
    invoice = {
        "id": args.id,
        "customer_id": project["customer_id"],
        "issue_date": args.issue_date,
        "due_date": args.due_date,
        "currency": project["currency"],
        "exchange_rate": args.exchange_rate,
        "lines": lines,
    }
    create_invoice(ctx, CreateInvoiceArgs.model_validate(invoice))
    for entry_id, line_id in billed:
        ctx.update(TimesheetEntry, entry_id, {"invoice_line_id": line_id})
    ctx.outcome.data["billed_entries"] = len(billed)

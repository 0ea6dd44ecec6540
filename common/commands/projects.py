"""Projects commands: projects, tasks and timesheets.

Project life cycle: planned → active → completed; planned/active → cancelled (a completed project
may be reopened). Task life cycle: todo → in_progress → done (and back one step). Status changes
go through ``update_…`` with per-field compare-and-set and are checked against those tables.
Timesheet entries are append-only: corrected by a reversing (negative) entry, once. Employees
log and reverse their own time (with ``hr.self_service``); ``projects.write`` does it for anyone.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import ValidationInfo, field_validator
from sqlalchemy import BigInteger, func, select, type_coerce

from common.commands.fields import (
    Args,
    Code,
    Currency,
    Id,
    MinorUnits,
    Name,
    NonNegativeQuantity,
    OptText500,
    OptText4000,
    PositiveQuantity,
    Text200,
    UpdateArgs,
    changes_of,
)
from common.commands.framework import (
    CommandContext,
    CommandError,
    apply_field_changes,
    command,
    invalid,
    parse_changes,
)
from common.commands.hr import require_employee, require_own_employee
from common.commands.rules import SELF_SERVICE, Transitions, require_status, require_transition
from common.money import scaled_to_quantity
from common.schema import Customer, Project, Task, TimesheetEntry

ProjectStatus = Literal["planned", "active", "completed", "cancelled"]
TaskStatus = Literal["todo", "in_progress", "done"]
HOURS_PER_DAY = Decimal(24)
# Time may be logged on projects in these states only.
WORKABLE = frozenset({"planned", "active"})

PROJECT_TRANSITIONS: Transitions = {
    "planned": frozenset({"active", "cancelled"}),
    "active": frozenset({"completed", "cancelled"}),
    "completed": frozenset({"active"}),
    "cancelled": frozenset(),
}
TASK_TRANSITIONS: Transitions = {
    "todo": frozenset({"in_progress"}),
    "in_progress": frozenset({"todo", "done"}),
    "done": frozenset({"in_progress"}),
}


def _check_status_change(
    transitions: Transitions, current: dict[str, Any], new_values: dict[str, Any], base: Any, what: str
) -> None:
    """Check a status change against the life cycle (a stale base is left to compare-and-set)."""
    target = new_values.get("status")
    if target is None or target == current["status"] or base.get("status") != current["status"]:
        return
    require_transition(transitions, current, target, what)


# -- projects --------------------------------------------------------------------------------


class CreateProjectArgs(Args):
    id: Id
    code: Code
    name: Name
    customer_id: Id | None = None
    manager_employee_id: Id | None = None
    start_date: date | None = None
    end_date: date | None = None
    budget: MinorUnits | None = None
    currency: Currency | None = None
    budget_hours: NonNegativeQuantity | None = None
    hourly_rate: MinorUnits | None = None

    @field_validator("end_date")
    @classmethod
    def _ordered(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start_date")
        if value is not None and start is not None and value < start:
            raise ValueError("must not be before start_date")
        return value


ProjectChanges = changes_of(CreateProjectArgs, "ProjectChanges", extra={"status": ProjectStatus})


def _check_references(ctx: CommandContext, values: dict[str, Any], prefix: str = "") -> None:
    if isinstance(values.get("customer_id"), str):
        ctx.require(Customer, values["customer_id"], f"{prefix}customer_id")
    if isinstance(values.get("manager_employee_id"), str):
        require_employee(ctx, values["manager_employee_id"], f"{prefix}manager_employee_id")


@command("projects.create_project", args=CreateProjectArgs, permission="projects.write")
def create_project(ctx: CommandContext, args: CreateProjectArgs) -> None:
    """Create a planned project; its code is unique in the organization."""
    ctx.ensure_unique(Project, "code", args.code, "code")
    if args.budget is not None and args.currency is None:
        raise invalid("currency", "is required with a budget")
    if args.hourly_rate is not None and args.currency is None:
        raise invalid("currency", "is required with an hourly rate")
    _check_references(ctx, args.model_dump())
    ctx.insert(Project, {**args.model_dump(), "status": "planned"})


@command("projects.update_project", args=UpdateArgs, permission="projects.write")
def update_project(ctx: CommandContext, args: UpdateArgs) -> None:
    """Change project fields or move it along its life cycle (per-field compare-and-set)."""
    project = ctx.get(Project, args.id)
    if project is None:
        raise CommandError("not_found", f"no project with id {args.id}")
    if isinstance(args.changes.get("code"), str):
        ctx.ensure_unique(Project, "code", args.changes["code"].strip(), "changes.code", exclude=args.id)
    new_values, _ = parse_changes(ProjectChanges, args.changes, args.base)
    _check_references(ctx, new_values, "changes.")
    _check_status_change(PROJECT_TRANSITIONS, project, new_values, args.base, f"project {project['code']}")
    merged = {**project, **new_values}
    if merged["start_date"] and merged["end_date"] and merged["end_date"] < merged["start_date"]:
        raise invalid("changes.end_date", "must not be before start_date")
    if merged["budget"] is not None and merged["currency"] is None:
        raise invalid("changes.currency", "is required with a budget")
    if merged["hourly_rate"] is not None and merged["currency"] is None:
        raise invalid("changes.currency", "is required with an hourly rate")
    apply_field_changes(ctx, Project, args.id, ProjectChanges, args.changes, args.base, current=project)


# -- tasks -----------------------------------------------------------------------------------


class CreateTaskArgs(Args):
    id: Id
    project_id: Id
    title: Text200
    description: OptText4000 | None = None
    assignee_employee_id: Id | None = None
    due_date: date | None = None
    estimate_hours: NonNegativeQuantity | None = None


TaskChanges = changes_of(
    CreateTaskArgs, "TaskChanges", exclude=("id", "project_id"), extra={"status": TaskStatus}
)


def _workable_project(ctx: CommandContext, project_id: str, field: str, action: str) -> dict[str, Any]:
    project = ctx.require(Project, project_id, field)
    require_status(project, WORKABLE, f"project {project['code']}", action)
    return project


@command("projects.create_task", args=CreateTaskArgs, permission="projects.write")
def create_task(ctx: CommandContext, args: CreateTaskArgs) -> None:
    """Add a task (to do) to a planned or active project."""
    _workable_project(ctx, args.project_id, "project_id", "get new tasks")
    if args.assignee_employee_id is not None:
        require_employee(ctx, args.assignee_employee_id, "assignee_employee_id")
    ctx.insert(Task, {**args.model_dump(), "status": "todo"})


@command("projects.update_task", args=UpdateArgs, permission="projects.write")
def update_task(ctx: CommandContext, args: UpdateArgs) -> None:
    """Change task fields or move it along todo → in_progress → done (compare-and-set)."""
    task = ctx.get(Task, args.id)
    if task is None:
        raise CommandError("not_found", f"no task with id {args.id}")
    new_values, _ = parse_changes(TaskChanges, args.changes, args.base)
    if new_values.get("assignee_employee_id") is not None:
        require_employee(ctx, new_values["assignee_employee_id"], "changes.assignee_employee_id")
    _check_status_change(TASK_TRANSITIONS, task, new_values, args.base, f"task {task['title']!r}")
    apply_field_changes(ctx, Task, args.id, TaskChanges, args.changes, args.base, current=task)


# -- timesheets ------------------------------------------------------------------------------


class LogTimeArgs(Args):
    id: Id
    employee_id: Id
    project_id: Id
    task_id: Id | None = None
    work_date: date
    hours: PositiveQuantity
    note: OptText500 | None = None
    billable: bool = True


class ReverseTimeEntryArgs(Args):
    id: Id
    entry_id: Id
    note: OptText500 | None = None


def _hours_logged(ctx: CommandContext, employee_id: str, work_date: date) -> Decimal:
    """Net hours an employee logged on one day (reversals included), summed exactly in SQL."""
    table = TimesheetEntry.__table__
    stmt = select(func.coalesce(func.sum(type_coerce(table.c.hours, BigInteger)), 0)).where(
        table.c.org_id == ctx.org_id,
        table.c.deleted.is_(False),
        table.c.employee_id == employee_id,
        table.c.work_date == work_date,
    )
    return scaled_to_quantity(int(ctx.scalar(stmt) or 0))


@command("projects.log_time", args=LogTimeArgs, permission="projects.write", alternatives=SELF_SERVICE)
def log_time(ctx: CommandContext, args: LogTimeArgs) -> None:
    """Log hours worked on a project (and task): anyone's with projects.write, else one's own."""
    require_own_employee(ctx, args.employee_id, "employee_id", "projects.write")
    _workable_project(ctx, args.project_id, "project_id", "have time logged")
    if args.task_id is not None:
        task = ctx.require(Task, args.task_id, "task_id")
        if task["project_id"] != args.project_id:
            raise invalid("task_id", "is not a task of this project")
    logged = _hours_logged(ctx, args.employee_id, args.work_date)
    if logged + args.hours > HOURS_PER_DAY:
        raise invalid(
            "hours", f"{logged} hours are already logged on {args.work_date.isoformat()}; a day has 24"
        )
    ctx.insert(TimesheetEntry, args.model_dump())


@command(
    "projects.reverse_time_entry",
    args=ReverseTimeEntryArgs,
    permission="projects.write",
    alternatives=SELF_SERVICE,
)
def reverse_time_entry(ctx: CommandContext, args: ReverseTimeEntryArgs) -> None:
    """Correct a timesheet entry by logging its negative, once (entries are never edited)."""
    original = ctx.require(TimesheetEntry, args.entry_id, "entry_id")
    require_own_employee(ctx, original["employee_id"], "entry_id", "projects.write")
    if original["reverses_entry_id"] is not None:
        raise invalid("entry_id", "is itself a reversal; log the time again instead")
    if ctx.exists(TimesheetEntry, TimesheetEntry.reverses_entry_id == args.entry_id):
        raise invalid("entry_id", "has already been reversed")
    ctx.insert(
        TimesheetEntry,
        {
            "id": args.id,
            "employee_id": original["employee_id"],
            "project_id": original["project_id"],
            "task_id": original["task_id"],
            "work_date": original["work_date"],
            "hours": -original["hours"],
            "note": args.note,
            "billable": original["billable"],
            "reverses_entry_id": args.entry_id,
        },
    )

"""What the project and self-service screens hold, turned into command args — no Qt, no locale.

Like :mod:`common.inventory_forms`: a form gives what was typed and parsers for the user's
locale; a builder answers with the command, its args and the problems ``{field: phrase}``.
Besides forms: a task moved on the board (one ``projects.update_task`` per step of the task's
life cycle), and the timesheet week grid — what a typed cell means in commands (time is
append-only: more hours are logged, fewer reverse the cell's entries and log the new figure).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.commands.hr import RequestLeaveArgs
from common.commands.projects import HOURS_PER_DAY, TASK_TRANSITIONS, CreateProjectArgs, CreateTaskArgs
from common.commands.self_service import CONTACT_FIELDS, ContactChanges
from common.inventory_forms import FormArgs, ParseMoney, ParseQuantity
from common.money import quantity_text
from common.schema import Employee, TimesheetEntry
from common.schema.base import table_of
from common.validation import problems

_REQUIRED = "is required"
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _text(raw: Mapping[str, Any], key: str) -> str:
    return str(raw.get(key) or "").strip()


def update_args(
    entity_id: str, before: Mapping[str, Any], after: Mapping[str, Any], keys: Sequence[str]
) -> dict[str, Any]:
    """``update_*`` args: the fields whose value changed, with their old values as ``base``."""
    changes = {key: after.get(key) for key in keys if before.get(key) != after.get(key)}
    return {"id": entity_id, "changes": changes, "base": {key: before.get(key) for key in changes}}


def _quantity(raw: Mapping[str, Any], key: str, parse: ParseQuantity, found: dict[str, str]) -> str | None:
    typed = _text(raw, key)
    if not typed:
        return None
    try:
        return quantity_text(parse(typed))
    except ValueError as exc:
        found[key] = str(exc)
        return None


def _money(
    raw: Mapping[str, Any], key: str, currency: str, parse: ParseMoney, found: dict[str, str]
) -> int | None:
    typed = _text(raw, key)
    if not typed:
        return None
    if not currency:
        found[key] = "needs a currency (pick one)"
        return None
    try:
        return parse(typed, currency)
    except ValueError as exc:
        found[key] = str(exc)
        return None


# -- projects and tasks ----------------------------------------------------------------------

PROJECT_FIELDS = (
    "code",
    "name",
    "customer_id",
    "start_date",
    "end_date",
    "currency",
    "budget",
    "budget_hours",
    "hourly_rate",
)


def build_project(
    project_id: str, raw: Mapping[str, Any], parse_quantity: ParseQuantity, parse_money: ParseMoney
) -> FormArgs:
    """The project form → ``projects.create_project`` args (money typed in major units of the
    project's currency, hours in the user's locale, dates as ISO text or empty)."""
    found: dict[str, str] = {}
    currency = _text(raw, "currency")
    args: dict[str, Any] = {
        "id": project_id,
        "code": _text(raw, "code"),
        "name": _text(raw, "name"),
        "customer_id": raw.get("customer_id") or None,
        "start_date": _text(raw, "start_date") or None,
        "end_date": _text(raw, "end_date") or None,
        "currency": currency or None,
        "budget": _money(raw, "budget", currency, parse_money, found),
        "budget_hours": _quantity(raw, "budget_hours", parse_quantity, found),
        "hourly_rate": _money(raw, "hourly_rate", currency, parse_money, found),
    }
    present = {k: v for k, v in args.items() if v is not None}
    for key, phrase in problems(CreateProjectArgs, present).items():
        found.setdefault(key, phrase)
    return FormArgs("projects.create_project", args, found)


TASK_FIELDS = ("title", "description", "assignee_employee_id", "due_date", "estimate_hours")


def build_task(
    task_id: str, project_id: str | None, raw: Mapping[str, Any], parse_quantity: ParseQuantity
) -> FormArgs:
    """The task form → ``projects.create_task`` args."""
    found: dict[str, str] = {}
    args: dict[str, Any] = {
        "id": task_id,
        "project_id": project_id,
        "title": _text(raw, "title"),
        "description": _text(raw, "description") or None,
        "assignee_employee_id": raw.get("assignee_employee_id") or None,
        "due_date": _text(raw, "due_date") or None,
        "estimate_hours": _quantity(raw, "estimate_hours", parse_quantity, found),
    }
    if project_id is None:
        found["project_id"] = "pick a project"
    present = {k: v for k, v in args.items() if v is not None}
    for key, phrase in problems(CreateTaskArgs, present).items():
        found.setdefault(key, phrase)
    return FormArgs("projects.create_task", args, found)


def status_path(transitions: Mapping[str, frozenset[str]], current: str, target: str) -> list[str]:
    """The states a record passes through from ``current`` to ``target`` (``[]``: already there;
    ``ValueError`` when its life cycle has no way there)."""
    paths: dict[str, list[str]] = {current: []}
    queue = [current]
    while queue:
        state = queue.pop(0)
        if state == target:
            return paths[state]
        for following in sorted(transitions.get(state, ())):
            if following not in paths:
                paths[following] = [*paths[state], following]
                queue.append(following)
    raise ValueError(f"no way from {current} to {target}")


def move_task(task: Mapping[str, Any], target: str) -> list[dict[str, Any]]:
    """A card dropped in the ``target`` column → ``projects.update_task`` args, one per step of
    todo → in progress → done (each with the status it leaves as ``base``)."""
    steps: list[dict[str, Any]] = []
    previous = str(task["status"])
    for state in status_path(TASK_TRANSITIONS, previous, target):
        steps.append({"id": task["id"], "changes": {"status": state}, "base": {"status": previous}})
        previous = state
    return steps


def build_invoice_time(
    invoice_id: str, project: Mapping[str, Any], through_date: str, issue_date: str | None = None
) -> FormArgs:
    """Bill a project's time → ``projects.invoice_time`` args, refused early (naming why) for a
    project the command would refuse: no customer, no hourly rate."""
    found: dict[str, str] = {}
    if not project.get("customer_id"):
        found["project_id"] = f"project {project['code']} has no customer to bill (edit the project)"
    elif project.get("hourly_rate") is None:
        found["project_id"] = f"project {project['code']} has no hourly rate (edit the project)"
    if not through_date:
        found["through_date"] = _REQUIRED
    args: dict[str, Any] = {"id": invoice_id, "project_id": project["id"], "through_date": through_date}
    if issue_date:
        args["issue_date"] = issue_date
    return FormArgs("projects.invoice_time", args, found)


# -- self-service ----------------------------------------------------------------------------


def build_leave_request(request_id: str, employee_id: str, raw: Mapping[str, Any]) -> FormArgs:
    """The leave form → ``hr.request_leave`` args for one's own employee record."""
    args: dict[str, Any] = {
        "id": request_id,
        "employee_id": employee_id,
        "leave_type_id": raw.get("leave_type_id") or None,
        "start_date": _text(raw, "start_date") or None,
        "end_date": _text(raw, "end_date") or None,
        "note": _text(raw, "note") or None,
    }
    found: dict[str, str] = {}
    if args["leave_type_id"] is None:
        found["leave_type_id"] = "pick a kind of leave"
    start, end = args["start_date"], args["end_date"]
    if start and end and end < start:
        found["end_date"] = "must not be before the first day"
    present = {k: v for k, v in args.items() if v is not None}
    for key, phrase in problems(RequestLeaveArgs, present).items():
        found.setdefault(key, phrase)
    return FormArgs("hr.request_leave", args, found)


def build_contact_details(employee: Mapping[str, Any], raw: Mapping[str, Any]) -> FormArgs:
    """The "my contact details" form → ``hr.update_own_contact_details`` args: only the changed
    fields, with their stored values as ``base``."""
    after = {key: _text(raw, key) or None for key in CONTACT_FIELDS}
    args = update_args(str(employee["id"]), employee, after, CONTACT_FIELDS)
    found = {
        key.removeprefix("changes."): phrase
        for key, phrase in problems(ContactChanges, args["changes"]).items()
    }
    if not args["changes"] and not found:
        found[""] = "Nothing to save yet: no field was changed."
    return FormArgs("hr.update_own_contact_details", args, found)


# -- the timesheet week grid -----------------------------------------------------------------

RowKey = tuple[str, str | None]  # (project id, task id or None)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass
class WeekLine:
    """One row of the week grid: a project (and task), the entries of each day, Monday first."""

    project_id: str
    task_id: str | None
    entries: list[list[dict[str, Any]]] = field(default_factory=lambda: [[] for _ in range(7)])

    @property
    def key(self) -> RowKey:
        return (self.project_id, self.task_id)

    def hours(self, day: int) -> Decimal:
        return sum((Decimal(e["hours"]) for e in self.entries[day]), Decimal(0))

    @property
    def total(self) -> Decimal:
        return sum((self.hours(d) for d in range(7)), Decimal(0))


def week_lines(session: Session, org_id: str, employee_id: str, monday: date) -> list[WeekLine]:
    """The employee's timesheet entries of the week starting ``monday``, one line per project
    and task (reversals included, so a cell's sum is its net hours)."""
    t = table_of(TimesheetEntry).c
    stmt = select(
        t.id, t.project_id, t.task_id, t.work_date, t.hours, t.reverses_entry_id, t.invoice_line_id
    ).where(
        t.org_id == org_id,
        t.deleted.is_(False),
        t.employee_id == employee_id,
        t.work_date >= monday,
        t.work_date <= monday + timedelta(days=6),
    )
    lines: dict[RowKey, WeekLine] = {}
    for row in session.execute(stmt).mappings():
        key = (row["project_id"], row["task_id"])
        line = lines.setdefault(key, WeekLine(*key))
        line.entries[(row["work_date"] - monday).days].append(dict(row))
    return [lines[k] for k in sorted(lines, key=lambda k: (k[0], k[1] or ""))]


@dataclass(frozen=True)
class WeekPlan:
    """What saving the grid means: commands ``(name, args)`` in order, or problems keyed by cell
    (``(row index, day)``) with a phrase naming the day."""

    commands: list[tuple[str, dict[str, Any]]]
    problems: dict[tuple[int, int], str]
    typed: dict[tuple[int, int], Decimal]

    def day_total(self, lines: Sequence[WeekLine], day: int) -> Decimal:
        return sum(
            (self.typed.get((row, day), line.hours(day)) for row, line in enumerate(lines)), Decimal(0)
        )


def _cell_commands(
    employee_id: str, line: WeekLine, work_date: date, day: int, hours: Decimal, new_id: Callable[[], str]
) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
    current = line.hours(day)
    if hours == current:
        return [], None
    log: dict[str, Any] = {
        "employee_id": employee_id,
        "project_id": line.project_id,
        "task_id": line.task_id,
        "work_date": work_date.isoformat(),
    }
    if hours > current:
        return [("projects.log_time", {"id": new_id(), **log, "hours": quantity_text(hours - current)})], None
    entries = line.entries[day]
    reversed_ids = {e["reverses_entry_id"] for e in entries if e["reverses_entry_id"]}
    originals = [e for e in entries if not e["reverses_entry_id"] and e["id"] not in reversed_ids]
    if any(e["invoice_line_id"] for e in originals):
        return [], "is already billed to the customer and cannot be lowered here (ask for a credit note)"
    commands: list[tuple[str, dict[str, Any]]] = [
        (
            "projects.reverse_time_entry",
            {"id": new_id(), "entry_id": e["id"], "note": "Corrected in the week grid"},
        )
        for e in originals
    ]
    if hours > 0:
        commands.append(("projects.log_time", {"id": new_id(), **log, "hours": quantity_text(hours)}))
    return commands, None


def plan_week(
    employee_id: str,
    monday: date,
    lines: Sequence[WeekLine],
    typed: Mapping[tuple[int, int], str],
    parse_quantity: ParseQuantity,
    new_id: Callable[[], str],
) -> WeekPlan:
    """The cells typed in the grid (``(row, day)`` → text; empty: no hours) as commands.

    A cell with more hours than logged logs the difference; fewer reverses the cell's entries
    and logs the new figure (an entry is never edited). Refused per cell: text that is not hours
    in the user's locale, negative hours, lowering billed time, a day over 24 hours.
    """
    found: dict[tuple[int, int], str] = {}
    values: dict[tuple[int, int], Decimal] = {}
    for (row, day), text in typed.items():
        name = f"{DAY_NAMES[day]} {(monday + timedelta(days=day)).day}"
        if not text.strip():
            values[(row, day)] = Decimal(0)
            continue
        try:
            hours = parse_quantity(text)
        except ValueError as exc:
            found[(row, day)] = f"{name}: {exc}"
            continue
        if hours < 0:
            found[(row, day)] = f"{name}: must not be negative (type fewer hours instead)"
        elif hours > HOURS_PER_DAY:
            found[(row, day)] = f"{name}: a day has {HOURS_PER_DAY} hours"
        else:
            values[(row, day)] = hours
    plan = WeekPlan([], found, values)
    for day in range(7):
        total = plan.day_total(lines, day)
        if total > HOURS_PER_DAY:
            for row in range(len(lines)):
                if (row, day) in values:
                    name = f"{DAY_NAMES[day]} {(monday + timedelta(days=day)).day}"
                    found.setdefault(
                        (row, day), f"{name}: {total.normalize():f} hours in one day; a day has 24"
                    )
    by_cell: dict[tuple[int, int], list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for (row, day), hours in sorted(values.items()):
        if (row, day) in found:
            continue
        commands, problem = _cell_commands(
            employee_id, lines[row], monday + timedelta(days=day), day, hours, new_id
        )
        if problem is not None:
            found[(row, day)] = f"{DAY_NAMES[day]} {(monday + timedelta(days=day)).day}: {problem}"
        by_cell[(row, day)] = commands
    if not found:
        # Lowerings first: hours moved from one project to another on a day never pass 24 between.
        def raises(item: tuple[tuple[int, int], list[tuple[str, dict[str, Any]]]]) -> tuple[int, bool]:
            (_row, day), commands = item
            return day, bool(commands) and commands[0][0] == "projects.log_time"

        for _cell, commands in sorted(by_cell.items(), key=raises):
            plan.commands.extend(commands)
    return plan


# -- whose work --------------------------------------------------------------------------------


def own_employee(
    session: Session, org_id: str, user_id: str, permissions: frozenset[str]
) -> dict[str, Any] | None:
    """The signed-in user's employee record on this computer, or ``None``.

    The link (``employee.user_id``) is sensitive: without ``hr.sensitive.read`` it is not on the
    computer. A computer without ``hr.read`` holds only its user's own record (the owner rule),
    so a single record there is theirs.
    """
    t = table_of(Employee).c
    rows = [
        dict(r)
        for r in session.execute(
            select(*table_of(Employee).columns).where(t.org_id == org_id, t.deleted.is_(False))
        ).mappings()
    ]
    linked = [r for r in rows if r["user_id"] == user_id]
    if linked:
        return linked[0]
    if "hr.read" not in permissions and len(rows) == 1:
        return rows[0]
    return None

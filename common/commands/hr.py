"""HR commands: departments, employees and leave. Sensitive fields need ``hr.sensitive.read``.

Every write of an employee keeps their row of the employee directory in step (same id, the
public fields; a tombstone once they are terminated): :func:`keep_directory_in_step`.

Leave life cycle: requested → approved | rejected; requested/approved → cancelled. With
``hr.self_service`` an employee requests and cancels their own leave (through
``employee.user_id``); HR approves. Payroll is in ``payroll``.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, get_args

from common.access import readable_columns
from common.classification import Classification, classification_of
from common.commands.fields import (
    Args,
    Code,
    Currency,
    Email,
    Id,
    MinorUnits,
    Name,
    OptText500,
    Phone,
    Text50,
    Text64,
    Text200,
    UpdateArgs,
    changes_of,
)
from common.commands.framework import (
    BOOKKEEPING_COLUMNS,
    CommandContext,
    CommandError,
    Row,
    apply_field_changes,
    command,
    invalid,
    keeps_in_step_with,
)
from common.commands.leave import LeaveKind, check_balance
from common.commands.rules import SELF_SERVICE, Transitions, require_parent, require_transition
from common.schema import Department, Employee, EmployeeDirectory, LeaveRequest, LeaveType
from common.schema.base import table_of

Title = Text200
Address = OptText500
NationalId = Text50
BankAccount = Text64
EmployeeStatus = Literal["active", "on_leave", "terminated"]
EMPLOYEE_STATUSES: tuple[str, ...] = get_args(EmployeeStatus)

# The employee fields the directory mirrors: every column of its own.
DIRECTORY_FIELDS: tuple[str, ...] = tuple(
    c.name for c in table_of(EmployeeDirectory).columns if c.name not in BOOKKEEPING_COLUMNS
)
# An employee is listed in the directory while in one of these states.
LISTED_STATUSES = frozenset({"active", "on_leave"})

LEAVE_TRANSITIONS: Transitions = {
    "requested": frozenset({"approved", "rejected", "cancelled"}),
    "approved": frozenset({"cancelled"}),
    "rejected": frozenset(),
    "cancelled": frozenset(),
}


def require_employee(ctx: CommandContext, employee_id: str, field: str) -> dict[str, Any]:
    """The employee ``employee_id`` (a task's assignee, a project's manager), or their directory
    entry on a workstation without hr.read, which holds colleagues' entries but not their
    records: the server checks against the record."""
    if ctx.members is None and ctx.get(Employee, employee_id) is None:
        entry = ctx.get(EmployeeDirectory, employee_id)
        if entry is not None:
            return {**entry, "user_id": None, "status": "active"}
    return ctx.require(Employee, employee_id, field)


def require_own_employee(
    ctx: CommandContext, employee_id: str, field: str, permission: str
) -> dict[str, Any]:
    """The employee ``employee_id``; without ``permission`` it must be the caller's own record.

    The second half of self-service: the command's ``alternatives`` let ``hr.self_service``
    holders in, this check keeps them to the employee record linked to their user.
    """
    if permission in ctx.permissions:
        # Anyone's: a project manager logging a colleague's time (see require_employee).
        return require_employee(ctx, employee_id, field)
    employee = ctx.require(Employee, employee_id, field)
    if employee["user_id"] is None and ctx.members is None and "hr.read" not in ctx.permissions:
        # A workstation without hr.read holds only its user's own employee record, and without
        # hr.sensitive.read not its (sensitive) link to the user: the server checks the link.
        return employee
    if employee["user_id"] is None or employee["user_id"] != ctx.actor_id:
        raise CommandError(
            "forbidden",
            f"{field}: without the permission {permission} you may only act for your own employee record",
            field=field,
            details={"permission": permission},
        )
    return employee


@keeps_in_step_with(Employee)
def keep_directory_in_step(ctx: CommandContext, employee: Row) -> None:
    """Mirror an employee row just written into their directory row, in the same command.

    Listed employees get a row with their public fields (created, changed, or brought back
    from a tombstone on a re-hire); a terminated one's row becomes a tombstone, so every
    member's copy drops it at the next pull. Only changed fields are written: an employee write
    that touches no public field writes nothing here.
    """
    listed = employee["status"] in LISTED_STATUSES and not employee["deleted"]
    entry = ctx.get(EmployeeDirectory, employee["id"], include_deleted=True)
    fields = {name: employee[name] for name in DIRECTORY_FIELDS}
    if entry is None:
        if listed:
            ctx.insert(EmployeeDirectory, {"id": employee["id"], **fields})
        return
    if not listed:
        if not entry["deleted"]:
            ctx.update(EmployeeDirectory, employee["id"], {"deleted": True})
        return
    changes: dict[str, Any] = {name: value for name, value in fields.items() if entry[name] != value}
    if entry["deleted"]:
        changes["deleted"] = False
    if changes:
        ctx.update(EmployeeDirectory, employee["id"], changes)


class CreateDepartmentArgs(Args):
    id: Id
    code: Code
    name: Name
    parent_id: Id | None = None


@command("hr.create_department", args=CreateDepartmentArgs, permission="hr.write")
def create_department(ctx: CommandContext, args: CreateDepartmentArgs) -> None:
    """Create a department."""
    if ctx.exists(Department, Department.code == args.code):
        raise invalid("code", f"{args.code!r} is already used by another department")
    if args.parent_id is not None:
        ctx.require(Department, args.parent_id, "parent_id")
    ctx.insert(Department, args.model_dump())


DepartmentChanges = changes_of(CreateDepartmentArgs, "DepartmentChanges")


@command("hr.update_department", args=UpdateArgs, permission="hr.write")
def update_department(ctx: CommandContext, args: UpdateArgs) -> None:
    """Rename, recode or move a department (per-field compare-and-set; no circular parents)."""
    if isinstance(args.changes.get("code"), str):
        ctx.ensure_unique(Department, "code", args.changes["code"].strip(), "changes.code", exclude=args.id)
    if isinstance(args.changes.get("parent_id"), str):
        require_parent(ctx, Department, args.id, args.changes["parent_id"], "changes.parent_id")
    apply_field_changes(ctx, Department, args.id, DepartmentChanges, args.changes, args.base)


class CreateEmployeeArgs(Args):
    id: Id
    name: Name
    job_title: Title | None = None
    department_id: Id | None = None
    work_email: Email | None = None
    work_phone: Phone | None = None
    user_id: Id | None = None
    hire_date: date | None = None
    personal_email: Email | None = None
    personal_phone: Phone | None = None
    home_address: Address | None = None
    birth_date: date | None = None
    national_id: NationalId | None = None
    bank_account: BankAccount | None = None
    salary: MinorUnits | None = None
    salary_currency: Currency | None = None


EmployeeChanges = changes_of(
    CreateEmployeeArgs, "EmployeeChanges", extra={"status": EmployeeStatus, "termination_date": date}
)


def _check_sensitive(ctx: CommandContext, fields: set[str], prefix: str = "") -> None:
    """Writing a sensitive field needs the right to read it.

    ``user_id`` is sensitive too: whoever it names reads the record (the owner rule of
    :mod:`common.access`) and can act for it (self-service), so linking a record to a user
    needs the strongest HR read right.
    """
    if "hr.sensitive.read" in ctx.permissions:
        return
    table = Employee.__table__
    for name in sorted(fields):
        if name in table.c and classification_of(table.c[name]) is Classification.SENSITIVE:
            raise CommandError(
                "forbidden",
                f"{prefix}{name}: setting a sensitive field needs the permission hr.sensitive.read",
                field=prefix + name,
            )


@command("hr.create_employee", args=CreateEmployeeArgs, permission="hr.write")
def create_employee(ctx: CommandContext, args: CreateEmployeeArgs) -> None:
    """Create an employee record."""
    _check_sensitive(ctx, args.model_fields_set)
    if args.department_id is not None:
        ctx.require(Department, args.department_id, "department_id")
    if args.user_id is not None:
        ctx.require_member(args.user_id, "user_id")
        ctx.ensure_unique(Employee, "user_id", args.user_id, "user_id")
    if args.salary is not None and args.salary_currency is None:
        raise invalid("salary_currency", "is required with a salary")
    ctx.insert(Employee, {**args.model_dump(), "status": "active"})


def _employee_fields_read(permissions: frozenset[str]) -> frozenset[str]:
    """Employee fields the caller reads, the directory's mirror of them included.

    A writer without ``hr.read`` (a custom role) reads colleagues' public fields in the
    directory, so comparing and setting those reveals nothing it cannot read already.
    """
    mirrored = frozenset(DIRECTORY_FIELDS) & readable_columns("employee_directory", permissions)
    return readable_columns("employee", permissions) | mirrored


@command("hr.update_employee", args=UpdateArgs, permission="hr.write")
def update_employee(ctx: CommandContext, args: UpdateArgs) -> None:
    """Change employee fields with per-field compare-and-set (terminated: off the directory)."""
    _check_sensitive(ctx, set(args.changes), "changes.")
    if isinstance(args.changes.get("department_id"), str):
        ctx.require(Department, args.changes["department_id"], "changes.department_id")
    if isinstance(args.changes.get("user_id"), str):
        ctx.require_member(args.changes["user_id"], "changes.user_id")
        ctx.ensure_unique(Employee, "user_id", args.changes["user_id"], "changes.user_id", exclude=args.id)
    apply_field_changes(
        ctx,
        Employee,
        args.id,
        EmployeeChanges,
        args.changes,
        args.base,
        readable=_employee_fields_read(ctx.permissions),
    )


# -- leave -----------------------------------------------------------------------------------


class RequestLeaveArgs(Args):
    id: Id
    employee_id: Id
    # Either the kind, or a leave type (whose kind it takes and whose balance it counts against).
    kind: LeaveKind | None = None
    leave_type_id: Id | None = None
    start_date: date
    end_date: date
    note: OptText500 | None = None


class LeaveStateArgs(Args):
    id: Id


def _leave_label(leave: dict[str, Any]) -> str:
    return f"the leave request from {leave['start_date'].isoformat()} to {leave['end_date'].isoformat()}"


@command("hr.request_leave", args=RequestLeaveArgs, permission="hr.write", alternatives=SELF_SERVICE)
def request_leave(ctx: CommandContext, args: RequestLeaveArgs) -> None:
    """Request leave for an employee (HR), or for oneself (``hr.self_service``)."""
    employee = require_own_employee(ctx, args.employee_id, "employee_id", "hr.write")
    if employee["status"] == "terminated":
        raise invalid("employee_id", f"{employee['name']} has left the organization")
    if args.end_date < args.start_date:
        raise invalid("end_date", "must not be before start_date")
    values = args.model_dump()
    if args.leave_type_id is not None:
        leave_type = ctx.require(LeaveType, args.leave_type_id, "leave_type_id")
        if not leave_type["active"]:
            raise invalid("leave_type_id", f"{leave_type['name']} is no longer in use")
        if args.kind is not None and args.kind != leave_type["kind"]:
            raise invalid(
                "kind", f"must be {leave_type['kind']} (the kind of {leave_type['name']}) or omitted"
            )
        values["kind"] = leave_type["kind"]
    elif args.kind is None:
        raise invalid("leave_type_id", "a leave type (or kind) is required")
    overlap = (
        ctx.session.execute(
            ctx.select(
                LeaveRequest,
                LeaveRequest.employee_id == args.employee_id,
                LeaveRequest.status.in_(("requested", "approved")),
                LeaveRequest.start_date <= args.end_date,
                LeaveRequest.end_date >= args.start_date,
            ).limit(1)
        )
        .mappings()
        .first()
    )
    if overlap is not None:
        raise invalid("start_date", f"overlaps {_leave_label(dict(overlap))}, which is {overlap['status']}")
    if args.leave_type_id is not None:
        check_balance(ctx, args.employee_id, leave_type, args.start_date, args.end_date)
    ctx.insert(LeaveRequest, {**values, "status": "requested"})


def _decide(ctx: CommandContext, leave_id: str, target: str) -> None:
    leave = ctx.require(LeaveRequest, leave_id, "id")
    require_transition(LEAVE_TRANSITIONS, leave, target, _leave_label(leave))
    ctx.update(LeaveRequest, leave_id, {"status": target})


@command("hr.approve_leave", args=LeaveStateArgs, permission="hr.write")
def approve_leave(ctx: CommandContext, args: LeaveStateArgs) -> None:
    """Approve a requested leave (requested → approved)."""
    _decide(ctx, args.id, "approved")


@command("hr.reject_leave", args=LeaveStateArgs, permission="hr.write")
def reject_leave(ctx: CommandContext, args: LeaveStateArgs) -> None:
    """Reject a requested leave (requested → rejected)."""
    _decide(ctx, args.id, "rejected")


@command("hr.cancel_leave", args=LeaveStateArgs, permission="hr.write", alternatives=SELF_SERVICE)
def cancel_leave(ctx: CommandContext, args: LeaveStateArgs) -> None:
    """Cancel a requested or approved leave: HR, or the employee for their own leave."""
    leave = ctx.require(LeaveRequest, args.id, "id")
    require_own_employee(ctx, leave["employee_id"], "id", "hr.write")
    _decide(ctx, args.id, "cancelled")

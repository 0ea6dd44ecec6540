"""HR commands: departments and employees. Sensitive fields need ``hr.sensitive.read``."""

from __future__ import annotations

from datetime import date

from common.classification import Classification, classification_of
from common.commands.fields import (
    Args,
    Changes,
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
)
from common.commands.framework import CommandContext, CommandError, apply_field_changes, command, invalid
from common.schema import Department, Employee

Title = Text200
Address = OptText500
NationalId = Text50
BankAccount = Text64
EMPLOYEE_STATUSES = ("active", "on_leave", "terminated")


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


class EmployeeChanges(Changes):
    name: Name | None = None
    job_title: Title | None = None
    department_id: Id | None = None
    work_email: Email | None = None
    work_phone: Phone | None = None
    user_id: Id | None = None
    status: str | None = None
    hire_date: date | None = None
    termination_date: date | None = None
    personal_email: Email | None = None
    personal_phone: Phone | None = None
    home_address: Address | None = None
    birth_date: date | None = None
    national_id: NationalId | None = None
    bank_account: BankAccount | None = None
    salary: MinorUnits | None = None
    salary_currency: Currency | None = None


def _check_sensitive(ctx: CommandContext, fields: set[str], prefix: str = "") -> None:
    """Writing a sensitive field needs the right to read it."""
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
    if args.salary is not None and args.salary_currency is None:
        raise invalid("salary_currency", "is required with a salary")
    ctx.insert(Employee, {**args.model_dump(), "status": "active"})


@command("hr.update_employee", args=UpdateArgs, permission="hr.write")
def update_employee(ctx: CommandContext, args: UpdateArgs) -> None:
    """Change employee fields with per-field compare-and-set."""
    _check_sensitive(ctx, set(args.changes), "changes.")
    status = args.changes.get("status")
    if status is not None and status not in EMPLOYEE_STATUSES:
        raise invalid("changes.status", f"must be one of {', '.join(EMPLOYEE_STATUSES)}")
    if isinstance(args.changes.get("department_id"), str):
        ctx.require(Department, args.changes["department_id"], "changes.department_id")
    apply_field_changes(ctx, Employee, args.id, EmployeeChanges, args.changes, args.base)

"""Leave types, balances and who is away: what the leave requests of :mod:`common.commands.hr` add up to.

A leave type has a yearly entitlement in **working days** (Monday to Friday, as payroll counts
them; none: not limited). An employee's balance for a type and a calendar year is the
entitlement less the working days of their approved requests of that type in that year, with
the days still waiting for a decision shown apart; a request that would take the approved and
pending days past the entitlement is refused naming what is left. Entitlements are not prorated
for starters and unused days do not carry over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.commands.fields import Args, Changes, Code, Id, Name, NonNegativeQuantity, UpdateArgs
from common.commands.framework import CommandContext, apply_field_changes, command, invalid
from common.commands.payroll import working_days
from common.schema import EmployeeDirectory, LeaveRequest, LeaveType
from common.schema.base import table_of

LeaveKind = Literal["annual", "sick", "unpaid", "parental", "training", "other"]
LEAVE_KINDS: tuple[str, ...] = get_args(LeaveKind)
# Requests that count against a balance.
COUNTED = ("requested", "approved")


class CreateLeaveTypeArgs(Args):
    id: Id
    code: Code
    name: Name
    # ``unpaid`` reduces pay.
    kind: LeaveKind
    yearly_entitlement: NonNegativeQuantity | None = None
    active: bool = True


class LeaveTypeChanges(Changes):
    code: Code | None = None
    name: Name | None = None
    yearly_entitlement: NonNegativeQuantity | None = None
    active: bool | None = None


@command("hr.create_leave_type", args=CreateLeaveTypeArgs, permission="hr.write")
def create_leave_type(ctx: CommandContext, args: CreateLeaveTypeArgs) -> None:
    """Add a leave type with its yearly entitlement in working days (empty: not limited)."""
    ctx.ensure_unique(LeaveType, "code", args.code, "code")
    ctx.insert(LeaveType, args.model_dump())


@command("hr.update_leave_type", args=UpdateArgs, permission="hr.write")
def update_leave_type(ctx: CommandContext, args: UpdateArgs) -> None:
    """Rename a leave type, change its entitlement or make it inactive (its kind never changes)."""
    current = ctx.require(LeaveType, args.id, "id")
    if isinstance(args.changes.get("code"), str):
        ctx.ensure_unique(LeaveType, "code", args.changes["code"].strip(), "changes.code", exclude=args.id)
    apply_field_changes(ctx, LeaveType, args.id, LeaveTypeChanges, args.changes, args.base, current=current)


def days_in_year(start: date, end: date, year: int) -> int:
    """Working days of ``start``–``end`` that fall in ``year``."""
    return working_days(max(start, date(year, 1, 1)), min(end, date(year, 12, 31)))


def days_counted(ctx: CommandContext, employee_id: str, leave_type_id: str, year: int) -> int:
    """Working days in ``year`` of the employee's approved and pending requests of the type."""
    rows = ctx.fetch(
        ctx.select(
            LeaveRequest,
            LeaveRequest.employee_id == employee_id,
            LeaveRequest.leave_type_id == leave_type_id,
            LeaveRequest.status.in_(COUNTED),
            LeaveRequest.start_date <= date(year, 12, 31),
            LeaveRequest.end_date >= date(year, 1, 1),
        )
    )
    return sum(days_in_year(r["start_date"], r["end_date"], year) for r in rows)


def check_balance(
    ctx: CommandContext, employee_id: str, leave_type: dict[str, Any], start: date, end: date
) -> None:
    """Refuse a request that takes the type's approved and pending days of a year past its
    entitlement, naming what is left."""
    if leave_type["yearly_entitlement"] is None:
        return
    entitlement = Decimal(leave_type["yearly_entitlement"])
    for year in range(start.year, end.year + 1):
        wanted = days_in_year(start, end, year)
        counted = days_counted(ctx, employee_id, leave_type["id"], year)
        if counted + wanted > entitlement:
            left = max(entitlement - counted, Decimal(0))
            raise invalid(
                "end_date",
                f"{wanted} working days of {leave_type['name']} in {year} exceed the balance: "
                f"{left.normalize():f} of {entitlement.normalize():f} days left",
            )


@dataclass(frozen=True)
class LeaveBalance:
    leave_type_id: str
    code: str
    name: str
    entitlement: Decimal | None
    taken: int  # approved working days in the year
    pending: int  # requested, not yet decided

    @property
    def remaining(self) -> Decimal | None:
        """What is left once the pending requests are approved (``None``: not limited)."""
        if self.entitlement is None:
            return None
        return self.entitlement - self.taken - self.pending


def _rows(session: Session, model: type[Any], org_id: str, *where: Any) -> list[dict[str, Any]]:
    table = table_of(model)
    stmt = select(*table.columns).where(table.c.org_id == org_id, table.c.deleted.is_(False), *where)
    return [dict(r) for r in session.execute(stmt).mappings()]


def leave_balances(session: Session, org_id: str, employee_id: str, year: int) -> list[LeaveBalance]:
    """The employee's balance of every active leave type for the calendar year, by code."""
    types = _rows(session, LeaveType, org_id, table_of(LeaveType).c.active.is_(True))
    requests = _rows(
        session,
        LeaveRequest,
        org_id,
        table_of(LeaveRequest).c.employee_id == employee_id,
        table_of(LeaveRequest).c.status.in_(COUNTED),
        table_of(LeaveRequest).c.start_date <= date(year, 12, 31),
        table_of(LeaveRequest).c.end_date >= date(year, 1, 1),
    )
    balances = []
    for leave_type in sorted(types, key=lambda t: t["code"]):
        mine = [r for r in requests if r["leave_type_id"] == leave_type["id"]]
        taken = sum(
            days_in_year(r["start_date"], r["end_date"], year) for r in mine if r["status"] == "approved"
        )
        pending = sum(
            days_in_year(r["start_date"], r["end_date"], year) for r in mine if r["status"] == "requested"
        )
        entitlement = leave_type["yearly_entitlement"]
        balances.append(
            LeaveBalance(
                leave_type["id"],
                leave_type["code"],
                leave_type["name"],
                Decimal(entitlement) if entitlement is not None else None,
                taken,
                pending,
            )
        )
    return balances


@dataclass(frozen=True)
class Absence:
    employee_id: str
    name: str
    start_date: date
    end_date: date


def who_is_away(session: Session, org_id: str, first: date, last: date) -> list[Absence]:
    """Approved leave overlapping ``first``–``last`` (a day or a month of the calendar), by start
    and name. Names come from the employee directory; the kind of leave (personal) is left out."""
    leave = table_of(LeaveRequest)
    requests = _rows(
        session,
        LeaveRequest,
        org_id,
        leave.c.status == "approved",
        leave.c.start_date <= last,
        leave.c.end_date >= first,
    )
    ids = sorted({r["employee_id"] for r in requests})
    directory = table_of(EmployeeDirectory)
    names = {r["id"]: r["name"] for r in _rows(session, EmployeeDirectory, org_id, directory.c.id.in_(ids))}
    found = [
        Absence(r["employee_id"], names.get(r["employee_id"], ""), r["start_date"], r["end_date"])
        for r in requests
        if r["employee_id"] in names  # a leaver is away for good, not on leave
    ]
    return sorted(found, key=lambda a: (a.start_date, a.name, a.employee_id))

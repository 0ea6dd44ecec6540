"""What the HR and payroll forms hold, turned into command args — no Qt, no locale, unit-tested.

Like :mod:`common.inventory_forms`: a form gives what was typed (texts, picked ids, dates as ISO
text) and the desktop's parsers for money and numbers (they read the user's locale); a builder
answers with the command, its args and the problems ``{field: phrase}``. The commands' args
models check the rest, so a form and the server never disagree.

Sensitive employee fields (salary, bank account, national id, the linked user) are only ever put
into args when the user may read them (``hr.sensitive.read``): a form without that right never
sends them, not even empty, so it cannot blank what it was never shown.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from common.commands.hr import CreateDepartmentArgs, CreateEmployeeArgs, RequestLeaveArgs
from common.commands.leave import Absence, CreateLeaveTypeArgs
from common.commands.pay_components import CreatePayComponentArgs
from common.commands.payroll import RUN_TRANSITIONS, RunPayrollArgs, working_days
from common.inventory_forms import FormArgs, ParseMoney, ParseQuantity
from common.money import quantity_text
from common.validation import problems

_REQUIRED = "is required"
SENSITIVE_NOTICE = "Pay details are visible to payroll staff only."

# The employee fields a form edits, in the order of the form; the sensitive ones need
# hr.sensitive.read to be shown, sent or compared.
EMPLOYEE_FIELDS = (
    "name",
    "job_title",
    "department_id",
    "work_email",
    "work_phone",
    "hire_date",
    "personal_email",
    "personal_phone",
    "home_address",
    "birth_date",
)
SENSITIVE_FIELDS = ("salary", "salary_currency", "bank_account", "national_id")
DATE_FIELDS = ("hire_date", "birth_date", "termination_date")


def _text(raw: Mapping[str, Any], key: str) -> str:
    return str(raw.get(key) or "").strip()


def _optional(raw: Mapping[str, Any], key: str) -> str | None:
    return _text(raw, key) or None


def _check(model: Any, args: dict[str, Any], found: dict[str, str]) -> None:
    present = {k: v for k, v in args.items() if v is not None}
    for key, phrase in problems(model, present).items():
        found.setdefault(key, phrase)


# -- departments -----------------------------------------------------------------------------


def build_department(department_id: str, raw: Mapping[str, Any]) -> FormArgs:
    """Code, name and the parent department (optional) → ``hr.create_department`` args."""
    args: dict[str, Any] = {
        "id": department_id,
        "code": _text(raw, "code"),
        "name": _text(raw, "name"),
        "parent_id": raw.get("parent_id") or None,
    }
    found: dict[str, str] = {}
    if args["parent_id"] is not None and args["parent_id"] == department_id:
        found["parent_id"] = "cannot be the department itself"
    _check(CreateDepartmentArgs, args, found)
    return FormArgs("hr.create_department", args, found)


# -- employees -------------------------------------------------------------------------------


def build_employee(
    employee_id: str, raw: Mapping[str, Any], parse_money: ParseMoney, *, sensitive: bool
) -> FormArgs:
    """The employee form → ``hr.create_employee`` args (pay details only with ``sensitive``)."""
    found: dict[str, str] = {}
    args: dict[str, Any] = {"id": employee_id, "name": _text(raw, "name")}
    for key in EMPLOYEE_FIELDS[1:]:
        if key == "department_id":
            args[key] = raw.get(key) or None
        else:
            args[key] = _optional(raw, key)
    if sensitive:
        args["bank_account"] = _optional(raw, "bank_account")
        args["national_id"] = _optional(raw, "national_id")
        currency = _optional(raw, "salary_currency")
        args["salary_currency"] = currency
        args["salary"] = None
        salary = _text(raw, "salary")
        if salary:
            try:
                args["salary"] = parse_money(salary, currency or "")
            except ValueError as exc:
                found["salary"] = str(exc)
            if currency is None:
                found["salary_currency"] = "is required with a salary"
    _check(CreateEmployeeArgs, args, found)
    return FormArgs("hr.create_employee", args, found)


def employee_values(row: Mapping[str, Any], *, sensitive: bool) -> dict[str, Any]:
    """A stored employee row as the form's builder makes args (wire form: ISO dates), for
    comparing before and after an edit. Without ``sensitive`` the pay details are left out."""
    keys = EMPLOYEE_FIELDS + (SENSITIVE_FIELDS if sensitive else ())
    values: dict[str, Any] = {}
    for key in keys:
        value = row.get(key)
        if isinstance(value, date):
            value = value.isoformat()
        values[key] = value
    return values


def employee_keys(*, sensitive: bool) -> tuple[str, ...]:
    """The fields an edit of an employee may change (``hr.update_employee`` changes)."""
    return EMPLOYEE_FIELDS + (SENSITIVE_FIELDS if sensitive else ())


def update_args(
    entity_id: str, before: Mapping[str, Any], after: Mapping[str, Any], keys: Sequence[str]
) -> dict[str, Any]:
    """``update_*`` args: the fields whose value changed, and their old values as ``base``."""
    changes = {key: after.get(key) for key in keys if before.get(key) != after.get(key)}
    return {"id": entity_id, "changes": changes, "base": {key: before.get(key) for key in changes}}


def build_employee_update(
    row: Mapping[str, Any], raw: Mapping[str, Any], parse_money: ParseMoney, *, sensitive: bool
) -> FormArgs:
    """An edited employee form → ``hr.update_employee`` with only the changed fields."""
    built = build_employee(str(row["id"]), raw, parse_money, sensitive=sensitive)
    before = employee_values(row, sensitive=sensitive)
    args = update_args(str(row["id"]), before, built.args, employee_keys(sensitive=sensitive))
    found = dict(built.problems)
    if not found and not args["changes"]:
        found[""] = "Nothing to save yet: no field was changed."
    return FormArgs("hr.update_employee", args, found)


def build_termination(row: Mapping[str, Any], raw: Mapping[str, Any]) -> FormArgs:
    """Terminating an employee on a date → ``hr.update_employee`` (status and termination date).

    The leaver is paid up to that day (payroll prorates) and drops out of the directory.
    """
    found: dict[str, str] = {}
    when = _text(raw, "termination_date")
    if not when:
        found["termination_date"] = _REQUIRED
    else:
        hired = row.get("hire_date")
        hire_text = hired.isoformat() if isinstance(hired, date) else hired
        if hire_text and when < str(hire_text):
            found["termination_date"] = f"must not be before the hire date ({hire_text})"
    if row.get("status") == "terminated":
        found[""] = f"{row.get('name')} has already left."
    before = {"status": row.get("status"), "termination_date": _iso(row.get("termination_date"))}
    after = {"status": "terminated", "termination_date": when or None}
    args = update_args(str(row["id"]), before, after, ("status", "termination_date"))
    return FormArgs("hr.update_employee", args, found)


def build_rehire(row: Mapping[str, Any], raw: Mapping[str, Any]) -> FormArgs:
    """A leaver hired again from a new first day → ``hr.update_employee`` (active, a new hire
    date after their last day, no termination date); they are back on the directory."""
    found: dict[str, str] = {}
    when = _text(raw, "hire_date")
    left = _iso(row.get("termination_date"))
    if row.get("status") != "terminated":
        found[""] = f"{row.get('name')} has not left."
    if not when:
        found["hire_date"] = _REQUIRED
    elif left and when <= str(left):
        found["hire_date"] = f"must be after their last day ({left})"
    keys = ("status", "hire_date", "termination_date")
    before = {key: _iso(row.get(key)) for key in keys}
    after = {"status": "active", "hire_date": when or None, "termination_date": None}
    return FormArgs("hr.update_employee", update_args(str(row["id"]), before, after, keys), found)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


# -- leave -----------------------------------------------------------------------------------


def build_leave_type(leave_type_id: str, raw: Mapping[str, Any], parse_quantity: ParseQuantity) -> FormArgs:
    """Code, name, kind and yearly entitlement in working days (empty: not limited)."""
    found: dict[str, str] = {}
    args: dict[str, Any] = {
        "id": leave_type_id,
        "code": _text(raw, "code"),
        "name": _text(raw, "name"),
        "kind": raw.get("kind") or None,
        "yearly_entitlement": None,
        "active": bool(raw.get("active", True)),
    }
    if args["kind"] is None:
        found["kind"] = _REQUIRED
    typed = _text(raw, "yearly_entitlement")
    if typed:
        try:
            args["yearly_entitlement"] = quantity_text(parse_quantity(typed))
        except ValueError as exc:
            found["yearly_entitlement"] = str(exc)
    _check(CreateLeaveTypeArgs, args, found)
    return FormArgs("hr.create_leave_type", args, found)


def build_leave_request(leave_id: str, raw: Mapping[str, Any]) -> FormArgs:
    """Employee, leave type and dates → ``hr.request_leave``; ``extra["working_days"]`` is what
    the request counts against the balance (Monday to Friday, as payroll counts)."""
    found: dict[str, str] = {}
    args: dict[str, Any] = {
        "id": leave_id,
        "employee_id": raw.get("employee_id") or None,
        "leave_type_id": raw.get("leave_type_id") or None,
        "start_date": _optional(raw, "start_date"),
        "end_date": _optional(raw, "end_date"),
        "note": _optional(raw, "note"),
    }
    for key in ("employee_id", "leave_type_id", "start_date", "end_date"):
        if args[key] is None:
            found[key] = _REQUIRED
    days = 0
    if args["start_date"] and args["end_date"]:
        start, end = date.fromisoformat(args["start_date"]), date.fromisoformat(args["end_date"])
        if end < start:
            found["end_date"] = "must not be before the first day"
        else:
            days = working_days(start, end)
            if days == 0:
                found["end_date"] = "the leave has no working day (Monday to Friday)"
    _check(RequestLeaveArgs, args, found)
    return FormArgs("hr.request_leave", args, found, {"working_days": days})


def month_weeks(year: int, month: int) -> list[list[date | None]]:
    """The month as calendar weeks, Monday first; days outside the month are ``None``."""
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    return [[d if d.month == month else None for d in week] for week in weeks]


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def away_by_day(absences: Iterable[Absence], first: date, last: date) -> dict[date, list[str]]:
    """Who is away on each day of ``first``–``last`` (working days only), names in order."""
    days: dict[date, list[str]] = {}
    for absence in absences:
        day = max(absence.start_date, first)
        while day <= min(absence.end_date, last):
            if day.weekday() < 5:
                days.setdefault(day, []).append(absence.name)
            day += timedelta(days=1)
    return {day: sorted(names) for day, names in days.items()}


# -- payroll ---------------------------------------------------------------------------------


def build_pay_component(
    component_id: str, raw: Mapping[str, Any], parse_money: ParseMoney, parse_quantity: ParseQuantity
) -> FormArgs:
    """A pay component: a percentage (``rate``) or a fixed amount per period in a currency, with
    an optional cap (the most it comes to for one employee in one run)."""
    found: dict[str, str] = {}
    method = raw.get("method") or "percent"
    currency = _optional(raw, "currency")
    args: dict[str, Any] = {
        "id": component_id,
        "code": _text(raw, "code"),
        "name": _text(raw, "name"),
        "kind": raw.get("kind") or None,
        "method": method,
        "rate": None,
        "amount": None,
        "currency": currency if method == "fixed" else None,
        "cap": None,
        "active": bool(raw.get("active", True)),
    }
    if method == "percent":
        typed = _text(raw, "rate")
        if not typed:
            found["rate"] = "is required for a percentage"
        else:
            try:
                args["rate"] = quantity_text(parse_quantity(typed))
            except ValueError as exc:
                found["rate"] = str(exc)
    else:
        typed = _text(raw, "amount")
        if not typed:
            found["amount"] = "is required for a fixed amount"
        else:
            try:
                args["amount"] = parse_money(typed, currency or "")
            except ValueError as exc:
                found["amount"] = str(exc)
        if currency is None:
            found["currency"] = "is required with a fixed amount"
    cap = _text(raw, "cap")
    if cap:
        try:
            args["cap"] = parse_money(cap, currency or "")
        except ValueError as exc:
            found["cap"] = str(exc)
    _check(CreatePayComponentArgs, args, found)
    return FormArgs("hr.create_pay_component", args, found)


def build_payroll_run(run_id: str, raw: Mapping[str, Any], parse_quantity: ParseQuantity) -> FormArgs:
    """Period, currency and the optional flat withholding rate → ``hr.run_payroll`` (the preview)."""
    found: dict[str, str] = {}
    args: dict[str, Any] = {
        "id": run_id,
        "period_start": _optional(raw, "period_start"),
        "period_end": _optional(raw, "period_end"),
        "currency": _optional(raw, "currency"),
        "withholding_rate": None,
    }
    for key in ("period_start", "period_end", "currency"):
        if args[key] is None:
            found[key] = _REQUIRED
    typed = _text(raw, "withholding_rate")
    if typed:
        try:
            args["withholding_rate"] = quantity_text(parse_quantity(typed))
        except ValueError as exc:
            found["withholding_rate"] = str(exc)
    _check(RunPayrollArgs, args, found)
    if "period_end" in found and "period_start" in found.get("period_end", ""):
        found["period_end"] = "must not be before the first day"
    return FormArgs("hr.run_payroll", args, found)


def proration_text(paid_days: int | None, period_days: int | None) -> str:
    """``12 of 22 days`` (the salary's proration), empty when unknown."""
    if paid_days is None or period_days is None:
        return ""
    return f"{paid_days} of {period_days} days"


@dataclass(frozen=True)
class RunActions:
    """What may be done with a payroll run now (buttons enabled), from the run's life cycle."""

    approve: bool = False
    post: bool = False
    pay: bool = False
    reverse: bool = False
    discard: bool = False
    documents: bool = False  # payslips final: print them, make the bank file


def run_actions(run: Mapping[str, Any] | None) -> RunActions:
    """A posted run cannot be posted again (``post`` is False); a reversing run is final."""
    if run is None:
        return RunActions()
    status = str(run.get("status") or "")
    allowed = RUN_TRANSITIONS.get(status, frozenset())
    reversing = run.get("reverses_run_id") is not None
    return RunActions(
        approve="approved" in allowed,
        post="posted" in allowed,
        pay="paid" in allowed and not reversing,
        reverse="reversed" in allowed and not reversing,
        discard="discarded" in allowed,
        documents=status in ("posted", "paid") and not reversing,
    )


def percent_text(value: Decimal | str | None) -> str:
    """``Decimal("7.150")`` → ``7.15`` (for a rate shown beside its ``%``)."""
    if value is None or value == "":
        return ""
    return format(Decimal(str(value)).normalize(), "f")

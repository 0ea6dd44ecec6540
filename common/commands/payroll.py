"""Payroll: runs computed from salaries and pay components, approved, posted once, paid, reversed.

Life cycle (``RUN_TRANSITIONS``): ``hr.run_payroll`` computes a **draft** run with its payslips
(the preview); ``hr.approve_payroll_run`` approves it (or ``hr.discard_payroll_run`` drops it);
``hr.post_payroll_run`` posts it to the books, once; ``hr.pay_payroll_run`` pays its net pay.
A posted run is never edited: ``hr.reverse_payroll_run`` makes a reversing run (every payslip
and the journal entry negated) and the period can be run again.

**Proration basis: working days**, Monday to Friday (no public-holiday calendar). An employee's
base salary is their pay for a full period; they are paid ``salary × paid days ÷ working days
of the period``, rounded half-up to the minor unit, where the paid days are the working days
between their hire and termination dates (inside the period) less the working days of their
approved unpaid leave. Fixed earnings are prorated alike.

Per employee: gross = prorated salary + earnings (a percentage earning is a percentage of the
prorated salary); each deduction and employer contribution is a percentage of gross pay or a
fixed amount, at most its cap; the run's optional flat ``withholding_rate`` is one more
deduction; net = gross − deductions. Every amount is integer minor units, computed with exact
decimals by the one money helper.

The run posts one entry for the whole run (the ledger shows totals, never one person's pay):
wages (gross) and employer contributions / withholdings payable, contributions payable and net
wages payable, dated the run's last day. Paying debits net wages payable and credits the bank.
Ids of everything a run creates are derived from the command, so a workstation and the server
create the very same rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationInfo, field_validator
from sqlalchemy import and_, or_

from common.commands.fields import Args, Currency, Id, Percent, PositiveQuantity
from common.commands.framework import CommandContext, CommandError, command, invalid
from common.commands.periods import require_open_period
from common.commands.postings import account_for, document_rate, exchange_difference, new_posting, to_ledger
from common.commands.rules import Transitions, percent_of, require_transition
from common.money import format_money, share
from common.schema import Employee, LeaveRequest, PayComponent, PayrollRun, Payslip, PayslipLine

RUN_TRANSITIONS: Transitions = {
    "draft": frozenset({"approved", "discarded"}),
    "approved": frozenset({"posted", "discarded"}),
    "posted": frozenset({"paid", "reversed"}),
    "paid": frozenset({"reversed"}),
    "discarded": frozenset(),
    "reversed": frozenset(),
}
# Runs that pay a period: a new run may not overlap them.
_PAYING = ("draft", "approved", "posted", "paid")
# A payslip is final (its employee may download it) once its run is posted.
FINAL_RUN_STATUSES = frozenset({"posted", "paid", "reversed"})


def working_days(start: date, end: date) -> int:
    """Monday-to-Friday days from ``start`` to ``end`` inclusive (0 when ``end < start``)."""
    if end < start:
        return 0
    days = (end - start).days + 1
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    for offset in range(rest):
        if (start + timedelta(days=weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count


def prorate(amount: int, paid_days: int, period_days: int) -> int:
    """``amount × paid_days ÷ period_days`` in whole minor units, rounded half-up."""
    return share(amount, paid_days, period_days)


class RunPayrollArgs(Args):
    id: Id
    period_start: date
    period_end: date
    currency: Currency
    # A flat withholding tax for this run, percent of gross pay, on top of the deductions.
    withholding_rate: Percent | None = None
    # Ledger currency units per unit of ``currency``; required when it is not the ledger's.
    exchange_rate: PositiveQuantity | None = None

    @field_validator("period_end")
    @classmethod
    def _ordered(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("period_start")
        if start is not None and value < start:
            raise ValueError("must not be before period_start")
        if start is not None and (value - start).days > 366:
            raise ValueError("a payroll period is at most a year")
        return value


@dataclass
class SlipLine:
    kind: str  # salary, earning, gross, deduction, employer, net
    description: str
    amount: int
    quantity: Decimal | None = None


@dataclass
class SlipFigures:
    """One employee's pay in a run, before anything is written (the preview)."""

    employee_id: str
    name: str
    paid_days: int
    period_days: int
    gross: int = 0
    deductions: int = 0
    employer: int = 0
    lines: list[SlipLine] = field(default_factory=list)

    @property
    def net(self) -> int:
        return self.gross - self.deductions


def _payable_employees(ctx: CommandContext, start: date, end: date) -> list[dict[str, Any]]:
    """Employees with a salary, employed during the period, ordered by name (and id).

    A leaver is paid for a period they worked in (their termination date is in it or later); a
    terminated employee without a termination date is not paid.
    """
    stmt = ctx.select(
        Employee,
        Employee.salary.is_not(None),
        or_(Employee.hire_date.is_(None), Employee.hire_date <= end),
        or_(
            and_(Employee.termination_date.is_(None), Employee.status != "terminated"),
            Employee.termination_date >= start,
        ),
    ).order_by(Employee.name, Employee.id)
    return ctx.fetch(stmt)


def _unpaid_leave(ctx: CommandContext, start: date, end: date) -> dict[str, list[tuple[date, date]]]:
    """Approved unpaid leave overlapping the period, clipped to it, by employee."""
    stmt = ctx.select(
        LeaveRequest,
        LeaveRequest.kind == "unpaid",
        LeaveRequest.status == "approved",
        LeaveRequest.start_date <= end,
        LeaveRequest.end_date >= start,
    )
    found: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for leave in ctx.fetch(stmt):
        found[leave["employee_id"]].append((max(leave["start_date"], start), min(leave["end_date"], end)))
    return found


def _capped(amount: int, component: dict[str, Any]) -> int:
    cap = component["cap"]
    return amount if cap is None else min(amount, int(cap))


def _rate_text(rate: Decimal) -> str:
    return format(Decimal(rate).normalize(), "f")


def compute_payslip(
    employee: dict[str, Any],
    start: date,
    end: date,
    currency: str,
    components: Iterable[dict[str, Any]],
    unpaid: Iterable[tuple[date, date]],
    withholding_rate: Decimal | None,
) -> SlipFigures:
    """One employee's payslip figures for the period (pure: reads nothing, writes nothing)."""
    period_days = working_days(start, end)
    first = max(start, employee["hire_date"]) if employee["hire_date"] else start
    last = min(end, employee["termination_date"]) if employee["termination_date"] else end
    employed = working_days(first, last)
    away = sum(working_days(max(a, first), min(b, last)) for a, b in unpaid)
    paid_days = max(employed - away, 0)
    slip = SlipFigures(employee["id"], employee["name"], paid_days, period_days)
    salary = prorate(int(employee["salary"]), paid_days, period_days) if period_days else 0
    slip.lines.append(
        SlipLine(
            "salary", f"Base salary, {paid_days} of {period_days} working days", salary, Decimal(paid_days)
        )
    )
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for component in components:
        if component["method"] == "fixed" and component["currency"] != currency:
            continue
        by_kind[component["kind"]].append(component)
    earnings = 0
    for component in by_kind["earning"]:
        if component["method"] == "percent":
            amount = percent_of(salary, Decimal(component["rate"]), currency)
            description = f"{component['name']} {_rate_text(component['rate'])} %"
        else:
            amount = prorate(int(component["amount"]), paid_days, period_days) if period_days else 0
            description = component["name"]
        amount = _capped(amount, component)
        earnings += amount
        slip.lines.append(SlipLine("earning", description, amount))
    slip.gross = salary + earnings
    slip.lines.append(SlipLine("gross", "Gross pay", slip.gross))
    employer_lines = []
    for kind in ("deduction", "employer_contribution"):
        for component in by_kind[kind]:
            if component["method"] == "percent":
                amount = percent_of(slip.gross, Decimal(component["rate"]), currency)
                description = f"{component['name']} {_rate_text(component['rate'])} %"
            else:
                amount, description = int(component["amount"]), component["name"]
            amount = _capped(amount, component)
            if kind == "deduction":
                slip.deductions += amount
                slip.lines.append(SlipLine("deduction", description, -amount))
            else:
                slip.employer += amount
                employer_lines.append(SlipLine("employer", description, amount))
    if withholding_rate is not None:
        tax = percent_of(slip.gross, withholding_rate, currency)
        slip.deductions += tax
        slip.lines.append(SlipLine("deduction", f"Withholding tax {_rate_text(withholding_rate)} %", -tax))
    slip.lines.append(SlipLine("net", "Net pay", slip.net))
    # Paid by the employer on top of gross pay: shown after net pay, for information.
    slip.lines.extend(employer_lines)
    return slip


def preview_payroll(ctx: CommandContext, args: RunPayrollArgs) -> tuple[list[SlipFigures], list[str]]:
    """Every payslip a run with ``args`` would issue, and the ids of employees paid in another
    currency (who need a run of their own). Writes nothing."""
    employees = _payable_employees(ctx, args.period_start, args.period_end)
    components = ctx.fetch(
        ctx.select(PayComponent, PayComponent.active.is_(True)).order_by(PayComponent.code)
    )
    unpaid = _unpaid_leave(ctx, args.period_start, args.period_end)
    slips, others = [], []
    for employee in employees:
        if employee["salary_currency"] != args.currency:
            others.append(employee["id"])
            continue
        slip = compute_payslip(
            employee,
            args.period_start,
            args.period_end,
            args.currency,
            components,
            unpaid.get(employee["id"], ()),
            args.withholding_rate,
        )
        if slip.paid_days:
            slips.append(slip)
    return slips, others


def _overlapping_run(ctx: CommandContext, args: RunPayrollArgs) -> dict[str, Any] | None:
    rows = ctx.fetch(
        ctx.select(
            PayrollRun,
            PayrollRun.currency == args.currency,
            PayrollRun.status.in_(_PAYING),
            PayrollRun.reverses_run_id.is_(None),
            PayrollRun.period_start <= args.period_end,
            PayrollRun.period_end >= args.period_start,
        ).limit(1)
    )
    return rows[0] if rows else None


def _check_deductions(slip: SlipFigures, currency: str) -> None:
    if slip.deductions > slip.gross:
        raise invalid(
            "id",
            f"{slip.name}: deductions of {format_money(slip.deductions, currency)} exceed gross pay of "
            f"{format_money(slip.gross, currency)}",
        )


@command("hr.run_payroll", args=RunPayrollArgs, permission="payroll.run")
def run_payroll(ctx: CommandContext, args: RunPayrollArgs) -> None:
    """Compute a draft payroll run (the preview): one payslip per employee paid in its currency."""
    overlap = _overlapping_run(ctx, args)
    if overlap is not None:
        raise invalid(
            "period_start",
            f"a {args.currency} payroll run for {overlap['period_start'].isoformat()} to "
            f"{overlap['period_end'].isoformat()} already covers part of this period",
        )
    slips, others = preview_payroll(ctx, args)
    if not slips:
        raise invalid("currency", f"no employee with a salary in {args.currency} is paid in this period")
    if others:
        ctx.warn(
            "other_currency",
            f"{len(others)} employee(s) paid in another currency need a payroll run of their own",
            employee_ids=others,
        )
    require_open_period(ctx, args.period_end, "period_end")
    rate = document_rate(ctx, args.currency, args.exchange_rate, "exchange_rate")
    for slip in slips:
        _check_deductions(slip, args.currency)
    totals = _totals(slips)
    ctx.insert(
        PayrollRun,
        {
            "id": args.id,
            "period_start": args.period_start,
            "period_end": args.period_end,
            "status": "draft",
            "currency": args.currency,
            "completed_at": ctx.now,
            "exchange_rate": rate,
            **totals,
        },
    )
    _write_payslips(ctx, args.id, args.period_start, args.period_end, args.currency, slips, sign=1)
    ctx.outcome.data.update(
        {
            "payslips": len(slips),
            **totals,
            "total": format_money(totals["total_gross"], args.currency),
        }
    )


def _totals(slips: Iterable[SlipFigures], sign: int = 1) -> dict[str, int]:
    gross = deductions = employer = 0
    for slip in slips:
        gross += slip.gross
        deductions += slip.deductions
        employer += slip.employer
    return {
        "total_gross": sign * gross,
        "total_deductions": sign * deductions,
        "total_employer": sign * employer,
        "total_net": sign * (gross - deductions),
    }


def _write_payslips(
    ctx: CommandContext,
    run_id: str,
    start: date,
    end: date,
    currency: str,
    slips: list[SlipFigures],
    sign: int,
) -> None:
    """Every payslip of a run and their lines, in two batched inserts."""
    payslips: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for slip in slips:
        payslip_id = ctx.derived_id("payslip", slip.employee_id)
        payslips.append(
            {
                "id": payslip_id,
                "payroll_run_id": run_id,
                "employee_id": slip.employee_id,
                "period_start": start,
                "period_end": end,
                "currency": currency,
                "gross": sign * slip.gross,
                "deductions": sign * slip.deductions,
                "net": sign * slip.net,
                "employer_contributions": sign * slip.employer,
                "paid_days": slip.paid_days,
                "period_days": slip.period_days,
            }
        )
        lines.extend(
            {
                "id": ctx.derived_id("payslip_line", slip.employee_id, str(line_no)),
                "payslip_id": payslip_id,
                "employee_id": slip.employee_id,
                "line_no": line_no,
                "kind": line.kind,
                "description": line.description[:200],
                "quantity": line.quantity,
                "amount": sign * line.amount,
            }
            for line_no, line in enumerate(slip.lines, start=1)
        )
    ctx.insert_many(Payslip, payslips)
    ctx.insert_many(PayslipLine, lines)


def run_label(run: dict[str, Any]) -> str:
    """``Payroll 2026-03-01 to 2026-03-31``."""
    return f"Payroll {run['period_start'].isoformat()} to {run['period_end'].isoformat()}"


class PayrollRunArgs(Args):
    id: Id


def _move(
    ctx: CommandContext, run_id: str, target: str, changes: dict[str, Any] | None = None
) -> dict[str, Any]:
    run = ctx.require(PayrollRun, run_id, "id")
    if run["status"] == target == "posted":
        raise CommandError(
            "invalid_state",
            f"id: {run_label(run)} is already posted; a run is posted once (correct it with a reversing run)",
            field="id",
            details={"status": run["status"]},
        )
    require_transition(RUN_TRANSITIONS, run, target, run_label(run).lower())
    return ctx.update(PayrollRun, run_id, {"status": target, **(changes or {})})


@command("hr.approve_payroll_run", args=PayrollRunArgs, permission="payroll.run")
def approve_payroll_run(ctx: CommandContext, args: PayrollRunArgs) -> None:
    """Approve a draft run after its preview (draft → approved)."""
    _move(ctx, args.id, "approved", {"approved_at": ctx.now})


@command("hr.discard_payroll_run", args=PayrollRunArgs, permission="payroll.run")
def discard_payroll_run(ctx: CommandContext, args: PayrollRunArgs) -> None:
    """Drop a run that is not posted (draft/approved → discarded); the period may be run again."""
    _move(ctx, args.id, "discarded")


def _post_totals(ctx: CommandContext, run: dict[str, Any], figures: dict[str, Any], *, reverse: bool) -> None:
    """Wages and employer contributions / withholdings, contributions and net wages payable:
    the totals of ``figures`` (a run as posted), the other way round for a reversal, posted as
    ``run``'s entry."""
    currency = figures["currency"]
    rate = Decimal(figures["exchange_rate"]) if figures["exchange_rate"] is not None else Decimal(1)
    posting = new_posting(ctx, currency, rate)
    ledger = posting.ledger
    gross, deductions, employer = (
        to_ledger(int(figures[name]), currency, rate, ledger)
        for name in ("total_gross", "total_deductions", "total_employer")
    )
    label = run_label(run) + (" (reversal)" if reverse else "")
    debits: list[tuple[str, int, str]] = [
        ("wages", gross, label),
        ("employer_contributions", employer, "Employer contributions"),
    ]
    credits: list[tuple[str, int, str]] = [
        ("withholdings_payable", deductions, "Withholdings"),
        ("contributions_payable", employer, "Employer contributions"),
        ("net_wages_payable", gross - deductions, "Net pay"),
    ]
    if reverse:
        debits, credits = credits, debits
    for role, amount, memo in debits:
        if amount:
            posting.debit(account_for(ctx, role), amount, memo)
    for role, amount, memo in credits:
        if amount:
            posting.credit(account_for(ctx, role), amount, memo)
    posting.post(source="payroll_run", source_id=run["id"], entry_date=run["period_end"], memo=label)


@command("hr.post_payroll_run", args=PayrollRunArgs, permission="payroll.run")
def post_payroll_run(ctx: CommandContext, args: PayrollRunArgs) -> None:
    """Post an approved run to the books, dated its last day (approved → posted; never twice)."""
    run = ctx.require(PayrollRun, args.id, "id")
    require_open_period(ctx, run["period_end"], "id")
    run = _move(ctx, args.id, "posted", {"posted_at": ctx.now})
    _post_totals(ctx, run, run, reverse=False)


class ReversePayrollRunArgs(Args):
    # The reversing run's id.
    id: Id
    payroll_run_id: Id


@command("hr.reverse_payroll_run", args=ReversePayrollRunArgs, permission="payroll.run")
def reverse_payroll_run(ctx: CommandContext, args: ReversePayrollRunArgs) -> None:
    """Correct a posted run: a reversing run negating every payslip and the journal entry, dated
    the original's last day (posted/paid → reversed); the period may then be run again."""
    original = ctx.require(PayrollRun, args.payroll_run_id, "payroll_run_id")
    if original["reverses_run_id"] is not None:
        raise invalid("payroll_run_id", "is itself a reversing run; run the period again instead")
    require_transition(RUN_TRANSITIONS, original, "reversed", run_label(original).lower())
    require_open_period(ctx, original["period_end"], "payroll_run_id")
    ctx.update(PayrollRun, original["id"], {"status": "reversed", "reversed_by_run_id": args.id})
    reversal = ctx.insert(
        PayrollRun,
        {
            "id": args.id,
            "period_start": original["period_start"],
            "period_end": original["period_end"],
            "status": "posted",
            "currency": original["currency"],
            "completed_at": ctx.now,
            "posted_at": ctx.now,
            "exchange_rate": original["exchange_rate"],
            "reverses_run_id": original["id"],
            **{
                name: -int(original[name])
                for name in ("total_gross", "total_deductions", "total_employer", "total_net")
            },
        },
    )
    slips = ctx.fetch(ctx.select(Payslip, Payslip.payroll_run_id == original["id"]))
    lines = ctx.fetch(ctx.select(PayslipLine, PayslipLine.payslip_id.in_([s["id"] for s in slips])))
    by_slip: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        by_slip[line["payslip_id"]].append(line)
    negated = [
        SlipFigures(
            row["employee_id"],
            "",
            row["paid_days"] or 0,
            row["period_days"] or 0,
            gross=int(row["gross"]),
            deductions=int(row["deductions"]),
            employer=int(row["employer_contributions"]),
            lines=[
                SlipLine(line["kind"], line["description"], int(line["amount"]), line["quantity"])
                for line in sorted(by_slip[row["id"]], key=lambda r: r["line_no"])
            ],
        )
        for row in slips
    ]
    _write_payslips(
        ctx, args.id, original["period_start"], original["period_end"], original["currency"], negated, sign=-1
    )
    _post_totals(ctx, reversal, original, reverse=True)


class PayPayrollRunArgs(Args):
    id: Id
    payroll_run_id: Id
    paid_on: date | None = None
    exchange_rate: PositiveQuantity | None = None


@command("hr.pay_payroll_run", args=PayPayrollRunArgs, permission="payroll.run")
def pay_payroll_run(ctx: CommandContext, args: PayPayrollRunArgs) -> None:
    """Pay a posted run's net wages from the bank (posted → paid)."""
    run = ctx.require(PayrollRun, args.payroll_run_id, "payroll_run_id")
    if run["status"] != "posted" or run["reverses_run_id"] is not None:
        what = "a reversing run" if run["reverses_run_id"] is not None else run["status"]
        raise CommandError(
            "invalid_state",
            f"payroll_run_id: the payroll run is {what}; only a posted run is paid",
            field="payroll_run_id",
            details={"status": run["status"]},
        )
    paid_on = args.paid_on or ctx.now.date()
    if paid_on < run["period_start"]:
        raise invalid("paid_on", "must not be before the run's period")
    require_open_period(ctx, paid_on, "paid_on")
    currency = run["currency"]
    rate = document_rate(ctx, currency, args.exchange_rate, "exchange_rate")
    run_rate = Decimal(run["exchange_rate"]) if run["exchange_rate"] is not None else Decimal(1)
    gross, deductions = int(run["total_gross"]), int(run["total_deductions"])
    posting = new_posting(ctx, currency, rate)
    ledger = posting.ledger
    # Exactly what the run put on net wages payable (gross minus withholdings, each converted).
    owed = to_ledger(gross, currency, run_rate, ledger) - to_ledger(deductions, currency, run_rate, ledger)
    paid = to_ledger(gross - deductions, currency, rate, ledger)
    label = f"Net pay of {run_label(run).lower()}"
    posting.debit(account_for(ctx, "net_wages_payable"), owed, label)
    posting.credit(account_for(ctx, "bank"), paid, label)
    exchange_difference(ctx, posting, paid - owed, rate == run_rate, "Exchange difference")
    # The run's update first: its audit event holds the payment's posting (sync_server.audit).
    ctx.update(PayrollRun, run["id"], {"status": "paid", "paid_on": paid_on})
    posting.post(source="payroll_payment", source_id=run["id"], entry_date=paid_on, memo=label)

"""Payroll: a run issues one payslip per employee paid in the run's currency.

An employee's ``salary`` is their gross pay per payroll period. Each payslip has three lines:
gross salary, a flat withholding tax (the run's rate, rounded by the one money helper) and net
pay. Runs and payslips are append-only; ids of everything a run creates are derived from the
command, so a workstation and the server create the very same rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationInfo, field_validator
from sqlalchemy import and_, or_

from common.commands.fields import Args, Currency, Id, Percent
from common.commands.framework import CommandContext, command, invalid
from common.commands.rules import percent_of
from common.money import format_money
from common.schema import Employee, PayrollRun, Payslip, PayslipLine


class RunPayrollArgs(Args):
    id: Id
    period_start: date
    period_end: date
    currency: Currency
    # Flat withholding tax, percent of gross pay.
    withholding_rate: Percent

    @field_validator("period_end")
    @classmethod
    def _ordered(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("period_start")
        if start is not None and value < start:
            raise ValueError("must not be before period_start")
        return value


def _payable_employees(ctx: CommandContext, args: RunPayrollArgs) -> list[dict[str, Any]]:
    """Employees with a salary, employed during the period, ordered by name (and id).

    A leaver is paid for a period they worked in (their termination date is in it or later); a
    terminated employee without a termination date is not paid.
    """
    stmt = ctx.select(
        Employee,
        Employee.salary.is_not(None),
        or_(Employee.hire_date.is_(None), Employee.hire_date <= args.period_end),
        or_(
            and_(Employee.termination_date.is_(None), Employee.status != "terminated"),
            Employee.termination_date >= args.period_start,
        ),
    ).order_by(Employee.name, Employee.id)
    return [dict(row) for row in ctx.session.execute(stmt).mappings()]


@command("hr.run_payroll", args=RunPayrollArgs, permission="payroll.run")
def run_payroll(ctx: CommandContext, args: RunPayrollArgs) -> None:
    """Run payroll for a period: a completed run with one payslip per employee paid in its currency."""
    overlap = (
        ctx.session.execute(
            ctx.select(
                PayrollRun,
                PayrollRun.currency == args.currency,
                PayrollRun.period_start <= args.period_end,
                PayrollRun.period_end >= args.period_start,
            ).limit(1)
        )
        .mappings()
        .first()
    )
    if overlap is not None:
        raise invalid(
            "period_start",
            f"a {args.currency} payroll run for {overlap['period_start'].isoformat()} to "
            f"{overlap['period_end'].isoformat()} already covers part of this period",
        )
    employees = _payable_employees(ctx, args)
    paid = [e for e in employees if e["salary_currency"] == args.currency]
    others = [e for e in employees if e["salary_currency"] != args.currency]
    if not paid:
        raise invalid("currency", f"no employee with a salary in {args.currency} is employed in this period")
    if others:
        ctx.warn(
            "other_currency",
            f"{len(others)} employee(s) paid in another currency need a payroll run of their own",
            employee_ids=[e["id"] for e in others],
        )
    total_gross = sum(e["salary"] for e in paid)
    ctx.insert(
        PayrollRun,
        {
            "id": args.id,
            "period_start": args.period_start,
            "period_end": args.period_end,
            "status": "completed",
            "currency": args.currency,
            "completed_at": ctx.now,
            "total_gross": total_gross,
        },
    )
    rate_text = format(args.withholding_rate.normalize(), "f")
    for employee in paid:
        gross = employee["salary"]
        tax = percent_of(gross, args.withholding_rate, args.currency)
        payslip_id = ctx.derived_id("payslip", employee["id"])
        ctx.insert(
            Payslip,
            {
                "id": payslip_id,
                "payroll_run_id": args.id,
                "employee_id": employee["id"],
                "period_start": args.period_start,
                "period_end": args.period_end,
                "currency": args.currency,
                "gross": gross,
                "deductions": tax,
                "net": gross - tax,
            },
        )
        lines = (
            ("gross", "Gross salary", gross),
            ("tax", f"Withholding tax {rate_text} %", -tax),
            ("net", "Net pay", gross - tax),
        )
        for line_no, (kind, description, amount) in enumerate(lines, start=1):
            ctx.insert(
                PayslipLine,
                {
                    "id": ctx.derived_id("payslip_line", employee["id"], kind),
                    "payslip_id": payslip_id,
                    "employee_id": employee["id"],
                    "line_no": line_no,
                    "kind": kind,
                    "description": description,
                    "quantity": None,
                    "amount": amount,
                },
            )
    ctx.outcome.data.update(
        {"payslips": len(paid), "total_gross": total_gross, "total": format_money(total_gross, args.currency)}
    )

"""Payroll: a run issues one payslip per employee paid in the run's currency.

An employee's ``salary`` is their gross pay per payroll period. Each payslip has three lines:
gross salary, a flat withholding tax (the run's rate, rounded by the one money helper) and net
pay. Runs and payslips are append-only; ids of everything a run creates are derived from the
command, so a workstation and the server create the very same rows.

A run posts what it produced on its last day, in one entry for the whole run (the ledger shows
totals, never one person's pay): wages (gross) / withholdings payable and net wages payable;
employer contributions / contributions payable once runs compute them. ``hr.pay_payroll_run``
pays the net wages: net wages payable / bank.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationInfo, field_validator
from sqlalchemy import and_, func, or_, select

from common.commands.fields import Args, Currency, Id, Percent, PositiveQuantity
from common.commands.framework import CommandContext, CommandError, command, invalid
from common.commands.periods import require_open_period
from common.commands.postings import account_for, document_rate, exchange_difference, new_posting, to_ledger
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
    # Ledger currency units per unit of ``currency``; required when it is not the ledger's.
    exchange_rate: PositiveQuantity | None = None

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
    require_open_period(ctx, args.period_end, "period_end")
    rate = document_rate(ctx, args.currency, args.exchange_rate, "exchange_rate")
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
            "exchange_rate": rate,
        },
    )
    rate_text = format(args.withholding_rate.normalize(), "f")
    total_tax = 0
    for employee in paid:
        gross = employee["salary"]
        tax = percent_of(gross, args.withholding_rate, args.currency)
        total_tax += tax
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
    _post_run(ctx, args, rate, total_gross, total_tax)
    ctx.outcome.data.update(
        {"payslips": len(paid), "total_gross": total_gross, "total": format_money(total_gross, args.currency)}
    )


def _run_label(run: dict[str, Any] | RunPayrollArgs) -> str:
    start = run["period_start"] if isinstance(run, dict) else run.period_start
    end = run["period_end"] if isinstance(run, dict) else run.period_end
    return f"Payroll {start.isoformat()} to {end.isoformat()}"


def _post_run(ctx: CommandContext, args: RunPayrollArgs, rate: Decimal, gross: int, tax: int) -> None:
    """Wages / withholdings payable and net wages payable, dated the run's last day."""
    posting = new_posting(ctx, args.currency, rate)
    ledger = posting.ledger
    label = _run_label(args)
    gross_in_ledger = to_ledger(gross, args.currency, rate, ledger)
    tax_in_ledger = to_ledger(tax, args.currency, rate, ledger)
    posting.debit(account_for(ctx, "wages"), gross_in_ledger, label)
    posting.credit(account_for(ctx, "withholdings_payable"), tax_in_ledger, "Withholding tax")
    posting.credit(account_for(ctx, "net_wages_payable"), gross_in_ledger - tax_in_ledger, "Net pay")
    posting.post(source="payroll_run", source_id=args.id, entry_date=args.period_end, memo=label)


class PayPayrollRunArgs(Args):
    id: Id
    payroll_run_id: Id
    paid_on: date | None = None
    exchange_rate: PositiveQuantity | None = None


@command("hr.pay_payroll_run", args=PayPayrollRunArgs, permission="payroll.run")
def pay_payroll_run(ctx: CommandContext, args: PayPayrollRunArgs) -> None:
    """Pay a completed run's net wages from the bank (completed → paid)."""
    run = ctx.require(PayrollRun, args.payroll_run_id, "payroll_run_id")
    if run["status"] != "completed":
        raise CommandError(
            "invalid_state",
            f"payroll_run_id: the payroll run is {run['status']}; only a completed run is paid",
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
    stmt = select(
        func.coalesce(func.sum(Payslip.gross), 0), func.coalesce(func.sum(Payslip.deductions), 0)
    ).where(Payslip.org_id == ctx.org_id, Payslip.deleted.is_(False), Payslip.payroll_run_id == run["id"])
    gross, deductions = ctx.session.execute(stmt).one()
    posting = new_posting(ctx, currency, rate)
    ledger = posting.ledger
    # Exactly what the run put on net wages payable (gross minus withholding, each converted).
    owed = to_ledger(int(gross), currency, run_rate, ledger) - to_ledger(
        int(deductions), currency, run_rate, ledger
    )
    paid = to_ledger(int(gross) - int(deductions), currency, rate, ledger)
    label = f"Net pay of {_run_label(run).lower()}"
    posting.debit(account_for(ctx, "net_wages_payable"), owed, label)
    posting.credit(account_for(ctx, "bank"), paid, label)
    exchange_difference(ctx, posting, paid - owed, rate == run_rate, "Exchange difference")
    posting.post(source="payroll_payment", source_id=run["id"], entry_date=paid_on, memo=label)
    ctx.update(PayrollRun, run["id"], {"status": "paid", "paid_on": paid_on})

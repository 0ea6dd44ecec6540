"""Pay components: the earnings, deductions and employer contributions of an organization's payroll.

A component applies to every employee of a run in its currency (a fixed amount only to runs in
its own currency); :mod:`common.commands.payroll` computes them. Components are never deleted
(runs name them on payslips): one no longer used is made inactive.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from common.commands.fields import Args, Changes, Code, Currency, Id, MinorUnits, Name, Percent, UpdateArgs
from common.commands.framework import CommandContext, apply_field_changes, command, invalid, parse_changes
from common.schema import PayComponent

ComponentKind = Literal["earning", "deduction", "employer_contribution"]
COMPONENT_KINDS: tuple[str, ...] = get_args(ComponentKind)
ComponentMethod = Literal["percent", "fixed"]


class CreatePayComponentArgs(Args):
    id: Id
    code: Code
    name: Name
    kind: ComponentKind
    method: ComponentMethod
    # ``percent``: the rate (0-100).
    rate: Percent | None = None
    # ``fixed``: minor units of ``currency`` per full period.
    amount: MinorUnits | None = None
    currency: Currency | None = None
    # The most the component comes to for one employee in one run (minor units).
    cap: MinorUnits | None = None
    active: bool = True


class PayComponentChanges(Changes):
    code: Code | None = None
    name: Name | None = None
    kind: ComponentKind | None = None
    method: ComponentMethod | None = None
    rate: Percent | None = None
    amount: MinorUnits | None = None
    currency: Currency | None = None
    cap: MinorUnits | None = None
    active: bool | None = None


def check_component(values: dict[str, Any], prefix: str = "") -> None:
    """A percent component has a rate and no amount; a fixed one an amount and its currency."""
    if values["method"] == "percent":
        if values.get("rate") is None:
            raise invalid(f"{prefix}rate", "is required for a percentage component")
        if values.get("amount") is not None:
            raise invalid(f"{prefix}amount", "must be empty for a percentage component (it has a rate)")
    else:
        if values.get("amount") is None:
            raise invalid(f"{prefix}amount", "is required for a fixed-amount component")
        if values.get("currency") is None:
            raise invalid(f"{prefix}currency", "is required with a fixed amount")
        if values.get("rate") is not None:
            raise invalid(f"{prefix}rate", "must be empty for a fixed-amount component (it has an amount)")


@command("hr.create_pay_component", args=CreatePayComponentArgs, permission="payroll.run")
def create_pay_component(ctx: CommandContext, args: CreatePayComponentArgs) -> None:
    """Add an earning, deduction or employer contribution to the organization's payroll."""
    ctx.ensure_unique(PayComponent, "code", args.code, "code")
    values = args.model_dump()
    check_component(values)
    ctx.insert(PayComponent, values)


@command("hr.update_pay_component", args=UpdateArgs, permission="payroll.run")
def update_pay_component(ctx: CommandContext, args: UpdateArgs) -> None:
    """Change a pay component (per-field compare-and-set); runs already made keep their figures."""
    current = ctx.require(PayComponent, args.id, "id")
    if isinstance(args.changes.get("code"), str):
        ctx.ensure_unique(PayComponent, "code", args.changes["code"].strip(), "changes.code", exclude=args.id)
    new_values, _ = parse_changes(PayComponentChanges, args.changes, args.base)
    check_component({**current, **new_values}, "changes.")
    apply_field_changes(
        ctx, PayComponent, args.id, PayComponentChanges, args.changes, args.base, current=current
    )

"""Sales commands: customers (the rest of the sales module builds on these)."""

from __future__ import annotations

from common.commands.fields import (
    Args,
    Changes,
    Currency,
    Email,
    Id,
    MinorUnits,
    Name,
    OptText500,
    Phone,
    Text50,
    UpdateArgs,
)
from common.commands.framework import CommandContext, apply_field_changes, command
from common.schema import Customer

Address = OptText500
TaxId = Text50


class CreateCustomerArgs(Args):
    id: Id
    name: Name
    email: Email | None = None
    phone: Phone | None = None
    address: Address | None = None
    tax_id: TaxId | None = None
    currency: Currency = "EUR"
    credit_limit: MinorUnits | None = None


class CustomerChanges(Changes):
    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    address: Address | None = None
    tax_id: TaxId | None = None
    currency: Currency | None = None
    credit_limit: MinorUnits | None = None
    archived: bool | None = None


@command("sales.create_customer", args=CreateCustomerArgs, permission="sales.write")
def create_customer(ctx: CommandContext, args: CreateCustomerArgs) -> None:
    """Create a customer."""
    ctx.insert(Customer, args.model_dump())


@command("sales.update_customer", args=UpdateArgs, permission="sales.write")
def update_customer(ctx: CommandContext, args: UpdateArgs) -> None:
    """Change customer fields, or archive it, with per-field compare-and-set."""
    apply_field_changes(ctx, Customer, args.id, CustomerChanges, args.changes, args.base)

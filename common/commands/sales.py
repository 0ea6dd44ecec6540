"""Sales commands: customers and sales orders (invoices and payments are in ``invoicing``).

Sales order life cycle: draft → confirmed → fulfilled; draft/confirmed → cancelled. Fulfilling
issues the goods from the order's warehouse as stock moves, so stock stays the sum of moves, each
posted at the product's moving average cost (cost of goods sold / inventory).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import AwareDatetime, Field
from sqlalchemy import func, select

from common.commands.fields import (
    Args,
    Currency,
    Email,
    Id,
    MinorUnits,
    Name,
    Note,
    OptText500,
    Percent,
    Phone,
    PositiveQuantity,
    Text50,
    UpdateArgs,
    changes_of,
)
from common.commands.framework import CommandContext, CommandError, apply_field_changes, command, invalid
from common.commands.inventory import record_move
from common.commands.rules import Transitions, percent_of, require_status, require_transition
from common.money import MAX_MINOR_UNITS, format_money, line_amount
from common.schema import (
    Customer,
    Invoice,
    Product,
    SalesOrder,
    SalesOrderLine,
    TaxRate,
    Warehouse,
)

Address = OptText500
TaxId = Text50
MAX_ORDER_LINES = 500

SALES_ORDER_TRANSITIONS: Transitions = {
    "draft": frozenset({"confirmed", "cancelled"}),
    "confirmed": frozenset({"fulfilled", "cancelled"}),
    "fulfilled": frozenset(),
    "cancelled": frozenset(),
}


# -- pricing (shared with invoicing) -----------------------------------------------------------


def tax_rate_of(ctx: CommandContext, tax_rate_id: str | None, field: str) -> Decimal | None:
    """The percentage of a live, non-archived tax rate (``None`` when no rate is given)."""
    if tax_rate_id is None:
        return None
    rate = ctx.require(TaxRate, tax_rate_id, field)
    if rate["archived"]:
        raise invalid(field, f"tax rate {rate['code']} is archived")
    return Decimal(rate["rate"])


def price_line(
    quantity: Decimal,
    unit_price: int,
    rate: Decimal | None,
    currency: str,
    field: str,
    discount_percent: Decimal = Decimal(0),
) -> tuple[int, int]:
    """``(net, tax)`` of one line in minor units: the net is ``quantity × unit_price`` less the
    discount, rounded once; the tax is on that net. Refuses amounts too large to store."""
    net = line_amount(quantity, unit_price, discount_percent)
    tax = percent_of(net, rate, currency) if rate is not None else 0
    if net + tax > MAX_MINOR_UNITS:
        raise invalid(field, f"the line amount exceeds {format_money(MAX_MINOR_UNITS, currency)}")
    return net, tax


def check_document_total(total: int, currency: str) -> None:
    if total > MAX_MINOR_UNITS:
        raise invalid("lines", f"the total exceeds {format_money(MAX_MINOR_UNITS, currency)}")


def active_customer(ctx: CommandContext, customer_id: str, field: str) -> dict[str, Any]:
    """A customer that may still be sold to (not archived or erased)."""
    customer = ctx.require(Customer, customer_id, field)
    if customer["archived"] or customer["erased"]:
        raise invalid(field, "the customer is archived")
    return customer


# -- customers -------------------------------------------------------------------------------


class CreateCustomerArgs(Args):
    id: Id
    name: Name
    email: Email | None = None
    phone: Phone | None = None
    address: Address | None = None
    tax_id: TaxId | None = None
    currency: Currency = "EUR"
    credit_limit: MinorUnits | None = None


CustomerChanges = changes_of(CreateCustomerArgs, "CustomerChanges", extra={"archived": bool})


@command("sales.create_customer", args=CreateCustomerArgs, permission="sales.write")
def create_customer(ctx: CommandContext, args: CreateCustomerArgs) -> None:
    """Create a customer."""
    ctx.insert(Customer, args.model_dump())


@command("sales.update_customer", args=UpdateArgs, permission="sales.write")
def update_customer(ctx: CommandContext, args: UpdateArgs) -> None:
    """Change customer fields, or archive it, with per-field compare-and-set."""
    apply_field_changes(ctx, Customer, args.id, CustomerChanges, args.changes, args.base)


# -- sales orders ----------------------------------------------------------------------------


class SalesOrderLineArgs(Args):
    id: Id
    product_id: Id
    quantity: PositiveQuantity
    # Omitted: the product's sale price (when the product is priced in the order's currency).
    unit_price: MinorUnits | None = None
    # Percent off the line (0-100): its net is quantity × unit price × (1 − discount / 100).
    discount_percent: Percent = Decimal(0)
    tax_rate_id: Id | None = None


class CreateSalesOrderArgs(Args):
    id: Id
    customer_id: Id
    warehouse_id: Id | None = None
    order_date: date | None = None
    currency: Currency | None = None
    note: Note | None = None
    lines: list[SalesOrderLineArgs] = Field(default_factory=list, max_length=MAX_ORDER_LINES)


SalesOrderChanges = changes_of(CreateSalesOrderArgs, "SalesOrderChanges", exclude=("id", "currency", "lines"))


class SetSalesOrderLinesArgs(Args):
    id: Id
    lines: list[SalesOrderLineArgs] = Field(max_length=MAX_ORDER_LINES)


class SalesOrderStateArgs(Args):
    id: Id


class FulfilSalesOrderArgs(Args):
    id: Id
    fulfilled_at: AwareDatetime | None = None


def _order_label(order: dict[str, Any]) -> str:
    return f"sales order {order['number']}"


def _write_order_lines(
    ctx: CommandContext, order_id: str, currency: str, lines: list[SalesOrderLineArgs]
) -> int:
    """Insert or replace the lines of a draft order; returns the order total (tax included)."""
    seen: set[str] = set()
    priced: list[tuple[SalesOrderLineArgs, int]] = []
    total = 0
    for index, line in enumerate(lines):
        if line.id in seen:
            raise invalid(f"lines.{index}.id", "appears twice")
        seen.add(line.id)
        product = ctx.require(Product, line.product_id, f"lines.{index}.product_id")
        unit_price = line.unit_price
        if unit_price is None:
            if product["currency"] != currency:
                raise invalid(
                    f"lines.{index}.unit_price",
                    f"is required: the product is priced in {product['currency']}, the order is in {currency}",
                )
            unit_price = product["sale_price"]
        rate = tax_rate_of(ctx, line.tax_rate_id, f"lines.{index}.tax_rate_id")
        net, tax = price_line(
            line.quantity, unit_price, rate, currency, f"lines.{index}.quantity", line.discount_percent
        )
        total += net + tax
        priced.append((line, unit_price))
    check_document_total(total, currency)
    existing = {
        row["id"]
        for row in ctx.session.execute(
            ctx.select(SalesOrderLine, SalesOrderLine.sales_order_id == order_id)
        ).mappings()
    }
    for index, line in enumerate(lines):
        if line.id not in existing and ctx.get(SalesOrderLine, line.id, include_deleted=True) is not None:
            raise invalid(f"lines.{index}.id", "is already used by another line")
    for line_id in existing - seen:
        ctx.update(SalesOrderLine, line_id, {"deleted": True})
    for line_no, (line, unit_price) in enumerate(priced, start=1):
        values = {
            "sales_order_id": order_id,
            "line_no": line_no,
            "product_id": line.product_id,
            "quantity": line.quantity,
            "unit_price": unit_price,
            "discount_percent": line.discount_percent,
            "tax_rate_id": line.tax_rate_id,
        }
        if line.id in existing:
            ctx.update(SalesOrderLine, line.id, values)
        else:
            ctx.insert(SalesOrderLine, {"id": line.id, **values})
    return total


def _usable_warehouse(ctx: CommandContext, warehouse_id: str | None, field: str) -> None:
    if warehouse_id is not None and ctx.require(Warehouse, warehouse_id, field)["archived"]:
        raise invalid(field, "the warehouse is archived")


@command("sales.create_sales_order", args=CreateSalesOrderArgs, permission="sales.write")
def create_sales_order(ctx: CommandContext, args: CreateSalesOrderArgs) -> None:
    """Create a draft sales order with its lines."""
    customer = active_customer(ctx, args.customer_id, "customer_id")
    _usable_warehouse(ctx, args.warehouse_id, "warehouse_id")
    currency = args.currency or customer["currency"]
    number = ctx.numbering.next_number("sales_order")
    ctx.insert(
        SalesOrder,
        {
            "id": args.id,
            "number": number,
            "customer_id": args.customer_id,
            "warehouse_id": args.warehouse_id,
            "status": "draft",
            "order_date": args.order_date or ctx.now.date(),
            "currency": currency,
            "total": 0,
            "note": args.note,
        },
    )
    total = _write_order_lines(ctx, args.id, currency, list(args.lines))
    ctx.update(SalesOrder, args.id, {"total": total})
    ctx.outcome.data["number"] = number


def _draft_order(ctx: CommandContext, order_id: str) -> dict[str, Any]:
    order = ctx.require(SalesOrder, order_id, "id")
    require_status(order, frozenset({"draft"}), _order_label(order), "be edited")
    return order


@command("sales.update_sales_order", args=UpdateArgs, permission="sales.write")
def update_sales_order(ctx: CommandContext, args: UpdateArgs) -> None:
    """Change a draft order's customer, warehouse, date or note (per-field compare-and-set)."""
    order = _draft_order(ctx, args.id)
    if isinstance(args.changes.get("customer_id"), str):
        active_customer(ctx, args.changes["customer_id"], "changes.customer_id")
    if isinstance(args.changes.get("warehouse_id"), str):
        _usable_warehouse(ctx, args.changes["warehouse_id"], "changes.warehouse_id")
    apply_field_changes(ctx, SalesOrder, args.id, SalesOrderChanges, args.changes, args.base, current=order)


@command("sales.set_sales_order_lines", args=SetSalesOrderLinesArgs, permission="sales.write")
def set_sales_order_lines(ctx: CommandContext, args: SetSalesOrderLinesArgs) -> None:
    """Replace the lines of a draft sales order."""
    order = _draft_order(ctx, args.id)
    total = _write_order_lines(ctx, args.id, order["currency"], list(args.lines))
    ctx.update(SalesOrder, args.id, {"total": total})


def _order_lines(ctx: CommandContext, order_id: str) -> list[dict[str, Any]]:
    stmt = ctx.select(SalesOrderLine, SalesOrderLine.sales_order_id == order_id).order_by(
        SalesOrderLine.line_no
    )
    return [dict(row) for row in ctx.session.execute(stmt).mappings()]


def open_balance(ctx: CommandContext, customer_id: str, currency: str) -> int:
    """What the customer still owes on posted invoices in ``currency``, in minor units."""
    stmt = select(
        func.coalesce(func.sum(Invoice.total - Invoice.amount_paid - Invoice.amount_credited), 0)
    ).where(
        Invoice.org_id == ctx.org_id,
        Invoice.deleted.is_(False),
        Invoice.customer_id == customer_id,
        Invoice.status == "posted",
        Invoice.currency == currency,
    )
    return int(ctx.scalar(stmt) or 0)


@command("sales.confirm_sales_order", args=SalesOrderStateArgs, permission="sales.write")
def confirm_sales_order(ctx: CommandContext, args: SalesOrderStateArgs) -> None:
    """Confirm a draft order (draft → confirmed). Exceeding the customer's credit limit is
    flagged, not refused: a salesperson may know better."""
    order = ctx.require(SalesOrder, args.id, "id")
    require_transition(SALES_ORDER_TRANSITIONS, order, "confirmed", _order_label(order))
    if not _order_lines(ctx, args.id):
        raise invalid("id", f"{_order_label(order)} has no lines to confirm")
    customer = ctx.require(Customer, order["customer_id"], "customer_id")
    limit = customer["credit_limit"]
    if limit is not None and customer["currency"] == order["currency"]:
        exposure = open_balance(ctx, order["customer_id"], order["currency"]) + order["total"]
        if exposure > limit:
            ctx.warn(
                "credit_limit_exceeded",
                f"open invoices and this order come to {format_money(exposure, order['currency'])}, "
                f"above the credit limit of {format_money(limit, order['currency'])}",
                customer_id=order["customer_id"],
            )
    ctx.update(SalesOrder, args.id, {"status": "confirmed"})


@command("sales.fulfil_sales_order", args=FulfilSalesOrderArgs, permission="sales.write")
def fulfil_sales_order(ctx: CommandContext, args: FulfilSalesOrderArgs) -> None:
    """Ship a confirmed order: one stock issue per line from the order's warehouse.

    Stock may go negative (what physically left the warehouse is recorded and flagged).
    """
    order = ctx.require(SalesOrder, args.id, "id")
    require_transition(SALES_ORDER_TRANSITIONS, order, "fulfilled", _order_label(order))
    if order["warehouse_id"] is None:
        raise invalid("warehouse_id", f"{_order_label(order)} has no warehouse to ship from; set one first")
    moved_at = args.fulfilled_at or ctx.now
    for line in _order_lines(ctx, args.id):
        # Valued at the product's moving average cost (common.commands.costing), never a typed price.
        record_move(
            ctx,
            {
                "id": ctx.derived_id("issue", line["id"]),
                "product_id": line["product_id"],
                "from_warehouse_id": order["warehouse_id"],
                "to_warehouse_id": None,
                "quantity": line["quantity"],
                "unit_cost": None,
                "currency": None,
                "reason": "issue",
                "note": None,
                "reference": order["number"],
                "moved_at": moved_at,
            },
            date_field="fulfilled_at",
        )
    ctx.update(SalesOrder, args.id, {"status": "fulfilled"})


@command("sales.cancel_sales_order", args=SalesOrderStateArgs, permission="sales.write")
def cancel_sales_order(ctx: CommandContext, args: SalesOrderStateArgs) -> None:
    """Cancel a draft or confirmed order that has not been invoiced, or whose invoice has been
    credited in full (invoices are never voided: a credit note corrects a posted one)."""
    order = ctx.require(SalesOrder, args.id, "id")
    require_transition(SALES_ORDER_TRANSITIONS, order, "cancelled", _order_label(order))
    for invoice in ctx.session.execute(ctx.select(Invoice, Invoice.sales_order_id == args.id)).mappings():
        if invoice["status"] == "draft":
            raise CommandError(
                "invalid_state",
                f"{_order_label(order)} has been invoiced (draft {invoice['number']}); "
                "delete the draft invoice first",
                details={"status": order["status"], "invoice_status": invoice["status"]},
            )
        # Credited in full: its credit notes gave back all of its total. It is then ``credited``,
        # or ``paid`` when it had been paid (the credit became the customer's). A posted invoice
        # still stands, even one of 0.00 that no note has credited yet.
        if invoice["amount_credited"] < invoice["total"] or invoice["status"] == "posted":
            raise CommandError(
                "invalid_state",
                f"{_order_label(order)} has been invoiced ({invoice['number']}); "
                "credit the invoice in full first",
                details={"status": order["status"], "invoice_status": invoice["status"]},
            )
    ctx.update(SalesOrder, args.id, {"status": "cancelled"})

"""Sales commands for invoices and payments.

An invoice gets its number when it is created: ``DRAFT-<device>-<n>`` on a workstation, the final
gapless ``INV-…`` when the server applies the command. Life cycle: draft → posted → paid;
draft/posted → void. A posted invoice is never edited: it is voided (and a new one issued).
Payments are append-only; a payment that would exceed what is still due is refused.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, get_args

from pydantic import Field

from common.commands.fields import (
    Args,
    Currency,
    Id,
    MinorUnits,
    PositiveMinorUnits,
    PositiveQuantity,
    Text100,
    Text500,
)
from common.commands.framework import CommandContext, CommandError, command, invalid
from common.commands.rules import Transitions, require_transition
from common.commands.sales import active_customer, check_document_total, price_line, tax_rate_of
from common.money import format_money
from common.schema import Invoice, InvoiceLine, Payment, Product, SalesOrder, SalesOrderLine

MAX_INVOICE_LINES = 500
PaymentMethod = Literal["bank_transfer", "card", "cash", "cheque", "direct_debit", "other"]
PAYMENT_METHODS: tuple[str, ...] = get_args(PaymentMethod)

INVOICE_TRANSITIONS: Transitions = {
    "draft": frozenset({"posted", "void"}),
    "posted": frozenset({"paid", "void"}),
    "paid": frozenset(),
    "void": frozenset(),
}


class InvoiceLineArgs(Args):
    id: Id
    product_id: Id | None = None
    # Omitted: the product's name (a line without a product needs a description).
    description: Text500 | None = None
    quantity: PositiveQuantity
    unit_price: MinorUnits
    tax_rate_id: Id | None = None


class CreateInvoiceArgs(Args):
    id: Id
    # Either a customer with lines, or a confirmed/fulfilled sales order whose lines are copied.
    customer_id: Id | None = None
    sales_order_id: Id | None = None
    issue_date: date | None = None
    due_date: date | None = None
    currency: Currency | None = None
    lines: list[InvoiceLineArgs] | None = Field(default=None, max_length=MAX_INVOICE_LINES)


class InvoiceStateArgs(Args):
    id: Id


class RecordPaymentArgs(Args):
    id: Id
    invoice_id: Id
    amount: PositiveMinorUnits
    currency: Currency | None = None
    paid_on: date | None = None
    method: PaymentMethod = "bank_transfer"
    reference: Text100 | None = None


def _label(invoice: dict[str, Any]) -> str:
    return f"invoice {invoice['number']}"


def _lines_from_order(ctx: CommandContext, order: dict[str, Any]) -> list[dict[str, Any]]:
    """The order's lines as invoice lines, with ids derived from the order line ids."""
    stmt = ctx.select(SalesOrderLine, SalesOrderLine.sales_order_id == order["id"]).order_by(
        SalesOrderLine.line_no
    )
    lines = []
    for line in ctx.session.execute(stmt).mappings():
        product = ctx.get(Product, line["product_id"])
        lines.append(
            {
                "id": ctx.derived_id("invoice_line", line["id"]),
                "product_id": line["product_id"],
                "description": product["name"] if product is not None else f"Item of {order['number']}",
                "quantity": line["quantity"],
                "unit_price": line["unit_price"],
                "tax_rate_id": line["tax_rate_id"],
            }
        )
    return lines


def _lines_from_args(ctx: CommandContext, lines: list[InvoiceLineArgs]) -> list[dict[str, Any]]:
    out, seen = [], set()
    for index, line in enumerate(lines):
        if line.id in seen:
            raise invalid(f"lines.{index}.id", "appears twice")
        seen.add(line.id)
        if ctx.get(InvoiceLine, line.id, include_deleted=True) is not None:
            raise invalid(f"lines.{index}.id", "is already used by another line")
        description = line.description
        if line.product_id is not None:
            product = ctx.require(Product, line.product_id, f"lines.{index}.product_id")
            description = description or product["name"]
        if not description:
            raise invalid(f"lines.{index}.description", "is required for a line without a product")
        out.append({**line.model_dump(), "description": description})
    return out


def _insert_lines(
    ctx: CommandContext, invoice_id: str, currency: str, lines: list[dict[str, Any]]
) -> dict[str, int]:
    """Price and insert the lines; returns the invoice's ``subtotal``, ``tax_total`` and ``total``."""
    subtotal = tax_total = 0
    priced = []
    for index, line in enumerate(lines):
        rate = tax_rate_of(ctx, line["tax_rate_id"], f"lines.{index}.tax_rate_id")
        net, tax = price_line(line["quantity"], line["unit_price"], rate, currency, f"lines.{index}.quantity")
        subtotal, tax_total = subtotal + net, tax_total + tax
        priced.append((line, net, tax))
    check_document_total(subtotal + tax_total, currency)
    for line_no, (line, net, tax) in enumerate(priced, start=1):
        ctx.insert(
            InvoiceLine,
            {
                **line,
                "invoice_id": invoice_id,
                "line_no": line_no,
                "tax_amount": tax,
                "line_total": net + tax,
            },
        )
    return {"subtotal": subtotal, "tax_total": tax_total, "total": subtotal + tax_total}


@command("sales.create_invoice", args=CreateInvoiceArgs, permission="sales.write")
def create_invoice(ctx: CommandContext, args: CreateInvoiceArgs) -> None:
    """Create a draft invoice, standalone or for a confirmed or fulfilled sales order."""
    if args.sales_order_id is not None:
        order = ctx.require(SalesOrder, args.sales_order_id, "sales_order_id")
        if order["status"] not in ("confirmed", "fulfilled"):
            raise CommandError(
                "invalid_state",
                f"sales_order_id: sales order {order['number']} is {order['status']}; "
                "only a confirmed or fulfilled order can be invoiced",
                field="sales_order_id",
                details={"status": order["status"]},
            )
        if ctx.exists(Invoice, Invoice.sales_order_id == order["id"], Invoice.status != "void"):
            raise invalid("sales_order_id", f"sales order {order['number']} has already been invoiced")
        if args.lines is not None:
            raise invalid("lines", "must be omitted when invoicing a sales order: its lines are copied")
        if args.customer_id is not None and args.customer_id != order["customer_id"]:
            raise invalid("customer_id", "is not the customer of the sales order")
        if args.currency is not None and args.currency != order["currency"]:
            raise invalid("currency", f"the sales order is in {order['currency']}")
        customer_id, currency = order["customer_id"], order["currency"]
        lines = _lines_from_order(ctx, order)
    else:
        if args.customer_id is None:
            raise invalid("customer_id", "is required for an invoice without a sales order")
        customer = active_customer(ctx, args.customer_id, "customer_id")
        customer_id, currency = args.customer_id, args.currency or customer["currency"]
        lines = _lines_from_args(ctx, list(args.lines or []))
    issue_date = args.issue_date or ctx.now.date()
    if args.due_date is not None and args.due_date < issue_date:
        raise invalid("due_date", "must not be before the issue date")
    number = ctx.numbering.next_number("invoice")
    ctx.insert(
        Invoice,
        {
            "id": args.id,
            "number": number,
            "customer_id": customer_id,
            "sales_order_id": args.sales_order_id,
            "status": "draft",
            "issue_date": issue_date,
            "due_date": args.due_date,
            "currency": currency,
            "subtotal": 0,
            "tax_total": 0,
            "total": 0,
            "amount_paid": 0,
        },
    )
    ctx.update(Invoice, args.id, _insert_lines(ctx, args.id, currency, lines))
    ctx.outcome.data["number"] = number


@command("sales.post_invoice", args=InvoiceStateArgs, permission="sales.write")
def post_invoice(ctx: CommandContext, args: InvoiceStateArgs) -> None:
    """Issue a draft invoice to the customer (draft → posted); from now on it is never edited."""
    invoice = ctx.require(Invoice, args.id, "id")
    require_transition(INVOICE_TRANSITIONS, invoice, "posted", _label(invoice))
    if not ctx.exists(InvoiceLine, InvoiceLine.invoice_id == args.id):
        raise invalid("id", f"{_label(invoice)} has no lines")
    ctx.update(Invoice, args.id, {"status": "posted"})


@command("sales.void_invoice", args=InvoiceStateArgs, permission="sales.write")
def void_invoice(ctx: CommandContext, args: InvoiceStateArgs) -> None:
    """Void a draft or posted invoice on which nothing was paid; its number stays used."""
    invoice = ctx.require(Invoice, args.id, "id")
    require_transition(INVOICE_TRANSITIONS, invoice, "void", _label(invoice))
    if invoice["amount_paid"] > 0:
        raise CommandError(
            "invalid_state",
            f"{_label(invoice)} has payments of {format_money(invoice['amount_paid'], invoice['currency'])}",
            details={"status": invoice["status"], "amount_paid": invoice["amount_paid"]},
        )
    ctx.update(Invoice, args.id, {"status": "void"})


@command("sales.record_payment", args=RecordPaymentArgs, permission="sales.write")
def record_payment(ctx: CommandContext, args: RecordPaymentArgs) -> None:
    """Record a payment against a posted invoice; paying what is due marks the invoice paid."""
    invoice = ctx.require(Invoice, args.invoice_id, "invoice_id")
    if invoice["status"] != "posted":
        raise CommandError(
            "invalid_state",
            f"invoice_id: {_label(invoice)} is {invoice['status']}; payments are recorded on posted invoices",
            field="invoice_id",
            details={"status": invoice["status"]},
        )
    if args.currency is not None and args.currency != invoice["currency"]:
        raise invalid("currency", f"{_label(invoice)} is in {invoice['currency']}")
    due = invoice["total"] - invoice["amount_paid"]
    if args.amount > due:
        raise invalid(
            "amount",
            f"{format_money(args.amount, invoice['currency'])} exceeds the "
            f"{format_money(due, invoice['currency'])} still due on {_label(invoice)}",
        )
    ctx.insert(
        Payment,
        {
            "id": args.id,
            "invoice_id": args.invoice_id,
            "customer_id": invoice["customer_id"],
            "amount": args.amount,
            "currency": invoice["currency"],
            "paid_on": args.paid_on or ctx.now.date(),
            "method": args.method,
            "reference": args.reference,
        },
    )
    paid = invoice["amount_paid"] + args.amount
    changes: dict[str, Any] = {"amount_paid": paid}
    if paid == invoice["total"]:
        require_transition(INVOICE_TRANSITIONS, invoice, "paid", _label(invoice))
        changes["status"] = "paid"
    ctx.update(Invoice, args.invoice_id, changes)

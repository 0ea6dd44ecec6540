"""Sales commands for invoices and payments, and their postings.

A draft invoice has a draft number (``DRAFT-…``); posting it gives it the next number of the
gapless ``INV-…`` series (on a workstation a provisional ``DRAFT-<device>-<n>``, replaced by the
server's) and posts it: receivables / revenue per line / output tax per rate. Life cycle:
draft → posted → paid | credited. Only a draft may be deleted; a posted invoice is never edited
or voided: a credit note (:mod:`common.commands.credit_notes`) corrects it.

Payments are append-only and post bank (or cash) / receivables; what is paid beyond the open
amount is kept as the customer's credit. An invoice in another currency than the ledger's
carries its exchange rate; a payment at another rate posts the difference to exchange
differences.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any, Literal, get_args

from pydantic import Field
from sqlalchemy import bindparam, false, select

from common.commands.fields import (
    Args,
    Currency,
    Id,
    MinorUnits,
    Percent,
    PositiveMinorUnits,
    PositiveQuantity,
    Text100,
    Text500,
)
from common.commands.framework import CommandContext, CommandError, command, invalid
from common.commands.periods import require_open_period
from common.commands.postings import (
    account_for,
    document_rate,
    exchange_difference,
    new_posting,
    settled_in_ledger,
    to_ledger,
)
from common.commands.rowaccess import session_connection
from common.commands.rules import Transitions, require_transition
from common.commands.sales import active_customer, check_document_total, price_line, tax_rate_of
from common.money import format_money
from common.schema import Invoice, InvoiceLine, Payment, Product, SalesOrder, SalesOrderLine
from common.schema.base import table_of

MAX_INVOICE_LINES = 500
PaymentMethod = Literal["bank_transfer", "card", "cash", "cheque", "direct_debit", "other"]
PAYMENT_METHODS: tuple[str, ...] = get_args(PaymentMethod)

INVOICE_TRANSITIONS: Transitions = {
    "draft": frozenset({"posted"}),
    "posted": frozenset({"paid", "credited"}),
    "paid": frozenset(),
    "credited": frozenset(),
}
# Kinds of document number: a draft's, then the gapless series given when it is posted.
DRAFT_NUMBERS = "invoice_draft"
FINAL_NUMBERS = "invoice"


class InvoiceLineArgs(Args):
    id: Id
    product_id: Id | None = None
    # Omitted: the product's name (a line without a product needs a description).
    description: Text500 | None = None
    quantity: PositiveQuantity
    unit_price: MinorUnits
    # Percent off the line (0-100): its net is quantity × unit price × (1 − discount / 100).
    discount_percent: Percent = Decimal(0)
    tax_rate_id: Id | None = None


class CreateInvoiceArgs(Args):
    id: Id
    # Either a customer with lines, or a confirmed/fulfilled sales order whose lines are copied.
    customer_id: Id | None = None
    sales_order_id: Id | None = None
    issue_date: date | None = None
    due_date: date | None = None
    currency: Currency | None = None
    # Ledger currency units per unit of ``currency``; required when it is not the ledger's.
    exchange_rate: PositiveQuantity | None = None
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
    # Ledger currency units per unit of the invoice's currency on the day of payment.
    exchange_rate: PositiveQuantity | None = None


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
                "discount_percent": line["discount_percent"],
                "tax_rate_id": line["tax_rate_id"],
            }
        )
    return lines


def lines_from_args(
    ctx: CommandContext, lines: list[InvoiceLineArgs], own: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """The lines' values; a line id may be one of ``own`` (the draft's lines) or a new one."""
    out, seen = [], set()
    for index, line in enumerate(lines):
        if line.id in seen:
            raise invalid(f"lines.{index}.id", "appears twice")
        seen.add(line.id)
        if line.id not in own and ctx.get(InvoiceLine, line.id, include_deleted=True) is not None:
            raise invalid(f"lines.{index}.id", "is already used by another line")
        description = line.description
        if line.product_id is not None:
            product = ctx.require(Product, line.product_id, f"lines.{index}.product_id")
            description = description or product["name"]
        if not description:
            raise invalid(f"lines.{index}.description", "is required for a line without a product")
        out.append({**line.model_dump(), "description": description})
    return out


Priced = list[tuple[dict[str, Any], int, int]]


def price_lines(
    ctx: CommandContext, currency: str, lines: list[dict[str, Any]]
) -> tuple[Priced, dict[str, int]]:
    """Each line with its net and tax, and the invoice's ``subtotal``, ``tax_total`` and ``total``
    (known before the invoice is written, so it is written once)."""
    subtotal = tax_total = 0
    priced = []
    for index, line in enumerate(lines):
        rate = tax_rate_of(ctx, line["tax_rate_id"], f"lines.{index}.tax_rate_id")
        net, tax = price_line(
            line["quantity"], line["unit_price"], rate, currency, f"lines.{index}.quantity",
            line["discount_percent"],
        )  # fmt: skip
        subtotal, tax_total = subtotal + net, tax_total + tax
        priced.append((line, net, tax))
    check_document_total(subtotal + tax_total, currency)
    return priced, {"subtotal": subtotal, "tax_total": tax_total, "total": subtotal + tax_total}


def _insert_lines(ctx: CommandContext, invoice_id: str, priced: Priced) -> list[dict[str, Any]]:
    return ctx.insert_many(
        InvoiceLine,
        [
            {**line, "invoice_id": invoice_id, "line_no": line_no, "tax_amount": tax, "line_total": net + tax}
            for line_no, (line, net, tax) in enumerate(priced, start=1)
        ],
    )


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
        if ctx.exists(Invoice, Invoice.sales_order_id == order["id"]):
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
        lines = lines_from_args(ctx, list(args.lines or []))
    issue_date = args.issue_date or ctx.now.date()
    if args.due_date is not None and args.due_date < issue_date:
        raise invalid("due_date", "must not be before the issue date")
    require_open_period(ctx, issue_date, "issue_date")
    rate = document_rate(ctx, currency, args.exchange_rate, "exchange_rate")
    priced, totals = price_lines(ctx, currency, lines)
    number = ctx.numbering.next_number(DRAFT_NUMBERS)
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
            **totals,
            "amount_paid": 0,
            "amount_credited": 0,
            "exchange_rate": rate,
        },
    )
    # A new invoice has no other lines: posting it later in the batch needs no query for them.
    ctx.remember_children(InvoiceLine, "invoice_id", args.id, _insert_lines(ctx, args.id, priced))
    ctx.outcome.data["number"] = number


_LINES = table_of(InvoiceLine)
_INVOICE_LINES = (
    select(*_LINES.c)
    .where(
        _LINES.c.org_id == bindparam("org"),
        _LINES.c.invoice_id == bindparam("invoice"),
        _LINES.c.deleted == false(),
    )
    .order_by(_LINES.c.line_no)
)


def invoice_lines(ctx: CommandContext, invoice_id: str) -> list[dict[str, Any]]:
    """The invoice's live lines in order (a statement built once: every posting reads them;
    none for an invoice created earlier in the same pushed batch, whose lines the batch knows)."""
    known = ctx.known_children(InvoiceLine, invoice_id)
    if known is not None:
        return known
    connection, _ = session_connection(ctx.session)
    found = connection.execute(_INVOICE_LINES, {"org": ctx.org_id, "invoice": invoice_id}).mappings()
    return [dict(row) for row in found]


def invoice_rate(invoice: dict[str, Any]) -> Decimal:
    """The invoice's exchange rate (1 for invoices from before the books)."""
    return Decimal(invoice["exchange_rate"]) if invoice["exchange_rate"] is not None else Decimal(1)


def _post_invoice_entry(ctx: CommandContext, invoice: dict[str, Any], lines: list[dict[str, Any]]) -> None:
    """Receivables / revenue per line / output tax per rate, in the ledger currency."""
    currency, rate = invoice["currency"], invoice_rate(invoice)
    posting = new_posting(ctx, currency, rate)
    ledger = posting.ledger
    label = f"Invoice {invoice['number']}"
    posting.debit(posting.account("receivables"), to_ledger(invoice["total"], currency, rate, ledger), label)
    revenue = posting.account("revenue")
    taxes: dict[str, int] = defaultdict(int)
    for line in lines:
        net = line["line_total"] - line["tax_amount"]
        posting.credit(revenue, to_ledger(net, currency, rate, ledger), line["description"])
        if line["tax_amount"]:
            taxes[line["tax_rate_id"]] += line["tax_amount"]
    for tax_rate_id, tax in sorted(taxes.items()):
        posting.credit(
            posting.tax_account(tax_rate_id, "output"), to_ledger(tax, currency, rate, ledger), "Tax"
        )
    posting.post(source="invoice", source_id=invoice["id"], entry_date=invoice["issue_date"], memo=label)


@command("sales.post_invoice", args=InvoiceStateArgs, permission="sales.write")
def post_invoice(ctx: CommandContext, args: InvoiceStateArgs) -> None:
    """Issue a draft invoice to the customer (draft → posted); from now on it is never edited."""
    invoice = ctx.require(Invoice, args.id, "id")
    require_transition(INVOICE_TRANSITIONS, invoice, "posted", _label(invoice))
    lines = invoice_lines(ctx, args.id)
    if not lines:
        raise invalid("id", f"{_label(invoice)} has no lines")
    require_open_period(ctx, invoice["issue_date"], "issue_date")
    number = ctx.numbering.next_number(FINAL_NUMBERS)
    invoice = ctx.update(Invoice, args.id, {"status": "posted", "number": number})
    _post_invoice_entry(ctx, invoice, lines)
    ctx.outcome.data["number"] = number


@command("sales.delete_invoice", args=InvoiceStateArgs, permission="sales.write")
def delete_invoice(ctx: CommandContext, args: InvoiceStateArgs) -> None:
    """Delete a draft invoice and its lines; a posted invoice is credited, never deleted."""
    invoice = ctx.require(Invoice, args.id, "id")
    if invoice["status"] != "draft":
        raise CommandError(
            "invalid_state",
            f"{_label(invoice)} is {invoice['status']}; only a draft can be deleted (issue a credit note instead)",
            details={"status": invoice["status"]},
        )
    for line in invoice_lines(ctx, args.id):
        ctx.update(InvoiceLine, line["id"], {"deleted": True})
    ctx.update(Invoice, args.id, {"deleted": True})


def open_amount(invoice: dict[str, Any]) -> int:
    """What is still due on an invoice (never below zero)."""
    return max(0, invoice["total"] - invoice["amount_paid"] - invoice["amount_credited"])


def settled_status(invoice: dict[str, Any]) -> str | None:
    """The state an invoice reaches once nothing is due: paid, or credited when nothing was paid."""
    if open_amount(invoice) > 0:
        return None
    return "paid" if invoice["amount_paid"] > 0 else "credited"


@command("sales.record_payment", args=RecordPaymentArgs, permission="sales.write")
def record_payment(ctx: CommandContext, args: RecordPaymentArgs) -> None:
    """Record a payment against a posted invoice; paying what is due marks the invoice paid and
    what is paid beyond it is kept as the customer's credit."""
    invoice = ctx.require(Invoice, args.invoice_id, "invoice_id")
    if invoice["status"] != "posted":
        raise CommandError(
            "invalid_state",
            f"invoice_id: {_label(invoice)} is {invoice['status']}; payments are recorded on posted invoices",
            field="invoice_id",
            details={"status": invoice["status"]},
        )
    currency = invoice["currency"]
    if args.currency is not None and args.currency != currency:
        raise invalid("currency", f"{_label(invoice)} is in {currency}")
    paid_on = args.paid_on or ctx.now.date()
    require_open_period(ctx, paid_on, "paid_on")
    rate = document_rate(ctx, currency, args.exchange_rate, "exchange_rate")
    applied = min(args.amount, open_amount(invoice))
    excess = args.amount - applied
    ctx.insert(
        Payment,
        {
            "id": args.id,
            "invoice_id": args.invoice_id,
            "customer_id": invoice["customer_id"],
            "amount": args.amount,
            "currency": currency,
            "paid_on": paid_on,
            "method": args.method,
            "reference": args.reference,
            "exchange_rate": rate,
            "credit_amount": excess,
        },
    )
    if excess:
        ctx.warn(
            "customer_credit",
            f"{format_money(excess, currency)} more than was due is kept as the customer's credit",
            customer_id=invoice["customer_id"],
        )
    _post_payment_entry(ctx, invoice, args, paid_on, rate, applied, excess)
    updated = {**invoice, "amount_paid": invoice["amount_paid"] + applied}
    changes: dict[str, Any] = {"amount_paid": updated["amount_paid"]}
    status = settled_status(updated)
    if status is not None:
        require_transition(INVOICE_TRANSITIONS, invoice, status, _label(invoice))
        changes["status"] = status
    ctx.update(Invoice, args.invoice_id, changes)


def _post_payment_entry(
    ctx: CommandContext,
    invoice: dict[str, Any],
    args: RecordPaymentArgs,
    paid_on: date,
    rate: Decimal,
    applied: int,
    excess: int,
) -> None:
    """Bank (or cash) / receivables at the invoice's rate / customer credit; the rest is the
    exchange difference (or rounding, when the payment's rate is the invoice's)."""
    currency, invoice_at = invoice["currency"], invoice_rate(invoice)
    posting = new_posting(ctx, currency, rate)
    ledger = posting.ledger
    label = f"Payment of {_label(invoice)}"
    received = to_ledger(args.amount, currency, rate, ledger)
    before = invoice["amount_paid"] + invoice["amount_credited"]
    relieved = settled_in_ledger(invoice["total"], before + applied, currency, invoice_at, ledger) - (
        settled_in_ledger(invoice["total"], before, currency, invoice_at, ledger)
    )
    credit = to_ledger(excess, currency, rate, ledger)
    posting.debit(account_for(ctx, "cash" if args.method == "cash" else "bank"), received, label)
    posting.credit(account_for(ctx, "receivables"), relieved, label)
    posting.credit(account_for(ctx, "customer_credit"), credit, "Paid beyond the invoice")
    exchange_difference(ctx, posting, relieved + credit - received, rate == invoice_at, "Exchange difference")
    posting.post(source="payment", source_id=args.id, entry_date=paid_on, memo=label)

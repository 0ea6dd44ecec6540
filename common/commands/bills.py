"""Supplier bills and supplier payments, and their postings.

``finance.record_supplier_bill`` records a supplier's bill, posted at once (``BILL-…``):

- from a purchase order, each line matches an order line: it clears goods received not
  invoiced at the order's cost of the quantity billed (never more than was received and not
  billed yet), and the difference between the bill's price and that cost goes to purchase price
  variance;
- a direct line names the account it is spent on (an expense, usually);
- input tax per rate; payables for the total. A bill in another currency carries its rate.

``finance.record_supplier_payment`` pays a bill, never beyond what is due: payables at the
bill's rate / bank at the payment's, the difference to exchange differences.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

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
from common.commands.finance import usable_account
from common.commands.framework import CommandContext, CommandError, command, invalid
from common.commands.invoicing import PaymentMethod
from common.commands.periods import require_open_period
from common.commands.postings import (
    account_for,
    document_rate,
    exchange_difference,
    ledger_currency,
    new_posting,
    settled_in_ledger,
    tax_account,
    to_ledger,
)
from common.commands.sales import check_document_total, price_line, tax_rate_of
from common.money import format_money, share
from common.schema import (
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
    SupplierBill,
    SupplierBillLine,
    SupplierPayment,
)

MAX_BILL_LINES = 500
BILL_NUMBERS = "supplier_bill"


class BillLineArgs(Args):
    id: Id
    # From a purchase order: the order line billed; a direct line names its account instead.
    purchase_order_line_id: Id | None = None
    account_id: Id | None = None
    product_id: Id | None = None
    description: Text500 | None = None
    quantity: PositiveQuantity
    unit_price: MinorUnits
    tax_rate_id: Id | None = None


class RecordSupplierBillArgs(Args):
    id: Id
    supplier_id: Id
    purchase_order_id: Id | None = None
    supplier_reference: Text100 | None = None
    bill_date: date | None = None
    due_date: date | None = None
    currency: Currency | None = None
    exchange_rate: PositiveQuantity | None = None
    lines: list[BillLineArgs] = Field(min_length=1, max_length=MAX_BILL_LINES)


class RecordSupplierPaymentArgs(Args):
    id: Id
    supplier_bill_id: Id
    amount: PositiveMinorUnits
    currency: Currency | None = None
    exchange_rate: PositiveQuantity | None = None
    paid_on: date | None = None
    method: PaymentMethod = "bank_transfer"
    reference: Text100 | None = None


def _order_of(ctx: CommandContext, args: RecordSupplierBillArgs) -> dict[str, Any] | None:
    if args.purchase_order_id is None:
        return None
    order = ctx.require(PurchaseOrder, args.purchase_order_id, "purchase_order_id")
    if order["supplier_id"] != args.supplier_id:
        raise invalid("purchase_order_id", f"purchase order {order['number']} is not from this supplier")
    return order


def _check_line(
    ctx: CommandContext, index: int, line: BillLineArgs, order: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, str]:
    """The order line a bill line matches (or ``None``) and its description."""
    where = f"lines.{index}"
    if ctx.get(SupplierBillLine, line.id, include_deleted=True) is not None:
        raise invalid(f"{where}.id", "is already used by another line")
    description = line.description
    if line.purchase_order_line_id is not None:
        if order is None:
            raise invalid(f"{where}.purchase_order_line_id", "needs the bill's purchase_order_id")
        if line.account_id is not None:
            raise invalid(f"{where}.account_id", "must be empty on a line of the purchase order")
        order_line = ctx.require(
            PurchaseOrderLine, line.purchase_order_line_id, f"{where}.purchase_order_line_id"
        )
        if order_line["purchase_order_id"] != order["id"]:
            raise invalid(f"{where}.purchase_order_line_id", f"is not a line of {order['number']}")
        unbilled = order_line["received_quantity"] - order_line["billed_quantity"]
        if line.quantity > unbilled:
            raise invalid(
                f"{where}.quantity", f"only {unbilled} received on this order line is not billed yet"
            )
        product = ctx.get(Product, order_line["product_id"]) or {}
        return order_line, description or product.get("name") or f"Goods of {order['number']}"
    if line.account_id is None:
        raise invalid(f"{where}.account_id", "is required on a line without a purchase order line")
    usable_account(ctx, line.account_id, f"{where}.account_id")
    if line.product_id is not None:
        description = description or ctx.require(Product, line.product_id, f"{where}.product_id")["name"]
    if not description:
        raise invalid(f"{where}.description", "is required on a line without a product")
    return None, description


@command("finance.record_supplier_bill", args=RecordSupplierBillArgs, permission="finance.post")
def record_supplier_bill(ctx: CommandContext, args: RecordSupplierBillArgs) -> None:
    """Record and post a supplier's bill, from a purchase order or direct."""
    ledger_currency(ctx)  # bills exist only in books that are set up
    supplier = ctx.require(Supplier, args.supplier_id, "supplier_id")
    order = _order_of(ctx, args)
    currency = args.currency or (order["currency"] if order else supplier["currency"])
    if order is not None and currency != order["currency"]:
        raise invalid("currency", f"purchase order {order['number']} is in {order['currency']}")
    bill_date = args.bill_date or ctx.now.date()
    if args.due_date is not None and args.due_date < bill_date:
        raise invalid("due_date", "must not be before the bill date")
    require_open_period(ctx, bill_date, "bill_date")
    rate = document_rate(ctx, currency, args.exchange_rate, "exchange_rate")
    seen: set[str] = set()
    priced = []
    for index, line in enumerate(args.lines):
        if line.id in seen:
            raise invalid(f"lines.{index}.id", "appears twice")
        seen.add(line.id)
        order_line, description = _check_line(ctx, index, line, order)
        tax_rate = tax_rate_of(ctx, line.tax_rate_id, f"lines.{index}.tax_rate_id")
        net, tax = price_line(line.quantity, line.unit_price, tax_rate, currency, f"lines.{index}.quantity")
        priced.append((line, order_line, description, net, tax))
    subtotal = sum(net for *_, net, _ in priced)
    tax_total = sum(tax for *_, tax in priced)
    check_document_total(subtotal + tax_total, currency)
    bill = ctx.insert(
        SupplierBill,
        {
            "id": args.id,
            "number": ctx.numbering.next_number(BILL_NUMBERS),
            "supplier_reference": args.supplier_reference,
            "supplier_id": args.supplier_id,
            "purchase_order_id": args.purchase_order_id,
            "status": "posted",
            "bill_date": bill_date,
            "due_date": args.due_date,
            "currency": currency,
            "exchange_rate": rate,
            "subtotal": subtotal,
            "tax_total": tax_total,
            "total": subtotal + tax_total,
            "amount_paid": 0,
        },
    )
    posting = new_posting(ctx, currency, rate)
    ledger = posting.ledger
    label = f"Bill {bill['number']}" + (f" ({args.supplier_reference})" if args.supplier_reference else "")
    taxes: dict[str, int] = defaultdict(int)
    for line_no, (line, order_line, description, net, tax) in enumerate(priced, start=1):
        ctx.insert(
            SupplierBillLine,
            {
                "id": line.id,
                "supplier_bill_id": args.id,
                "line_no": line_no,
                "purchase_order_line_id": line.purchase_order_line_id,
                "product_id": order_line["product_id"] if order_line else line.product_id,
                "account_id": line.account_id,
                "description": description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "tax_rate_id": line.tax_rate_id,
                "tax_amount": tax,
                "line_total": net + tax,
            },
        )
        net_in_ledger = to_ledger(net, currency, rate, ledger)
        if order_line is None:
            posting.debit(str(line.account_id), net_in_ledger, description)
        else:
            cleared = _clear_grni(ctx, order_line, line.quantity)
            posting.debit(account_for(ctx, "grni"), cleared, description)
            posting.debit(account_for(ctx, "purchase_price_variance"), net_in_ledger - cleared, description)
        if tax:
            taxes[str(line.tax_rate_id)] += tax
    for tax_rate_id, tax in sorted(taxes.items()):
        posting.debit(tax_account(ctx, tax_rate_id, "input"), to_ledger(tax, currency, rate, ledger), "Tax")
    posting.credit(account_for(ctx, "payables"), to_ledger(bill["total"], currency, rate, ledger), label)
    posting.post(source="supplier_bill", source_id=args.id, entry_date=bill_date, memo=label)
    ctx.outcome.data["number"] = bill["number"]


def _clear_grni(ctx: CommandContext, order_line: dict[str, Any], quantity: Decimal) -> int:
    """What billing ``quantity`` of the order line takes out of goods received not invoiced: its
    share of what is received and not billed yet (all of it for the last units)."""
    unbilled_quantity = order_line["received_quantity"] - order_line["billed_quantity"]
    unbilled_value = order_line["received_value"] - order_line["billed_value"]
    cleared = share(unbilled_value, quantity, unbilled_quantity)
    ctx.update(
        PurchaseOrderLine,
        order_line["id"],
        {
            "billed_quantity": order_line["billed_quantity"] + quantity,
            "billed_value": order_line["billed_value"] + cleared,
        },
    )
    return int(cleared)


@command("finance.record_supplier_payment", args=RecordSupplierPaymentArgs, permission="finance.post")
def record_supplier_payment(ctx: CommandContext, args: RecordSupplierPaymentArgs) -> None:
    """Pay a posted supplier bill (never beyond what is due); paying it all marks it paid."""
    bill = ctx.require(SupplierBill, args.supplier_bill_id, "supplier_bill_id")
    if bill["status"] != "posted":
        raise CommandError(
            "invalid_state",
            f"supplier_bill_id: bill {bill['number']} is {bill['status']}",
            field="supplier_bill_id",
            details={"status": bill["status"]},
        )
    currency = bill["currency"]
    if args.currency is not None and args.currency != currency:
        raise invalid("currency", f"bill {bill['number']} is in {currency}")
    due = bill["total"] - bill["amount_paid"]
    if args.amount > due:
        raise invalid(
            "amount",
            f"{format_money(args.amount, currency)} exceeds the {format_money(due, currency)} "
            f"still due on bill {bill['number']}",
        )
    paid_on = args.paid_on or ctx.now.date()
    require_open_period(ctx, paid_on, "paid_on")
    rate = document_rate(ctx, currency, args.exchange_rate, "exchange_rate")
    ctx.insert(
        SupplierPayment,
        {
            "id": args.id,
            "supplier_bill_id": bill["id"],
            "supplier_id": bill["supplier_id"],
            "amount": args.amount,
            "currency": currency,
            "exchange_rate": rate,
            "paid_on": paid_on,
            "method": args.method,
            "reference": args.reference,
        },
    )
    bill_rate = Decimal(bill["exchange_rate"])
    posting = new_posting(ctx, currency, rate)
    ledger = posting.ledger
    label = f"Payment of bill {bill['number']}"
    paid = to_ledger(args.amount, currency, rate, ledger)
    relieved = settled_in_ledger(
        bill["total"], bill["amount_paid"] + args.amount, currency, bill_rate, ledger
    ) - (settled_in_ledger(bill["total"], bill["amount_paid"], currency, bill_rate, ledger))
    posting.debit(account_for(ctx, "payables"), relieved, label)
    posting.credit(account_for(ctx, "cash" if args.method == "cash" else "bank"), paid, label)
    exchange_difference(ctx, posting, paid - relieved, rate == bill_rate, "Exchange difference")
    posting.post(source="supplier_payment", source_id=args.id, entry_date=paid_on, memo=label)
    changes: dict[str, Any] = {"amount_paid": bill["amount_paid"] + args.amount}
    if changes["amount_paid"] == bill["total"]:
        changes["status"] = "paid"
    ctx.update(SupplierBill, bill["id"], changes)

"""Open items brought from the old system: the invoices customers still owe, the bills still unpaid.

``finance.record_opening_invoice`` records a posted invoice for what a customer still owes on a
document of the old system; ``finance.record_opening_bill`` a posted supplier bill for what is
still owed to a supplier. Each has one line, no tax and no revenue or expense: the invoice
debits receivables and credits the temporary opening account (posting role ``opening``), the
bill debits the temporary opening account and credits payables. The account-level opening
balances name the temporary opening account where the old trial balance had receivables and
payables, so once both are imported it is zero.

Numbers: an opening invoice keeps the old system's number as its own. It was issued, and
numbered legally, by the old system, and the customer pays it by that number; giving it the next
number of this system's gapless ``INV-`` series would put a document in that series that this
system never issued. Numbers of this system's own series (``INV-000042``, ``DRAFT-…``) are
refused, so the series can never meet one. An opening bill is numbered like any bill (``BILL-…``:
the organization's register of bills received) and keeps the supplier's number as its
``supplier_reference``, as every bill does. Either is found by the old number in its list and in
the command palette.

The same partner and old number twice is refused (the import plans nothing for it): importing
the same file again, even from another workstation, changes nothing. Afterwards the documents
are ordinary posted invoices and bills: aging, statements, payments and credit notes treat them
like any other.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from common.commands.books import role_account
from common.commands.fields import (
    Args,
    Currency,
    Id,
    PositiveMinorUnits,
    PositiveQuantity,
    Text40,
    Text100,
    Text500,
)
from common.commands.framework import CommandContext, command, invalid
from common.commands.periods import require_open_period
from common.commands.postings import account_for, document_rate, ledger_currency, new_posting, to_ledger
from common.commands.sales import active_customer
from common.numbering import is_own_number
from common.schema import Invoice, InvoiceLine, Supplier, SupplierBill, SupplierBillLine

OPENING_ROLE = "opening"
BILL_NUMBERS = "supplier_bill"


class RecordOpeningInvoiceArgs(Args):
    id: Id
    customer_id: Id
    # The old system's invoice number: this invoice's number.
    number: Text40
    issue_date: date
    due_date: date | None = None
    # What the customer still owes on it, in ``currency``.
    amount: PositiveMinorUnits
    currency: Currency | None = None
    exchange_rate: PositiveQuantity | None = None
    description: Text500 | None = None


class RecordOpeningBillArgs(Args):
    id: Id
    supplier_id: Id
    # The supplier's number of the bill (as the old system kept it).
    supplier_reference: Text100
    bill_date: date
    due_date: date | None = None
    amount: PositiveMinorUnits
    currency: Currency | None = None
    exchange_rate: PositiveQuantity | None = None
    description: Text500 | None = None


def opening_number_problem(number: str) -> str | None:
    """Why ``number`` cannot be an opening invoice's number, or ``None``."""
    if is_own_number(number):
        return f"“{number}” is a number of this system's own series; give the old system's number"
    return None


def _check_dates(issued: date, due: date | None, field: str) -> None:
    if due is not None and due < issued:
        raise invalid("due_date", f"must not be before the {field}")


@command("finance.record_opening_invoice", args=RecordOpeningInvoiceArgs, permission="finance.post")
def record_opening_invoice(ctx: CommandContext, args: RecordOpeningInvoiceArgs) -> None:
    """Record what a customer still owes on an old system's invoice, as a posted invoice."""
    ledger_currency(ctx)  # opening items exist only in books that are set up
    customer = active_customer(ctx, args.customer_id, "customer_id")
    problem = opening_number_problem(args.number)
    if problem is not None:
        raise invalid("number", problem)
    ctx.ensure_unique(Invoice, "number", args.number, "number")  # in the books already
    _check_dates(args.issue_date, args.due_date, "issue date")
    require_open_period(ctx, args.issue_date, "issue_date")
    currency = args.currency or customer["currency"]
    rate = document_rate(ctx, currency, args.exchange_rate, "exchange_rate")
    opening = role_account(ctx, OPENING_ROLE)
    description = args.description or f"Open balance of invoice {args.number}"
    invoice = ctx.insert(
        Invoice,
        {
            "id": args.id,
            "number": args.number,
            "customer_id": args.customer_id,
            "sales_order_id": None,
            "status": "posted",
            "issue_date": args.issue_date,
            "due_date": args.due_date,
            "currency": currency,
            "subtotal": args.amount,
            "tax_total": 0,
            "total": args.amount,
            "amount_paid": 0,
            "amount_credited": 0,
            "exchange_rate": rate,
        },
    )
    ctx.insert(
        InvoiceLine,
        {
            "id": ctx.derived_id("invoice_line", args.id),
            "invoice_id": args.id,
            "line_no": 1,
            "product_id": None,
            "description": description,
            "quantity": Decimal(1),
            "unit_price": args.amount,
            "tax_rate_id": None,
            "tax_amount": 0,
            "line_total": args.amount,
        },
    )
    posting = new_posting(ctx, currency, rate)
    label = f"Opening invoice {args.number}"
    value = to_ledger(args.amount, currency, rate, posting.ledger)
    posting.debit(account_for(ctx, "receivables"), value, label)
    posting.credit(opening, value, description)
    posting.post(source="invoice", source_id=invoice["id"], entry_date=args.issue_date, memo=label)
    ctx.outcome.data["number"] = args.number


@command("finance.record_opening_bill", args=RecordOpeningBillArgs, permission="finance.post")
def record_opening_bill(ctx: CommandContext, args: RecordOpeningBillArgs) -> None:
    """Record what is still owed to a supplier on a bill of the old system, as a posted bill."""
    ledger_currency(ctx)
    supplier = ctx.require(Supplier, args.supplier_id, "supplier_id")
    if ctx.exists(
        SupplierBill,
        SupplierBill.supplier_id == args.supplier_id,
        SupplierBill.supplier_reference == args.supplier_reference,
    ):
        raise invalid(
            "supplier_reference",
            f"a bill of {supplier['name']} numbered {args.supplier_reference} is already in the books",
        )
    _check_dates(args.bill_date, args.due_date, "bill date")
    require_open_period(ctx, args.bill_date, "bill_date")
    currency = args.currency or supplier["currency"]
    rate = document_rate(ctx, currency, args.exchange_rate, "exchange_rate")
    opening = role_account(ctx, OPENING_ROLE)
    description = args.description or f"Open balance of bill {args.supplier_reference}"
    number = ctx.numbering.next_number(BILL_NUMBERS)
    ctx.insert(
        SupplierBill,
        {
            "id": args.id,
            "number": number,
            "supplier_reference": args.supplier_reference,
            "supplier_id": args.supplier_id,
            "purchase_order_id": None,
            "status": "posted",
            "bill_date": args.bill_date,
            "due_date": args.due_date,
            "currency": currency,
            "exchange_rate": rate,
            "subtotal": args.amount,
            "tax_total": 0,
            "total": args.amount,
            "amount_paid": 0,
        },
    )
    ctx.insert(
        SupplierBillLine,
        {
            "id": ctx.derived_id("supplier_bill_line", args.id),
            "supplier_bill_id": args.id,
            "line_no": 1,
            "purchase_order_line_id": None,
            "product_id": None,
            "account_id": opening or None,
            "description": description,
            "quantity": Decimal(1),
            "unit_price": args.amount,
            "tax_rate_id": None,
            "tax_amount": 0,
            "line_total": args.amount,
        },
    )
    posting = new_posting(ctx, currency, rate)
    label = f"Opening bill {number} ({args.supplier_reference})"
    value = to_ledger(args.amount, currency, rate, posting.ledger)
    posting.debit(opening, value, description)
    posting.credit(account_for(ctx, "payables"), value, label)
    posting.post(source="supplier_bill", source_id=args.id, entry_date=args.bill_date, memo=label)
    ctx.outcome.data["number"] = number

"""Editing a draft invoice: its header and its lines, until it is posted.

A draft (``DRAFT-…``, not yet issued to the customer) is edited like a draft sales order: the
header by per-field compare-and-set (``sales.update_invoice``), the lines replaced as a whole
(``sales.set_invoice_lines``), with the totals worked out again by the helpers that priced them
when the invoice was created. A posted invoice is never edited: a credit note corrects it.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from common.commands.fields import Args, Id, UpdateArgs, changes_of
from common.commands.framework import CommandContext, CommandError, apply_field_changes, command, invalid
from common.commands.invoicing import (
    MAX_INVOICE_LINES,
    CreateInvoiceArgs,
    InvoiceLineArgs,
    invoice_lines,
    lines_from_args,
    price_lines,
)
from common.commands.periods import require_open_period
from common.commands.postings import document_rate
from common.commands.sales import active_customer
from common.schema import Invoice, InvoiceLine, TimesheetEntry

InvoiceChanges = changes_of(
    CreateInvoiceArgs, "InvoiceChanges", only=("customer_id", "issue_date", "due_date", "exchange_rate")
)


class SetInvoiceLinesArgs(Args):
    id: Id
    lines: list[InvoiceLineArgs] = Field(max_length=MAX_INVOICE_LINES)


def _draft_invoice(ctx: CommandContext, invoice_id: str) -> dict[str, Any]:
    invoice = ctx.require(Invoice, invoice_id, "id")
    if invoice["status"] != "draft":
        raise CommandError(
            "invalid_state",
            f"invoice {invoice['number']} is {invoice['status']}; only a draft can be edited "
            "(issue a credit note instead)",
            details={"status": invoice["status"]},
        )
    return invoice


@command("sales.update_invoice", args=UpdateArgs, permission="sales.write")
def update_invoice(ctx: CommandContext, args: UpdateArgs) -> None:
    """Change a draft invoice's customer, dates or exchange rate (per-field compare-and-set)."""
    invoice = _draft_invoice(ctx, args.id)
    customer_id = args.changes.get("customer_id")
    if "customer_id" in args.changes and invoice["sales_order_id"] is not None:
        raise invalid("changes.customer_id", "an invoice of a sales order is for the order's customer")
    if isinstance(customer_id, str):
        active_customer(ctx, customer_id, "changes.customer_id")
    updated = apply_field_changes(
        ctx, Invoice, args.id, InvoiceChanges, args.changes, args.base, current=invoice
    )
    if updated["due_date"] is not None and updated["due_date"] < updated["issue_date"]:
        field = "changes.due_date" if "due_date" in args.changes else "changes.issue_date"
        raise invalid(field, "the due date must not be before the issue date")
    if "issue_date" in args.changes:
        require_open_period(ctx, updated["issue_date"], "changes.issue_date")
    if "exchange_rate" in args.changes:
        document_rate(ctx, updated["currency"], updated["exchange_rate"], "changes.exchange_rate")


@command("sales.set_invoice_lines", args=SetInvoiceLinesArgs, permission="sales.write")
def set_invoice_lines(ctx: CommandContext, args: SetInvoiceLinesArgs) -> None:
    """Replace the lines of a draft invoice and work out its totals again."""
    invoice = _draft_invoice(ctx, args.id)
    current = {line["id"]: line for line in invoice_lines(ctx, args.id)}
    lines = lines_from_args(ctx, list(args.lines), own=frozenset(current))
    priced, totals = price_lines(ctx, invoice["currency"], lines)
    for line_id in set(current) - {line["id"] for line in lines}:
        # Billed hours point at their line for good (set once): that line stays.
        if ctx.exists(TimesheetEntry, TimesheetEntry.invoice_line_id == line_id):
            raise invalid(
                "lines",
                f"the line '{current[line_id]['description']}' bills project time and cannot be removed",
            )
        ctx.update(InvoiceLine, line_id, {"deleted": True})
    for line_no, (line, net, tax) in enumerate(priced, start=1):
        values = {
            **line,
            "invoice_id": args.id,
            "line_no": line_no,
            "tax_amount": tax,
            "line_total": net + tax,
        }
        if line["id"] in current:
            ctx.update(InvoiceLine, line["id"], {k: v for k, v in values.items() if k != "id"})
        else:
            ctx.insert(InvoiceLine, values)
    ctx.update(Invoice, args.id, totals)

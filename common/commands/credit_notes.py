"""Credit notes: a posted invoice is corrected by crediting it, in full or by line.

``sales.issue_credit_note`` numbers the credit note in its own gapless series (``CN-…``; a
provisional ``DRAFT-…`` number on a workstation) and posts the opposite of the invoice's lines
it credits: revenue and output tax / receivables, at the invoice's exchange rate. What it credits
beyond what is still due on the invoice (an invoice already paid) becomes the customer's credit.
A line's net and tax are credited in proportion to the quantity credited: each part takes its
share of what is still uncredited on the line, and the part that credits its last units takes all
that is left, so the parts of a line (one note or many) add up to exactly what it charged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import Field

from common.commands.fields import Args, Id, OptText500, PositiveQuantity
from common.commands.framework import CommandContext, CommandError, command, invalid
from common.commands.invoicing import (
    INVOICE_TRANSITIONS,
    MAX_INVOICE_LINES,
    invoice_lines,
    invoice_rate,
    open_amount,
    settled_status,
)
from common.commands.periods import require_open_period
from common.commands.postings import account_for, new_posting, settled_in_ledger, tax_account, to_ledger
from common.commands.rules import require_transition
from common.money import share
from common.schema import CreditNote, CreditNoteLine, Invoice

CREDIT_NOTE_NUMBERS = "credit_note"


class CreditLineArgs(Args):
    invoice_line_id: Id
    # Omitted: all of the line not credited yet.
    quantity: PositiveQuantity | None = None


class IssueCreditNoteArgs(Args):
    id: Id
    invoice_id: Id
    issue_date: date | None = None
    reason: OptText500 | None = None
    # Omitted: everything on the invoice not credited yet.
    lines: list[CreditLineArgs] | None = Field(default=None, min_length=1, max_length=MAX_INVOICE_LINES)


@dataclass
class _Credited:
    """What the credit notes so far took of one invoice line."""

    quantity: Decimal = Decimal(0)
    net: int = 0
    tax: int = 0


def _credited_so_far(ctx: CommandContext, invoice_id: str) -> dict[str, _Credited]:
    """Quantity, net and tax already credited per invoice line."""
    notes = [
        row["id"]
        for row in ctx.session.execute(ctx.select(CreditNote, CreditNote.invoice_id == invoice_id)).mappings()
    ]
    credited: dict[str, _Credited] = defaultdict(_Credited)
    if notes:
        stmt = ctx.select(CreditNoteLine, CreditNoteLine.credit_note_id.in_(notes))
        for row in ctx.session.execute(stmt).mappings():
            so_far = credited[row["invoice_line_id"]]
            so_far.quantity += row["quantity"]
            so_far.net += row["line_total"] - row["tax_amount"]
            so_far.tax += row["tax_amount"]
    return credited


def _credit_amounts(line: dict[str, Any], quantity: Decimal, so_far: _Credited) -> tuple[int, int]:
    """The net and tax crediting ``quantity`` of ``line`` gives back: its share of what the notes
    so far left uncredited. Each part stays within what is left, and the last units take all of
    it, so however the line is credited in parts they add up to what it charged."""
    left = line["quantity"] - so_far.quantity
    net_left = line["line_total"] - line["tax_amount"] - so_far.net
    tax_left = line["tax_amount"] - so_far.tax
    return share(net_left, quantity, left), share(tax_left, quantity, left)


def _wanted(
    args: IssueCreditNoteArgs, lines: dict[str, dict[str, Any]], credited: dict[str, _Credited]
) -> list[tuple[dict[str, Any], Decimal]]:
    if args.lines is None:
        picked = [(line, line["quantity"] - credited[line["id"]].quantity) for line in lines.values()]
        return [(line, quantity) for line, quantity in picked if quantity > 0]
    out, seen = [], set()
    for index, wanted in enumerate(args.lines):
        line = lines.get(wanted.invoice_line_id)
        if line is None:
            raise invalid(f"lines.{index}.invoice_line_id", "is not a line of the invoice")
        if wanted.invoice_line_id in seen:
            raise invalid(f"lines.{index}.invoice_line_id", "appears twice")
        seen.add(wanted.invoice_line_id)
        left = line["quantity"] - credited[line["id"]].quantity
        quantity = wanted.quantity if wanted.quantity is not None else left
        if quantity > left or left <= 0:
            raise invalid(f"lines.{index}.quantity", f"only {left} of the line is left to credit")
        out.append((line, quantity))
    return out


@command("sales.issue_credit_note", args=IssueCreditNoteArgs, permission="sales.write")
def issue_credit_note(ctx: CommandContext, args: IssueCreditNoteArgs) -> None:
    """Credit a posted invoice in full or by line (its own gapless series), posted at once."""
    invoice = ctx.require(Invoice, args.invoice_id, "invoice_id")
    if invoice["status"] not in ("posted", "paid"):
        raise CommandError(
            "invalid_state",
            f"invoice_id: invoice {invoice['number']} is {invoice['status']}; only posted or paid "
            "invoices are credited (a draft is deleted)",
            field="invoice_id",
            details={"status": invoice["status"]},
        )
    lines = {line["id"]: line for line in invoice_lines(ctx, args.invoice_id)}
    credited = _credited_so_far(ctx, args.invoice_id)
    picked = _wanted(args, lines, credited)
    if not picked:
        raise invalid("invoice_id", f"invoice {invoice['number']} has been credited in full")
    issue_date = args.issue_date or ctx.now.date()
    if issue_date < invoice["issue_date"]:
        raise invalid("issue_date", "must not be before the invoice's issue date")
    require_open_period(ctx, issue_date, "issue_date")
    number = ctx.numbering.next_number(CREDIT_NOTE_NUMBERS)
    credit_lines = []
    for line_no, (line, quantity) in enumerate(picked, start=1):
        net, tax = _credit_amounts(line, quantity, credited[line["id"]])
        credit_lines.append(
            {
                "id": ctx.derived_id("credit_note_line", line["id"]),
                "credit_note_id": args.id,
                "invoice_line_id": line["id"],
                "line_no": line_no,
                "description": line["description"],
                "quantity": quantity,
                "unit_price": line["unit_price"],
                "discount_percent": line["discount_percent"],
                "tax_rate_id": line["tax_rate_id"],
                "tax_amount": tax,
                "line_total": net + tax,
            }
        )
    subtotal = sum(line["line_total"] - line["tax_amount"] for line in credit_lines)
    tax_total = sum(line["tax_amount"] for line in credit_lines)
    note = ctx.insert(
        CreditNote,
        {
            "id": args.id,
            "number": number,
            "invoice_id": invoice["id"],
            "customer_id": invoice["customer_id"],
            "issue_date": issue_date,
            "currency": invoice["currency"],
            "exchange_rate": invoice_rate(invoice),
            "subtotal": subtotal,
            "tax_total": tax_total,
            "total": subtotal + tax_total,
            "reason": args.reason,
        },
    )
    for line in credit_lines:
        ctx.insert(CreditNoteLine, line)
    _post_credit_note(ctx, invoice, note, credit_lines, list(lines.values()), credited)
    updated = {**invoice, "amount_credited": invoice["amount_credited"] + note["total"]}
    changes: dict[str, Any] = {"amount_credited": updated["amount_credited"]}
    status = settled_status(updated)
    if status is not None and invoice["status"] == "posted":
        require_transition(INVOICE_TRANSITIONS, invoice, status, f"invoice {invoice['number']}")
        changes["status"] = status
    ctx.update(Invoice, invoice["id"], changes)
    ctx.outcome.data["number"] = number


def _post_credit_note(
    ctx: CommandContext,
    invoice: dict[str, Any],
    note: dict[str, Any],
    lines: list[dict[str, Any]],
    invoiced: list[dict[str, Any]],
    credited: dict[str, _Credited],
) -> None:
    """Revenue and output tax / receivables (what was still due) and customer credit (the rest).

    In the ledger currency each amount is the difference of the converted amounts credited after
    and before this note (``invoiced``: the invoice's lines; ``credited``: what the notes before
    took of them), as payments settle receivables: the notes of a line add up to the revenue its
    invoice posted, and those of a tax rate to its output tax, whatever the rounding of each.
    """
    currency, rate = invoice["currency"], invoice_rate(invoice)
    posting = new_posting(ctx, currency, rate)
    ledger = posting.ledger

    def credited_in_ledger(before: int, amount: int) -> int:
        return to_ledger(before + amount, currency, rate, ledger) - to_ledger(before, currency, rate, ledger)

    label = f"Credit note {note['number']} for invoice {invoice['number']}"
    revenue = account_for(ctx, "revenue")
    taxes: dict[str, int] = defaultdict(int)
    for line in lines:
        before = credited[line["invoice_line_id"]].net
        posting.debit(
            revenue, credited_in_ledger(before, line["line_total"] - line["tax_amount"]), line["description"]
        )
        if line["tax_amount"]:
            taxes[line["tax_rate_id"]] += line["tax_amount"]
    for tax_rate_id, tax in sorted(taxes.items()):
        before = sum(credited[line["id"]].tax for line in invoiced if line["tax_rate_id"] == tax_rate_id)
        posting.debit(tax_account(ctx, tax_rate_id, "output"), credited_in_ledger(before, tax), "Tax")
    due = open_amount(invoice)
    applied = min(note["total"], due)
    before = invoice["total"] - due
    relieved = settled_in_ledger(
        invoice["total"], before + applied, currency, rate, ledger
    ) - settled_in_ledger(invoice["total"], before, currency, rate, ledger)
    posting.credit(account_for(ctx, "receivables"), relieved, label)
    posting.credit(
        account_for(ctx, "customer_credit"),
        to_ledger(note["total"] - applied, currency, rate, ledger),
        "Credited beyond what was due",
    )
    posting.post(source="credit_note", source_id=note["id"], entry_date=note["issue_date"], memo=label)

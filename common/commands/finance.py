"""Finance commands: chart of accounts, tax rates, fiscal periods and journal entries.

A journal entry is posted once and never edited: it balances per currency (debits = credits),
has at least two lines, and falls in an open fiscal period when a period covers its date. It is
corrected by a reversing entry. Closing and reopening a period needs ``finance.close_period``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any, Literal, get_args

from pydantic import Field, ValidationInfo, field_validator

from common.commands.fields import (
    Args,
    Changes,
    Currency,
    Id,
    MinorUnits,
    Name,
    OptText500,
    Percent,
    ShortCode,
    Text40,
    UpdateArgs,
)
from common.commands.framework import CommandContext, CommandError, apply_field_changes, command, invalid
from common.commands.rules import Transitions, require_parent, require_transition
from common.money import format_money
from common.schema import Account, FiscalPeriod, JournalEntry, JournalLine, TaxRate

AccountType = Literal["asset", "liability", "equity", "income", "expense"]
ACCOUNT_TYPES: tuple[str, ...] = get_args(AccountType)
MAX_JOURNAL_LINES = 1000
Memo = OptText500

FISCAL_PERIOD_TRANSITIONS: Transitions = {
    "open": frozenset({"closed"}),
    "closed": frozenset({"open"}),
}


# -- accounts --------------------------------------------------------------------------------


class CreateAccountArgs(Args):
    id: Id
    code: ShortCode
    name: Name
    type: AccountType
    parent_id: Id | None = None


class AccountChanges(Changes):
    code: ShortCode | None = None
    name: Name | None = None
    type: AccountType | None = None
    parent_id: Id | None = None
    archived: bool | None = None


@command("finance.create_account", args=CreateAccountArgs, permission="finance.post")
def create_account(ctx: CommandContext, args: CreateAccountArgs) -> None:
    """Create an account of the chart of accounts; its code is unique in the organization."""
    ctx.ensure_unique(Account, "code", args.code, "code")
    if args.parent_id is not None:
        require_parent(ctx, Account, args.id, args.parent_id, "parent_id")
    ctx.insert(Account, args.model_dump())


@command("finance.update_account", args=UpdateArgs, permission="finance.post")
def update_account(ctx: CommandContext, args: UpdateArgs) -> None:
    """Change an account's code, name, type or parent, or archive it (compare-and-set)."""
    if isinstance(args.changes.get("code"), str):
        ctx.ensure_unique(Account, "code", args.changes["code"].strip(), "changes.code", exclude=args.id)
    if isinstance(args.changes.get("parent_id"), str):
        require_parent(ctx, Account, args.id, args.changes["parent_id"], "changes.parent_id")
    apply_field_changes(ctx, Account, args.id, AccountChanges, args.changes, args.base)


# -- tax rates -------------------------------------------------------------------------------


class CreateTaxRateArgs(Args):
    id: Id
    code: ShortCode
    name: Name
    rate: Percent


class TaxRateChanges(Changes):
    code: ShortCode | None = None
    name: Name | None = None
    rate: Percent | None = None
    archived: bool | None = None


@command("finance.create_tax_rate", args=CreateTaxRateArgs, permission="finance.post")
def create_tax_rate(ctx: CommandContext, args: CreateTaxRateArgs) -> None:
    """Create a tax rate (a percentage); lines already priced keep the tax they were given."""
    ctx.ensure_unique(TaxRate, "code", args.code, "code")
    ctx.insert(TaxRate, args.model_dump())


@command("finance.update_tax_rate", args=UpdateArgs, permission="finance.post")
def update_tax_rate(ctx: CommandContext, args: UpdateArgs) -> None:
    """Change a tax rate's code, name or percentage, or archive it (compare-and-set)."""
    if isinstance(args.changes.get("code"), str):
        ctx.ensure_unique(TaxRate, "code", args.changes["code"].strip(), "changes.code", exclude=args.id)
    apply_field_changes(ctx, TaxRate, args.id, TaxRateChanges, args.changes, args.base)


# -- fiscal periods --------------------------------------------------------------------------


class CreateFiscalPeriodArgs(Args):
    id: Id
    name: Text40
    start_date: date
    end_date: date

    @field_validator("end_date")
    @classmethod
    def _ordered(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        if start is not None and value < start:
            raise ValueError("must not be before start_date")
        return value


class FiscalPeriodStateArgs(Args):
    id: Id


def period_covering(ctx: CommandContext, day: date) -> dict[str, Any] | None:
    """The fiscal period whose dates include ``day``, if any (periods never overlap)."""
    stmt = ctx.select(FiscalPeriod, FiscalPeriod.start_date <= day, FiscalPeriod.end_date >= day)
    found = ctx.session.execute(stmt.limit(1)).mappings().first()
    return dict(found) if found is not None else None


@command("finance.create_fiscal_period", args=CreateFiscalPeriodArgs, permission="finance.post")
def create_fiscal_period(ctx: CommandContext, args: CreateFiscalPeriodArgs) -> None:
    """Create an open fiscal period; periods of one organization never overlap."""
    ctx.ensure_unique(FiscalPeriod, "name", args.name, "name")
    overlap = (
        ctx.session.execute(
            ctx.select(
                FiscalPeriod,
                FiscalPeriod.start_date <= args.end_date,
                FiscalPeriod.end_date >= args.start_date,
            ).limit(1)
        )
        .mappings()
        .first()
    )
    if overlap is not None:
        raise invalid("start_date", f"the period overlaps fiscal period {overlap['name']}")
    ctx.insert(FiscalPeriod, {**args.model_dump(), "status": "open"})


def _move_period(ctx: CommandContext, period_id: str, target: str) -> None:
    period = ctx.require(FiscalPeriod, period_id, "id")
    require_transition(FISCAL_PERIOD_TRANSITIONS, period, target, f"fiscal period {period['name']}")
    ctx.update(FiscalPeriod, period_id, {"status": target})


@command("finance.close_fiscal_period", args=FiscalPeriodStateArgs, permission="finance.close_period")
def close_fiscal_period(ctx: CommandContext, args: FiscalPeriodStateArgs) -> None:
    """Close a period: nothing more can be posted on its dates (open → closed)."""
    _move_period(ctx, args.id, "closed")


@command("finance.reopen_fiscal_period", args=FiscalPeriodStateArgs, permission="finance.close_period")
def reopen_fiscal_period(ctx: CommandContext, args: FiscalPeriodStateArgs) -> None:
    """Reopen a closed period (closed → open)."""
    _move_period(ctx, args.id, "open")


# -- journal entries -------------------------------------------------------------------------


class JournalLineArgs(Args):
    account_id: Id
    debit: MinorUnits = 0
    credit: MinorUnits = 0
    # Omitted: the entry's currency.
    currency: Currency | None = None
    memo: Memo | None = None


class PostJournalEntryArgs(Args):
    id: Id
    entry_date: date
    currency: Currency
    memo: Memo | None = None
    lines: list[JournalLineArgs] = Field(min_length=2, max_length=MAX_JOURNAL_LINES)


class ReverseJournalEntryArgs(Args):
    id: Id
    entry_id: Id
    # Omitted: today.
    entry_date: date | None = None
    memo: Memo | None = None


def _open_period_id(ctx: CommandContext, day: date) -> str | None:
    period = period_covering(ctx, day)
    if period is None:
        return None
    if period["status"] != "open":
        raise CommandError(
            "invalid_state",
            f"entry_date: {day.isoformat()} falls in fiscal period {period['name']}, which is closed",
            field="entry_date",
            details={"status": period["status"], "fiscal_period_id": period["id"]},
        )
    return str(period["id"])


def post_entry(
    ctx: CommandContext,
    *,
    entry_id: str,
    entry_date: date,
    memo: str | None,
    lines: list[dict[str, Any]],
    source: str = "manual",
    source_id: str | None = None,
    reverses_entry_id: str | None = None,
    allow_archived: bool = False,
) -> dict[str, Any]:
    """Validate and post one entry; ``lines`` hold ``account_id, debit, credit, currency, memo``.

    The one way any command writes to the ledger, so every entry obeys the same rules. A
    reversal may touch accounts archived since (``allow_archived``).
    """
    if len(lines) < 2:
        raise invalid("lines", "an entry needs at least two lines")
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for index, line in enumerate(lines):
        if (line["debit"] > 0) == (line["credit"] > 0):
            raise invalid(f"lines.{index}.debit", "exactly one of debit and credit must be above zero")
        account = ctx.require(Account, line["account_id"], f"lines.{index}.account_id")
        if account["archived"] and not allow_archived:
            raise invalid(f"lines.{index}.account_id", f"account {account['code']} is archived")
        totals[line["currency"]][0] += line["debit"]
        totals[line["currency"]][1] += line["credit"]
    for currency, (debit, credit) in sorted(totals.items()):
        if debit != credit:
            raise invalid(
                "lines",
                f"debits ({format_money(debit, currency)}) and credits ({format_money(credit, currency)}) "
                "must be equal",
            )
    entry = ctx.insert(
        JournalEntry,
        {
            "id": entry_id,
            "number": ctx.numbering.next_number("journal_entry"),
            "entry_date": entry_date,
            "fiscal_period_id": _open_period_id(ctx, entry_date),
            "memo": memo,
            "source": source,
            "source_id": source_id,
            "reverses_entry_id": reverses_entry_id,
        },
    )
    for line_no, line in enumerate(lines, start=1):
        ctx.insert(
            JournalLine,
            {
                "id": ctx.derived_id("journal_line", entry_id, str(line_no)),
                "journal_entry_id": entry_id,
                "line_no": line_no,
                "account_id": line["account_id"],
                "debit": line["debit"],
                "credit": line["credit"],
                "currency": line["currency"],
                "memo": line["memo"],
                "entry_date": entry_date,
            },
        )
    ctx.outcome.data["number"] = entry["number"]
    return entry


@command("finance.post_journal_entry", args=PostJournalEntryArgs, permission="finance.post")
def post_journal_entry(ctx: CommandContext, args: PostJournalEntryArgs) -> None:
    """Post a balanced journal entry (append-only: corrected by reversal, never edited)."""
    lines = [{**line.model_dump(), "currency": line.currency or args.currency} for line in args.lines]
    post_entry(ctx, entry_id=args.id, entry_date=args.entry_date, memo=args.memo, lines=lines)


@command("finance.reverse_journal_entry", args=ReverseJournalEntryArgs, permission="finance.post")
def reverse_journal_entry(ctx: CommandContext, args: ReverseJournalEntryArgs) -> None:
    """Post the exact opposite of an entry, once; the original stays as it was."""
    original = ctx.require(JournalEntry, args.entry_id, "entry_id")
    if original["reverses_entry_id"] is not None:
        raise invalid(
            "entry_id", f"entry {original['number']} is itself a reversal; post a new entry instead"
        )
    if ctx.exists(JournalEntry, JournalEntry.reverses_entry_id == args.entry_id):
        raise invalid("entry_id", f"entry {original['number']} has already been reversed")
    stmt = ctx.select(JournalLine, JournalLine.journal_entry_id == args.entry_id).order_by(
        JournalLine.line_no
    )
    lines = [
        {
            "account_id": line["account_id"],
            "debit": line["credit"],
            "credit": line["debit"],
            "currency": line["currency"],
            "memo": line["memo"],
        }
        for line in ctx.session.execute(stmt).mappings()
    ]
    post_entry(
        ctx,
        entry_id=args.id,
        entry_date=args.entry_date or ctx.now.date(),
        memo=args.memo or f"Reversal of {original['number']}",
        lines=lines,
        source="reversal",
        source_id=args.entry_id,
        reverses_entry_id=args.entry_id,
        allow_archived=True,  # undoing a posting to an account archived since is still allowed
    )

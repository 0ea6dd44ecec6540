"""Finance commands: chart of accounts, tax rates, fiscal periods and journal entries.

A journal entry is posted once and never edited: it balances per currency (debits = credits),
has at least two lines, and falls in an open fiscal period when a period covers its date (else
``period_closed``). Once the books are set up, manual entries are in the ledger currency. It is
corrected by a reversing entry. Closing and reopening a period needs ``finance.close_period``.
The opening balances are one entry of source ``opening_balance``, posted once (until reversed).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, get_args

from pydantic import Field, ValidationInfo, field_validator

from common.commands.fields import (
    Args,
    Currency,
    Id,
    MinorUnits,
    Name,
    OptText500,
    Percent,
    ShortCode,
    Text40,
    UpdateArgs,
    changes_of,
)
from common.commands.framework import CommandContext, CommandError, apply_field_changes, command, invalid
from common.commands.periods import require_open_period
from common.commands.rules import Transitions, require_parent, require_transition
from common.journal_lines import decode_lines, encode_lines
from common.money import format_money
from common.schema import Account, FiscalPeriod, JournalEntry, Ledger, TaxRate

AccountType = Literal["asset", "liability", "equity", "income", "expense"]
ACCOUNT_TYPES: tuple[str, ...] = get_args(AccountType)
MAX_JOURNAL_LINES = 1000
OPENING_BALANCE = "opening_balance"  # the source of the one entry that opens the books
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


AccountChanges = changes_of(CreateAccountArgs, "AccountChanges", extra={"archived": bool})


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
    # Omitted: the output_tax and input_tax account mappings.
    output_account_id: Id | None = None
    input_account_id: Id | None = None


TaxRateChanges = changes_of(CreateTaxRateArgs, "TaxRateChanges", extra={"archived": bool})


def usable_account(ctx: CommandContext, account_id: str, field: str) -> dict[str, Any]:
    """A live account that is not archived, or ``invalid`` naming ``field``."""
    account = ctx.require(Account, account_id, field)
    if account["archived"]:
        raise invalid(field, f"account {account['code']} is archived")
    return account


@command("finance.create_tax_rate", args=CreateTaxRateArgs, permission="finance.post")
def create_tax_rate(ctx: CommandContext, args: CreateTaxRateArgs) -> None:
    """Create a tax rate (a percentage); lines already priced keep the tax they were given."""
    ctx.ensure_unique(TaxRate, "code", args.code, "code")
    for side in ("output_account_id", "input_account_id"):
        if getattr(args, side) is not None:
            usable_account(ctx, getattr(args, side), side)
    ctx.insert(TaxRate, args.model_dump())


@command("finance.update_tax_rate", args=UpdateArgs, permission="finance.post")
def update_tax_rate(ctx: CommandContext, args: UpdateArgs) -> None:
    """Change a tax rate's code, name, percentage or accounts, or archive it (compare-and-set)."""
    if isinstance(args.changes.get("code"), str):
        ctx.ensure_unique(TaxRate, "code", args.changes["code"].strip(), "changes.code", exclude=args.id)
    for side in ("output_account_id", "input_account_id"):
        if isinstance(args.changes.get(side), str):
            usable_account(ctx, args.changes[side], f"changes.{side}")
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
    ctx.memo.pop("fiscal_periods", None)


def _move_period(ctx: CommandContext, period_id: str, target: str) -> None:
    period = ctx.require(FiscalPeriod, period_id, "id")
    require_transition(FISCAL_PERIOD_TRANSITIONS, period, target, f"fiscal period {period['name']}")
    ctx.update(FiscalPeriod, period_id, {"status": target})
    ctx.memo.pop("fiscal_periods", None)


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


# The source of a year's closing entry (``finance.close_year``, common.commands.year_end), and of
# a reversing entry (``finance.reverse_journal_entry``).
YEAR_END = "year_end"
REVERSAL = "reversal"


class ReverseJournalEntryArgs(Args):
    id: Id
    entry_id: Id
    # Omitted: today.
    entry_date: date | None = None
    memo: Memo | None = None


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
    report_number: bool = True,
) -> dict[str, Any]:
    """Validate and post one entry; ``lines`` hold ``account_id, debit, credit, currency, memo``.

    The one way any command writes to the ledger, so every entry obeys the same rules. A
    reversal may touch accounts archived since (``allow_archived``). ``report_number``: the
    entry's number is the command's answer (not for a document's posting, whose own number is).
    """
    if len(lines) < 2:  # before the lines are read: a short list is refused, whatever it holds
        raise invalid("lines", "an entry needs at least two lines")
    return post_entry_lines(
        ctx,
        entry_id=entry_id,
        entry_date=entry_date,
        memo=memo,
        lines=[
            (line["account_id"], line["debit"], line["credit"], line["currency"], line["memo"])
            for line in lines
        ],
        source=source,
        source_id=source_id,
        reverses_entry_id=reverses_entry_id,
        allow_archived=allow_archived,
        report_number=report_number,
    )


# A journal line as :func:`post_entry_lines` takes it: account id, debit, credit, currency, memo.
EntryLine = tuple[str, int, int, str, str | None]


def post_entry_lines(
    ctx: CommandContext,
    *,
    entry_id: str,
    entry_date: date,
    memo: str | None,
    lines: list[EntryLine],
    source: str = "manual",
    source_id: str | None = None,
    reverses_entry_id: str | None = None,
    allow_archived: bool = False,
    report_number: bool = True,
) -> dict[str, Any]:
    """:func:`post_entry` of lines given as tuples (:data:`EntryLine`): what a posting builds
    (:meth:`common.commands.postings.Posting.post`, an invoice's every time), without a dict
    per line made only to be read once."""
    if len(lines) < 2:
        raise invalid("lines", "an entry needs at least two lines")
    # Checked and made into the lines' rows in one pass (posting an invoice comes here).
    totals: dict[str, list[int]] = {}
    peek = ctx.peek
    stored: list[list[Any]] = []
    for index, (account_id, debit, credit, currency, line_memo) in enumerate(lines):
        if (debit > 0) == (credit > 0):
            raise invalid(f"lines.{index}.debit", "exactly one of debit and credit must be above zero")
        account = peek(Account, account_id)
        if account is None:
            raise invalid(f"lines.{index}.account_id", f"no account with id {account_id}")
        if account["archived"] and not allow_archived:
            raise invalid(f"lines.{index}.account_id", f"account {account['code']} is archived")
        total = totals.get(currency)
        if total is None:
            totals[currency] = [debit, credit]
        else:
            total[0] += debit
            total[1] += credit
        stored.append(["", account_id, debit, credit, currency, line_memo])
    for currency, (debit, credit) in sorted(totals.items()):
        if debit != credit:
            raise invalid(
                "lines",
                f"debits ({format_money(debit, currency)}) and credits ({format_money(credit, currency)}) "
                "must be equal",
            )
    line_ids = ctx.derived_id_each(("journal_line", entry_id), [str(n) for n in range(1, len(stored) + 1)])
    for line, line_id in zip(stored, line_ids, strict=True):
        line[0] = line_id
    entry = ctx.insert(
        JournalEntry,
        {
            "id": entry_id,
            "number": ctx.numbering.next_number("journal_entry"),
            "entry_date": entry_date,
            "fiscal_period_id": require_open_period(ctx, entry_date, "entry_date"),
            "memo": memo,
            "source": source,
            "source_id": source_id,
            "reverses_entry_id": reverses_entry_id,
            "lines_json": encode_lines(stored),
        },
    )
    if report_number:
        ctx.outcome.data["number"] = entry["number"]
    return entry


def _ledger_lines(ctx: CommandContext, args: PostJournalEntryArgs) -> list[dict[str, Any]]:
    """The entry's lines for :func:`post_entry`, refused unless in the ledger currency."""
    ledger = ctx.get(Ledger, ctx.org_id)
    currencies = {args.currency} | {line.currency for line in args.lines if line.currency is not None}
    if ledger is not None and currencies != {ledger["currency"]}:
        other = sorted(currencies - {ledger["currency"]})[0]
        raise invalid(
            "currency",
            f"the ledger is kept in {ledger['currency']}: enter {other} amounts converted to it",
        )
    return [{**line.model_dump(), "currency": line.currency or args.currency} for line in args.lines]


@command("finance.post_journal_entry", args=PostJournalEntryArgs, permission="finance.post")
def post_journal_entry(ctx: CommandContext, args: PostJournalEntryArgs) -> None:
    """Post a balanced journal entry (append-only: corrected by reversal, never edited)."""
    lines = _ledger_lines(ctx, args)
    post_entry(ctx, entry_id=args.id, entry_date=args.entry_date, memo=args.memo, lines=lines)


@command("finance.post_opening_balances", args=PostJournalEntryArgs, permission="finance.post")
def post_opening_balances(ctx: CommandContext, args: PostJournalEntryArgs) -> None:
    """Post the books' opening balances: one balanced entry of source ``opening_balance``.

    Once: while an opening entry stands (not reversed), another is refused, so a file imported
    twice, or on two computers, is never counted twice. Reverse it to post different ones.
    """
    require_open_period(ctx, args.entry_date, "entry_date")  # a closed period says so first
    for entry in ctx.session.execute(
        ctx.select(JournalEntry, JournalEntry.source == OPENING_BALANCE)
    ).mappings():
        if not ctx.exists(
            JournalEntry, JournalEntry.source == REVERSAL, JournalEntry.reverses_entry_id == entry["id"]
        ):
            raise invalid(
                "id",
                f"the opening balances are already posted as entry {entry['number']} of "
                f"{entry['entry_date'].isoformat()}; reverse that entry to post different ones",
            )
    lines = _ledger_lines(ctx, args)
    post_entry(
        ctx,
        entry_id=args.id,
        entry_date=args.entry_date,
        memo=args.memo or "Opening balances",
        lines=lines,
        source=OPENING_BALANCE,
    )


@command("finance.reverse_journal_entry", args=ReverseJournalEntryArgs, permission="finance.post")
def reverse_journal_entry(ctx: CommandContext, args: ReverseJournalEntryArgs) -> None:
    """Post the exact opposite of an entry, once; the original stays as it was."""
    original = ctx.require(JournalEntry, args.entry_id, "entry_id")
    if original["reverses_entry_id"] is not None:
        raise invalid(
            "entry_id", f"entry {original['number']} is itself a reversal; post a new entry instead"
        )
    # A reversal is an entry of source "reversal" (found through the source index, not a scan).
    if ctx.exists(
        JournalEntry, JournalEntry.source == REVERSAL, JournalEntry.reverses_entry_id == args.entry_id
    ):
        raise invalid("entry_id", f"entry {original['number']} has already been reversed")
    entry_date = args.entry_date or ctx.now.date()
    if original["source"] == YEAR_END:
        # Undoing a year's close is closing's business, and it stays in that year: dated on the
        # closing's own day, the year's result is back on its income and expense accounts, and
        # closing the year again closes it whole. Dated later it would land in the next year,
        # whose close would then move the earlier year's result.
        if "finance.close_period" not in ctx.permissions:
            raise CommandError(
                "forbidden",
                f"entry_id: entry {original['number']} closes a year; reversing it needs the permission "
                "finance.close_period",
                field="entry_id",
                details={"permission": "finance.close_period"},
            )
        if args.entry_date is not None and args.entry_date != original["entry_date"]:
            raise invalid(
                "entry_date",
                f"a year-end closing is reversed on its own date, {original['entry_date'].isoformat()}",
            )
        entry_date = original["entry_date"]
    lines = [
        {
            "account_id": line["account_id"],
            "debit": line["credit"],
            "credit": line["debit"],
            "currency": line["currency"],
            "memo": line["memo"],
        }
        for line in decode_lines(original["lines_json"])
    ]
    post_entry(
        ctx,
        entry_id=args.id,
        entry_date=entry_date,
        memo=args.memo or f"Reversal of {original['number']}",
        lines=lines,
        source=REVERSAL,
        source_id=args.entry_id,
        reverses_entry_id=args.entry_id,
        allow_archived=True,  # undoing a posting to an account archived since is still allowed
    )

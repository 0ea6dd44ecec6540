"""Year-end close: the year's result moves to retained earnings.

``finance.close_year`` posts, on the year's last day, one entry that brings every income and
expense account's balance for the year to zero against retained earnings. Profit and loss
leaves these entries out (it reports what the year earned, not its closing); the balance sheet
includes them, so the year's result shows in retained earnings instead of the unclosed result.
The year's periods are locked with ``finance.close_fiscal_period`` as usual (the last one after
this entry).

A year is closed again, from the same first day, when something was posted in it after its
close: a late entry dated in it, or the reversal of its closing (``finance.reverse_journal_entry``,
which dates it on the closing's own day and needs ``finance.close_period``). The year's income
and expense accounts then hold exactly what is not yet closed (the closing entries are among their
lines), and the new closing entry moves that to retained earnings. With nothing posted since,
closing again is refused.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from pydantic import ValidationInfo, field_validator
from sqlalchemy import select

from common.commands.fields import Args, Id
from common.commands.finance import REVERSAL, YEAR_END
from common.commands.framework import CommandContext, command, invalid
from common.commands.periods import require_open_period
from common.commands.postings import account_for, ledger_currency, new_posting
from common.money import format_money
from common.reports.ledger import period_sums
from common.schema import Account, JournalEntry

RESULT_TYPES = ("income", "expense")


class CloseYearArgs(Args):
    id: Id
    start_date: date
    end_date: date

    @field_validator("end_date")
    @classmethod
    def _ordered(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        if start is not None and value < start:
            raise ValueError("must not be before start_date")
        if start is not None and (value - start).days > 400:
            raise ValueError("a financial year spans at most 400 days")
        return value


_MEMO = "Year-end close"
_RANGE = re.compile(rf"{_MEMO} (\d{{4}}-\d{{2}}-\d{{2}}) to \d{{4}}-\d{{2}}-\d{{2}}")


def _closed_from(memo: str | None) -> date | None:
    """The first day of the year a closing entry closed, from the memo this command writes on it
    (entries are never edited); ``None`` for one written otherwise."""
    found = _RANGE.fullmatch(memo or "")
    return date.fromisoformat(found.group(1)) if found else None


def _year_before(day: date) -> date:
    """The first day of the year ending on ``day`` (for a closing without this command's memo)."""
    try:
        return day.replace(year=day.year - 1) + timedelta(days=1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28) + timedelta(days=1)


def _reversed(ctx: CommandContext, entry_ids: list[str]) -> set[str]:
    """Which of ``entry_ids`` have been reversed (by ``ix_journal_entry_source``'s prefix)."""
    if not entry_ids:
        return set()
    found = ctx.session.execute(
        select(JournalEntry.reverses_entry_id).where(
            JournalEntry.org_id == ctx.org_id,
            JournalEntry.deleted.is_(False),
            JournalEntry.source == REVERSAL,
            JournalEntry.reverses_entry_id.in_(entry_ids),
        )
    ).scalars()
    return {entry_id for entry_id in found if entry_id is not None}


@command("finance.close_year", args=CloseYearArgs, permission="finance.close_period")
def close_year(ctx: CommandContext, args: CloseYearArgs) -> None:
    """Move the year's income and expense balances to retained earnings, on its last day."""
    # Every year-end entry found by ``ix_journal_entry_source``'s prefix, its date tested here:
    # with the dates in the query SQLite (no statistics on the desktop) walked the year's entries
    # by ``ix_journal_entry_date`` instead. A reversed one is undone (closing and reversal net to
    # nothing on its day): it neither blocks a year nor makes this a second close.
    closings = ctx.session.execute(
        select(JournalEntry.id, JournalEntry.entry_date, JournalEntry.memo).where(
            JournalEntry.org_id == ctx.org_id,
            JournalEntry.deleted.is_(False),
            JournalEntry.source == YEAR_END,
        )
    ).all()
    undone = _reversed(ctx, [entry_id for entry_id, _, _ in closings])
    closed_before = False
    for entry_id, day, memo in closings:
        if entry_id in undone:
            continue
        started = _closed_from(memo) or _year_before(day)
        if not (started <= args.end_date and args.start_date <= day):
            continue  # another year
        if day == args.end_date and started != args.start_date:
            raise invalid(
                "start_date",
                f"this year was closed from {started.isoformat()}: close it again from that date",
            )
        if (started, day) != (args.start_date, args.end_date):
            raise invalid(
                "end_date",
                f"the year overlaps the year {started.isoformat()} to {day.isoformat()}, already closed",
            )
        closed_before = True
    ledger_currency(ctx)  # a year is closed only in books that are set up
    require_open_period(ctx, args.end_date, "end_date")
    posting = new_posting(ctx)
    accounts = {
        row["id"]: row
        for row in ctx.session.execute(ctx.select(Account, Account.type.in_(RESULT_TYPES))).mappings()
    }
    if not accounts:
        raise invalid("start_date", "there are no income or expense accounts")
    # The year's sums per account, as profit and loss sums them (the balances the entries keep).
    sums = period_sums(
        ctx.session, ctx.org_id, posting.ledger, list(accounts), args.start_date, args.end_date
    )
    result = 0
    for account_id, balance in sorted(sums.items(), key=lambda item: accounts[item[0]]["code"]):
        posting.credit(account_id, balance, f"Close {accounts[account_id]['code']}")
        result += balance
    if not posting.lines:
        if closed_before:
            raise invalid("end_date", "this year has already been closed, and nothing was posted in it since")
        raise invalid("start_date", "no income or expense was posted in this year")
    # A debit balance of the result accounts is a loss: it reduces retained earnings.
    posting.debit(account_for(ctx, "retained_earnings"), result, "Result of the year")
    posting.post(
        source=YEAR_END,
        source_id=args.id,
        entry_date=args.end_date,
        memo=f"{_MEMO} {args.start_date.isoformat()} to {args.end_date.isoformat()}",  # _closed_from reads it
    )
    ctx.outcome.data["result"] = format_money(-result, posting.ledger)
    # The same in minor units, for a screen that shows it in its user's locale.
    ctx.outcome.data["result_minor"] = -result
    ctx.outcome.data["currency"] = posting.ledger

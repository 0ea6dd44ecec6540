"""Year-end close: the year's result moves to retained earnings.

``finance.close_year`` posts, on the year's last day, one entry that brings every income and
expense account's balance for the year to zero against retained earnings. Profit and loss
leaves these entries out (it reports what the year earned, not its closing); the balance sheet
includes them, so the year's result shows in retained earnings instead of the unclosed result.

A year with a closing entry is closed: nothing more is dated in it, as in a closed period
(:func:`common.commands.periods.require_open_period`), and closing it again, or a year
overlapping it, is refused. Reversing the closing entry (``finance.reverse_journal_entry``)
reopens the year: profit and loss leaves the reversal out too, and the year may be closed again.
The year's periods are closed with ``finance.close_fiscal_period`` as usual (the last one after
this entry).
"""

from __future__ import annotations

from datetime import date

from pydantic import ValidationInfo, field_validator
from sqlalchemy import func, select

from common.commands.fields import Args, Id
from common.commands.framework import CommandContext, command, invalid
from common.commands.periods import YEAR_END, closed_years, forget_closed_years, require_open_period
from common.commands.postings import account_for, ledger_currency, new_posting
from common.money import format_money
from common.schema import Account, JournalLine

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


@command("finance.close_year", args=CloseYearArgs, permission="finance.close_period")
def close_year(ctx: CommandContext, args: CloseYearArgs) -> None:
    """Move the year's income and expense balances to retained earnings, on its last day."""
    # The closed years (year-end entries not reversed), read as the dated documents read them.
    for year in closed_years(ctx):
        if year.start <= args.end_date and args.start_date <= year.end:
            if (year.start, year.end) == (args.start_date, args.end_date):
                raise invalid("end_date", "this year has already been closed")
            raise invalid("end_date", f"the year overlaps the financial year {year.name}, already closed")
    ledger_currency(ctx)  # a year is closed only in books that are set up
    require_open_period(ctx, args.end_date, "end_date")
    posting = new_posting(ctx)
    accounts = {
        row["id"]: row
        for row in ctx.session.execute(ctx.select(Account, Account.type.in_(RESULT_TYPES))).mappings()
    }
    if not accounts:
        raise invalid("start_date", "there are no income or expense accounts")
    lines = JournalLine.__table__
    sums = ctx.session.execute(
        select(lines.c.account_id, func.sum(lines.c.debit) - func.sum(lines.c.credit))
        .where(
            lines.c.org_id == ctx.org_id,
            lines.c.deleted.is_(False),
            lines.c.currency == posting.ledger,
            lines.c.entry_date >= args.start_date,
            lines.c.entry_date <= args.end_date,
            lines.c.account_id.in_(list(accounts)),
        )
        .group_by(lines.c.account_id)
    ).all()
    result = 0
    for account_id, balance in sorted(sums, key=lambda row: accounts[row[0]]["code"]):
        balance = int(balance or 0)
        posting.credit(account_id, balance, f"Close {accounts[account_id]['code']}")
        result += balance
    if not posting.lines:
        raise invalid("start_date", "no income or expense was posted in this year")
    # A debit balance of the result accounts is a loss: it reduces retained earnings.
    posting.debit(account_for(ctx, "retained_earnings"), result, "Result of the year")
    posting.post(
        source=YEAR_END,
        source_id=args.id,
        entry_date=args.end_date,
        # The year's dates, read back by common.commands.periods.closing_start: keep the form.
        memo=f"Year-end close {args.start_date.isoformat()} to {args.end_date.isoformat()}",
    )
    forget_closed_years(ctx)  # the year is closed from the next command (of a batch) on
    ctx.outcome.data["result"] = format_money(-result, posting.ledger)

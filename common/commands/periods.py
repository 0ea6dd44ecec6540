"""Fiscal periods and closed years as a lock on dates: nothing dated in a closed period, or in a
closed financial year, is accepted.

Every dated document (invoice, credit note, payment, supplier bill and payment, valued stock
move, payroll run, journal entry) asks :func:`require_open_period` before it is written, on the
workstation offline (the periods are pulled by every module that posts) and again on the server.

A financial year is closed by its year-end closing entry (``finance.close_year``, source
:data:`YEAR_END`) for as long as that entry is not reversed: reversing it reopens the year (the
reversal itself is let through, :func:`reopen_year`), and the year may then be closed again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, false, select

from common.commands.framework import CommandContext, CommandError
from common.commands.rowaccess import session_connection
from common.schema import FiscalPeriod, JournalEntry
from common.schema.base import table_of

PERIOD_CLOSED = "period_closed"
# The source of a year-end closing entry (``finance.close_year``); a reversal's is "reversal".
YEAR_END = "year_end"
REVERSAL = "reversal"


_PERIODS = select(*table_of(FiscalPeriod).c).where(
    table_of(FiscalPeriod).c.org_id == bindparam("org"), table_of(FiscalPeriod).c.deleted == false()
)


# Where a server batch keeps the organization's periods among the rows its commands share
# (``CommandContext.rows``): dropped there whenever a period is written, and with every other row
# when a command is rolled back (:meth:`CommandContext._remember`, the batch's undo).
PERIODS_KEY = ("fiscal_period", "*")


def period_covering(ctx: CommandContext, day: date) -> dict[str, Any] | None:
    """The fiscal period whose dates include ``day``, if any (periods never overlap).

    Asked by every dated document, often more than once per command (a document and its
    posting): the organization's periods (a few dozen) are read once per command, or once per
    pushed batch on the server (until a command writes a period), with a statement built once.
    """
    periods = ctx.memo.get("fiscal_periods")
    if periods is None:
        shared = ctx.rows.get(PERIODS_KEY) if ctx.rows is not None else None
        if shared is not None:
            periods = shared["periods"]
        else:
            connection, _ = session_connection(ctx.session)
            periods = [dict(row) for row in connection.execute(_PERIODS, {"org": ctx.org_id}).mappings()]
            if ctx.rows is not None:
                ctx.rows[PERIODS_KEY] = {"id": "*", "deleted": False, "periods": periods}
        ctx.memo["fiscal_periods"] = periods
    for period in periods:
        if period["start_date"] <= day <= period["end_date"]:
            return period
    return None


@dataclass(frozen=True)
class ClosedYear:
    """A financial year closed by its year-end entry ``entry_id`` (not reversed), ``[start, end]``."""

    entry_id: str
    number: str
    start: date
    end: date

    @property
    def name(self) -> str:
        """``2031`` for a calendar year, else ``2031-07-01 to 2032-06-30``."""
        start, end = self.start, self.end
        if start.year == end.year and (start.month, start.day, end.month, end.day) == (1, 1, 12, 31):
            return str(start.year)
        return f"{start.isoformat()} to {end.isoformat()}"


# The memo finance.close_year writes on its entry: "Year-end close 2031-01-01 to 2031-12-31".
_CLOSING_MEMO = re.compile(r"(\d{4}-\d{2}-\d{2}) to (\d{4}-\d{2}-\d{2})\s*$")


def closing_start(memo: str | None, end: date) -> date:
    """The first day of the year a closing entry dated ``end`` closed.

    ``finance.close_year`` names the year's dates in the entry's memo (entries are never
    edited, so it stays as written); a closing entry without them (written by another tool) is
    taken to close the year that ends on its date: the day after the same date a year before.
    """
    found = _CLOSING_MEMO.search(memo or "")
    if found is not None:
        try:
            start, named_end = date.fromisoformat(found[1]), date.fromisoformat(found[2])
        except ValueError:
            pass
        else:
            if named_end == end and start <= end:
                return start
    try:
        year_before = end.replace(year=end.year - 1)
    except ValueError:  # 29 February: a year before is 28 February
        year_before = end.replace(year=end.year - 1, day=28)
    return year_before + timedelta(days=1)


_ENTRIES = table_of(JournalEntry)
# Every year-end entry of the organization, by ``ix_journal_entry_source``'s prefix (a handful).
_CLOSINGS = select(_ENTRIES.c.id, _ENTRIES.c.number, _ENTRIES.c.entry_date, _ENTRIES.c.memo).where(
    _ENTRIES.c.org_id == bindparam("org"), _ENTRIES.c.source == YEAR_END, _ENTRIES.c.deleted == false()
)
# Which of them are reversed: the reversals naming them, by the whole of that index.
_REVERSED = select(_ENTRIES.c.source_id).where(
    _ENTRIES.c.org_id == bindparam("org"),
    _ENTRIES.c.source == REVERSAL,
    _ENTRIES.c.source_id.in_(bindparam("ids", expanding=True)),
    _ENTRIES.c.deleted == false(),
)

# Where a server batch keeps the organization's closed years among its shared rows, as the
# periods (:data:`PERIODS_KEY`): dropped by the commands that close or reopen a year
# (:func:`forget_closed_years`), and with every other row when a command is rolled back.
CLOSED_YEARS_KEY = ("year_end", "*")
_CLOSED_YEARS = "closed_years"


def closed_years(ctx: CommandContext) -> list[ClosedYear]:
    """The organization's closed years: one per year-end entry not reversed.

    Read as the periods are (:func:`period_covering`): once per command, or once per pushed
    batch on the server until a command closes or reopens a year; one query, and a second only
    when the organization has closed a year.
    """
    years: list[ClosedYear] | None = ctx.memo.get(_CLOSED_YEARS)
    if years is not None:
        return years
    shared = ctx.rows.get(CLOSED_YEARS_KEY) if ctx.rows is not None else None
    if shared is not None:
        years = shared["years"]
    else:
        connection, _ = session_connection(ctx.session)
        closings = list(connection.execute(_CLOSINGS, {"org": ctx.org_id}))
        reversed_ids: set[str] = set()
        if closings:
            ids = [closing.id for closing in closings]
            reversed_ids = set(connection.execute(_REVERSED, {"org": ctx.org_id, "ids": ids}).scalars())
        years = sorted(
            (
                ClosedYear(
                    entry_id=closing.id,
                    number=closing.number,
                    start=closing_start(closing.memo, closing.entry_date),
                    end=closing.entry_date,
                )
                for closing in closings
                if closing.id not in reversed_ids
            ),
            key=lambda year: (year.start, year.end),
        )
        if ctx.rows is not None:
            ctx.rows[CLOSED_YEARS_KEY] = {"id": "*", "deleted": False, "years": years}
    ctx.memo[_CLOSED_YEARS] = years
    return years


def forget_closed_years(ctx: CommandContext) -> None:
    """Drop what this command, and its batch, read of the closed years: a year was just closed
    or reopened."""
    ctx.memo.pop(_CLOSED_YEARS, None)
    if ctx.rows is not None:
        ctx.rows.pop(CLOSED_YEARS_KEY, None)


def reopen_year(ctx: CommandContext, entry_id: str) -> None:
    """Let this command date entries in the year closed by ``entry_id``: the command reverses
    that closing entry, which reopens the year (its reversal is dated in it, typically). Call
    :func:`forget_closed_years` once the reversal is written."""
    ctx.memo[_CLOSED_YEARS] = [year for year in closed_years(ctx) if year.entry_id != entry_id]


def closed_year_covering(ctx: CommandContext, day: date) -> ClosedYear | None:
    """The closed year whose dates include ``day``, if any."""
    for year in closed_years(ctx):
        if year.start <= day <= year.end:
            return year
    return None


# Where a command keeps its last answer of :func:`require_open_period`: (the periods and the
# closed years it was judged on, the day, the open period's id). A document and its posting ask
# for the same day.
_LAST_OPEN = "open_period"


def require_open_period(ctx: CommandContext, day: date, field: str) -> str | None:
    """The id of the open period covering ``day`` (``None`` when no period covers it).

    Refuses with ``period_closed`` naming the period when it is closed, or naming the year when
    ``day`` falls in a closed financial year (whether or not a period covers it). The day found
    open last in this command is answered again without a look (a document checks its date,
    then its posting checks the entry's, the same), as long as the command has not written a
    period, nor closed or reopened a year, since (which drops what it read:
    ``ctx.memo["fiscal_periods"]``, ``ctx.memo["closed_years"]``).
    """
    last = ctx.memo.get(_LAST_OPEN)
    if (
        last is not None
        and last[2] == day
        and last[0] is ctx.memo.get("fiscal_periods")
        and last[1] is ctx.memo.get(_CLOSED_YEARS)
    ):
        return last[3]  # type: ignore[no-any-return]
    period = period_covering(ctx, day)
    if period is not None and period["status"] != "open":
        raise CommandError(
            PERIOD_CLOSED,
            f"{field}: {day.isoformat()} falls in fiscal period {period['name']}, which is closed",
            field=field,
            details={"fiscal_period_id": period["id"], "period": period["name"], "date": day.isoformat()},
        )
    year = closed_year_covering(ctx, day)
    if year is not None:
        raise CommandError(
            PERIOD_CLOSED,
            f"{field}: {day.isoformat()} falls in the financial year {year.name}, which is closed "
            f"(entry {year.number}; reverse it to reopen the year)",
            field=field,
            details={
                "year_end_entry_id": year.entry_id,
                "period": year.name,
                "year_start": year.start.isoformat(),
                "year_end": year.end.isoformat(),
                "date": day.isoformat(),
            },
        )
    found = None if period is None else str(period["id"])
    ctx.memo[_LAST_OPEN] = (ctx.memo["fiscal_periods"], ctx.memo[_CLOSED_YEARS], day, found)
    return found

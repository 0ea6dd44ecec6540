"""Fiscal periods as a lock on dates: nothing dated in a closed period is accepted.

Every dated document (invoice, credit note, payment, supplier bill and payment, valued stock
move, payroll run, journal entry) asks :func:`require_open_period` before it is written, on the
workstation offline (the periods are pulled by every module that posts) and again on the server.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import bindparam, false, select

from common.commands.framework import CommandContext, CommandError
from common.commands.rowaccess import session_connection
from common.schema import FiscalPeriod
from common.schema.base import table_of

PERIOD_CLOSED = "period_closed"


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


# Where a command keeps its last answer of :func:`require_open_period`: (the periods it was
# judged on, the day, the open period's id). A document and its posting ask for the same day.
_LAST_OPEN = "open_period"


def require_open_period(ctx: CommandContext, day: date, field: str) -> str | None:
    """The id of the open period covering ``day`` (``None`` when no period covers it).

    Refuses with ``period_closed`` naming the period when it is closed. The day found open last
    in this command is answered again without a look (a document checks its date, then its
    posting checks the entry's, the same), as long as the command has not written a period
    since (which drops the periods it read: ``ctx.memo["fiscal_periods"]``).
    """
    last = ctx.memo.get(_LAST_OPEN)
    if last is not None and last[1] == day and last[0] is ctx.memo.get("fiscal_periods"):
        return last[2]  # type: ignore[no-any-return]
    period = period_covering(ctx, day)
    if period is None:
        ctx.memo[_LAST_OPEN] = (ctx.memo["fiscal_periods"], day, None)
        return None
    if period["status"] != "open":
        raise CommandError(
            PERIOD_CLOSED,
            f"{field}: {day.isoformat()} falls in fiscal period {period['name']}, which is closed",
            field=field,
            details={"fiscal_period_id": period["id"], "period": period["name"], "date": day.isoformat()},
        )
    found = str(period["id"])
    ctx.memo[_LAST_OPEN] = (ctx.memo["fiscal_periods"], day, found)
    return found

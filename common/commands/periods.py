"""Fiscal periods as a lock on dates: nothing dated in a closed period is accepted.

Every dated document (invoice, credit note, payment, supplier bill and payment, valued stock
move, payroll run, journal entry) asks :func:`require_open_period` before it is written, on the
workstation offline (the periods are pulled by every module that posts) and again on the server.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from common.commands.framework import CommandContext, CommandError
from common.schema import FiscalPeriod

PERIOD_CLOSED = "period_closed"


def period_covering(ctx: CommandContext, day: date) -> dict[str, Any] | None:
    """The fiscal period whose dates include ``day``, if any (periods never overlap)."""
    stmt = ctx.select(FiscalPeriod, FiscalPeriod.start_date <= day, FiscalPeriod.end_date >= day)
    found = ctx.session.execute(stmt.limit(1)).mappings().first()
    return dict(found) if found is not None else None


def require_open_period(ctx: CommandContext, day: date, field: str) -> str | None:
    """The id of the open period covering ``day`` (``None`` when no period covers it).

    Refuses with ``period_closed`` naming the period when it is closed.
    """
    period = period_covering(ctx, day)
    if period is None:
        return None
    if period["status"] != "open":
        raise CommandError(
            PERIOD_CLOSED,
            f"{field}: {day.isoformat()} falls in fiscal period {period['name']}, which is closed",
            field=field,
            details={"fiscal_period_id": period["id"], "period": period["name"], "date": day.isoformat()},
        )
    return str(period["id"])

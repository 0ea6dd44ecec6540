"""What every report shares: its parameters, its errors, amounts on the wire, the ledger currency."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.ids import is_uuid
from common.money import currency_exponent
from common.schema import Ledger

# Query parameters every report accepts (CONTRACT, DESIGN §5); ``format`` is the exports'.
PARAMETERS = ("from", "to", "as_of", "account", "format")
MAX_DAYS = 366 * 100


class ReportError(Exception):
    """A report that cannot be made: ``code`` (``invalid``, ``forbidden``, ``not_found``,
    ``books_not_set_up``) and ``field`` naming the bad parameter."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def _parse_date(name: str, value: str) -> date:
    if len(value) != 10:
        raise ReportError("invalid", f"{name}: must be a date as YYYY-MM-DD", name)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReportError("invalid", f"{name}: must be a date as YYYY-MM-DD", name) from None


@dataclass(frozen=True)
class ReportParams:
    """Parsed query parameters; which ones a report needs is the report's business."""

    start: date | None = None
    end: date | None = None
    as_of: date | None = None
    account: str | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, str]) -> ReportParams:
        """Parameters from query text; unknown or malformed ones are refused by name."""
        for key in raw:
            if key not in PARAMETERS:
                raise ReportError("invalid", f"{key}: is not a report parameter", key)
        start = _parse_date("from", raw["from"]) if raw.get("from") else None
        end = _parse_date("to", raw["to"]) if raw.get("to") else None
        as_of = _parse_date("as_of", raw["as_of"]) if raw.get("as_of") else None
        if start is not None and end is not None:
            if end < start:
                raise ReportError("invalid", "to: must not be before from", "to")
            if (end - start).days > MAX_DAYS:
                raise ReportError("invalid", "to: a report spans at most a hundred years", "to")
        account = raw.get("account") or None
        if account is not None and not is_uuid(account):
            raise ReportError("invalid", "account: must be an account id (a UUID)", "account")
        return cls(start=start, end=end, as_of=as_of, account=account)

    def require_range(self) -> tuple[date, date]:
        if self.start is None:
            raise ReportError("invalid", "from: is required for this report", "from")
        if self.end is None:
            raise ReportError("invalid", "to: is required for this report", "to")
        return self.start, self.end


def ledger_currency(session: Session, org_id: str) -> str:
    found = session.execute(
        select(Ledger.currency).where(Ledger.org_id == org_id, Ledger.id == org_id, Ledger.deleted.is_(False))
    ).scalar()
    if found is None:
        raise ReportError(
            "books_not_set_up", "the books of this organization are not set up (finance.set_up_books)"
        )
    return str(found)


def amount_text(minor_units: int, currency: str) -> str:
    """An amount on the wire: exact decimal text in major units (``"1234.50"``)."""
    exponent = currency_exponent(currency)
    return f"{Decimal(minor_units).scaleb(-exponent):.{exponent}f}"


def report(
    name: str,
    params: dict[str, Any],
    currency: str,
    columns: list[str],
    rows: list[dict[str, Any]],
    totals: dict[str, Any],
) -> dict[str, Any]:
    """The answer's shape (CONTRACT): ``{report, params, currency, columns, rows, totals}``."""
    return {
        "report": name,
        "params": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in params.items()},
        "currency": currency,
        "columns": columns,
        "rows": rows,
        "totals": totals,
    }

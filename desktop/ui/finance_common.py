"""What the finance screens share: the ledger's currency, account and tax rate choices, numbers.

Not a page (nothing here registers one). Reads are small (the chart, the rates: dozens of rows).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from common.schema import Account, Ledger, TaxRate
from desktop.formatting import InputError, money, number_locale, parse_money
from desktop.lists import live
from desktop.numbers import NumberError, parse_decimal
from desktop.qt import QComboBox
from desktop.session import UserSession

TYPE_TITLES = {
    "asset": "Asset",
    "liability": "Liability",
    "equity": "Equity",
    "income": "Income",
    "expense": "Expense",
}


def ledger_currency(session: UserSession) -> str:
    """The currency the books are kept in (EUR until the books are downloaded)."""
    t = Ledger.__table__.c
    with session.store.read_session() as db:
        found = db.execute(
            select(t.currency).where(t.org_id == session.org_id, t.deleted.is_(False))
        ).scalar()
    return str(found or "EUR")


def accounts(session: UserSession, *, include_archived: bool = False) -> list[dict[str, Any]]:
    t = Account.__table__.c
    stmt = select(t.id, t.code, t.name, t.type, t.parent_id, t.archived).where(live(Account, session.org_id))
    if not include_archived:
        stmt = stmt.where(t.archived.is_(False))
    with session.store.read_session() as db:
        return [dict(row) for row in db.execute(stmt.order_by(t.code)).mappings()]


def account_label(row: dict[str, Any]) -> str:
    return f"{row['code']} — {row['name']}"


def account_choices(session: UserSession, types: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    return [
        (row["id"], account_label(row)) for row in accounts(session) if types is None or row["type"] in types
    ]


def tax_rates(session: UserSession) -> dict[str, dict[str, Any]]:
    t = TaxRate.__table__.c
    with session.store.read_session() as db:
        rows = db.execute(
            select(t.id, t.code, t.name, t.rate)
            .where(live(TaxRate, session.org_id), t.archived.is_(False))
            .order_by(t.code)
        ).mappings()
        return {row["id"]: dict(row) for row in rows}


def fill_accounts(
    combo: QComboBox, choices: list[tuple[str, str]], empty: str = "Choose an account…"
) -> None:
    combo.clear()
    combo.addItem(empty, None)
    for value, text in choices:
        combo.addItem(text, value)


def parse_amount(text: str, currency: str) -> int:
    """Money typed in the user's locale → minor units (``ValueError`` naming the problem)."""
    return parse_money(text, currency)


def parse_percent(text: str) -> Decimal:
    try:
        return parse_decimal(text.strip().removesuffix("%").strip(), number_locale())
    except NumberError as exc:
        raise InputError(str(exc)) from None


def amount(minor_units: int | None, currency: str) -> str:
    """An amount for a figure column: locale-formatted, without the currency (it is in the title)."""
    if minor_units is None:
        return ""
    return money(minor_units, currency).removesuffix(f" {currency}")

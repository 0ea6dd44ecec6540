"""How values look on screen: money with its currency, exact quantities, local times (no Qt)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from common.money import currency_exponent, format_money


def money(minor_units: int | None, currency: str | None) -> str:
    if minor_units is None:
        return ""
    return format_money(int(minor_units), currency or "") if currency else f"{minor_units:,}"


def quantity(value: Any) -> str:
    if value is None or value == "":
        return ""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return format(number, ",f")


def timestamp(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    return str(value)


def day(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()[:10]
    return str(value)[:10]


def status(value: Any) -> str:
    return str(value or "").replace("_", " ").capitalize()


def money_input(minor_units: int | None, currency: str | None) -> str:
    """Minor units as the text a money field starts with (``1250`` EUR → ``12.50``)."""
    if minor_units is None:
        return ""
    exponent = currency_exponent(currency or "")
    return f"{Decimal(minor_units) / (Decimal(10) ** exponent):.{exponent}f}"


def display(kind: str, row: dict[str, Any], key: str, currency_key: str = "currency") -> str:
    value = row.get(key)
    if kind == "money":
        return money(value, row.get(currency_key))
    if kind == "quantity":
        return quantity(value)
    if kind == "datetime":
        return timestamp(value)
    if kind == "date":
        return day(value)
    if kind == "status":
        return status(value)
    if kind == "bool":
        return "Yes" if value else ""
    if kind == "number":
        return f"{value:,}" if isinstance(value, int) else str(value or "")
    return "" if value is None else str(value)


class InputError(ValueError):
    """User text that is not a valid value; the message says what is wrong."""


def parse_money(text: str, currency: str | None) -> int:
    """``"1,234.50"`` EUR → ``123450`` minor units. Refuses more decimals than the currency has."""
    cleaned = text.strip().replace(",", "").replace(" ", "")
    if currency and cleaned.upper().endswith(currency.upper()):
        cleaned = cleaned[: -len(currency)]
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise InputError("is not an amount (write it like 12.50)") from None
    if not amount.is_finite():
        raise InputError("is not an amount (write it like 12.50)")
    exponent = currency_exponent(currency or "")
    exp = amount.as_tuple().exponent
    places = -exp if isinstance(exp, int) else 0
    if places > exponent:
        unit = f"{exponent} decimal{'s' if exponent != 1 else ''}" if exponent else "no decimals"
        raise InputError(f"has too many decimals ({currency or 'this currency'} has {unit})")
    if amount < 0:
        raise InputError("must not be negative")
    return int(amount * (Decimal(10) ** exponent))

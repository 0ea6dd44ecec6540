"""How values look on screen and how typed text becomes values: money in major units of its
currency, exact quantities, local times — in the user's locale (no Qt here).

The separators come from the user's locale: the desktop's Qt layer installs a source reading
``QLocale()`` (see :func:`set_locale_source`); without one, numbers are written the C way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from common.money import QuantityError, currency_exponent, parse_quantity, quantity_text
from desktop.numbers import C_LOCALE, NumberError, NumberLocale, format_decimal, parse_decimal

_locale_source: Callable[[], NumberLocale] = lambda: C_LOCALE  # noqa: E731


def set_locale_source(source: Callable[[], NumberLocale]) -> None:
    """Where the current locale's separators come from (the Qt layer reads ``QLocale()``)."""
    global _locale_source
    _locale_source = source


def number_locale() -> NumberLocale:
    return _locale_source()


def money(minor_units: int | None, currency: str | None) -> str:
    """``125000`` EUR → ``1.250,00 EUR`` in de, ``1,250.00 EUR`` in en: never minor units."""
    if minor_units is None:
        return ""
    exponent = currency_exponent(currency or "")
    amount = Decimal(int(minor_units)).scaleb(-exponent)
    text = format_decimal(amount, number_locale(), exponent)
    return f"{text} {currency}" if currency else text


def quantity(value: Any) -> str:
    if value is None or value == "":
        return ""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return format_decimal(number, number_locale())


def count(n: int) -> str:
    """A count with the locale's grouping: ``12345`` → ``12.345`` (de), ``12,345`` (en)."""
    return format_decimal(n, number_locale())


def quantity_input(value: Any) -> str:
    """A quantity as the text an input starts with (no grouping): ``2.5`` → ``2,5`` in de."""
    if value is None or value == "":
        return ""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return format_decimal(Decimal(quantity_text(number)), number_locale(), group=False)


def number_example(places: int = 2) -> str:
    """A placeholder such as ``0.00`` / ``0,00`` in the user's locale."""
    return format_decimal(Decimal(0), number_locale(), places, group=False)


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
    """Minor units as the text a money field starts with (``1250`` EUR → ``12.50`` / ``12,50``)."""
    if minor_units is None:
        return ""
    exponent = currency_exponent(currency or "")
    return format_decimal(Decimal(int(minor_units)).scaleb(-exponent), number_locale(), exponent, group=False)


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
        return format_decimal(value, number_locale()) if isinstance(value, int) else str(value or "")
    return "" if value is None else str(value)


class InputError(ValueError):
    """User text that is not a valid value; the message says what is wrong."""


def parse_money(text: str, currency: str | None) -> int:
    """What the user typed as an amount (major units, their locale) → integer minor units.

    ``"12,50"`` EUR in de → ``1250``; in en_US the same text is refused as ambiguous. Refuses more
    decimals than the currency has and negative amounts.
    """
    cleaned = text.strip()
    if currency and cleaned.upper().endswith(currency.upper()):
        cleaned = cleaned[: -len(currency)].strip()
    if currency and cleaned.upper().startswith(currency.upper()):
        cleaned = cleaned[len(currency) :].strip()
    loc = number_locale()
    try:
        amount = parse_decimal(cleaned, loc)
    except NumberError as exc:
        raise InputError(str(exc)) from None
    exponent = currency_exponent(currency or "")
    exp = amount.as_tuple().exponent
    places = -exp if isinstance(exp, int) else 0
    if places > exponent:
        unit = f"{exponent} decimal{'s' if exponent != 1 else ''}" if exponent else "no decimals"
        raise InputError(f"has too many decimals ({currency or 'this currency'} has {unit})")
    if amount < 0:
        raise InputError("must not be negative")
    if amount >= Decimal(10) ** 13:
        raise InputError("is too large")
    return int(amount.scaleb(exponent))


def parse_quantity_input(text: str) -> Decimal:
    """What the user typed as a quantity (their locale) → an exact ``Decimal``."""
    try:
        number = parse_decimal(text, number_locale())
        return parse_quantity(number)
    except (NumberError, QuantityError) as exc:
        raise InputError(str(exc)) from None

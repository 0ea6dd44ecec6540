"""How values look on screen and how typed text becomes values: money in major units of its
currency, exact quantities, local times — in the user's locale (no Qt here).

The separators come from the user's locale: the desktop's Qt layer installs a source reading
``QLocale()`` (see :func:`set_locale_source`); without one, numbers are written the C way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from common.money import QuantityError, currency_exponent, parse_quantity, quantity_text
from desktop.numbers import C_LOCALE, NumberError, NumberLocale, format_decimal, parse_decimal

_locale_source: Callable[[], NumberLocale] = lambda: C_LOCALE  # noqa: E731
# The user's short date and time formats as Qt patterns (``dd.MM.yyyy``, ``h:mm AP``).
ISO_FORMATS = ("yyyy-MM-dd", "HH:mm")
_date_formats_source: Callable[[], tuple[str, str]] = lambda: ISO_FORMATS  # noqa: E731


def set_locale_source(source: Callable[[], NumberLocale]) -> None:
    """Where the current locale's separators come from (the Qt layer reads ``QLocale()``)."""
    global _locale_source
    _locale_source = source


def number_locale() -> NumberLocale:
    return _locale_source()


def set_date_formats_source(source: Callable[[], tuple[str, str]]) -> None:
    """Where the user's date and time formats come from (the Qt layer reads ``QLocale()``)."""
    global _date_formats_source
    _date_formats_source = source


# Qt's date/time pattern letters (QDate::toString) and quoted literal text.
_PATTERN = re.compile(r"'[^']*'|y{4}|y{2}|M{1,4}|d{1,4}|H{1,2}|h{1,2}|m{1,2}|s{1,2}|AP|Ap|aP|ap|A|a|t")


@lru_cache(maxsize=64)
def _tokens(pattern: str) -> tuple[tuple[bool, str], ...]:
    """``(is_field, text)`` pieces of a Qt pattern."""
    pieces: list[tuple[bool, str]] = []
    at = 0
    for match in _PATTERN.finditer(pattern):
        if match.start() > at:
            pieces.append((False, pattern[at : match.start()]))
        token = match.group(0)
        if token.startswith("'"):
            pieces.append((False, token[1:-1] or "'"))
        else:
            pieces.append((True, token))
        at = match.end()
    if at < len(pattern):
        pieces.append((False, pattern[at:]))
    return tuple(pieces)


def format_pattern(value: date | datetime, pattern: str) -> str:
    """``value`` written with a Qt date/time pattern, always with a four-digit year and digits
    for months (a short format's names are not translated here); weekday names are left out."""
    twelve = any(t in ("AP", "Ap", "aP", "ap", "A", "a") for is_field, t in _tokens(pattern) if is_field)
    hour = value.hour if isinstance(value, datetime) else 0
    minute = value.minute if isinstance(value, datetime) else 0
    second = value.second if isinstance(value, datetime) else 0
    shown_hour = (hour % 12 or 12) if twelve else hour
    fields = {
        "yyyy": f"{value.year:04d}",
        "yy": f"{value.year:04d}",
        "M": str(value.month),
        "MM": f"{value.month:02d}",
        "MMM": f"{value.month:02d}",
        "MMMM": f"{value.month:02d}",
        "d": str(value.day),
        "dd": f"{value.day:02d}",
        "ddd": "",
        "dddd": "",
        "H": str(hour),
        "HH": f"{hour:02d}",
        "h": str(shown_hour),
        "hh": f"{shown_hour:02d}",
        "m": str(minute),
        "mm": f"{minute:02d}",
        "s": str(second),
        "ss": f"{second:02d}",
        "AP": "AM" if hour < 12 else "PM",
        "Ap": "AM" if hour < 12 else "PM",
        "aP": "am" if hour < 12 else "pm",
        "A": "AM" if hour < 12 else "PM",
        "ap": "am" if hour < 12 else "pm",
        "a": "am" if hour < 12 else "pm",
        "t": "",
    }
    text = "".join(fields[t] if is_field else t for is_field, t in _tokens(pattern))
    return text.strip(" ,")


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
        local = value.astimezone()
        date_format, time_format = _date_formats_source()
        return f"{format_pattern(local, date_format)} {format_pattern(local, time_format)}"
    return str(value)


def day(value: Any) -> str:
    """A date in the user's short format (``03.12.2026``, ``12/3/2026``)."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, date):
        return format_pattern(value, _date_formats_source()[0])
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

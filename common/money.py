"""Money and quantities: exact arithmetic, one rounding helper.

Money is an integer count of minor units plus an ISO 4217 currency code. Quantities are
``Decimal`` values with at most ``QUANTITY_PLACES`` decimal places, stored as scaled integers so
that SQL ``SUM`` stays exact on every store.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation

QUANTITY_PLACES = 6
QUANTITY_SCALE = 10**QUANTITY_PLACES
MAX_QUANTITY = Decimal(10) ** 12  # far beyond any real stock level, far below int64 when scaled
MAX_MINOR_UNITS = 10**15
MAX_QUANTITY_TEXT = 40  # a trillion in major units of a 3-decimal currency
_PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")

# Minor-unit exponents that differ from the usual 2 (ISO 4217).
_CURRENCY_EXPONENTS = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "ISK": 0,
    "CLP": 0,
    "XOF": 0,
    "XAF": 0,
    "UGX": 0,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
    "LYD": 3,
    "IQD": 3,
}
# ISO 4217 codes accepted by the product. Kept as data: one source of truth for validation.
CURRENCIES = frozenset(
    [
        "AED",
        "ARS",
        "AUD",
        "BGN",
        "BHD",
        "BRL",
        "CAD",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CZK",
        "DKK",
        "EGP",
        "EUR",
        "GBP",
        "HKD",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "ISK",
        "JOD",
        "JPY",
        "KES",
        "KRW",
        "KWD",
        "LYD",
        "MAD",
        "MXN",
        "MYR",
        "NGN",
        "NOK",
        "NZD",
        "OMR",
        "PEN",
        "PHP",
        "PKR",
        "PLN",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "SAR",
        "SEK",
        "SGD",
        "THB",
        "TND",
        "TRY",
        "TWD",
        "UAH",
        "UGX",
        "USD",
        "VND",
        "XAF",
        "XOF",
        "ZAR",
    ]
)


class QuantityError(ValueError):
    """A quantity that cannot be stored exactly."""


def currency_exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (USD 2, JPY 0, KWD 3)."""
    return _CURRENCY_EXPONENTS.get(currency, 2)


def round_money(amount: Decimal, currency: str, *, bankers: bool = False) -> int:
    """Round a major-unit ``Decimal`` amount to integer minor units.

    Half-up by default; banker's rounding (half-even) only where the law asks for it.
    """
    exponent = currency_exponent(currency)
    scaled = amount * (Decimal(10) ** exponent)
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_EVEN if bankers else ROUND_HALF_UP))


def convert(amount: int, currency: str, rate: Decimal, to_currency: str) -> int:
    """``amount`` minor units of ``currency`` in minor units of ``to_currency`` at ``rate``
    (units of ``to_currency`` per unit of ``currency``), rounded by :func:`round_money`."""
    if currency == to_currency and rate == 1:
        return amount
    return round_money(Decimal(amount).scaleb(-currency_exponent(currency)) * rate, to_currency)


def half_up(value: Decimal) -> int:
    """``value`` in whole minor units, rounded half-up."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def share(amount: int, part: Decimal | int, whole: Decimal | int) -> int:
    """``part``'s share of ``amount`` spread over ``whole`` (a quantity or a count of days), in
    whole minor units rounded half-up; all of it once ``part`` reaches ``whole``, so the shares
    that take the last units leave nothing behind."""
    if part >= whole:
        return amount
    return half_up(Decimal(amount) * part / whole)


def line_amount(quantity: Decimal, unit_price: int, discount_percent: Decimal = Decimal(0)) -> int:
    """``quantity * unit_price`` (minor units) less ``discount_percent`` %, rounded half-up to
    whole minor units once, after the discount (3 × 19.99 less 15 % is 50.97, not 3 × 16.99)."""
    amount = quantity * unit_price
    if discount_percent:
        amount = amount * (100 - discount_percent) / 100
    return half_up(amount)


def format_money(minor_units: int, currency: str) -> str:
    """Human-readable amount, e.g. ``format_money(123456, "EUR") == "1,234.56 EUR"``."""
    exponent = currency_exponent(currency)
    major = Decimal(minor_units) / (Decimal(10) ** exponent)
    return f"{major:,.{exponent}f} {currency}"


def parse_quantity(value: object) -> Decimal:
    """Parse a quantity given as text, int or Decimal (never float) into an exact ``Decimal``.

    Raises :class:`QuantityError` naming what is wrong.
    """
    if isinstance(value, bool | float):
        raise QuantityError("must be given as a decimal string or an integer, not a float")
    text = value if isinstance(value, str) else None
    if text is not None:
        if len(text) > MAX_QUANTITY_TEXT:
            raise QuantityError(f"is longer than {MAX_QUANTITY_TEXT} characters")
        # Decimal() also reads "1_000", exponents, "Infinity" and digits of every script
        # ("١٢", "𝟓"): text is refused unless it is plain ASCII decimal notation.
        text = text.strip()
        if not _PLAIN_DECIMAL.fullmatch(text):
            raise QuantityError("is not a number: use the digits 0-9, at most one '.' and an optional sign")
        value = text
    try:
        quantity = Decimal(str(value)) if not isinstance(value, Decimal) else value
        if not quantity.is_finite():
            raise QuantityError("must be a finite number")
        exponent = quantity.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -QUANTITY_PLACES:
            raise QuantityError(f"has more than {QUANTITY_PLACES} decimal places")
        if abs(quantity) >= MAX_QUANTITY:
            raise QuantityError("is too large")
    except InvalidOperation as exc:
        raise QuantityError("is not a number") from exc
    except ArithmeticError as exc:  # Overflow and decimal's other signals
        raise QuantityError("is out of range") from exc
    return quantity


def quantity_to_scaled(quantity: Decimal) -> int:
    """Scale an exact quantity to the stored integer representation."""
    return int(quantity * QUANTITY_SCALE)


def scaled_to_quantity(scaled: int) -> Decimal:
    """Inverse of :func:`quantity_to_scaled`, normalised (``5`` not ``5.000000``)."""
    quantity = Decimal(scaled) / QUANTITY_SCALE
    normalized = quantity.normalize()
    # normalize() turns 100 into 1E+2; keep plain notation.
    return normalized.quantize(Decimal(1)) if normalized == normalized.to_integral() else normalized


def scaled_quantity_text(scaled: int) -> str:
    """Canonical wire text of a stored (scaled) quantity: ``1.5``, ``-0.25``, ``100``. Integer
    arithmetic only (a pull encodes every quantity it sends with it)."""
    whole, fraction = divmod(abs(scaled), QUANTITY_SCALE)
    sign = "-" if scaled < 0 else ""
    if not fraction:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{QUANTITY_PLACES}d}".rstrip("0")


def quantity_text(quantity: Decimal) -> str:
    """Canonical wire text of a quantity: plain notation, no trailing zeros (the one encoder:
    :func:`scaled_quantity_text` of its stored form)."""
    return scaled_quantity_text(quantity_to_scaled(quantity))

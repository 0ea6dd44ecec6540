"""The values of an import's cells: exact numbers, money in minor units, dates and choices.

A file's numbers are read exactly (``Decimal``, never ``float``) and never guessed. The file's
decimal separator is either chosen by the user (``"."`` or ``","``: the other one then groups
thousands, in threes) or read from each number: where both marks appear the last one is the
decimal separator (``1.234,50``, ``1,234.50``), one mark repeated groups thousands
(``1,234,567``), and one mark followed by other than three digits is the decimal separator
(``12,50``, ``0.125``). ``1,234`` and ``1.234`` could be either, so they are refused, naming
the two readings, rather than read one way (``12,50`` EUR once became 1,250.00 EUR that way).
Number cells of a workbook are exact already (:class:`NumberCell`) and never re-read.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from common.imports.kinds import ImportField
from common.money import currency_exponent, parse_quantity

# Spaces people type, or a locale writes, to group thousands.
_SPACES = " \u00a0\u202f\u2009"
_MINUS = ("-", "\u2212")
_ALLOWED = frozenset("0123456789.," + _SPACES)
# One mark once, after a whole part that could be one group: ``1,234`` / ``123.456``.
_AMBIGUOUS = re.compile(r"[1-9][0-9]{0,2}[.,][0-9]{3}")
# A plain number: digits, perhaps one mark and decimals (most cells of most files).
_SIMPLE = re.compile(r"([-+]?)([0-9]*)(?:([.,])([0-9]+))?")
# Excel keeps 15 significant digits; a double's extra digits are noise (0.30000000000000004).
EXCEL_DIGITS = 15
DECIMAL_MARKS = (".", ",")


class CellProblem(ValueError):
    """A cell that is not a value of its field; the message names the cell's text."""


class NumberCell(str):
    """A workbook's number cell as exact decimal text (``"1250.5"``), never read as a locale's."""

    __slots__ = ()


def number_cell(value: int | float) -> NumberCell:
    """An XLSX number as the decimal Excel shows (15 significant digits), exactly."""
    if isinstance(value, int):
        return NumberCell(str(value))
    number = Decimal(repr(value))
    if len(number.as_tuple().digits) > EXCEL_DIGITS:
        number = round(number, EXCEL_DIGITS - number.adjusted() - 1)
    return NumberCell(format(number.normalize(), "f"))


def parse_number(text: str, decimal_mark: str | None = None) -> Decimal:
    """The exact number ``text`` writes; ``decimal_mark`` ``None`` reads the mark from the text.

    Raises :class:`CellProblem` naming the text when it is not one number, or could be two.
    """
    if isinstance(text, NumberCell):
        return Decimal(text)
    simple = _SIMPLE.fullmatch(text)
    if simple is not None:  # the common case, decided without the general walk below
        sign, whole, mark, fraction = simple.groups()
        if mark is None and whole:
            return Decimal(f"{sign}{whole}")
        ambiguous = len(fraction) == 3 and 1 <= len(whole) <= 3 and whole[0] != "0"
        if mark is not None and (mark == decimal_mark or (decimal_mark is None and not ambiguous)):
            return Decimal(f"{sign}{whole or '0'}.{fraction}")
    body = text.strip()
    sign = ""
    if body[:1] in (*_MINUS, "+"):
        sign = "" if body[0] == "+" else "-"
        body = body[1:].lstrip()
    if not body or not _ALLOWED.issuperset(body) or not any(ch.isdigit() for ch in body):
        raise CellProblem(f"“{text}” is not a number")
    marks = [ch for ch in body if ch in DECIMAL_MARKS]
    if decimal_mark is not None:
        decimal: str | None = decimal_mark
    elif len(set(marks)) == 2:
        decimal = marks[-1]
    elif len(marks) > 1:
        decimal = None  # 1,234,567: one mark repeated groups thousands
    elif marks and _AMBIGUOUS.fullmatch(body):
        other = "." if marks[0] == "," else ","
        whole, fraction = body.split(marks[0])
        raise CellProblem(
            f"“{text}” is ambiguous: {whole}{fraction} or {whole}{other}{fraction}? Write it without "
            "a thousands separator, or choose the file's decimal separator"
        )
    else:
        decimal = marks[0] if marks else None
    group = {".": ",", ",": "."}.get(decimal or "", marks[0] if marks else "")
    whole, _, fraction = body.partition(decimal) if decimal else (body, "", "")
    if decimal and decimal in fraction:
        raise CellProblem(f"“{text}” has more than one decimal separator “{decimal}”")
    if any(ch in fraction for ch in _SPACES + group):
        raise CellProblem(f"“{text}” is not a number: thousands cannot be grouped after the decimals begin")
    groups = re.split(f"[{re.escape(_SPACES + group)}]", whole)
    if len(groups) > 1 and not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
        decimals = f" with “{decimal}” for decimals" if decimal else ""
        raise CellProblem(f"“{text}” is not a number{decimals}: thousands are grouped in threes")
    digits = "".join(groups)
    if not digits and not fraction:
        raise CellProblem(f"“{text}” is not a number")
    return Decimal(f"{sign}{digits or '0'}.{fraction}" if fraction else f"{sign}{digits}")


def parse_money(text: str, currency: str, decimal_mark: str | None = None) -> int:
    """``text`` in ``currency``'s minor units; refused when it has more decimals than they allow."""
    amount = parse_number(text, decimal_mark)
    try:
        exponent = currency_exponent(currency)
    except (KeyError, ValueError):
        raise CellProblem(f"“{currency}” is not a currency code") from None
    minor = amount.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise CellProblem(f"“{text}” has more decimals than {currency} allows ({exponent})")
    return int(minor)


def parse_date(text: str) -> date:
    """An ISO date (a workbook's date-time cell read as text keeps its first ten characters);
    any other spelling is refused, never guessed (``01/02/2030`` is two dates)."""
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise CellProblem(f"“{text}” is not a date (YYYY-MM-DD)") from None


def cell_value(spec: ImportField, text: str, currency: str, decimal_mark: str | None = None) -> object:
    """The value of one non-empty cell for its field, or :class:`CellProblem`."""
    if spec.kind == "money":
        return parse_money(text, currency, decimal_mark)
    if spec.kind == "quantity":
        try:
            return parse_quantity(parse_number(text, decimal_mark))
        except (ValueError, ArithmeticError) as exc:
            if isinstance(exc, CellProblem):
                raise
            raise CellProblem(str(exc)) from None
    if spec.kind == "date":
        return parse_date(text)
    if spec.kind == "choice":
        lowered = text.lower()
        if lowered not in spec.choices:
            raise CellProblem(f"“{text}” must be one of {', '.join(spec.choices)}")
        return lowered
    return str(text)

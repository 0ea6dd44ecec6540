"""Numbers as a user types and reads them in their locale (no Qt; the facts come from QLocale).

The locale decides the decimal and the group (thousands) separator: ``12,50`` is twelve and a half
in Germany and France, and not a number at all in the United States, where ``,`` groups thousands
and ``12,50`` has a group of two digits. Text that does not read as exactly one number in the
current locale is refused with a phrase naming the problem; it is never reinterpreted in another
locale's rules (that is how ``12,50`` EUR once became 1,250.00 EUR).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# Spaces people type, or a locale uses, to group thousands (French uses U+202F, others U+00A0).
_SPACES = frozenset(" \u00a0\u202f\u2009")
_MINUS = frozenset("-\u2212")
# Characters used somewhere as a decimal or group separator: outside the locale's own pair they
# are a sign of another locale's habits, so they make the text ambiguous.
_FOREIGN_SEPARATORS = frozenset(".,'\u2019\u066b\u066c")


class NumberError(ValueError):
    """Text that is not exactly one number in the user's locale; the message says why."""


@dataclass(frozen=True)
class NumberLocale:
    """The two separators of a locale, e.g. ``NumberLocale(",", ".")`` for ``de_DE``."""

    decimal: str = "."
    group: str = ","

    @property
    def group_is_space(self) -> bool:
        return self.group in _SPACES

    def shown_group(self) -> str:
        return "a space" if self.group_is_space else f"'{self.group}'"


C_LOCALE = NumberLocale(".", ",")


def format_decimal(
    value: Decimal | int, loc: NumberLocale, places: int | None = None, *, group: bool = True
) -> str:
    """``Decimal("1250.5")`` as ``1.250,5`` (de), ``1 250,5`` (fr), ``1,250.5`` (en).

    ``places`` fixes the number of decimals (money); ``None`` shows the value's own (quantities).
    """
    number = Decimal(value)
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places))
    text = format(number, ",f" if group else "f")
    return text.replace(",", "\0").replace(".", loc.decimal).replace("\0", loc.group)


def example(loc: NumberLocale) -> str:
    """A number written the local way, for messages: ``1,234.50`` / ``1.234,50``."""
    return format_decimal(Decimal("1234.50"), loc, 2)


def parse_decimal(text: str, loc: NumberLocale) -> Decimal:
    """The exact number ``text`` means in ``loc``; raises :class:`NumberError` when it is not one.

    Group separators are optional, but where written they must group the whole-number part in
    threes (``1.250,00`` in de). Anything else is refused rather than guessed.
    """
    body = text.strip()
    if not body:
        raise NumberError("is empty")
    sign = ""
    if body[0] in _MINUS or body[0] == "+":
        sign = "-" if body[0] in _MINUS else ""
        body = body[1:].lstrip()
    if loc.group_is_space:
        body = "".join(loc.group if ch in _SPACES else ch for ch in body)
    for ch in body:
        if ch.isdigit() and not ("0" <= ch <= "9"):
            raise NumberError("uses digits other than 0-9")
        if ch in (loc.decimal, loc.group) or "0" <= ch <= "9":
            continue
        if ch in _FOREIGN_SEPARATORS:
            raise NumberError(
                f"is ambiguous here: '{ch}' is not a separator in this locale's numbers "
                f"(decimals follow '{loc.decimal}', e.g. {example(loc)})"
            )
        shown = "a space" if ch in _SPACES else f"'{ch}'"
        raise NumberError(f"is not a number: {shown} is not allowed (write it like {example(loc)})")
    if body.count(loc.decimal) > 1:
        raise NumberError(
            f"has more than one decimal separator '{loc.decimal}' (write it like {example(loc)})"
        )
    whole, _, fraction = body.partition(loc.decimal)
    if loc.group in fraction:
        raise NumberError(
            f"is ambiguous here: {loc.shown_group()} groups thousands and cannot follow the decimal "
            f"separator '{loc.decimal}' (write it like {example(loc)})"
        )
    if loc.group in whole:
        groups = whole.split(loc.group)
        if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
            raise NumberError(
                f"is ambiguous here: {loc.shown_group()} groups thousands in threes and decimals follow "
                f"'{loc.decimal}' (write it like {example(loc)})"
            )
        whole = "".join(groups)
    if not whole and not fraction:
        raise NumberError(f"is not a number (write it like {example(loc)})")
    return Decimal(f"{sign}{whole or '0'}.{fraction or '0'}") if fraction else Decimal(f"{sign}{whole}")

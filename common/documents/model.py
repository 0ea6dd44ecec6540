"""What a printed business document holds, and how its values are written in a locale.

A :class:`BusinessDocument` is made once from the store (:mod:`common.documents.loaders`) and
rendered twice from the same data: as a PDF (:mod:`common.documents.pdf`) and as HTML for Qt's
print preview (:mod:`common.documents.html`). Amounts are exact ``Decimal`` values in major
units of the document's currency (``Decimal("1234.50")`` EUR), never floats or minor units;
a :class:`DocumentLocale` writes them (and quantities and dates) the reader's way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from common.money import currency_exponent

ColumnKind = Literal["text", "number", "quantity", "money", "percent", "date"]
# A line with this key set is printed in bold (a payslip's gross and net pay).
STRONG = "_strong"
# A fact of a document: text, a day, or a period (first and last day).
FactValue = str | date | tuple[date, date]


@dataclass(frozen=True)
class DocumentLocale:
    """How numbers and dates are written: separators and a ``strftime`` date pattern."""

    decimal: str = "."
    group: str = ","
    date_format: str = "%Y-%m-%d"

    def number(self, value: Decimal | int, places: int | None = None) -> str:
        """``Decimal("1250.5")`` as ``1,250.5`` (en), ``1.250,5`` (de); ``places`` fixes decimals."""
        number = Decimal(value)
        if places is not None:
            number = number.quantize(Decimal(1).scaleb(-places))
        text = format(number, ",f")
        return text.replace(",", "\0").replace(".", self.decimal).replace("\0", self.group)

    def money(self, amount: Decimal, currency: str, *, with_currency: bool = False) -> str:
        """An amount with its currency's decimals: ``1,234.50`` (``1,234.50 EUR`` with the code)."""
        text = self.number(amount, currency_exponent(currency))
        return f"{text} {currency}" if with_currency else text

    def quantity(self, value: Decimal) -> str:
        """A quantity as exact as it is stored, without trailing zeros (``2.5``, ``10``)."""
        normalized = value.normalize()
        if normalized == normalized.to_integral():
            normalized = normalized.quantize(Decimal(1))
        return self.number(normalized)

    def percent(self, value: Decimal) -> str:
        return f"{self.quantity(value)} %"

    def day(self, value: date) -> str:
        return value.strftime(self.date_format)


# Locales a server request may name (``?locale=de``); the desktop passes its user's own.
LOCALES: Mapping[str, DocumentLocale] = {
    "en": DocumentLocale(".", ",", "%Y-%m-%d"),
    "en-us": DocumentLocale(".", ",", "%m/%d/%Y"),
    "en-gb": DocumentLocale(".", ",", "%d/%m/%Y"),
    "de": DocumentLocale(",", ".", "%d.%m.%Y"),
    "fr": DocumentLocale(",", "\u00a0", "%d/%m/%Y"),
    "nl": DocumentLocale(",", ".", "%d-%m-%Y"),
    "fi": DocumentLocale(",", "\u00a0", "%d.%m.%Y"),
}
DEFAULT_LOCALE = LOCALES["en"]


def major(minor_units: int, currency: str) -> Decimal:
    """Integer minor units as an exact major-unit amount: ``123450`` EUR → ``1234.50``."""
    return Decimal(int(minor_units)).scaleb(-currency_exponent(currency))


@dataclass(frozen=True)
class Letterhead:
    """The issuing organization as its documents print it (its profile, or just its name)."""

    name: str
    address: tuple[str, ...] = ()
    tax_id: str | None = None
    email: str | None = None
    phone: str | None = None
    iban: str | None = None
    bic: str | None = None

    @property
    def contact(self) -> tuple[str, ...]:
        found = []
        if self.tax_id:
            found.append(f"VAT / tax id {self.tax_id}")
        if self.email:
            found.append(self.email)
        if self.phone:
            found.append(self.phone)
        return tuple(found)

    @property
    def bank(self) -> str:
        """``IBAN DE89 3704 … · BIC COBADEFFXXX`` (empty without an IBAN)."""
        if not self.iban:
            return ""
        grouped = " ".join(self.iban[i : i + 4] for i in range(0, len(self.iban), 4))
        return f"IBAN {grouped}" + (f" · BIC {self.bic}" if self.bic else "")


@dataclass(frozen=True)
class Party:
    """The other side: the customer, the supplier or the employee."""

    label: str  # "Bill to", "Supplier", "Employee"
    name: str
    address: tuple[str, ...] = ()
    tax_id: str | None = None


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: ColumnKind = "text"
    # Money cells carry the currency code (payslips, statements in print).
    with_currency: bool = False

    @property
    def numeric(self) -> bool:
        return self.kind in ("number", "quantity", "money", "percent")


@dataclass(frozen=True)
class TaxLine:
    """One rate of the tax breakdown: what was taxed at it and the tax."""

    label: str  # "VAT 20 %", "No tax"
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Total:
    label: str
    amount: Decimal
    strong: bool = False


@dataclass(frozen=True)
class Section:
    """A further table after the totals (a payslip's employer contributions)."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class BusinessDocument:
    """A document as printed: letterhead, title and number, the other party, the facts (dates,
    references), the lines, the tax breakdown per rate, the totals, further sections and notes.

    ``draft``: not final (no legal number yet, or a draft payroll run): marked as such.
    """

    kind: str
    title: str
    number: str | None
    draft: bool
    currency: str
    letterhead: Letterhead
    party: Party | None
    facts: tuple[tuple[str, FactValue], ...]
    columns: tuple[Column, ...]
    lines: tuple[Mapping[str, Any], ...]
    tax_lines: tuple[TaxLine, ...] = ()
    totals: tuple[Total, ...] = ()
    sections: tuple[Section, ...] = ()
    notes: tuple[str, ...] = ()
    draft_note: str = "Draft, not yet posted: this document has no legal number yet."
    filename: str = "document.pdf"
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def heading(self) -> str:
        """``Invoice INV-2026-0001``; a draft shows its kind only (its number is provisional)."""
        if self.number and not self.draft:
            return f"{self.title} {self.number}"
        return self.title


def cell_text(column: Column, value: Any, currency: str, locale: DocumentLocale) -> str:
    """One cell as printed."""
    if value is None or value == "":
        return ""
    if column.kind == "money":
        return locale.money(Decimal(value), currency, with_currency=column.with_currency)
    if column.kind == "quantity":
        return locale.quantity(Decimal(value))
    if column.kind == "percent":
        return locale.percent(Decimal(value))
    if column.kind == "number":
        return locale.number(int(value))
    if column.kind == "date" and isinstance(value, date):
        return locale.day(value)
    return str(value)


def fact_text(value: FactValue, locale: DocumentLocale) -> str:
    if isinstance(value, tuple):
        return f"{locale.day(value[0])} to {locale.day(value[1])}"
    return locale.day(value) if isinstance(value, date) else value


def column_title(column: Column, currency: str) -> str:
    """A money column's title names the currency once its cells do not."""
    if column.kind == "money" and not column.with_currency:
        return f"{column.title} ({currency})"
    return column.title


__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "STRONG",
    "BusinessDocument",
    "Column",
    "DocumentLocale",
    "FactValue",
    "Letterhead",
    "Party",
    "Section",
    "TaxLine",
    "Total",
    "cell_text",
    "column_title",
    "fact_text",
    "major",
]

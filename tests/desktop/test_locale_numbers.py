"""Numbers in the user's locale, typed into a real product form and shown in the real list.

The 100× error of issue 13: ``12,50`` in a EUR organization must never become 1,250.00 EUR. Text
that is not exactly one number in the current locale is refused with the problem named.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop import background
from desktop.formatting import money, parse_quantity_input, quantity
from desktop.numbers import NumberError, NumberLocale, parse_decimal
from desktop.qt import QLineEdit, Qt
from desktop.ui.forms import FormDialog
from desktop.ui.main_window import MainWindow

REFUSED = None
# What each text means as a EUR sale price (minor units), per locale; REFUSED = an error is shown.
TABLE: dict[str, dict[str, int | None]] = {
    "de_DE": {"12,50": 1250, "1.250,00": 125000, "1,250.00": REFUSED, "12.5": REFUSED},
    "fr_FR": {"12,50": 1250, "1.250,00": REFUSED, "1,250.00": REFUSED, "12.5": REFUSED},
    "en_US": {"12,50": REFUSED, "1.250,00": REFUSED, "1,250.00": 125000, "12.5": 1250},
    "en_GB": {"12,50": REFUSED, "1.250,00": REFUSED, "1,250.00": 125000, "12.5": 1250},
}
GOOD = {"de_DE": "1.250,00", "fr_FR": "1 250,00", "en_US": "1,250.00", "en_GB": "1,250.00"}
SHOWN = {
    "de_DE": "1.250,00 EUR",
    "fr_FR": "1\u202f250,00 EUR",
    "en_US": "1,250.00 EUR",
    "en_GB": "1,250.00 EUR",
}


@pytest.mark.parametrize("locale_name", sorted(TABLE))
def test_sale_price_typed_in_each_locale(
    qtbot: QtBot, window: MainWindow, use_locale: Any, locale_name: str
) -> None:
    use_locale(locale_name)
    page = window.open_page("products")
    page.new_item()
    (dialog,) = page.findChildren(FormDialog)
    price = dialog.inputs["sale_price"]
    assert isinstance(price, QLineEdit)
    assert price.placeholderText() == ("0.00" if locale_name.startswith("en") else "0,00")
    outcome: dict[str, int | None] = {}
    problems: dict[str, str] = {}
    for text in TABLE[locale_name]:
        price.clear()
        qtbot.keyClicks(price, text)
        args, found = dialog.validate()
        outcome[text] = REFUSED if "sale_price" in found else args["sale_price"]
        problems[text] = dialog.field_problem("sale_price")
    assert outcome == TABLE[locale_name]
    for text, expected in TABLE[locale_name].items():
        if expected is REFUSED:
            assert problems[text].startswith("Sale price: is ambiguous here"), problems[text]
        else:
            assert problems[text] == ""

    # What is saved is what was meant, and the list shows it the local way (never in cents).
    good = GOOD[locale_name]
    for key, text in (("sku", "LOCALE-1"), ("name", "Locale check"), ("sale_price", good)):
        widget = dialog.inputs[key]
        assert isinstance(widget, QLineEdit)
        widget.clear()
        qtbot.keyClicks(widget, text)
    assert dialog.validate()[1] == {}
    dialog.try_save()
    qtbot.waitUntil(lambda: not dialog.isVisible() and background.active_count() == 0, timeout=10_000)
    row = next(r for r in page.model.rows if r["sku"] == "LOCALE-1")
    assert row["sale_price"] == 125000 and row["currency"] == "EUR"
    column = [c.key for c in page.model.columns].index("sale_price")
    index = page.model.index(page.model.rows.index(row), column)
    assert page.model.data(index, Qt.ItemDataRole.DisplayRole) == SHOWN[locale_name]


def test_display_follows_the_locale(use_locale: Any) -> None:
    use_locale("de_DE")
    assert money(1250, "EUR") == "12,50 EUR"
    assert money(1250, "JPY") == "1.250 JPY"
    assert quantity(Decimal("1234.5")) == "1.234,5"
    assert parse_quantity_input("2,5") == Decimal("2.5")
    use_locale("en_US")
    assert money(1250, "EUR") == "12.50 EUR"
    assert quantity(Decimal("1234.5")) == "1,234.5"


@pytest.mark.parametrize(
    ("text", "loc", "expected"),
    [
        ("12,50", NumberLocale(",", "."), Decimal("12.50")),
        ("-1.234.567,5", NumberLocale(",", "."), Decimal("-1234567.5")),
        ("1 250,5", NumberLocale(",", "\u202f"), Decimal("1250.5")),
        ("1\u00a0250", NumberLocale(",", "\u202f"), Decimal(1250)),
        ("1,250", NumberLocale(".", ","), Decimal(1250)),
        (".5", NumberLocale(".", ","), Decimal("0.5")),
    ],
)
def test_parse_rule_reads_local_numbers(text: str, loc: NumberLocale, expected: Decimal) -> None:
    assert parse_decimal(text, loc) == expected


@pytest.mark.parametrize(
    ("text", "loc", "phrase"),
    [
        ("12,50", NumberLocale(".", ","), "is ambiguous here: ',' groups thousands in threes"),
        ("0,5", NumberLocale(".", ","), "is ambiguous here"),
        ("1.2.3", NumberLocale(".", ","), "has more than one decimal separator"),
        ("1.250,00", NumberLocale(".", ","), "cannot follow the decimal separator"),
        ("12.5", NumberLocale(",", "\u202f"), "'.' is not a separator in this locale's numbers"),
        ("12 EUR", NumberLocale(".", ","), "is not a number"),
        ("١٢", NumberLocale(".", ","), "uses digits other than 0-9"),
        ("", NumberLocale(".", ","), "is empty"),
    ],
)
def test_parse_rule_refuses_what_is_not_one_number(text: str, loc: NumberLocale, phrase: str) -> None:
    with pytest.raises(NumberError, match=phrase):
        parse_decimal(text, loc)


DATES = {
    "de_DE": ("15.12.2026", "03.12.2026 14:02"),
    "en_US": ("12/15/2026", "12/3/2026 2:02\u202fPM"),
    "en_GB": ("15/12/2026", "03/12/2026 14:02"),
    "fr_FR": ("15/12/2026", "03/12/2026 14:02"),
}


@pytest.mark.parametrize("locale_name", sorted(DATES))
def test_dates_in_lists_follow_the_locale(
    qtbot: QtBot, window: MainWindow, use_locale: Any, locale_name: str
) -> None:
    """A list's dates and times are written the user's way (never ISO, never a two-digit year)."""
    from datetime import UTC, datetime

    from desktop.formatting import day, timestamp

    use_locale(locale_name)
    shown_day, shown_time = DATES[locale_name]
    assert day("2026-12-15") == shown_day
    assert timestamp(datetime(2026, 12, 3, 14, 2, tzinfo=UTC).astimezone()) == shown_time
    page = window.open_page("purchase_orders")
    qtbot.waitUntil(lambda: background.active_count() == 0)
    model = page.model
    column = next(i for i, c in enumerate(model.columns) if c.key == "expected_on")
    texts = {model.index(r, column).data() for r in range(model.rowCount())}
    assert shown_day in texts
    assert "2026-12-15" not in texts

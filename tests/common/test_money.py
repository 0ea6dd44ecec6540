"""Money in minor units, quantities exact, one rounding helper."""

from __future__ import annotations

from decimal import Decimal

import pytest

from common.money import (
    QuantityError,
    format_money,
    line_amount,
    parse_quantity,
    quantity_text,
    quantity_to_scaled,
    round_money,
    scaled_to_quantity,
)


def test_quantities_are_exact_and_round_trip_through_storage() -> None:
    for text in ("0", "1", "2.5", "0.000001", "-3.25", "999999999999.5", "100"):
        quantity = parse_quantity(text)
        assert scaled_to_quantity(quantity_to_scaled(quantity)) == quantity
    assert quantity_text(parse_quantity("100.500")) == "100.5"
    assert quantity_text(parse_quantity("100")) == "100"
    assert sum(parse_quantity("0.1") for _ in range(10)) == Decimal(1)
    assert [parse_quantity(t) for t in (" 5 ", "+5", "-0", "5.", ".5")] == [5, 5, 0, 5, Decimal("0.5")]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (0.1, "float"),
        ("1.0000001", "decimal places"),
        ("abc", "not a number"),
        ("NaN", "not a number"),
        ("1" + "0" * 12, "too large"),
        ("1e3", "not a number"),
        ("1_000", "not a number"),
        ("\u0661\u0662", "not a number"),  # Arabic-Indic digits
        ("\U0001d7d3", "not a number"),  # mathematical bold digit five
        ("\uff15", "not a number"),  # fullwidth five
        ("Infinity", "not a number"),
        ("1.2.3", "not a number"),
        ("0x10", "not a number"),
        ("", "not a number"),
    ],
)
def test_bad_quantities_are_refused_with_the_reason(value: object, problem: str) -> None:
    with pytest.raises(QuantityError, match=problem):
        parse_quantity(value)


def test_rounding_is_half_up_by_default_and_bankers_on_request() -> None:
    assert round_money(Decimal("0.125"), "EUR") == 13
    assert round_money(Decimal("0.125"), "EUR", bankers=True) == 12
    assert round_money(Decimal("10.5"), "JPY") == 11
    assert round_money(Decimal("1.0005"), "KWD") == 1001
    assert line_amount(Decimal("2.5"), 199) == 498  # 497.5 rounds up


def test_money_is_formatted_with_the_currency_exponent() -> None:
    assert format_money(123456, "EUR") == "1,234.56 EUR"
    assert format_money(1500, "JPY") == "1,500 JPY"
    assert format_money(-5, "USD") == "-0.05 USD"

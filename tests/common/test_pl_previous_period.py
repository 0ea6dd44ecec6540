"""Profit and loss beside the previous period: for whole calendar months (a month, a quarter, a
year) the same number of whole months just before; for any other range, as many days just
before. Revenue only (Dr 1000 Bank / Cr 4000 Revenue), so each column is one figure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from common.commands.postings import chart_account_id
from common.ids import new_id
from common.reports import run_report
from tests.common.business import EVERYTHING, Business
from tests.common.sides import SIDES, open_side

# Revenue by day (cents). 2032 is a leap year.
REVENUE = {
    "2030-12-31": 100_00,
    "2031-01-29": 7_00,
    "2031-02-01": 20_00,
    "2031-02-28": 3_00,
    "2032-01-01": 1_000_00,
    "2032-01-02": 50_00,
    "2032-01-31": 400_00,
    "2032-02-29": 9_00,
}


@pytest.fixture(scope="module", params=SIDES)
def books(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, server_store_template: Path
) -> Iterator[Business]:
    store = open_side(request.param, tmp_path_factory.mktemp(request.param) / "store", server_store_template)
    try:
        biz = Business(store, new_id()).set_up_books()
        for day, amount in REVENUE.items():
            biz.apply("finance.post_journal_entry", {
                "id": new_id(), "entry_date": day, "currency": "EUR",
                "lines": [{"account_id": chart_account_id(biz.org_id, "1000"), "debit": amount},
                          {"account_id": chart_account_id(biz.org_id, "4000"), "credit": amount}]})  # fmt: skip
        yield biz
    finally:
        store.close()


def previous(biz: Business, start: str, end: str) -> tuple[str, str, str, str]:
    """The previous window asked for beside ``[start, end]``, and both columns' revenue."""
    with biz.session() as session:
        made: dict[str, Any] = run_report(
            session, biz.org_id, "profit_and_loss", {"from": start, "to": end}, EVERYTHING
        )
    params = made["params"]
    (row,) = [row for row in made["rows"] if row["code"] == "4000"] or [
        {"amount": "0.00", "previous": "0.00"}
    ]
    return params["previous_from"], params["previous_to"], row["amount"], row["previous"]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # March 2031 beside February 2031: 20.00 + 3.00 (not the 31 days from 29 January, which
        # took in 7.00 more).
        ("2031-03-01", "2031-03-31", ("2031-02-01", "2031-02-28", "0.00", "23.00")),
        # The year 2032 beside 2031: 7 + 20 + 3 = 30.00 (not 366 days back from 31 December
        # 2031, which took in 2030-12-31's 100.00). This year: 1,000 + 50 + 400 + 9 = 1,459.00.
        ("2032-01-01", "2032-12-31", ("2031-01-01", "2031-12-31", "1459.00", "30.00")),
        # 2033 beside the leap year 2032, all of it: 1,459.00 (365 days back began on 2 January
        # and missed 1 January's 1,000.00).
        ("2033-01-01", "2033-12-31", ("2032-01-01", "2032-12-31", "0.00", "1459.00")),
        # Leap February 2032 (9.00, on the 29th) beside January 2032: 1,000 + 50 + 400 =
        # 1,450.00 (29 days back began on 3 January: 400.00).
        ("2032-02-01", "2032-02-29", ("2032-01-01", "2032-01-31", "9.00", "1450.00")),
        # March 2032 beside the leap February, 29 days: 9.00 (31 days back began on 30 January
        # and took in 31 January's 400.00).
        ("2032-03-01", "2032-03-31", ("2032-02-01", "2032-02-29", "0.00", "9.00")),
        # The second quarter of 2031 beside the first: 7 + 20 + 3 = 30.00 (91 days back began on
        # 2030-12-31: 130.00).
        ("2031-04-01", "2031-06-30", ("2031-01-01", "2031-03-31", "0.00", "30.00")),
        # Arbitrary dates: as many days just before. Ten days, 10-19 February 2031, beside
        # 31 January to 9 February: 20.00.
        ("2031-02-10", "2031-02-19", ("2031-01-31", "2031-02-09", "0.00", "20.00")),
        # The first half of February 2032 is not a whole month: 15 days back, 17-31 January: 400.00.
        ("2032-02-01", "2032-02-15", ("2032-01-17", "2032-01-31", "0.00", "400.00")),
    ],
)
def test_the_previous_period_is_the_previous_calendar_period(
    books: Business, start: str, end: str, expected: tuple[str, str, str, str]
) -> None:
    assert previous(books, start, end) == expected

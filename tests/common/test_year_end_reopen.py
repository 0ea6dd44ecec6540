"""A closed year is closed: nothing more is dated in it, until its closing entry is reversed,
which reopens it (and it can then be closed again). On a client's copy and on the server.

The textbook month (tests/common/textbook_month.py) is March 2031: income 3,000.00 (4000
Revenue); expenses 1,800.00 (5000 COGS) + 2,000.00 (6000 Wages) = 3,800.00; a loss of 800.00.
Closing 2031 posts on 2031-12-31: Dr 4000 3,000.00, Cr 5000 1,800.00, Cr 6000 2,000.00, and
Dr 3200 Retained earnings 800.00 (the loss).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from common.commands.postings import chart_account_id
from common.ids import new_id
from common.reports import run_report
from common.schema import JournalEntry
from common.wire import Mutation
from sync_server.writes import apply_mutations
from tests.common.business import EVERYTHING, Business
from tests.common.sides import SIDES, ServerCopy, open_side
from tests.common.textbook_month import Month

YEAR = {"start_date": "2031-01-01", "end_date": "2031-12-31"}


@pytest.fixture(params=SIDES)
def books(request: pytest.FixtureRequest, tmp_path: Path, server_store_template: Path) -> Iterator[Business]:
    store = open_side(request.param, tmp_path / "store", server_store_template)
    try:
        yield Business(store, new_id()).set_up_books()
    finally:
        store.close()


def report(biz: Business, name: str, **params: str) -> dict[str, Any]:
    with biz.session() as session:
        return run_report(session, biz.org_id, name, params, EVERYTHING)


def equity(biz: Business, as_of: str) -> dict[str, str]:
    sheet = report(biz, "balance_sheet", as_of=as_of)
    return {row["name"]: row["amount"] for row in sheet["rows"] if row["type"] == "equity"}


def entry(org_id: str, day: str, amount: int, debit: str = "6000", credit: str = "1000") -> dict[str, Any]:
    """A manual entry's arguments: Dr ``debit`` / Cr ``credit`` of ``amount`` cents on ``day``."""
    return {
        "id": new_id(), "entry_date": day, "currency": "EUR", "memo": "Late entry",
        "lines": [{"account_id": chart_account_id(org_id, debit), "debit": amount},
                  {"account_id": chart_account_id(org_id, credit), "credit": amount}],
    }  # fmt: skip


def closing_entries(biz: Business) -> list[dict[str, Any]]:
    return biz.rows(JournalEntry, JournalEntry.source == "year_end")


def test_reopening_a_year_by_reversing_its_closing_then_closing_it_again(books: Business) -> None:
    for _, name, args in Month().steps(books.org_id):
        books.apply(name, args)
    closed = books.apply("finance.close_year", {"id": new_id(), **YEAR})
    assert closed.data["result"] == "-800.00 EUR"
    (closing,) = closing_entries(books)

    # Reversing the closing entry, on the year's last day (inside the closed year), reopens it.
    books.apply(
        "finance.reverse_journal_entry",
        {"id": new_id(), "entry_id": closing["id"], "entry_date": "2031-12-31"},
    )
    # The P&L leaves out the closing entry and its reversal alike: 3,000 / 3,800 / −800 (the bug
    # read 6,000 / 7,600 / −1,600: the reversal's lines counted once more).
    year = report(books, "profit_and_loss", **{"from": "2031-01-01", "to": "2031-12-31"})
    assert year["totals"] == {"income": "3000.00", "expenses": "3800.00", "result": "-800.00"}
    amounts = {row["code"]: row["amount"] for row in year["rows"]}
    assert amounts == {"4000": "3000.00", "5000": "1800.00", "6000": "2000.00"}
    # Beside 2032, 2031 is the previous period, with the same figures.
    following = report(books, "profit_and_loss", **{"from": "2032-01-01", "to": "2032-12-31"})
    assert {row["code"]: row["previous"] for row in following["rows"]} == amounts
    # Closing and reversal cancel: retained earnings back to nothing (no row), the loss unclosed.
    assert equity(books, "2031-12-31") == {"Owner's capital": "10000.00", "Result not yet closed": "-800.00"}

    # Reopened, the year takes a late entry: 200.00 more wages on 15 December, paid from the bank.
    books.apply("finance.post_journal_entry", entry(books.org_id, "2031-12-15", 20_000))
    # Closed again: income 3,000.00; expenses 1,800 + 2,000 + 200 = 4,000.00; a loss of 1,000.00.
    again = books.apply("finance.close_year", {"id": new_id(), **YEAR})
    assert again.data["result"] == "-1,000.00 EUR"
    assert len(closing_entries(books)) == 2  # the reversed one stays, beside the new one
    year = report(books, "profit_and_loss", **{"from": "2031-01-01", "to": "2031-12-31"})
    assert year["totals"] == {"income": "3000.00", "expenses": "4000.00", "result": "-1000.00"}
    # Assets: bank 8,200 − 200 = 8,000, inventory 1,200, input tax 600 → 9,800.00; liabilities
    # 600 + 200 = 800.00; equity 10,000 − 1,000 = 9,000.00, all of the loss in retained earnings.
    sheet = report(books, "balance_sheet", as_of="2031-12-31")
    assert sheet["totals"] == {"assets": "9800.00", "liabilities": "800.00", "equity": "9000.00"}
    assert equity(books, "2031-12-31") == {
        "Owner's capital": "10000.00",
        "Retained earnings": "-1000.00",
        "Result not yet closed": "0.00",
    }
    # The year stands closed again: a third close is refused, and so is another late entry.
    books.invalid("finance.close_year", {"id": new_id(), **YEAR}, "end_date")
    error = books.refused("finance.post_journal_entry", entry(books.org_id, "2031-12-20", 1_00))
    assert (error.code, error.field, error.details["period"]) == ("period_closed", "entry_date", "2031")


def test_an_entry_dated_in_a_closed_year_is_refused_naming_the_year(books: Business) -> None:
    month = Month()
    for _, name, args in month.steps(books.org_id):
        books.apply(name, args)
    books.apply("finance.close_year", {"id": new_id(), **YEAR})  # no fiscal period exists at all
    # A manual entry on 15 December 2031, after 2031 was closed: refused like a closed period's.
    error = books.refused("finance.post_journal_entry", entry(books.org_id, "2031-12-15", 10_000))
    assert (error.code, error.field) == ("period_closed", "entry_date")
    assert "2031-12-15" in error.message and "2031" in error.message and "closed" in error.message
    assert error.details["period"] == "2031" and error.details["date"] == "2031-12-15"
    # Any dated document, not only a manual entry: an invoice issued on 1 January 2031 too.
    invoice = {"id": new_id(), "customer_id": month.ids["customer"], "issue_date": "2031-01-01",
               "lines": [{"id": new_id(), "description": "x", "quantity": "1", "unit_price": 100}]}  # fmt: skip
    error = books.refused("sales.create_invoice", invoice)
    assert (error.code, error.field, error.details["period"]) == ("period_closed", "issue_date", "2031")
    # The days either side of the year are open.
    books.apply("finance.post_journal_entry", entry(books.org_id, "2030-12-31", 1_00))
    books.apply("finance.post_journal_entry", entry(books.org_id, "2032-01-01", 1_00))
    # Nothing reached 2031 after its close: it shows no result left unclosed, now or ever.
    assert equity(books, "2031-12-31")["Result not yet closed"] == "-1.00"  # the 2030 entry's wages
    assert report(books, "profit_and_loss", **{"from": "2031-01-01", "to": "2031-12-31"})["totals"] == {
        "income": "3000.00", "expenses": "3800.00", "result": "-800.00",
    }  # fmt: skip


def test_a_closed_year_within_one_pushed_batch(tmp_path: Path, server_store_template: Path) -> None:
    """On the server the commands of a batch share what they read: a close, or the reversal
    that reopens the year, counts for the very next command of the same batch."""
    store = ServerCopy(tmp_path / "store", server_store_template)
    try:
        books = Business(store, new_id()).set_up_books()
        org = books.org_id
        books.apply("finance.post_journal_entry", entry(org, "2031-06-01", 50_000, "1000", "4000"))

        def push(*commands: tuple[str, dict[str, Any]]) -> list[tuple[str, str | None]]:
            mutations = [
                Mutation.model_construct(id=new_id(), name=name, args=json.loads(json.dumps(args)))
                for name, args in commands
            ]
            with store.store.session(org, user_id=books.actor_id, write=True) as session:
                results = apply_mutations(
                    session, org, books.actor_id, store.device_id, EVERYTHING, mutations
                )
            return [(result.status, result.code) for result in results]

        # Revenue 500.00 in June; the year closed, then at once a late entry (refused).
        assert push(
            ("finance.post_journal_entry", entry(org, "2031-12-01", 1_00, "1000", "4000")),
            ("finance.close_year", {"id": new_id(), **YEAR}),
            ("finance.post_journal_entry", entry(org, "2031-12-15", 100_00, "1000", "4000")),
        ) == [("applied", None), ("applied", None), ("rejected", "period_closed")]
        (closing,) = closing_entries(books)
        # Reopened by the reversal, the late entry is taken; the year closed again; then refused.
        assert push(
            (
                "finance.reverse_journal_entry",
                {"id": new_id(), "entry_id": closing["id"], "entry_date": "2031-12-31"},
            ),
            ("finance.post_journal_entry", entry(org, "2031-12-15", 100_00, "1000", "4000")),
            ("finance.close_year", {"id": new_id(), **YEAR}),
            ("finance.post_journal_entry", entry(org, "2031-12-16", 1_00, "1000", "4000")),
        ) == [("applied", None), ("applied", None), ("applied", None), ("rejected", "period_closed")]
        # Revenue 500.00 + 1.00 + 100.00 = 601.00, all of it closed to retained earnings.
        assert equity(books, "2031-12-31") == {"Retained earnings": "601.00", "Result not yet closed": "0.00"}
        assert report(books, "profit_and_loss", **{"from": "2031-01-01", "to": "2031-12-31"})["totals"] == {
            "income": "601.00", "expenses": "0.00", "result": "601.00",
        }  # fmt: skip
    finally:
        store.close()

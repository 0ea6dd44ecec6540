"""A year closed and closed again: what is posted in it after its close (a late entry, or the
reversal of its closing) stays unclosed until the year is closed again, which moves exactly that to
retained earnings. On a client's copy and on the server.

The textbook month (tests/common/textbook_month.py) is March 2031: income 3,000.00 (4000
Revenue); expenses 1,800.00 (5000 COGS) + 2,000.00 (6000 Wages) = 3,800.00; a loss of 800.00.
Closing 2031 posts on 2031-12-31: Dr 4000 3,000.00, Cr 5000 1,800.00, Cr 6000 2,000.00, and
Dr 3200 Retained earnings 800.00 (the loss).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from common.commands.postings import chart_account_id
from common.ids import new_id
from common.schema import JournalEntry
from common.wire import Mutation
from sync_server.writes import apply_mutations
from tests.common.business import EVERYTHING, Business, report
from tests.common.sides import ServerCopy
from tests.common.textbook_month import Month

YEAR = {"start_date": "2031-01-01", "end_date": "2031-12-31"}


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


def test_reversing_the_closing_reopens_the_year_and_closing_again_closes_it_whole(books: Business) -> None:
    for _, name, args in Month().steps(books.org_id):
        books.apply(name, args)
    closed = books.apply("finance.close_year", {"id": new_id(), **YEAR})
    assert closed.data["result"] == "-800.00 EUR"
    (closing,) = closing_entries(books)
    # Nothing was posted in 2031 since: closing it again is refused.
    error = books.invalid("finance.close_year", {"id": new_id(), **YEAR}, "end_date")
    assert "already been closed" in error.message

    # Reversed without a date, the reversal takes the closing's own day (not today, which would
    # put 2031's result into whatever year today is in).
    reversal = new_id()
    books.apply("finance.reverse_journal_entry", {"id": reversal, "entry_id": closing["id"]})
    assert str(books.row(JournalEntry, reversal)["entry_date"]) == "2031-12-31"
    # The P&L leaves out the closing entry and its reversal alike: 3,000 / 3,800 / −800 (counted,
    # the reversal's lines would read 6,000 / 7,600 / −1,600).
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
    # 2032 holds nothing of 2031: its P&L is empty and closing it finds nothing to close.
    assert (
        report(books, "profit_and_loss", **{"from": "2032-01-01", "to": "2032-12-31"})["totals"]["result"]
        == "0.00"
    )
    books.invalid(
        "finance.close_year",
        {"id": new_id(), "start_date": "2032-01-01", "end_date": "2032-12-31"},
        "start_date",
    )


def test_a_late_entry_in_a_closed_year_is_closed_by_closing_the_year_again(books: Business) -> None:
    for _, name, args in Month().steps(books.org_id):
        books.apply(name, args)
    books.apply("finance.close_year", {"id": new_id(), **YEAR})
    # 2031 closed (retained earnings −800.00); then 150.00 of wages dated 15 December 2031.
    books.apply("finance.post_journal_entry", entry(books.org_id, "2031-12-15", 15_000))
    # It is 2031's: its P&L shows it (3,000 / 3,950 / −950) and it waits, unclosed, on the sheet.
    year = report(books, "profit_and_loss", **{"from": "2031-01-01", "to": "2031-12-31"})
    assert year["totals"] == {"income": "3000.00", "expenses": "3950.00", "result": "-950.00"}
    assert equity(books, "2031-12-31") == {
        "Owner's capital": "10000.00",
        "Retained earnings": "-800.00",
        "Result not yet closed": "-150.00",
    }
    # Closing 2031 again moves just those 150.00: Dr 3200 / Cr 6000 150.00, on 31 December.
    again = books.apply("finance.close_year", {"id": new_id(), **YEAR})
    assert again.data["result"] == "-150.00 EUR"
    assert equity(books, "2031-12-31") == {
        "Owner's capital": "10000.00",
        "Retained earnings": "-950.00",
        "Result not yet closed": "0.00",
    }
    assert (
        report(books, "profit_and_loss", **{"from": "2031-01-01", "to": "2031-12-31"})["totals"]
        == year["totals"]
    )


def test_a_closing_is_reversed_on_its_own_day_and_only_by_who_may_close(books: Business) -> None:
    books.apply("finance.post_journal_entry", entry(books.org_id, "2031-06-01", 50_000, "1000", "4000"))
    books.apply("finance.close_year", {"id": new_id(), **YEAR})
    (closing,) = closing_entries(books)
    # Dated in the next year, the reversal would put 2031's 500.00 of revenue into 2032.
    error = books.invalid(
        "finance.reverse_journal_entry",
        {"id": new_id(), "entry_id": closing["id"], "entry_date": "2032-01-05"},
        "entry_date",
    )
    assert "2031-12-31" in error.message
    # Reversing a closing undoes a close: it needs the permission that closes a year.
    error = books.refused(
        "finance.reverse_journal_entry",
        {"id": new_id(), "entry_id": closing["id"]},
        permissions=frozenset({"finance.read", "finance.post"}),
    )
    assert (error.code, error.field, error.details["permission"]) == (
        "forbidden",
        "entry_id",
        "finance.close_period",
    )
    # A manual entry is still reversed with finance.post alone, on any open day.
    manual = new_id()
    books.apply("finance.post_journal_entry", {**entry(books.org_id, "2032-02-01", 1_00), "id": manual})
    books.apply(
        "finance.reverse_journal_entry",
        {"id": new_id(), "entry_id": manual, "entry_date": "2032-02-03"},
        permissions=frozenset({"finance.read", "finance.post"}),
    )
    assert len(closing_entries(books)) == 1 and equity(books, "2031-12-31") == {
        "Retained earnings": "500.00", "Result not yet closed": "0.00",
    }  # fmt: skip


def test_closing_again_keeps_the_years_first_day_and_no_year_overlaps_a_closed_one(books: Business) -> None:
    books.apply("finance.post_journal_entry", entry(books.org_id, "2031-06-01", 50_000, "1000", "4000"))
    books.apply("finance.close_year", {"id": new_id(), **YEAR})
    books.apply("finance.post_journal_entry", entry(books.org_id, "2031-12-15", 1_00, "1000", "4000"))
    # Half the year from July would count the closing's lines (the whole year's) against half
    # of its revenue: refused, naming the day the year was closed from.
    error = books.invalid(
        "finance.close_year",
        {"id": new_id(), "start_date": "2031-07-01", "end_date": "2031-12-31"},
        "start_date",
    )
    assert "2031-01-01" in error.message
    # A year that holds the closed year's last day but ends later overlaps it.
    error = books.invalid(
        "finance.close_year",
        {"id": new_id(), "start_date": "2031-07-01", "end_date": "2032-06-30"},
        "end_date",
    )
    assert "2031-12-31" in error.message
    books.apply("finance.close_year", {"id": new_id(), **YEAR})
    assert equity(books, "2031-12-31") == {"Retained earnings": "501.00", "Result not yet closed": "0.00"}


def test_closing_again_within_one_pushed_batch(tmp_path: Path, server_store_template: Path) -> None:
    """On the server the commands of a batch share what they read: a close, a late entry and the
    second close in one push, the held journal rows read by the close that follows them."""
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

        # Revenue 500.00 in June and 1.00 on 1 December; closed; 100.00 more on 15 December;
        # closed again; and a third close finds nothing left.
        assert push(
            ("finance.post_journal_entry", entry(org, "2031-12-01", 1_00, "1000", "4000")),
            ("finance.close_year", {"id": new_id(), **YEAR}),
            ("finance.post_journal_entry", entry(org, "2031-12-15", 100_00, "1000", "4000")),
            ("finance.close_year", {"id": new_id(), **YEAR}),
            ("finance.close_year", {"id": new_id(), **YEAR}),
        ) == [
            ("applied", None),
            ("applied", None),
            ("applied", None),
            ("applied", None),
            ("rejected", "invalid"),
        ]
        # Revenue 500.00 + 1.00 + 100.00 = 601.00, all of it closed to retained earnings.
        assert equity(books, "2031-12-31") == {"Retained earnings": "601.00", "Result not yet closed": "0.00"}
        assert report(books, "profit_and_loss", **{"from": "2031-01-01", "to": "2031-12-31"})["totals"] == {
            "income": "601.00", "expenses": "0.00", "result": "601.00",
        }  # fmt: skip
    finally:
        store.close()


def test_a_calendar_year_overlapping_a_closed_fiscal_year_is_refused(books: Business) -> None:
    """Revenue of 100.00 on 1 August 2031 is in the fiscal year July 2031 – June 2032; once that is
    closed, closing the calendar year 2031 would move the same 100.00 again (an income account
    left with a debit balance, retained earnings 200.00)."""
    books.apply("finance.post_journal_entry", entry(books.org_id, "2031-08-01", 10_000, "1000", "4000"))
    fiscal = {"start_date": "2031-07-01", "end_date": "2032-06-30"}
    assert books.apply("finance.close_year", {"id": new_id(), **fiscal}).data["result"] == "100.00 EUR"
    for overlapping in (YEAR, {"start_date": "2030-08-01", "end_date": "2031-07-31"}):
        error = books.invalid("finance.close_year", {"id": new_id(), **overlapping}, "end_date")
        assert "2031-07-01 to 2032-06-30" in error.message
    assert equity(books, "2032-06-30") == {"Retained earnings": "100.00", "Result not yet closed": "0.00"}


def test_a_mistyped_close_once_reversed_no_longer_stands_in_the_way(books: Business) -> None:
    books.apply("finance.post_journal_entry", entry(books.org_id, "2031-06-01", 50_000, "1000", "4000"))
    # Closed to the 30th of December by mistake, then reversed: the year is open again, whole.
    books.apply("finance.close_year", {"id": new_id(), "start_date": "2031-01-01", "end_date": "2031-12-30"})
    (wrong,) = closing_entries(books)
    books.apply("finance.reverse_journal_entry", {"id": new_id(), "entry_id": wrong["id"]})
    assert books.apply("finance.close_year", {"id": new_id(), **YEAR}).data["result"] == "500.00 EUR"
    # A close from the wrong first day, reversed, gives way to one from the right day just as well.
    books.apply("finance.post_journal_entry", entry(books.org_id, "2032-03-01", 20_000, "1000", "4000"))
    wrong_start = {"start_date": "2032-02-01", "end_date": "2032-12-31"}
    books.apply("finance.close_year", {"id": new_id(), **wrong_start})
    (wrong,) = [e for e in closing_entries(books) if str(e["entry_date"]) == "2032-12-31"]
    books.apply("finance.reverse_journal_entry", {"id": new_id(), "entry_id": wrong["id"]})
    calendar = {"start_date": "2032-01-01", "end_date": "2032-12-31"}
    assert books.apply("finance.close_year", {"id": new_id(), **calendar}).data["result"] == "200.00 EUR"
    # 500.00 + 200.00, each closed once.
    assert equity(books, "2032-12-31") == {"Retained earnings": "700.00", "Result not yet closed": "0.00"}


def test_the_reports_name_the_sources_the_commands_post_with() -> None:
    from common.commands import finance
    from common.reports import ledger

    assert (ledger.YEAR_END, ledger.REVERSAL) == (finance.YEAR_END, finance.REVERSAL)

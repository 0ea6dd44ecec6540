"""Finance commands (accounts, tax rates, periods, journal entries) and the trial balance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from common.commands import CommandError
from common.commands.finance import FiscalPeriodStateArgs, close_fiscal_period
from common.commands.periods import PERIOD_CLOSED, require_open_period
from common.ids import new_id
from common.local import client_context
from common.reports import trial_balance
from common.schema import Account, FiscalPeriod, JournalEntry, JournalLine, TaxRate
from tests.common.business import Business, role

ACCOUNTANT = role("accountant")
POSTER = frozenset({"finance.read", "finance.post"})  # may post, may not close periods


def _entry(biz: Business, day: str, *lines: tuple[str, int, int], currency: str = "EUR", **extra: Any) -> str:
    entry_id = new_id()
    biz.apply(
        "finance.post_journal_entry",
        {
            "id": entry_id,
            "entry_date": day,
            "currency": currency,
            "lines": [{"account_id": a, "debit": d, "credit": c} for a, d, c in lines],
            **extra,
        },
        permissions=ACCOUNTANT,
    )
    return entry_id


def _period(biz: Business, start: str, end: str, name: str | None = None) -> str:
    period_id = new_id()
    biz.apply(
        "finance.create_fiscal_period",
        {"id": period_id, "name": name or f"P-{period_id[-8:]}", "start_date": start, "end_date": end},
    )
    return period_id


# -- accounts and tax rates ------------------------------------------------------------------


def test_create_and_update_account(business: Business) -> None:
    parent = business.account("asset", code=f"1{new_id()[-6:]}", name="Current assets")
    account_id = new_id()
    business.apply(
        "finance.create_account",
        {
            "id": account_id,
            "code": f"10{new_id()[-6:]}",
            "name": "Bank",
            "type": "asset",
            "parent_id": parent,
        },
        permissions=ACCOUNTANT,
    )
    business.apply(
        "finance.update_account",
        {
            "id": account_id,
            "changes": {"name": "Bank EUR", "archived": True},
            "base": {"name": "Bank", "archived": False},
        },
    )
    account = business.row(Account, account_id)
    assert (account["name"], account["type"], account["parent_id"], account["archived"]) == (
        "Bank EUR",
        "asset",
        parent,
        True,
    )


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"code": ""}, "code"),
        ({"code": "c" * 21}, "code"),
        ({"code": "has space"}, "code"),
        ({"name": "n" * 201}, "name"),
        ({"type": "revenue"}, "type"),
        ({"parent_id": "unknown"}, "parent_id"),
        ({"balance": 5}, "balance"),
    ],
)
def test_each_invalid_account_argument_is_named(
    business: Business, override: dict[str, Any], field: str
) -> None:
    args = {"id": new_id(), "code": f"X{new_id()[-8:]}", "name": "Cash", "type": "asset", **override}
    if args.get("parent_id") == "unknown":
        args["parent_id"] = new_id()
    business.invalid("finance.create_account", args, field)


def test_account_codes_are_unique_and_parents_never_circular(business: Business) -> None:
    code = f"U{new_id()[-8:]}"
    top = business.account(code=code)
    business.invalid(
        "finance.create_account", {"id": new_id(), "code": code, "name": "Again", "type": "asset"}, "code"
    )
    child = business.account(parent_id=top)
    grandchild = business.account(parent_id=child)
    business.invalid(
        "finance.update_account",
        {"id": top, "changes": {"parent_id": grandchild}, "base": {"parent_id": None}},
        "changes.parent_id",
    )
    business.invalid(
        "finance.update_account",
        {"id": top, "changes": {"parent_id": top}, "base": {"parent_id": None}},
        "changes.parent_id",
    )
    other = business.account()
    business.invalid(
        "finance.update_account",
        {"id": other, "changes": {"code": code}, "base": {"code": business.row(Account, other)["code"]}},
        "changes.code",
    )


def test_account_update_conflict_and_permission(business: Business) -> None:
    account_id = business.account(name="Cash")
    business.apply(
        "finance.update_account",
        {"id": account_id, "changes": {"name": "Petty cash"}, "base": {"name": "Cash"}},
    )
    error = business.refused(
        "finance.update_account", {"id": account_id, "changes": {"name": "Till"}, "base": {"name": "Cash"}}
    )
    assert error.code == "conflict" and error.server_values == {"name": "Petty cash"}
    error = business.refused(
        "finance.update_account",
        {"id": account_id, "changes": {"name": "Till"}, "base": {"name": "Petty cash"}},
        permissions=role("sales", "auditor"),
    )
    assert error.code == "forbidden" and "finance.post" in error.message


def test_tax_rates_are_exact_percentages(business: Business) -> None:
    rate_id = business.tax_rate("7.75")
    assert business.row(TaxRate, rate_id)["rate"] == Decimal("7.75")
    business.apply(
        "finance.update_tax_rate", {"id": rate_id, "changes": {"rate": "8"}, "base": {"rate": "7.75"}}
    )
    assert business.row(TaxRate, rate_id)["rate"] == Decimal(8)
    error = business.refused(
        "finance.update_tax_rate", {"id": rate_id, "changes": {"rate": "9"}, "base": {"rate": "7.75"}}
    )
    assert error.code == "conflict" and error.server_values == {"rate": "8"}
    for rate in ("100.5", "-1", 7.5, "seven", "1.0000001"):
        business.invalid(
            "finance.create_tax_rate",
            {"id": new_id(), "code": f"R{new_id()[-6:]}", "name": "X", "rate": rate},
            "rate",
        )
    business.invalid(
        "finance.create_tax_rate", {"id": new_id(), "code": "R" * 21, "name": "X", "rate": "5"}, "code"
    )


def test_an_archived_tax_rate_prices_no_new_lines(business: Business) -> None:
    rate_id = business.tax_rate("5")
    business.apply(
        "finance.update_tax_rate", {"id": rate_id, "changes": {"archived": True}, "base": {"archived": False}}
    )
    business.invalid(
        "sales.create_invoice",
        {
            "id": new_id(),
            "customer_id": business.customer(),
            "lines": [
                {"id": new_id(), "description": "x", "quantity": "1", "unit_price": 1, "tax_rate_id": rate_id}
            ],
        },
        "lines.0.tax_rate_id",
    )


# -- fiscal periods --------------------------------------------------------------------------


def test_periods_never_overlap_and_are_well_formed(business: Business) -> None:
    _period(business, "2030-01-01", "2030-01-31", name="2030-01")
    business.invalid(
        "finance.create_fiscal_period",
        {"id": new_id(), "name": "2030-01b", "start_date": "2030-01-31", "end_date": "2030-02-28"},
        "start_date",
    )
    business.invalid(
        "finance.create_fiscal_period",
        {"id": new_id(), "name": "2030-01", "start_date": "2031-01-01", "end_date": "2031-01-31"},
        "name",
    )
    business.invalid(
        "finance.create_fiscal_period",
        {"id": new_id(), "name": "bad", "start_date": "2032-02-01", "end_date": "2032-01-01"},
        "end_date",
    )
    business.invalid(
        "finance.create_fiscal_period",
        {"id": new_id(), "name": "n" * 41, "start_date": "2033-01-01", "end_date": "2033-01-31"},
        "name",
    )
    business.invalid(
        "finance.create_fiscal_period",
        {"id": new_id(), "name": "x", "start_date": "2033-02-30", "end_date": "2033-03-31"},
        "start_date",
    )


def test_closing_a_period_needs_its_permission_and_follows_the_life_cycle(business: Business) -> None:
    period_id = _period(business, "2031-01-01", "2031-01-31")
    error = business.refused("finance.close_fiscal_period", {"id": period_id}, permissions=POSTER)
    assert error.code == "forbidden" and "finance.close_period" in error.message
    business.apply("finance.close_fiscal_period", {"id": period_id}, permissions=ACCOUNTANT)
    assert business.row(FiscalPeriod, period_id)["status"] == "closed"
    assert business.refused("finance.close_fiscal_period", {"id": period_id}).code == "invalid_state"
    business.apply("finance.reopen_fiscal_period", {"id": period_id}, permissions=ACCOUNTANT)
    assert business.row(FiscalPeriod, period_id)["status"] == "open"
    assert business.refused("finance.reopen_fiscal_period", {"id": period_id}).code == "invalid_state"
    business.invalid("finance.close_fiscal_period", {"id": new_id()}, "id")


def test_a_day_found_open_is_judged_again_once_the_command_writes_a_period(business: Business) -> None:
    """A command that checks a date twice (a document, then its posting) is answered the second
    time from the first; closing the period in between (the periods are read again) refuses."""
    period_id = _period(business, "2035-01-01", "2035-12-31")
    day = date(2035, 3, 1)
    with business.store.write_session() as session:
        ctx, _ = client_context(
            session,
            org_id=business.org_id,
            device_id=new_id(),
            actor_id=business.actor_id,
            permissions=ACCOUNTANT,
        )
        assert require_open_period(ctx, day, "issue_date") == period_id
        assert require_open_period(ctx, day, "entry_date") == period_id
        assert require_open_period(ctx, date(2036, 1, 1), "entry_date") is None
        assert require_open_period(ctx, day, "entry_date") == period_id
        close_fiscal_period(ctx, FiscalPeriodStateArgs(id=period_id))
        with pytest.raises(CommandError) as refused:
            require_open_period(ctx, day, "entry_date")
        assert refused.value.code == PERIOD_CLOSED and refused.value.field == "entry_date"
        session.rollback()


# -- journal entries -------------------------------------------------------------------------


def test_a_balanced_entry_is_posted_with_its_lines(business: Business) -> None:
    cash, sales = business.account("asset"), business.account("income")
    period_id = _period(business, "2034-01-01", "2034-12-31")
    entry_id = _entry(business, "2034-05-02", (cash, 11_900, 0), (sales, 0, 11_900), memo="Cash sale")
    entry = business.row(JournalEntry, entry_id)
    assert entry["number"].startswith(business.number_prefix("JE"))
    assert (entry["entry_date"], entry["fiscal_period_id"], entry["memo"], entry["source"]) == (
        date(2034, 5, 2),
        period_id,
        "Cash sale",
        "manual",
    )
    lines = sorted(
        business.rows(JournalLine, JournalLine.journal_entry_id == entry_id), key=lambda r: r["line_no"]
    )
    assert [(line["account_id"], line["debit"], line["credit"], line["currency"]) for line in lines] == [
        (cash, 11_900, 0, "EUR"),
        (sales, 0, 11_900, "EUR"),
    ]
    assert {line["entry_date"] for line in lines} == {date(2034, 5, 2)}


def test_entries_are_kept_in_the_ledger_currency(business: Business) -> None:
    """Once the books are set up (EUR here), a manual entry in another currency is refused: the
    ledger is in one currency, documents in others are converted with their exchange rate."""
    eur, usd, income = business.account(), business.account(), business.account("income")
    for lines in (
        [{"account_id": eur, "debit": 100}, {"account_id": income, "credit": 100, "currency": "USD"}],
        [{"account_id": usd, "debit": 250}, {"account_id": income, "credit": 250}],
    ):
        currency = "EUR" if lines[1].get("currency") else "USD"
        error = business.invalid(
            "finance.post_journal_entry",
            {"id": new_id(), "entry_date": "2035-01-05", "currency": currency, "lines": lines},
            "currency",
        )
        assert "kept in EUR" in error.message and "USD" in error.message


@pytest.mark.parametrize(
    ("lines", "override", "field"),
    [
        ([(0, 100, 0), (1, 0, 99)], {}, "lines"),
        ([(0, 100, 0)], {}, "lines"),
        ([(0, 100, 100), (1, 0, 0)], {}, "lines.0.debit"),
        ([(0, 0, 0), (1, 0, 0)], {}, "lines.0.debit"),
        ([(0, 100, 0), ("unknown", 0, 100)], {}, "lines.1.account_id"),
        ([(0, 100, 0), ("archived", 0, 100)], {}, "lines.1.account_id"),
        ([(0, 1.5, 0), (1, 0, 1.5)], {}, "lines.0.debit"),
        ([(0, -100, 0), (1, -100, 0)], {}, "lines.0.debit"),
        ([(0, 10**16, 0), (1, 0, 10**16)], {}, "lines.0.debit"),
        ([(0, 1, 0), (1, 0, 1)], {"memo": "m" * 501}, "memo"),
        ([(0, 1, 0), (1, 0, 1)], {"entry_date": "2035-13-01"}, "entry_date"),
        ([(0, 1, 0), (1, 0, 1)], {"currency": "XYZ"}, "currency"),
        ([(0, 1, 0), (1, 0, 1)], {"approved_by": "me"}, "approved_by"),
    ],
)
def test_each_invalid_journal_entry_argument_is_named(
    business: Business, lines: list[tuple[Any, Any, Any]], override: dict[str, Any], field: str
) -> None:
    accounts = [business.account(), business.account("income")]
    archived = business.account()
    business.apply(
        "finance.update_account", {"id": archived, "changes": {"archived": True}, "base": {"archived": False}}
    )
    named = {"unknown": new_id(), "archived": archived}
    args = {
        "id": new_id(),
        "entry_date": "2036-03-03",
        "currency": "EUR",
        "lines": [
            {"account_id": named[a] if isinstance(a, str) else accounts[a], "debit": d, "credit": c}
            for a, d, c in lines
        ],
        **override,
    }
    business.invalid("finance.post_journal_entry", args, field)


def test_too_many_journal_lines_are_refused(business: Business) -> None:
    cash = business.account()
    lines = [{"account_id": cash, "debit": 1}, {"account_id": cash, "credit": 1}] * 501
    business.invalid(
        "finance.post_journal_entry",
        {"id": new_id(), "entry_date": "2036-01-01", "currency": "EUR", "lines": lines},
        "lines",
    )


def test_posting_into_a_closed_period_is_refused_naming_the_date(business: Business) -> None:
    cash, sales = business.account(), business.account("income")
    period_id = _period(business, "2037-01-01", "2037-01-31")
    business.apply("finance.close_fiscal_period", {"id": period_id})
    error = business.refused(
        "finance.post_journal_entry",
        {
            "id": new_id(),
            "entry_date": "2037-01-15",
            "currency": "EUR",
            "lines": [{"account_id": cash, "debit": 5}, {"account_id": sales, "credit": 5}],
        },
    )
    assert (error.code, error.field) == ("period_closed", "entry_date") and "closed" in error.message
    # A date no period covers is fine.
    _entry(business, "2037-02-01", (cash, 5, 0), (sales, 0, 5))


def test_an_entry_is_reversed_once_and_the_original_stays(business: Business) -> None:
    cash, sales = business.account(), business.account("income")
    entry_id = _entry(business, "2038-06-01", (cash, 700, 0), (sales, 0, 700))
    reversal_id = new_id()
    business.apply(
        "finance.reverse_journal_entry",
        {"id": reversal_id, "entry_id": entry_id, "entry_date": "2038-06-02"},
        permissions=ACCOUNTANT,
    )
    reversal = business.row(JournalEntry, reversal_id)
    assert (reversal["reverses_entry_id"], reversal["source"], reversal["entry_date"]) == (
        entry_id,
        "reversal",
        date(2038, 6, 2),
    )
    assert reversal["memo"].startswith("Reversal of " + business.number_prefix("JE"))
    lines = {
        line["account_id"]: (line["debit"], line["credit"])
        for line in business.rows(JournalLine, JournalLine.journal_entry_id == reversal_id)
    }
    assert lines == {cash: (0, 700), sales: (700, 0)}
    assert len(business.rows(JournalLine, JournalLine.journal_entry_id == entry_id)) == 2
    business.invalid("finance.reverse_journal_entry", {"id": new_id(), "entry_id": entry_id}, "entry_id")
    business.invalid("finance.reverse_journal_entry", {"id": new_id(), "entry_id": reversal_id}, "entry_id")
    business.invalid("finance.reverse_journal_entry", {"id": new_id(), "entry_id": new_id()}, "entry_id")
    with business.session() as session:
        balances = {row.account_id: row.balance for row in trial_balance(session, business.org_id).rows}
    assert balances[cash] == 0 and balances[sales] == 0


def test_a_reversal_dated_in_a_closed_period_is_refused(business: Business) -> None:
    cash, sales = business.account(), business.account("income")
    entry_id = _entry(business, "2039-03-10", (cash, 10, 0), (sales, 0, 10))
    period_id = _period(business, "2039-04-01", "2039-04-30")
    business.apply("finance.close_fiscal_period", {"id": period_id})
    error = business.refused(
        "finance.reverse_journal_entry", {"id": new_id(), "entry_id": entry_id, "entry_date": "2039-04-15"}
    )
    assert (error.code, error.field) == ("period_closed", "entry_date")


def test_journal_commands_need_finance_post(business: Business) -> None:
    error = business.refused(
        "finance.post_journal_entry",
        {"id": new_id(), "entry_date": "2040-01-01", "currency": "EUR", "lines": []},
        permissions=role("sales", "auditor"),
    )
    assert error.code == "forbidden"
    assert (
        business.refused(
            "finance.reverse_journal_entry", {"id": new_id(), "entry_id": new_id()}, permissions=role("hr")
        ).code
        == "forbidden"
    )


# -- trial balance ---------------------------------------------------------------------------


def test_trial_balance_sums_per_account_and_currency_up_to_a_date(
    business: Business, tmp_path: Any, server_store_template: Any
) -> None:
    from tests.common.sides import open_side

    books = Business(open_side(business.side, tmp_path / "tb", server_store_template), new_id())
    try:
        cash, bank = books.account("asset", code="1000"), books.account("asset", code="1200")
        sales, vat = books.account("income", code="4000"), books.account("liability", code="2200")
        _entry(books, "2025-01-10", (cash, 11_900, 0), (sales, 0, 10_000), (vat, 0, 1_900))
        _entry(books, "2025-02-10", (bank, 5_000, 0), (cash, 0, 5_000))
        _entry(books, "2025-02-11", (bank, 300, 0), (sales, 0, 300), currency="USD")
        with books.session() as session:
            statements: list[str] = []
            listen = lambda *a: statements.append(a[2])  # noqa: E731
            event.listen(session.connection(), "before_cursor_execute", listen)
            everything = trial_balance(session, books.org_id)
            event.remove(session.connection(), "before_cursor_execute", listen)
            january = trial_balance(session, books.org_id, as_of=date(2025, 1, 31))
            another_org = trial_balance(session, new_id())
        # One aggregate over the balances the entries keep and one read of the accounts, not a
        # loop over lines.
        assert len(statements) == 2
        assert sum("journal_balance" in sql for sql in statements) == 1
        assert [(r.code, r.currency, r.debit, r.credit, r.balance) for r in everything.rows] == [
            ("1000", "EUR", 11_900, 5_000, 6_900),
            ("1200", "EUR", 5_000, 0, 5_000),
            ("1200", "USD", 300, 0, 300),
            ("2200", "EUR", 0, 1_900, -1_900),
            ("4000", "EUR", 0, 10_000, -10_000),
            ("4000", "USD", 0, 300, -300),
        ]
        assert (
            everything.totals() == {"EUR": (16_900, 16_900), "USD": (300, 300)} and everything.is_balanced()
        )
        assert [(r.code, r.balance) for r in january.rows] == [
            ("1000", 11_900),
            ("2200", -1_900),
            ("4000", -10_000),
        ]
        assert another_org.rows == []
    finally:
        books.store.close()


def test_the_month_is_closed(business: Business) -> None:
    """An accountant books January, closes it, finds a mistake, reopens, corrects, closes again."""
    cash, sales, rent = business.account("asset"), business.account("income"), business.account("expense")
    january = _period(business, "2041-01-01", "2041-01-31")
    wrong = _entry(business, "2041-01-20", (rent, 90_000, 0), (cash, 0, 90_000))
    _entry(business, "2041-01-21", (cash, 250_000, 0), (sales, 0, 250_000))
    business.apply("finance.close_fiscal_period", {"id": january}, permissions=ACCOUNTANT)
    late = business.refused(
        "finance.reverse_journal_entry", {"id": new_id(), "entry_id": wrong, "entry_date": "2041-01-31"}
    )
    assert late.code == "period_closed"
    business.apply("finance.reopen_fiscal_period", {"id": january}, permissions=ACCOUNTANT)
    business.apply(
        "finance.reverse_journal_entry",
        {"id": new_id(), "entry_id": wrong, "entry_date": "2041-01-31"},
        permissions=ACCOUNTANT,
    )
    _entry(business, "2041-01-31", (rent, 9_000, 0), (cash, 0, 9_000))
    business.apply("finance.close_fiscal_period", {"id": january}, permissions=ACCOUNTANT)
    with business.session() as session:
        balances = {
            r.account_id: r.balance
            for r in trial_balance(session, business.org_id, as_of=date(2041, 1, 31)).rows
        }
    assert (balances[cash], balances[sales], balances[rent]) == (241_000, -250_000, 9_000)

"""Imports planned against a store and applied as ordinary commands, on both sides: every kind
recognizes its natural key (so a second import changes nothing), numbers are read exactly or
refused, and opening balances become one balanced entry whose trial balance is the file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from common.commands import CommandError
from common.ids import new_id
from common.imports import (
    KINDS,
    ImportPlan,
    Planned,
    match_columns,
    parse_number,
    plan_import,
    read_table,
    run_plan,
)
from common.imports.values import CellProblem, number_cell
from common.reports import trial_balance
from common.schema import Account, JournalEntry, JournalLine
from tests.common.business import Business

OPENED = date(2020, 12, 31)  # before anything else this module's store holds


def plan(business: Business, kind: str, text: str, **options: Any) -> ImportPlan:
    table = read_table(text.encode("utf-8"), f"{kind}.csv")
    with business.session() as session:
        return plan_import(
            session,
            business.org_id,
            kind,
            table,
            match_columns(table.header, KINDS[kind]),
            default_currency="EUR",
            **options,
        )


def apply(business: Business, planned: ImportPlan) -> list[str]:
    assert planned.ok, [str(p) for p in planned.problems]
    return [str(p) for p in run_plan(planned, lambda name, args: business.apply(name, args))]


def problems(planned: ImportPlan) -> list[str]:
    return [str(p) for p in planned.problems]


# -- numbers -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "mark", "expected"),
    [
        ("12,50", None, "12.50"),
        ("1.234,50", None, "1234.50"),
        ("1,234.50", None, "1234.50"),
        ("1,234,567", None, "1234567"),
        ("1 234,5", None, "1234.5"),
        ("0,125", None, "0.125"),
        ("-7.5", None, "-7.5"),
        ("1,234", ".", "1234"),
        ("1,234", ",", "1.234"),
        ("1.234", ",", "1234"),
    ],
)
def test_numbers_are_read_exactly(text: str, mark: str | None, expected: str) -> None:
    assert parse_number(text, mark) == Decimal(expected)
    assert str(parse_number(text, mark)) == expected


@pytest.mark.parametrize(
    ("text", "mark", "message"),
    [
        ("1,234", None, "“1,234” is ambiguous: 1234 or 1.234?"),
        ("123.456", None, "“123.456” is ambiguous: 123456 or 123,456?"),
        ("12,50", ".", "“12,50” is not a number with “.” for decimals: thousands are grouped in threes"),
        ("1.2.3,4.5", None, "“1.2.3,4.5” has more than one decimal separator"),
        ("1e5", None, "“1e5” is not a number"),
        ("12 EUR", None, "“12 EUR” is not a number"),
    ],
)
def test_numbers_that_are_not_one_number_are_refused(text: str, mark: str | None, message: str) -> None:
    with pytest.raises(CellProblem) as refused:
        parse_number(text, mark)
    assert str(refused.value).startswith(message)


def test_workbook_numbers_are_taken_as_excel_shows_them() -> None:
    assert number_cell(0.1 + 0.2) == "0.3" and number_cell(1234.5) == "1234.5" and number_cell(7) == "7"
    assert parse_number(number_cell(1234.5), ",") == Decimal("1234.5")  # never re-read as text


# -- master data: natural keys -------------------------------------------------------------------
def _files(tag: str) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Per kind: a file, the same file with one value changed, and the change that makes."""
    return {
        "products": (
            f"SKU,Name,Sale price,Currency\n{tag}-A,Bolt,1.20,EUR\n{tag}-B,Nut,0.40,EUR\n",
            f"SKU,Name,Sale price,Currency\n{tag}-A,Bolt,1.20,EUR\n{tag}-B,Nut,0.45,EUR\n",
            {"sale_price": 45},
        ),
        "customers": (
            f"Name,E-mail\nInitech,billing@{tag}.test\nUmbrella,ops@{tag}.test\n",
            f"Name,E-mail\nInitech,BILLING@{tag}.test\nUmbrella Corp,ops@{tag}.test\n",
            {"name": "Umbrella Corp"},
        ),
        "suppliers": (
            f"Supplier,Email,Phone\nAcme Parts,sales@{tag}.test,+1 555 0100\nBolt Co,bolts@{tag}.test,\n",
            f"Supplier,Email,Phone\nAcme Parts,sales@{tag}.test,+1 555 0199\nBolt Co,Bolts@{tag}.test,\n",
            {"phone": "+1 555 0199"},
        ),
        "employees": (
            f"Full name,Work email,Job title\nAda Lovelace,ada@{tag}.test,Engineer\nAlan Turing,alan@{tag}.test,\n",
            f"Full name,Work email,Job title\nAda Lovelace,ada@{tag}.test,Lead\nAlan Turing,ALAN@{tag}.test,\n",
            {"job_title": "Lead"},
        ),
        "accounts": (
            f"Code,Name,Type\n{tag}1,Petty cash,asset\n{tag}2,Loans,liability\n",
            f"Code,Name,Type\n{tag}1,Petty cash box,asset\n{tag}2,Loans,liability\n",
            {"name": "Petty cash box"},
        ),
    }


@pytest.mark.parametrize("kind", ["products", "customers", "suppliers", "employees", "accounts"])
def test_importing_the_same_file_again_changes_nothing(business: Business, kind: str) -> None:
    tag = f"K{new_id()[-8:]}"
    first, changed, change = _files(tag)[kind]
    planned = plan(business, kind, first)
    assert (planned.created, planned.updated, planned.unchanged) == (2, 0, 0)
    assert {c.name for c in planned.commands} == {KINDS[kind].create}
    assert apply(business, planned) == []

    again = plan(business, kind, first)
    assert (again.created, again.updated, again.unchanged, again.commands) == (0, 0, 2, [])

    # The natural key, however it is capitalized, finds the record: one change, one update.
    edited = plan(business, kind, changed)
    assert (edited.created, edited.updated, edited.unchanged) == (0, 1, 1)
    (update,) = edited.commands
    assert update.name == KINDS[kind].update and update.args["changes"] == change
    assert apply(business, edited) == []
    assert plan(business, kind, changed).commands == []


def test_a_key_twice_in_one_file_and_a_bad_choice_are_named(business: Business) -> None:
    tag = f"D{new_id()[-8:]}"
    planned = plan(business, "accounts", f"Code,Name,Type\n{tag},A,asset\n{tag},B,asset\nX{tag},C,other\n")
    assert problems(planned) == [
        f"Row 3, Code: “{tag}” is also on row 2",
        "Row 4, Type: “other” must be one of asset, liability, equity, income, expense",
    ]


def test_an_update_the_command_would_refuse_is_named_by_its_column(business: Business) -> None:
    code = f"U{new_id()[-8:]}"
    assert apply(business, plan(business, "accounts", f"Code,Name,Type\n{code},Cash,asset\n")) == []
    edited = plan(business, "accounts", f"Code,Account name,Type\n{code},{'x' * 300},asset\n")
    assert [(p.row, p.column) for p in edited.problems] == [(2, "Account name")]
    assert "at most" in edited.problems[0].message and edited.commands == []


def test_a_file_without_currencies_leaves_each_record_its_own(business: Business) -> None:
    sku = f"USD-{new_id()[-8:]}"
    business.product(sku=sku, name="Imported lamp", sale_price=1999, currency="USD")
    assert plan(business, "products", f"SKU,Name,Price\n{sku},Imported lamp,19.99\n").unchanged == 1
    (update,) = plan(business, "products", f"SKU,Name,Price\n{sku},Imported lamp,21.50\n").commands
    assert update.args["changes"] == {"sale_price": 2150}  # read in USD; the currency stays


def test_opening_stock_is_received_once_per_product_and_warehouse(business: Business) -> None:
    sku = f"OS-{new_id()[-8:]}"
    business.product(sku=sku)
    code = f"W{new_id()[-8:]}"
    business.apply("inventory.create_warehouse", {"id": new_id(), "code": code, "name": "Depot"})
    text = f"SKU,Warehouse,Qty,Unit cost\n{sku},{code},12.5,2.40\n{sku.lower()},{code},1,2.40\n"
    assert problems(plan(business, "opening_stock", text)) == [
        f"Row 3, SKU: “{sku.lower()}” is also on row 2"
    ]
    text = f"SKU,Warehouse,Qty,Unit cost\n{sku},{code},12.5,2.40\nNOPE,{code},1,1\n"
    assert problems(plan(business, "opening_stock", text)) == [
        "Row 3, SKU: no product has the SKU “NOPE” (import products first)"
    ]
    planned = plan(business, "opening_stock", text.splitlines()[0] + f"\n{sku},{code},12.5,2.40\n")
    (move,) = planned.commands
    assert move.args["quantity"] == "12.5" and move.args["unit_cost"] == 240
    assert apply(business, planned) == []
    again = plan(business, "opening_stock", f"SKU,Warehouse,Qty\n{sku},{code.lower()},99\n")
    assert (again.unchanged, again.commands) == (1, [])


# -- opening balances ----------------------------------------------------------------------------
# Hand-worked: debits 12,500.00 + 350.75 + 4,200.00 + 8,000.00 = 25,050.75;
#              credits 5,650.75 + 1,400.00 + 18,000.00 = 25,050.75.
BALANCES = """Account;Debit;Credit;Description
1000;12.500,00;;Bank
1010;350,75;;Cash
1200;4.200,00;;Receivables: Initech 3.000,00 and Umbrella 1.200,00
1300;8.000,00;;Inventory
2000;;5.650,75;Payables
2200;;1.400,00;Output tax
2300;0,00;;Nothing to open
3000;;18.000,00;Owner's capital
"""
EXPECTED = {
    "1000": 1_250_000, "1010": 35_075, "1200": 420_000, "1300": 800_000,
    "2000": -565_075, "2200": -140_000, "3000": -1_800_000,
}  # fmt: skip

WRONG = """Account;Debit;Credit;Description
1000;12.500,00;;Bank
9999;100,00;;Unknown
1010;350,75;20,00;Cash
1200;-4.200,00;;Receivables
1300;8.000;;Inventory
2000;;5.650,755;Payables
2200;;abc;Output tax
;;1,00;No account
"""


def balances(business: Business, as_of: date) -> dict[str, int]:
    with business.session() as session:
        rows = trial_balance(session, business.org_id, as_of).rows
    return {row.code: row.balance for row in rows if row.balance}


def test_opening_balances_named_by_row_and_column_then_posted_once(business: Business) -> None:
    assert problems(plan(business, "opening_balances", WRONG, opening_date=OPENED)) == [
        "Row 3, Account: no account has the code “9999” (import the chart of accounts first)",
        "Row 4, Credit: the row has both a debit and a credit; give each its own row "
        "(or write the balance, 330.75 EUR, on the side it falls)",
        "Row 5, Debit: “-4.200,00” is negative: write it as a positive amount in the Credit column",
        "Row 6, Debit: “8.000” is ambiguous: 8000 or 8,000? Write it without a thousands separator, "
        "or choose the file's decimal separator",
        "Row 7, Credit: “5.650,755” has more decimals than EUR allows (2)",
        "Row 8, Credit: “abc” is not a number",
        "Row 9, Account: is required",
    ]
    unbalanced = plan(
        business, "opening_balances", BALANCES.replace("18.000,00", "17.500,00"), opening_date=OPENED
    )
    assert problems(unbalanced) == [
        "Whole file, Debit and Credit: the file does not balance: debits 25,050.75 EUR, credits "
        "24,550.75 EUR; the debits are 500.00 EUR more"
    ]
    assert problems(plan(business, "opening_balances", BALANCES)) == [
        "Whole file, Opening date: choose the opening date"
    ]

    planned = plan(business, "opening_balances", BALANCES, opening_date=OPENED)
    assert planned.ok and planned.created == 7 and len(planned.commands) == 1
    assert planned.commands[0].line_rows == (2, 3, 4, 5, 6, 7, 9)  # row 8 opens nothing
    assert planned.summary() == (
        "One opening entry of 7 lines on 2020-12-31: debits 25,050.75 EUR = credits 25,050.75 EUR"
    )
    assert apply(business, planned) == []
    assert balances(business, OPENED) == EXPECTED  # the trial balance is the file
    (entry,) = business.rows(JournalEntry, JournalEntry.source == "opening_balance")
    assert (entry["entry_date"], entry["memo"]) == (OPENED, "Opening balances")
    memos = [line["memo"] for line in business.rows(JournalLine, JournalLine.journal_entry_id == entry["id"])]
    assert "Receivables: Initech 3.000,00 and Umbrella 1.200,00" in memos and "Nothing to open" not in memos

    # The same balances again (rows in another order, too): recognized, nothing to change.
    lines = BALANCES.splitlines()
    reordered = "\n".join([lines[0], *reversed(lines[1:])]) + "\n"
    again = plan(business, "opening_balances", reordered, opening_date=OPENED)
    assert again.ok and again.commands == [] and again.unchanged == 7
    assert again.summary().startswith(f"Already posted: these opening balances are entry {entry['number']}")

    # Different balances are refused while the first entry stands, by the plan and by the command.
    other = BALANCES.replace("12.500,00", "12.000,00").replace("18.000,00", "17.500,00")
    assert problems(plan(business, "opening_balances", other, opening_date=OPENED)) == [
        f"Whole file, Opening date: the opening balances are already posted as entry {entry['number']} of "
        "2020-12-31; reverse that entry to import different ones"
    ]
    refused = business.invalid(
        "finance.post_opening_balances", {**planned.commands[0].args, "id": new_id()}, "id"
    )
    assert "already posted" in refused.message

    # Reversed on the same date, the corrected file opens the books instead.
    business.apply(
        "finance.reverse_journal_entry", {"id": new_id(), "entry_id": entry["id"], "entry_date": "2020-12-31"}
    )
    corrected = plan(business, "opening_balances", other, opening_date=OPENED)
    assert corrected.ok and apply(business, corrected) == []
    assert balances(business, OPENED) == {**EXPECTED, "1000": 1_200_000, "3000": -1_750_000}

    # Back to the first file: both earlier entries reversed, it is posted anew, under a new id.
    (second,) = [
        e
        for e in business.rows(JournalEntry, JournalEntry.source == "opening_balance")
        if e["id"] != entry["id"]
    ]
    business.apply(
        "finance.reverse_journal_entry",
        {"id": new_id(), "entry_id": second["id"], "entry_date": "2020-12-31"},
    )
    first_again = plan(business, "opening_balances", BALANCES, opening_date=OPENED)
    assert first_again.ok and first_again.commands[0].args["id"] not in (entry["id"], second["id"])
    assert apply(business, first_again) == [] and balances(business, OPENED) == EXPECTED
    assert plan(business, "opening_balances", BALANCES, opening_date=OPENED).commands == []


def test_opening_balances_in_a_closed_period_are_refused(business: Business) -> None:
    period = new_id()
    business.apply(
        "finance.create_fiscal_period",
        {"id": period, "name": "FY2019", "start_date": "2019-01-01", "end_date": "2019-12-31"},
    )
    business.apply("finance.close_fiscal_period", {"id": period})
    closed = date(2019, 12, 31)
    assert problems(plan(business, "opening_balances", BALANCES, opening_date=closed)) == [
        "Whole file, Opening date: 2019-12-31 falls in fiscal period FY2019, which is closed; "
        "choose a date in an open period"
    ]
    accounts = {row["code"]: row["id"] for row in business.rows(Account)}
    args = {
        "id": new_id(),
        "entry_date": "2019-12-31",
        "currency": "EUR",
        "lines": [
            {"account_id": accounts["1000"], "debit": 100},
            {"account_id": accounts["3000"], "credit": 100},
        ],
    }
    error = business.refused("finance.post_opening_balances", args)
    assert (error.code, error.details["period"]) == ("period_closed", "FY2019")


def test_a_refused_line_is_named_by_its_row() -> None:
    # A file checked against accounts that then changed: the command's refusal of its fourth line
    # comes back as the fourth row with an amount (file row 5), in the Account column.
    kind = KINDS["opening_balances"]
    planned = ImportPlan(kind, commands=[Planned(2, kind.create, {}, (2, 3, 4, 5, 6, 7, 9))])

    def refuse(name: str, args: dict[str, Any]) -> None:
        raise CommandError(
            "invalid", "lines.3.account_id: account 1300 is archived", field="lines.3.account_id"
        )

    assert [str(p) for p in run_plan(planned, refuse)] == ["Row 5, Account: account 1300 is archived"]


def test_an_opening_entry_of_more_than_a_thousand_lines_is_refused_at_its_row(business: Business) -> None:
    text = "Account,Debit,Credit\n" + "1000,0.01,\n" * 1001 + "3000,,10.01\n"
    assert problems(plan(business, "opening_balances", text, opening_date=OPENED)) == [
        "Row 1002, Account: an opening entry holds at most 1,000 lines; add up the rows of each account"
    ]

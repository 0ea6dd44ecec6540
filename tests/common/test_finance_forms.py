"""The finance forms' builders (no Qt): typed text → command args and problems in words."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from common.finance_forms import (
    BillLineInput,
    JournalLineInput,
    account_tree,
    balance_sides,
    build_account,
    build_fiscal_period,
    build_journal_entry,
    build_supplier_bill,
    build_supplier_payment,
    build_tax_rate,
    line_refusal,
    missing_mappings,
)
from common.ids import new_id


def parse_quantity(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError("is not a number") from None


def parse_money(text: str, currency: str) -> int:
    amount = parse_quantity(text)
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("has too many decimals")
    return int(amount * 100)


BANK, CAPITAL, RENT, VAT20 = new_id(), new_id(), new_id(), new_id()
ENTRY = new_id()


def entry(*lines: tuple[str | None, str, str], date: str = "2026-11-30") -> tuple[dict, dict, dict]:
    built = build_journal_entry(
        ENTRY,
        {"entry_date": date, "memo": "Opening"},
        [JournalLineInput(a, d, c) for a, d, c in lines],
        "EUR",
        parse_money,
    )
    return built.args, built.problems, built.extra


def test_a_balanced_entry_becomes_the_posting_args() -> None:
    args, found, extra = entry((BANK, "1000.50", ""), (None, "", ""), (CAPITAL, "", "1000.50"))
    assert found == {}
    assert extra == {"debit": 100050, "credit": 100050, "difference": 0, "balanced": True, "rows": [0, 2]}
    assert args == {
        "id": ENTRY,
        "currency": "EUR",
        "entry_date": "2026-11-30",
        "memo": "Opening",
        "lines": [
            {"account_id": BANK, "debit": 100050, "credit": 0},
            {"account_id": CAPITAL, "debit": 0, "credit": 100050},
        ],
    }


def test_an_unbalanced_entry_shows_its_difference_and_is_not_balanced() -> None:
    _args, found, extra = entry((BANK, "1000", ""), (CAPITAL, "", "999.99"))
    assert found == {"balance": "debits and credits must be equal"}
    assert extra["difference"] == 1 and not extra["balanced"]


def test_problems_of_a_row_name_its_row_in_the_grid() -> None:
    _args, found, extra = entry((BANK, "10", "5"), (None, "", "12"), (RENT, "1.234", ""), (CAPITAL, "", ""))
    assert found["Line 1 credit"] == "enter a debit or a credit on a line, not both"
    assert found["Line 2 account"] == "pick an account"
    assert found["Line 3 debit"] == "has too many decimals"
    assert found["Line 4 debit"] == "enter a debit or a credit above zero"
    assert not extra["balanced"]


def test_one_line_is_not_an_entry_and_a_date_is_required() -> None:
    _args, found, _extra = entry((BANK, "10", ""), date="")
    assert found[""] == "An entry needs at least two lines: one debit and one credit."
    assert found["entry_date"] == "is required"


def test_the_tree_rolls_balances_up_and_survives_a_loop() -> None:
    accounts: list[dict[str, Any]] = [
        {"id": "a", "code": "1000", "name": "Bank and cash", "type": "asset", "parent_id": None},
        {"id": "b", "code": "1010", "name": "Bank", "type": "asset", "parent_id": "a"},
        {"id": "c", "code": "1020", "name": "Cash", "type": "asset", "parent_id": "a"},
        {"id": "x", "code": "9000", "name": "Loop x", "type": "expense", "parent_id": "y"},
        {"id": "y", "code": "9100", "name": "Loop y", "type": "expense", "parent_id": "x"},
        {"id": "o", "code": "2000", "name": "Orphan", "type": "liability", "parent_id": "gone"},
    ]
    roots = account_tree(accounts, {"b": 150000, "c": -2500, "a": 100, "o": -700})
    # each account of a loop is a root (shown once, never under itself)
    assert [n.code for n in roots] == ["1000", "2000", "9000", "9100"]
    bank_and_cash = roots[0]
    assert [c.code for c in bank_and_cash.children] == ["1010", "1020"]
    assert bank_and_cash.total == 150000 - 2500 + 100
    assert sorted(n.code for root in roots for n in root.walk()) == [
        "1000",
        "1010",
        "1020",
        "2000",
        "9000",
        "9100",
    ]
    assert (
        balance_sides(-700) == (None, 700)
        and balance_sides(5) == (5, None)
        and balance_sides(0) == (None, None)
    )


def test_account_create_and_update_send_only_the_changes() -> None:
    account_id = new_id()
    created = build_account(account_id, {"code": "6510", "name": "Office rent", "type": "expense"})
    assert created.command == "finance.create_account" and created.problems == {}
    assert created.args == {
        "id": account_id,
        "code": "6510",
        "name": "Office rent",
        "type": "expense",
        "parent_id": None,
    }
    before = dict(created.args)
    edited = build_account(account_id, {**before, "name": "Rent of the office"}, before)
    assert edited.command == "finance.update_account"
    assert edited.args["changes"] == {"name": "Rent of the office"} and edited.args["base"] == {
        "name": "Office rent"
    }
    assert build_account(account_id, before, before).problems == {
        "": "Nothing to save yet: no field was changed."
    }
    bad = build_account(account_id, {"code": "65 10", "name": "", "type": "expense", "parent_id": account_id})
    assert bad.problems["code"] == "may only contain letters, digits and . _ - / (no spaces)"
    assert (
        bad.problems["name"] == "is required"
        and bad.problems["parent_id"] == "an account cannot be under itself"
    )


def test_a_bill_from_an_order_and_a_direct_line_with_tax() -> None:
    po_line, direct, pol1, pol2 = new_id(), new_id(), new_id(), new_id()
    supplier, order = new_id(), new_id()
    built = build_supplier_bill(
        new_id(),
        {
            "supplier_id": supplier,
            "purchase_order_id": order,
            "bill_date": "2026-11-10",
            "due_date": "2026-12-10",
        },
        [
            BillLineInput(po_line, pol1, None, "Oak plank", "100", "31", VAT20),
            BillLineInput(new_id(), pol2, None, "Glue", "", "5.20", VAT20),  # not billed now
            BillLineInput(direct, None, RENT, "Freight", "1", "40", None),
        ],
        "EUR",
        {VAT20: Decimal(20)},
        parse_quantity,
        parse_money,
    )
    assert built.problems == {}
    # 100 × 31 = 3,100.00 + 20 % = 620.00; freight 40.00 untaxed: 3,760.00
    assert built.extra == {
        "line_totals": [310000, None, 4000],
        "rows": [0, 2],
        "subtotal": 314000,
        "tax": 62000,
        "total": 376000,
    }
    assert built.args["lines"] == [
        {"id": po_line, "purchase_order_line_id": pol1, "description": "Oak plank", "tax_rate_id": VAT20,
         "quantity": "100", "unit_price": 3100},
        {"id": direct, "account_id": RENT, "description": "Freight", "quantity": "1", "unit_price": 4000},
    ]  # fmt: skip


def test_a_direct_line_needs_an_account_and_the_due_date_follows_the_bill() -> None:
    built = build_supplier_bill(
        new_id(),
        {"supplier_id": new_id(), "bill_date": "2026-11-10", "due_date": "2026-11-01"},
        [BillLineInput(new_id(), None, None, "", "x", "", None)],
        "EUR",
        {},
        parse_quantity,
        parse_money,
    )
    assert built.problems["Line 1 account"] == "pick the account it is spent on"
    assert built.problems["Line 1 description"] == "is required"
    assert built.problems["Line 1 quantity"] == "is not a number"
    assert built.problems["Line 1 unit price"] == "is required"
    assert built.problems["due_date"] == "must not be before the bill date"


def test_a_payment_never_beyond_what_is_due() -> None:
    bill = {"id": new_id(), "currency": "EUR", "total": 376000, "amount_paid": 100000}
    ok = build_supplier_payment(new_id(), bill, {"amount": "2760", "paid_on": "2026-11-20"}, parse_money)
    assert ok.problems == {} and ok.args["amount"] == 276000 and ok.extra["due"] == 276000
    over = build_supplier_payment(new_id(), bill, {"amount": "2760.01"}, parse_money)
    assert over.problems == {"amount": "is more than is still due on the bill"}
    assert build_supplier_payment(new_id(), bill, {"amount": ""}, parse_money).problems == {
        "amount": "is required"
    }


def test_tax_rate_and_period_forms() -> None:
    rate_id = new_id()
    created = build_tax_rate(rate_id, {"code": "VAT7", "name": "Reduced", "rate": "7.5"}, parse_quantity)
    assert created.problems == {} and created.args["rate"] == "7.5"
    assert build_tax_rate(rate_id, {"code": "X", "name": "X", "rate": "120"}, parse_quantity).problems == {
        "rate": "must be between 0 and 100"
    }
    before = {"code": "VAT7", "name": "Reduced", "rate": Decimal("7.50"), "output_account_id": None,
              "input_account_id": None}  # fmt: skip
    edited = build_tax_rate(rate_id, {"code": "VAT7", "name": "Reduced", "rate": "8"}, parse_quantity, before)
    assert edited.args["changes"] == {"rate": "8"} and edited.args["base"] == {"rate": "7.5"}
    period = build_fiscal_period(
        new_id(), {"name": "2026-11", "start_date": "2026-11-30", "end_date": "2026-11-01"}
    )
    assert period.problems == {"end_date": "must not be before start_date"}


def test_missing_mappings_are_named() -> None:
    rows: list[dict[str, Any]] = [
        {"role": "bank", "account_id": BANK},
        {"role": "payables", "account_id": None},
    ]
    assert missing_mappings(rows, ["bank", "payables", "grni"]) == ["payables", "grni"]


def test_a_refused_line_is_named_by_its_row_in_the_form() -> None:
    assert line_refusal("lines.1.account_id", "account 6900 is archived", [0, 2]) == (
        "Line 3 account: account 6900 is archived"
    )
    assert line_refusal("lines.0.quantity", "only 40 received", [0]) == "Line 1 quantity: only 40 received"
    assert line_refusal("entry_date", "closed", [0]) is None

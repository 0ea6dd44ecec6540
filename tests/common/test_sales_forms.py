"""The sales forms' builders (no Qt): typed text → command args, problems and totals."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from common.ids import new_id
from common.sales_forms import (
    CreditLineInput,
    OpenInvoice,
    SalesLineInput,
    allocate_oldest_first,
    build_credit_note,
    build_customer,
    build_invoice,
    build_order_invoice,
    build_payments,
    build_sales_order,
)


def parse_quantity(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError("is not a number") from None


def parse_money(text: str, currency: str) -> int:
    amount = parse_quantity(text)
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("has too many decimals (EUR has 2 decimals)")
    return int(amount * 100)


CUSTOMER, WAREHOUSE, CHAIR, GLUE, ORDER, INVOICE, NOTE = (new_id() for _ in range(7))
VAT20, VAT7 = new_id(), new_id()
A, B, C, L1, L2 = (new_id() for _ in range(5))
RATES = {VAT20: Decimal(20), VAT7: Decimal(7)}


def test_a_customer_with_a_credit_limit() -> None:
    built = build_customer(
        CUSTOMER,
        {
            "name": " Initech ",
            "email": "ap@initech.test",
            "phone": "",
            "currency": "EUR",
            "credit_limit": "5000",
        },
        parse_money,
    )
    assert built.problems == {}
    assert built.args == {
        "id": CUSTOMER, "name": "Initech", "email": "ap@initech.test", "phone": None, "address": None,
        "tax_id": None, "currency": "EUR", "credit_limit": 500000,
    }  # fmt: skip


def test_a_customer_form_names_its_problems() -> None:
    built = build_customer(
        CUSTOMER, {"name": "", "email": "nope", "currency": "EUR", "credit_limit": "1.234"}, parse_money
    )
    assert built.problems == {
        "name": "is required",
        "email": "is not an e-mail address",
        "credit_limit": "has too many decimals (EUR has 2 decimals)",
    }


def test_a_discount_is_sent_with_the_line_and_taken_off_its_net_rounded_once() -> None:
    line = SalesLineInput(new_id(), CHAIR, "CHAIR", "3", "19.99", "15", VAT20)
    built = build_sales_order(
        ORDER, {"customer_id": CUSTOMER}, [line], "EUR", RATES, parse_quantity, parse_money
    )
    assert built.problems == {}
    assert built.args["lines"][0] == {
        "id": line.line_id, "product_id": CHAIR, "quantity": "3", "unit_price": 1999,
        "discount_percent": "15", "tax_rate_id": VAT20,
    }  # fmt: skip
    # 3 × 19.99 = 59.97 less 15 % = 50.9745 → 50.97 (the command's figure, not 3 × 16.99);
    # VAT 20 % = 10.194 → 10.19
    assert (built.extra["subtotal"], built.extra["tax"], built.extra["total"]) == (5097, 1019, 6116)
    # 1 × 12.99 less 15 % = 11.0415 → 11.04; 12.5 % of 12.90 → 11.2875 → 11.29
    for price, discount, net in (("12.99", "15", 1104), ("12.90", "12.5", 1129), ("5.00", "0", 500)):
        one = SalesLineInput(new_id(), CHAIR, "CHAIR", "1", price, discount)
        built = build_sales_order(
            ORDER, {"customer_id": CUSTOMER}, [one], "EUR", RATES, parse_quantity, parse_money
        )
        assert built.extra["subtotal"] == net
        assert ("discount_percent" in built.args["lines"][0]) == (discount != "0")


def order_lines() -> list[SalesLineInput]:
    return [
        SalesLineInput(new_id(), CHAIR, "CHAIR", "3", "89.00", "10", VAT20),
        SalesLineInput(new_id(), GLUE, "GLUE", "2.5", "12.90", "", VAT7),
    ]


def test_order_totals_as_typed_worked_out_by_hand() -> None:
    lines = order_lines()
    built = build_sales_order(
        ORDER, {"customer_id": CUSTOMER, "warehouse_id": WAREHOUSE, "order_date": "2026-12-03"},
        lines, "EUR", RATES, parse_quantity, parse_money,
    )  # fmt: skip
    assert built.problems == {}
    # 3 × 89.00 = 267.00 less 10 % = 240.30, tax 20 % = 48.06 → 288.36
    # 2.5 × 12.90 = 32.25, tax 7 % = 2.2575 → 2.26 → 34.51
    assert built.extra["line_totals"] == [28836, 3451]
    assert (built.extra["subtotal"], built.extra["tax"], built.extra["total"]) == (27255, 5032, 32287)
    assert built.args["lines"] == [
        {
            "id": lines[0].line_id,
            "product_id": CHAIR,
            "quantity": "3",
            "unit_price": 8900,
            "discount_percent": "10",
            "tax_rate_id": VAT20,
        },
        {
            "id": lines[1].line_id,
            "product_id": GLUE,
            "quantity": "2.5",
            "unit_price": 1290,
            "tax_rate_id": VAT7,
        },
    ]
    assert built.args["customer_id"] == CUSTOMER and built.args["order_date"] == "2026-12-03"


def test_order_line_problems_are_named_by_line() -> None:
    lines = [
        SalesLineInput(new_id(), None, "", "1", "5.00"),
        SalesLineInput(new_id(), CHAIR, "CHAIR", "0", "", "120"),
        SalesLineInput(new_id(), None, "NOPE-1", "x", "1"),
    ]
    built = build_sales_order(ORDER, {}, lines, "EUR", RATES, parse_quantity, parse_money)
    assert built.problems["customer_id"] == "is required"
    assert built.problems["Line 1 product"] == "pick a product"
    assert built.problems["Line 2 unit price"] == "is required"
    assert built.problems["Line 2 discount"] == "must be between 0 and 100 %"
    assert built.problems["Line 2 quantity"] == "must be greater than zero"
    assert built.problems["Line 3 product"] == "no product has that SKU; pick one from the list"
    assert built.problems["Line 3 quantity"] == "is not a number"
    assert build_sales_order(
        ORDER, {"customer_id": CUSTOMER}, [], "EUR", RATES, parse_quantity, parse_money
    ).problems == {"": "Add at least one line (Add line)."}


def test_a_direct_invoice_line_without_product_needs_a_description() -> None:
    lines = [
        SalesLineInput(new_id(), None, "", "2", "150.00", "", VAT20, "Assembly, hours"),
        SalesLineInput(new_id(), None, "", "1", "10.00"),
    ]
    built = build_invoice(
        INVOICE, {"customer_id": CUSTOMER, "issue_date": "2026-12-03", "due_date": "2026-12-01"},
        lines, "EUR", RATES, parse_quantity, parse_money,
    )  # fmt: skip
    assert built.problems == {
        "due_date": "must not be before the issue date",
        "Line 2 description": "is required for a line without a product",
    }
    assert built.args["lines"][0]["description"] == "Assembly, hours"
    assert built.extra["total"] == 30000 + 6000 + 1000


def open_invoices() -> list[OpenInvoice]:
    return [OpenInvoice(A, "INV-1", 10000), OpenInvoice(B, "INV-2", 25050), OpenInvoice(C, "INV-3", 4000)]


def test_allocation_oldest_first() -> None:
    assert allocate_oldest_first(30000, open_invoices()) == [10000, 20000, 0]
    assert allocate_oldest_first(50000, open_invoices()) == [10000, 25050, 4000]  # 10,950 left over


def test_a_payment_spread_over_two_invoices() -> None:
    ids = [new_id() for _ in range(3)]
    raw = {"amount": "300", "paid_on": "2026-12-03", "method": "bank_transfer", "reference": "Transfer 77"}
    built = build_payments(ids, raw, open_invoices(), ["100", "200", ""], "EUR", parse_money)
    assert built.problems == {}
    assert [(p["id"], p["invoice_id"], p["amount"]) for p in built.args["payments"]] == [
        (ids[0], A, 10000),
        (ids[1], B, 20000),
    ]
    assert built.args["payments"][0]["reference"] == "Transfer 77"
    assert built.extra == {"amount": 30000, "allocated": 30000, "excess": 0}


def test_an_overpayment_goes_on_the_last_invoice_paid_in_full() -> None:
    ids = [new_id() for _ in range(3)]
    built = build_payments(ids, {"amount": "150"}, open_invoices(), ["100", "", "40"], "EUR", parse_money)
    assert built.problems == {}
    # 150.00 received, 140.00 allocated: 10.00 beyond is recorded on INV-3 and kept as credit
    assert [(p["invoice_id"], p["amount"]) for p in built.args["payments"]] == [(A, 10000), (C, 5000)]
    assert built.extra["excess"] == 1000


def test_payment_problems() -> None:
    ids = [new_id() for _ in range(3)]
    short = build_payments(ids, {"amount": "50"}, open_invoices(), ["100", "", ""], "EUR", parse_money)
    assert short.problems == {"amount": "is less than what is allocated to the invoices"}
    partial = build_payments(ids, {"amount": "150"}, open_invoices(), ["", "100", ""], "EUR", parse_money)
    assert "only what is left beyond them is kept as credit" in partial.problems[""]
    over = build_payments(ids, {"amount": "150"}, open_invoices(), ["150", "", ""], "EUR", parse_money)
    assert over.problems["Invoice INV-1"].startswith("is more than is open on it")
    nothing = build_payments(ids, {"amount": ""}, open_invoices(), ["", "", ""], "EUR", parse_money)
    assert nothing.problems == {"amount": "is required", "": "Allocate the payment to at least one invoice."}


def credit_lines() -> list[CreditLineInput]:
    return [
        CreditLineInput(L1, "Oak chair", Decimal(3), "1"),
        CreditLineInput(L2, "Glue", Decimal("2.5"), ""),
    ]


def test_a_credit_note_by_line_and_whole() -> None:
    built = build_credit_note(NOTE, INVOICE, {"reason": "Damaged"}, credit_lines(), parse_quantity)
    assert built.problems == {}
    assert built.args == {
        "id": NOTE, "invoice_id": INVOICE, "issue_date": None, "reason": "Damaged",
        "lines": [{"invoice_line_id": L1, "quantity": "1"}],
    }  # fmt: skip
    whole = build_credit_note(NOTE, INVOICE, {"whole": True}, credit_lines(), parse_quantity)
    assert whole.problems == {} and "lines" not in whole.args


def test_a_credit_note_refuses_more_than_is_left() -> None:
    lines = [CreditLineInput(L1, "Oak chair", Decimal(3), "4")]
    assert build_credit_note(NOTE, INVOICE, {}, lines, parse_quantity).problems["Line 1 quantity"] == (
        "only 3 of the line is left to credit"
    )
    empty = [CreditLineInput(L1, "Oak chair", Decimal(3), "")]
    assert "at least one line" in build_credit_note(NOTE, INVOICE, {}, empty, parse_quantity).problems[""]
    done = [CreditLineInput(L1, "Oak chair", Decimal(0), "")]
    assert build_credit_note(NOTE, INVOICE, {"whole": True}, done, parse_quantity).problems == {
        "": "Everything on this invoice has been credited already."
    }


def test_a_document_in_another_currency_than_the_books_needs_its_rate() -> None:
    line = [SalesLineInput(new_id(), None, "", "1", "100.00", "", None, "Consulting")]
    raw = {"customer_id": CUSTOMER, "exchange_rate": ""}
    usd = build_invoice(INVOICE, raw, line, "USD", RATES, parse_quantity, parse_money, ledger="EUR")
    assert usd.problems == {"exchange_rate": "is required: the document is in USD, the books in EUR"}
    raw["exchange_rate"] = "0.9150"
    usd = build_invoice(INVOICE, raw, line, "USD", RATES, parse_quantity, parse_money, ledger="EUR")
    assert usd.problems == {} and usd.args["exchange_rate"] == "0.915"
    eur = build_invoice(INVOICE, raw, line, "EUR", RATES, parse_quantity, parse_money, ledger="EUR")
    assert "exchange_rate" not in eur.args  # the ledger's own currency carries none
    order = build_order_invoice(INVOICE, ORDER, {"exchange_rate": "0"}, "USD", "EUR", parse_quantity)
    assert order.problems == {"exchange_rate": "must be greater than zero"}
    order = build_order_invoice(INVOICE, ORDER, {"exchange_rate": "1.1"}, "USD", "EUR", parse_quantity)
    assert order.args == {"id": INVOICE, "sales_order_id": ORDER, "exchange_rate": "1.1"}
    ids = [new_id() for _ in range(3)]
    paid = build_payments(
        ids, {"amount": "100", "exchange_rate": "0.92"}, open_invoices(), ["100", "", ""], "USD", parse_money,
        ledger="EUR", parse_quantity=parse_quantity,
    )  # fmt: skip
    assert paid.problems == {} and paid.args["payments"][0]["exchange_rate"] == "0.92"

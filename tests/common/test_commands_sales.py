"""Sales commands (customers, sales orders, invoices, payments) through a real encrypted store."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from common.ids import new_id
from common.reports import stock_valuation
from common.schema import (
    Customer,
    Invoice,
    InvoiceLine,
    Payment,
    SalesOrder,
    SalesOrderLine,
    StockMove,
)
from common.stock import stock_on_hand
from tests.common.business import Business, role

SALES = role("sales")


def _order(biz: Business, lines: list[dict[str, Any]], **extra: Any) -> str:
    order_id = new_id()
    args = {"id": order_id, "customer_id": extra.pop("customer_id", None) or biz.customer(), "lines": lines}
    biz.apply("sales.create_sales_order", {**args, **extra}, permissions=SALES)
    return order_id


def _line(product_id: str, quantity: str = "1", **extra: Any) -> dict[str, Any]:
    return {"id": new_id(), "product_id": product_id, "quantity": quantity, **extra}


def _on_hand(biz: Business, product_id: str, warehouse_id: str) -> Decimal:
    with biz.session() as session:
        return stock_on_hand(session, biz.org_id, product_id, warehouse_id)


# -- customers -------------------------------------------------------------------------------


def test_create_and_update_customer(business: Business) -> None:
    customer_id = business.customer(email="ada@example.test", phone="+44 20 7946 0000", credit_limit=50_000)
    customer = business.row(Customer, customer_id)
    assert (customer["name"], customer["email"], customer["currency"]) == (
        "Ada Lovelace",
        "ada@example.test",
        "EUR",
    )
    business.apply(
        "sales.update_customer",
        {"id": customer_id, "changes": {"address": "12 St James's Sq"}, "base": {"address": None}},
    )
    assert business.row(Customer, customer_id)["address"] == "12 St James's Sq"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a" * 250 + "@x.io"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"address": "a" * 501}, "address"),
        ({"currency": "EURO"}, "currency"),
        ({"credit_limit": -1}, "credit_limit"),
        ({"credit_limit": "100"}, "credit_limit"),
        ({"vip": True}, "vip"),
    ],
)
def test_each_invalid_customer_argument_is_named(
    business: Business, override: dict[str, Any], field: str
) -> None:
    business.invalid("sales.create_customer", {"id": new_id(), "name": "Ada", **override}, field)


def test_customer_update_with_a_stale_base_is_a_conflict(business: Business) -> None:
    customer_id = business.customer()
    business.apply(
        "sales.update_customer",
        {"id": customer_id, "changes": {"name": "Ada K."}, "base": {"name": "Ada Lovelace"}},
    )
    error = business.refused(
        "sales.update_customer",
        {"id": customer_id, "changes": {"name": "Ada L."}, "base": {"name": "Ada Lovelace"}},
    )
    assert error.code == "conflict" and error.server_values == {"name": "Ada K."}


def test_sales_commands_need_sales_write(business: Business) -> None:
    error = business.refused(
        "sales.create_customer", {"id": new_id(), "name": "X"}, permissions=role("warehouse")
    )
    assert error.code == "forbidden" and "sales.write" in error.message
    error = business.refused("sales.record_payment", {"id": new_id()}, permissions=role("accountant"))
    assert error.code == "forbidden"


# -- sales orders ----------------------------------------------------------------------------


def test_sales_order_lines_are_priced_with_tax_and_default_prices(business: Business) -> None:
    bolts, nuts = business.product(sale_price=120), business.product(sale_price=35)
    vat = business.tax_rate("19")
    order_id = _order(
        business,
        [_line(bolts, "10"), _line(nuts, "3", unit_price=33, tax_rate_id=vat)],
    )
    order = business.row(SalesOrder, order_id)
    assert order["status"] == "draft" and order["number"].startswith(business.number_prefix("SO"))
    # 10 x 1.20 = 12.00 untaxed; 3 x 0.33 = 0.99 + 19 % (0.1881 → 0.19) = 1.18
    assert order["total"] == 1200 + 99 + 19
    lines = business.rows(SalesOrderLine, SalesOrderLine.sales_order_id == order_id)
    assert sorted((line["line_no"], line["unit_price"]) for line in lines) == [(1, 120), (2, 33)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"customer_id": "unknown"}, "customer_id"),
        ({"warehouse_id": "unknown"}, "warehouse_id"),
        ({"note": "n" * 1001}, "note"),
        ({"currency": "ABC"}, "currency"),
        ({"lines": "unknown-product"}, "lines.0.product_id"),
        ({"lines": "duplicate"}, "lines.1.id"),
        ({"lines": "used elsewhere"}, "lines.0.id"),
        ({"lines": "too many"}, "lines"),
        ({"lines": "zero quantity"}, "lines.0.quantity"),
        ({"lines": "huge"}, "lines.0.quantity"),
        ({"lines": "price in other currency"}, "lines.0.unit_price"),
        ({"lines": "unknown tax"}, "lines.0.tax_rate_id"),
    ],
)
def test_each_invalid_sales_order_argument_is_named(
    business: Business, change: dict[str, Any], field: str
) -> None:
    product = business.product()
    args: dict[str, Any] = {"id": new_id(), "customer_id": business.customer(), "lines": [_line(product)]}
    kind = change.get("lines")
    if kind is None:
        args.update({k: new_id() if v == "unknown" else v for k, v in change.items()})
    elif kind == "unknown-product":
        args["lines"] = [_line(new_id())]
    elif kind == "duplicate":
        args["lines"] = [args["lines"][0], dict(args["lines"][0])]
    elif kind == "too many":
        args["lines"] = [_line(product) for _ in range(501)]
    elif kind == "used elsewhere":
        other = _line(product)
        _order(business, [other])
        args["lines"] = [{**other}]
    elif kind == "zero quantity":
        args["lines"] = [_line(product, "0")]
    elif kind == "huge":
        args["lines"] = [_line(product, "999999999999", unit_price=10**15)]
    elif kind == "price in other currency":
        args["lines"] = [_line(business.product(currency="USD"))]
    elif kind == "unknown tax":
        args["lines"] = [_line(product, tax_rate_id=new_id())]
    business.invalid("sales.create_sales_order", args, field)


def test_an_archived_customer_cannot_order(business: Business) -> None:
    customer_id = business.customer()
    business.apply(
        "sales.update_customer",
        {"id": customer_id, "changes": {"archived": True}, "base": {"archived": False}},
    )
    business.invalid("sales.create_sales_order", {"id": new_id(), "customer_id": customer_id}, "customer_id")


def test_draft_order_update_and_line_replacement(business: Business) -> None:
    product, warehouse = business.product(), business.warehouse()
    first = _line(product, "2")
    order_id = _order(business, [first])
    business.apply(
        "sales.update_sales_order",
        {
            "id": order_id,
            "changes": {"warehouse_id": warehouse, "note": "leave at door"},
            "base": {"warehouse_id": None, "note": None},
        },
    )
    business.apply(
        "sales.set_sales_order_lines", {"id": order_id, "lines": [_line(product, "5", unit_price=100)]}
    )
    order = business.row(SalesOrder, order_id)
    assert (order["warehouse_id"], order["note"], order["total"]) == (warehouse, "leave at door", 500)
    assert business.row(SalesOrderLine, first["id"])["deleted"] is True
    error = business.refused(
        "sales.update_sales_order",
        {"id": order_id, "changes": {"note": "ring twice"}, "base": {"note": "stale"}},
    )
    assert error.code == "conflict" and error.server_values == {"note": "leave at door"}


def test_sales_order_life_cycle_with_fulfilment_issuing_stock(business: Business) -> None:
    product, warehouse = business.product(cost_price=70), business.warehouse()
    business.apply(
        "inventory.record_stock_move",
        {
            "id": new_id(),
            "product_id": product,
            "quantity": "10",
            "reason": "receipt",
            "to_warehouse_id": warehouse,
        },
    )
    line = _line(product, "4")
    order_id = _order(business, [line], warehouse_id=warehouse)
    assert (
        business.refused("sales.fulfil_sales_order", {"id": order_id}, permissions=SALES).code
        == "invalid_state"
    )
    business.apply("sales.confirm_sales_order", {"id": order_id}, permissions=SALES)
    error = business.refused("sales.set_sales_order_lines", {"id": order_id, "lines": []}, permissions=SALES)
    assert error.code == "invalid_state"
    assert business.refused("sales.confirm_sales_order", {"id": order_id}).code == "invalid_state"
    outcome = business.apply("sales.fulfil_sales_order", {"id": order_id}, permissions=SALES)
    assert outcome.warnings == []
    order = business.row(SalesOrder, order_id)
    assert order["status"] == "fulfilled"
    assert _on_hand(business, product, warehouse) == Decimal(6)
    (move,) = business.rows(StockMove, StockMove.reference == order["number"])
    # Valued at moving average cost: 10 received at the cost price 0.70 → 4 leave at 2.80.
    assert (move["reason"], move["quantity"], move["unit_cost"], move["value"]) == (
        "issue",
        Decimal(4),
        None,
        280,
    )
    assert business.refused("sales.cancel_sales_order", {"id": order_id}).code == "invalid_state"


def test_fulfilling_more_than_on_hand_is_recorded_and_flagged(business: Business) -> None:
    product, warehouse = business.product(), business.warehouse()
    order_id = _order(business, [_line(product, "3")], warehouse_id=warehouse)
    business.apply("sales.confirm_sales_order", {"id": order_id})
    outcome = business.apply("sales.fulfil_sales_order", {"id": order_id})
    assert [w["code"] for w in outcome.warnings] == ["negative_stock"]
    assert _on_hand(business, product, warehouse) == Decimal(-3)


def test_fulfilment_needs_a_warehouse_and_confirmation_needs_lines(business: Business) -> None:
    empty = _order(business, [])
    business.invalid("sales.confirm_sales_order", {"id": empty}, "id")
    order_id = _order(business, [_line(business.product())])
    business.apply("sales.confirm_sales_order", {"id": order_id})
    business.invalid("sales.fulfil_sales_order", {"id": order_id}, "warehouse_id")
    business.invalid(
        "sales.fulfil_sales_order", {"id": order_id, "fulfilled_at": "2025-01-01T10:00:00"}, "fulfilled_at"
    )


def test_confirming_beyond_the_credit_limit_warns(business: Business) -> None:
    customer_id = business.customer(credit_limit=1000)
    order_id = _order(business, [_line(business.product(), "9", unit_price=200)], customer_id=customer_id)
    outcome = business.apply("sales.confirm_sales_order", {"id": order_id})
    assert [w["code"] for w in outcome.warnings] == ["credit_limit_exceeded"]
    assert business.row(SalesOrder, order_id)["status"] == "confirmed"


def test_cancel_draft_but_not_an_invoiced_order(business: Business) -> None:
    draft = _order(business, [_line(business.product())])
    business.apply("sales.cancel_sales_order", {"id": draft})
    assert business.row(SalesOrder, draft)["status"] == "cancelled"
    assert business.refused("sales.confirm_sales_order", {"id": draft}).code == "invalid_state"
    invoiced = _order(business, [_line(business.product())])
    business.apply("sales.confirm_sales_order", {"id": invoiced})
    business.apply("sales.create_invoice", {"id": new_id(), "sales_order_id": invoiced})
    error = business.refused("sales.cancel_sales_order", {"id": invoiced})
    assert error.code == "invalid_state" and "invoiced" in error.message


# -- invoices --------------------------------------------------------------------------------


def _invoice(biz: Business, lines: list[dict[str, Any]], **extra: Any) -> str:
    invoice_id = new_id()
    args = {"id": invoice_id, "customer_id": extra.pop("customer_id", None) or biz.customer(), "lines": lines}
    biz.apply("sales.create_invoice", {**args, **extra}, permissions=SALES)
    return invoice_id


def _free_line(quantity: str, unit_price: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": new_id(),
        "description": "Consulting",
        "quantity": quantity,
        "unit_price": unit_price,
        **extra,
    }


@pytest.mark.parametrize(
    ("currency", "quantity", "unit_price", "rate", "net", "tax"),
    [
        ("EUR", "3", 333, "19", 999, 190),  # 1.8981 → 1.90
        ("EUR", "1", 250, "10.2", 250, 26),  # 0.255 → 0.26: half-up, not banker's
        ("EUR", "0.5", 3, "0", 2, 0),  # 1.5 cents → 2
        ("JPY", "1", 1005, "10", 1005, 101),  # no minor unit: 100.5 → 101
        ("KWD", "2", 1234, "5", 2468, 123),  # three decimals: 0.1234 → 0.123
    ],
)
def test_invoice_tax_is_computed_exactly_and_rounded_half_up(
    business: Business, currency: str, quantity: str, unit_price: int, rate: str, net: int, tax: int
) -> None:
    vat = business.tax_rate(rate)
    rate_arg = {} if currency == "EUR" else {"exchange_rate": "0.0061" if currency == "JPY" else "2.95"}
    invoice_id = _invoice(
        business,
        [_free_line(quantity, unit_price, tax_rate_id=vat)],
        customer_id=business.customer(currency=currency),
        **rate_arg,
    )
    invoice = business.row(Invoice, invoice_id)
    assert (invoice["currency"], invoice["subtotal"], invoice["tax_total"], invoice["total"]) == (
        currency,
        net,
        tax,
        net + tax,
    )
    (line,) = business.rows(InvoiceLine, InvoiceLine.invoice_id == invoice_id)
    assert (line["tax_amount"], line["line_total"]) == (tax, net + tax)


def test_invoice_gets_a_provisional_number_and_product_names(business: Business) -> None:
    product = business.product(name="Hex bolt M10")
    invoice_id = _invoice(
        business, [{"id": new_id(), "product_id": product, "quantity": "2", "unit_price": 150}]
    )
    invoice = business.row(Invoice, invoice_id)
    assert invoice["number"].startswith("DRAFT-") and invoice["status"] == "draft"  # numbered when posted
    (line,) = business.rows(InvoiceLine, InvoiceLine.invoice_id == invoice_id)
    assert (line["description"], line["line_total"]) == ("Hex bolt M10", 300)


def test_invoice_for_a_sales_order_copies_its_lines(business: Business) -> None:
    vat = business.tax_rate("20")
    order_id = _order(business, [_line(business.product(), "2", unit_price=500, tax_rate_id=vat)])
    draft = business.refused("sales.create_invoice", {"id": new_id(), "sales_order_id": order_id})
    assert (draft.code, draft.field) == ("invalid_state", "sales_order_id")
    business.apply("sales.confirm_sales_order", {"id": order_id})
    invoice_id = new_id()
    business.apply(
        "sales.create_invoice", {"id": invoice_id, "sales_order_id": order_id, "due_date": "2099-01-31"}
    )
    invoice = business.row(Invoice, invoice_id)
    order = business.row(SalesOrder, order_id)
    assert (invoice["customer_id"], invoice["total"], invoice["tax_total"]) == (
        order["customer_id"],
        1200,
        200,
    )
    business.invalid("sales.create_invoice", {"id": new_id(), "sales_order_id": order_id}, "sales_order_id")


def test_the_same_command_derives_the_same_rows_on_every_side(
    business: Business, tmp_path: Any, server_store_template: Any
) -> None:
    """A workstation and the server apply one command id to the same data: same derived ids."""
    from tests.common.sides import open_side, other_side

    other = Business(
        open_side(other_side(business.side), tmp_path / "other", server_store_template, business.org_id),
        business.actor_id,
    ).set_up_books()
    try:
        ids = {"customer": new_id(), "product": new_id(), "order": new_id(), "line": new_id()}
        for side in (business, other):
            side.apply("sales.create_customer", {"id": ids["customer"], "name": "Same"})
            side.apply(
                "inventory.create_product",
                {
                    "id": ids["product"],
                    "sku": f"S{ids['product'][-12:]}",
                    "name": "Same",
                    "sale_price": 5,
                    "currency": "EUR",
                },
            )
            side.apply(
                "sales.create_sales_order",
                {
                    "id": ids["order"],
                    "customer_id": ids["customer"],
                    "lines": [{"id": ids["line"], "product_id": ids["product"], "quantity": "1"}],
                },
            )
            side.apply("sales.confirm_sales_order", {"id": ids["order"]})
        command_id, invoice_id = new_id(), new_id()
        for side in (business, other):
            side.apply(
                "sales.create_invoice",
                {"id": invoice_id, "sales_order_id": ids["order"]},
                command_id=command_id,
            )
        line_ids = [
            [line["id"] for line in side.rows(InvoiceLine, InvoiceLine.invoice_id == invoice_id)]
            for side in (business, other)
        ]
        assert line_ids[0] == line_ids[1] and len(line_ids[0]) == 1
        assert line_ids[0][0] != ids["line"]
    finally:
        other.store.close()


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"customer_id": None}, "customer_id"),
        ({"lines": "no description"}, "lines.0.description"),
        ({"lines": "long description"}, "lines.0.description"),
        ({"lines": "unknown product"}, "lines.0.product_id"),
        ({"lines": "used elsewhere"}, "lines.0.id"),
        ({"lines": "float price"}, "lines.0.unit_price"),
        ({"lines": "too many"}, "lines"),
        ({"issue_date": "2025-02-01", "due_date": "2025-01-31"}, "due_date"),
        ({"issue_date": "yesterday"}, "issue_date"),
        ({"sales_order_id": "unknown"}, "sales_order_id"),
    ],
)
def test_each_invalid_invoice_argument_is_named(business: Business, args: dict[str, Any], field: str) -> None:
    base: dict[str, Any] = {
        "id": new_id(),
        "customer_id": business.customer(),
        "lines": [_free_line("1", 100)],
    }
    kind = args.get("lines")
    if kind == "no description":
        base["lines"] = [{"id": new_id(), "quantity": "1", "unit_price": 100}]
    elif kind == "long description":
        base["lines"] = [_free_line("1", 100, description="d" * 501)]
    elif kind == "unknown product":
        base["lines"] = [{"id": new_id(), "product_id": new_id(), "quantity": "1", "unit_price": 1}]
    elif kind == "used elsewhere":
        line = _free_line("1", 1)
        _invoice(business, [line])
        base["lines"] = [line]
    elif kind == "float price":
        base["lines"] = [_free_line("1", 1.5)]  # type: ignore[arg-type]
    elif kind == "too many":
        base["lines"] = [_free_line("1", 1) for _ in range(501)]
    elif args.get("sales_order_id") == "unknown":
        base = {"id": base["id"], "sales_order_id": new_id()}
    else:
        base.update(args)
        if args.get("customer_id", "") is None:
            del base["customer_id"]
    business.invalid("sales.create_invoice", base, field)


def test_invoice_life_cycle_post_pay_in_parts(business: Business) -> None:
    invoice_id = _invoice(business, [_free_line("1", 10_000)])
    early = business.refused(
        "sales.record_payment", {"id": new_id(), "invoice_id": invoice_id, "amount": 100}
    )
    assert (early.code, early.field) == ("invalid_state", "invoice_id")
    business.apply("sales.post_invoice", {"id": invoice_id}, permissions=SALES)
    assert business.refused("sales.post_invoice", {"id": invoice_id}).code == "invalid_state"
    business.apply(
        "sales.record_payment", {"id": new_id(), "invoice_id": invoice_id, "amount": 4_000, "method": "card"}
    )
    assert business.refused("sales.delete_invoice", {"id": invoice_id}).code == "invalid_state"
    business.apply(
        "sales.record_payment",
        {
            "id": new_id(),
            "invoice_id": invoice_id,
            "amount": 6_000,
            "paid_on": "2025-03-01",
            "reference": "TX-9",
        },
    )
    invoice = business.row(Invoice, invoice_id)
    assert (invoice["status"], invoice["amount_paid"]) == ("paid", 10_000)
    payments = business.rows(Payment, Payment.invoice_id == invoice_id)
    assert sorted(p["amount"] for p in payments) == [4_000, 6_000]
    assert all(p["customer_id"] == invoice["customer_id"] and p["currency"] == "EUR" for p in payments)
    error = business.refused("sales.record_payment", {"id": new_id(), "invoice_id": invoice_id, "amount": 1})
    assert (error.code, error.field) == ("invalid_state", "invoice_id")
    assert business.refused("sales.delete_invoice", {"id": invoice_id}).code == "invalid_state"


def test_paying_more_than_is_due_keeps_the_rest_as_the_customers_credit(business: Business) -> None:
    invoice_id = _invoice(business, [_free_line("1", 10_000)])
    business.apply("sales.post_invoice", {"id": invoice_id})
    outcome = business.apply(
        "sales.record_payment", {"id": new_id(), "invoice_id": invoice_id, "amount": 12_500}
    )
    assert [w["code"] for w in outcome.warnings] == ["customer_credit"]
    assert "25.00 EUR" in outcome.warnings[0]["message"]
    (payment,) = business.rows(Payment, Payment.invoice_id == invoice_id)
    assert (payment["amount"], payment["credit_amount"]) == (12_500, 2_500)
    invoice = business.row(Invoice, invoice_id)
    assert (invoice["status"], invoice["amount_paid"]) == ("paid", 10_000)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"amount": "100"}, "amount"),
        ({"currency": "USD"}, "currency"),
        ({"method": "barter"}, "method"),
        ({"reference": "r" * 101}, "reference"),
        ({"invoice_id": "unknown"}, "invoice_id"),
    ],
)
def test_each_invalid_payment_argument_is_named(
    business: Business, override: dict[str, Any], field: str
) -> None:
    invoice_id = _invoice(business, [_free_line("1", 500)])
    business.apply("sales.post_invoice", {"id": invoice_id})
    args = {"id": new_id(), "invoice_id": invoice_id, "amount": 100, **override}
    if args["invoice_id"] == "unknown":
        args["invoice_id"] = new_id()
    business.invalid("sales.record_payment", args, field)


def test_only_a_draft_is_deleted_and_posting_gives_the_final_number(business: Business) -> None:
    draft, posted = _invoice(business, [_free_line("1", 100)]), _invoice(business, [_free_line("1", 100)])
    business.apply("sales.post_invoice", {"id": posted})
    business.apply("sales.delete_invoice", {"id": draft}, permissions=SALES)
    assert business.row(Invoice, draft)["deleted"] is True
    assert business.rows(InvoiceLine, InvoiceLine.invoice_id == draft) == []
    business.invalid("sales.post_invoice", {"id": draft}, "id")  # deleted: as if it never was
    error = business.refused("sales.delete_invoice", {"id": posted}, permissions=SALES)
    assert error.code == "invalid_state" and "credit note" in error.message
    # Offline, the posted number is provisional too: the server gives the gapless INV- number.
    assert business.row(Invoice, posted)["number"].startswith(business.number_prefix("INV"))
    assert business.row(Invoice, posted)["status"] == "posted"
    empty = _invoice(business, [])
    business.invalid("sales.post_invoice", {"id": empty}, "id")


def test_receive_goods_sell_them_invoice_and_get_paid(business: Business) -> None:
    """A warehouse receives bolts, sales sells some, invoices the order and the customer pays."""
    warehouse, bolts = business.warehouse(), business.product(sale_price=250, cost_price=100)
    supplier, po_id, po_line = new_id(), new_id(), new_id()
    business.apply("inventory.create_supplier", {"id": supplier, "name": "Bolt Works", "currency": "EUR"})
    business.apply(
        "inventory.create_purchase_order",
        {
            "id": po_id,
            "supplier_id": supplier,
            "warehouse_id": warehouse,
            "lines": [{"id": po_line, "product_id": bolts, "quantity": "100", "unit_cost": 100}],
        },
    )
    business.apply("inventory.order_purchase_order", {"id": po_id}, permissions=role("warehouse"))
    business.apply("inventory.receive_purchase_order", {"id": po_id}, permissions=role("warehouse"))
    vat = business.tax_rate("20")
    order_id = _order(business, [_line(bolts, "40", tax_rate_id=vat)], warehouse_id=warehouse)
    business.apply("sales.confirm_sales_order", {"id": order_id}, permissions=SALES)
    business.apply("sales.fulfil_sales_order", {"id": order_id}, permissions=SALES)
    invoice_id = new_id()
    business.apply("sales.create_invoice", {"id": invoice_id, "sales_order_id": order_id}, permissions=SALES)
    business.apply("sales.post_invoice", {"id": invoice_id}, permissions=SALES)
    total = business.row(Invoice, invoice_id)["total"]
    assert total == 40 * 250 * 12 // 10
    business.apply(
        "sales.record_payment", {"id": new_id(), "invoice_id": invoice_id, "amount": total}, permissions=SALES
    )
    assert business.row(Invoice, invoice_id)["status"] == "paid"
    assert _on_hand(business, bolts, warehouse) == Decimal(60)
    with business.session() as session:
        (valued,) = [row for row in stock_valuation(session, business.org_id) if row.product_id == bolts]
    assert (valued.warehouse_id, valued.quantity, valued.unit_cost, valued.value) == (
        warehouse,
        Decimal(60),
        100,
        6000,
    )

"""Small steps of a warehouse day, written through the real commands of a client."""

from __future__ import annotations

from typing import Any

from common.ids import new_id
from tests.e2e.conftest import Client


def create_warehouse(client: Client, code: str = "MAIN") -> str:
    warehouse_id = new_id()
    client.apply("inventory.create_warehouse", id=warehouse_id, code=code, name=f"Warehouse {code}")
    return warehouse_id


def create_product(client: Client, sku: str, name: str | None = None, **extra: Any) -> str:
    product_id = new_id()
    client.apply(
        "inventory.create_product",
        id=product_id,
        sku=sku,
        name=name or f"Product {sku}",
        sale_price=1000,
        currency="EUR",
        **extra,
    )
    return product_id


def receive(client: Client, product_id: str, warehouse_id: str, quantity: str) -> str:
    move_id = new_id()
    client.apply(
        "inventory.record_stock_move",
        id=move_id,
        product_id=product_id,
        to_warehouse_id=warehouse_id,
        quantity=quantity,
        unit_cost=400,
        reason="receipt",
    )
    return move_id


def rename(client: Client, product_id: str, new: str, old: str, field: str = "name") -> str:
    return client.apply("inventory.update_product", id=product_id, changes={field: new}, base={field: old})


def create_customer(client: Client, name: str = "Customer Oy") -> str:
    customer_id = new_id()
    client.apply("sales.create_customer", id=customer_id, name=name)
    return customer_id


def create_invoice(client: Client, customer_id: str, product_id: str) -> str:
    invoice_id = new_id()
    client.apply(
        "sales.create_invoice",
        id=invoice_id,
        customer_id=customer_id,
        lines=[{"id": new_id(), "product_id": product_id, "quantity": "2", "unit_price": 1500}],
    )
    return invoice_id


def by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in rows}

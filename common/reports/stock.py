"""Stock valuation: stock on hand at moving average cost, per product and warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.reports.base import ReportParams, amount_text, ledger_currency, report
from common.schema import Product, ProductCost
from common.stock import stock_levels


@dataclass(frozen=True)
class StockValuationRow:
    """Stock of one product in one warehouse, valued at the product's moving average cost
    (``unit_cost``: minor units of the ledger currency per unit, exact to six places)."""

    product_id: str
    sku: str
    name: str
    warehouse_id: str
    quantity: Decimal
    unit_cost: Decimal | None
    currency: str
    value: int | None


def stock_valuation(session: Session, org_id: str) -> list[StockValuationRow]:
    """On-hand stock per product and warehouse with its value at moving average cost (``None``
    for a product that has never been valued). The warehouses of a product share its value in
    proportion to their quantities, the last one taking what is left, so they add up to the
    product's value in the ledger exactly."""
    levels = stock_levels(session, org_id)
    if not levels:
        return []
    currency = ledger_currency(session, org_id)
    products = Product.__table__
    found = {
        row.id: row
        for row in session.execute(
            select(products.c.id, products.c.sku, products.c.name).where(products.c.org_id == org_id)
        )
    }
    costs = {
        row.id: row
        for row in session.execute(
            select(ProductCost.id, ProductCost.quantity, ProductCost.value, ProductCost.average_cost).where(
                ProductCost.org_id == org_id, ProductCost.deleted.is_(False)
            )
        )
    }
    by_product: dict[str, list[tuple[str, Decimal]]] = {}
    for (product_id, warehouse_id), quantity in sorted(levels.items()):
        if quantity != 0 and product_id in found:
            by_product.setdefault(product_id, []).append((warehouse_id, quantity))
    rows = []
    for product_id, places in by_product.items():
        product, cost = found[product_id], costs.get(product_id)
        left = int(cost.value) if cost is not None else 0
        total = cost.quantity if cost is not None else Decimal(0)
        for index, (warehouse_id, quantity) in enumerate(places):
            if cost is None:
                value = None
            elif index == len(places) - 1 and total == sum(q for _, q in places):
                value = left
            else:
                value = (
                    int((Decimal(cost.value) * quantity / total).quantize(Decimal(1), ROUND_HALF_UP))
                    if total
                    else 0
                )
                left -= value
            rows.append(
                StockValuationRow(
                    product_id=product_id,
                    sku=product.sku,
                    name=product.name,
                    warehouse_id=warehouse_id,
                    quantity=quantity,
                    unit_cost=cost.average_cost if cost is not None else None,
                    currency=currency,
                    value=value,
                )
            )
    rows.sort(key=lambda r: (r.sku, r.warehouse_id))
    return rows


def stock_valuation_report(session: Session, org_id: str, params: ReportParams) -> dict[str, Any]:
    currency = ledger_currency(session, org_id)
    rows, total = [], 0
    for row in stock_valuation(session, org_id):
        total += row.value or 0
        rows.append(
            {"product_id": row.product_id, "sku": row.sku, "name": row.name, "warehouse_id": row.warehouse_id,
             "quantity": format(row.quantity, "f"),
             "unit_cost": amount_text(int(row.unit_cost.quantize(Decimal(1), ROUND_HALF_UP)), currency)
             if row.unit_cost is not None else None,
             "value": amount_text(row.value, currency) if row.value is not None else None}
        )  # fmt: skip
    return report(
        "stock_valuation",
        {},
        currency,
        ["sku", "name", "warehouse_id", "quantity", "unit_cost", "value"],
        rows,
        {"value": amount_text(total, currency)},
    )

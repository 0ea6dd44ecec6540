"""Low stock: products at or below their reorder point, most short first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, type_coerce

from common.schema import Product, PurchaseOrder, PurchaseOrderLine, Supplier
from common.schema.types import Quantity
from common.stock import low_stock_query
from desktop.lists import Column, ListSource
from desktop.modules import page
from desktop.qt import QWidget
from desktop.ui.context import UiContext
from desktop.ui.list_page import ListPage
from desktop.ui.widgets import PageHeader, button

COLUMNS = (
    Column("sku", "SKU", width=140),
    Column("name", "Product", stretch=True),
    Column("on_hand", "On hand", kind="quantity", width=110),
    Column("reorder_point", "Reorder at", kind="quantity", width=110),
    Column("shortfall", "Short by", kind="quantity", width=110),
    Column("unit", "Unit", width=60),
)


def low_stock_source(ctx: UiContext) -> ListSource:
    def build() -> Any:
        query = low_stock_query(ctx.session.org_id).subquery()
        return select(
            query.c.id,
            query.c.sku,
            query.c.name,
            query.c.unit,
            query.c.reorder_point,
            type_coerce(query.c.on_hand, Quantity()).label("on_hand"),
            type_coerce(query.c.shortfall, Quantity()).label("shortfall"),
        )

    return ListSource(
        ctx.session.store,
        COLUMNS,
        build,
        search_keys=("sku", "name"),
        default_sort="shortfall",
        default_descending=True,
    )


@dataclass(frozen=True)
class ReorderSuggestion:
    supplier_id: str | None
    warehouse_id: str | None
    unit_cost: int | None


def reorder_suggestion(ctx: UiContext, product_id: str) -> ReorderSuggestion:
    """Who to order from, where to deliver and at what unit cost: the supplier and warehouse of
    the product's latest order, and the product's cost price (the latest order's cost when that
    supplier bills in another currency)."""
    org_id = ctx.session.org_id
    p, o, line, s = (t.__table__.c for t in (Product, PurchaseOrder, PurchaseOrderLine, Supplier))
    with ctx.session.store.read_session() as db:
        product = db.execute(
            select(p.cost_price, p.currency).where(p.org_id == org_id, p.id == product_id)
        ).first()
        latest = db.execute(
            select(o.supplier_id, o.warehouse_id, line.unit_cost, s.currency)
            .select_from(PurchaseOrderLine.__table__)
            .join(PurchaseOrder.__table__, (o.org_id == line.org_id) & (o.id == line.purchase_order_id))
            .join(Supplier.__table__, (s.org_id == o.org_id) & (s.id == o.supplier_id))
            .where(
                line.org_id == org_id,
                line.product_id == product_id,
                line.deleted.is_(False),
                o.deleted.is_(False),
                s.archived.is_(False),
            )
            .order_by(o.number.desc())
            .limit(1)
        ).first()
    cost_price, currency = (product[0], product[1]) if product is not None else (None, None)
    if latest is None:
        return ReorderSuggestion(None, None, cost_price)
    supplier_id, warehouse_id, last_cost, supplier_currency = latest
    same_currency = cost_price is not None and supplier_currency == currency
    return ReorderSuggestion(supplier_id, warehouse_id, cost_price if same_currency else last_cost)


@page("inventory", "low_stock", "Low stock", writes="inventory.create_purchase_order", position=40)
class LowStockPage(ListPage):
    title = "Low stock"
    subtitle = "Products whose stock across all warehouses is at or below their reorder point."
    noun = "product"
    search_placeholder = "Search by SKU or name  (Ctrl+F)"
    empty_title = "Nothing is running low"
    empty_hint = "Every product with a reorder point has more stock than that."

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)

    def make_source(self) -> ListSource:
        return low_stock_source(self.ctx)

    def add_actions(self, header: PageHeader) -> None:
        self.order_button = button(
            "Order…", primary=True, tooltip="Start a purchase order for the selected product"
        )
        self.order_button.clicked.connect(self.order_current)
        self.order_button.setVisible(self.ctx.writable)
        header.add_action(self.order_button)

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        self.order_button.setEnabled(row is not None)

    def order_current(self) -> Any:
        from desktop.ui.purchase_orders import PurchaseOrderDialog

        row = self.current_row()
        if row is None:
            return None
        dialog = PurchaseOrderDialog(self, self.ctx, None)
        suggestion = reorder_suggestion(self.ctx, row["id"])
        for key in ("supplier_id", "warehouse_id"):
            if getattr(suggestion, key) is not None:
                dialog.set_value(key, getattr(suggestion, key))
        dialog.add_line(row["id"], row["shortfall"], suggestion.unit_cost)
        dialog.touched.clear()
        dialog.validate()
        dialog.open()
        return dialog

"""Low stock: products at or below their reorder point, most short first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, type_coerce

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
        dialog.add_line(row["id"], row["shortfall"])
        dialog.open()
        return dialog

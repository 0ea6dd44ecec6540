"""Stock on hand per product and warehouse (the sum of moves, computed in SQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, type_coerce

from common.schema import Product, Warehouse
from common.schema.types import Quantity
from common.stock import on_hand_by_location
from desktop.lists import Column, ListSource
from desktop.modules import page
from desktop.qt import QComboBox, QHBoxLayout, QWidget
from desktop.ui.context import UiContext
from desktop.ui.list_page import ListPage
from desktop.ui.pickers import fill_combo, warehouse_choices
from desktop.ui.widgets import PageHeader, button

COLUMNS = (
    Column("sku", "SKU", width=140),
    Column("name", "Product", stretch=True),
    Column("warehouse", "Warehouse", width=200),
    Column("on_hand", "On hand", kind="quantity", width=110),
    Column("unit", "Unit", width=60),
    Column("reorder_point", "Reorder at", kind="quantity", width=100),
)


def stock_source(ctx: UiContext, warehouse_id: str | None = None) -> ListSource:
    org_id = ctx.session.org_id
    p, w = Product.__table__, Warehouse.__table__

    def build() -> Any:
        levels = on_hand_by_location(org_id).subquery()
        stmt = (
            select(
                (levels.c.product_id + "|" + levels.c.warehouse_id).label("id"),
                levels.c.product_id,
                levels.c.warehouse_id,
                p.c.sku.label("sku"),
                p.c.name.label("name"),
                p.c.unit.label("unit"),
                p.c.reorder_point.label("reorder_point"),
                (w.c.code + " — " + w.c.name).label("warehouse"),
                type_coerce(levels.c.on_hand, Quantity()).label("on_hand"),
            )
            .select_from(levels)
            .join(p, (p.c.org_id == org_id) & (p.c.id == levels.c.product_id))
            .join(w, (w.c.org_id == org_id) & (w.c.id == levels.c.warehouse_id))
            .where(p.c.deleted.is_(False))
        )
        return stmt.where(levels.c.warehouse_id == warehouse_id) if warehouse_id else stmt

    return ListSource(
        ctx.session.store, COLUMNS, build, search_keys=("sku", "name", "warehouse"), default_sort="sku"
    )


@page("inventory", "stock", "Stock on hand", writes="inventory.record_stock_move", position=20)
class StockPage(ListPage):
    title = "Stock on hand"
    subtitle = "What is in each warehouse now, including changes not yet synced."
    noun = "stock line"
    search_placeholder = "Search by SKU, product or warehouse  (Ctrl+F)"
    empty_hint = "Stock appears here once goods are received (Stock moves → New move)."

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        self.warehouse_id: str | None = None
        super().__init__(ctx, parent)

    def make_source(self) -> ListSource:
        return stock_source(self.ctx, self.warehouse_id)

    def add_filters(self, bar: QHBoxLayout) -> None:
        self.warehouse_box = QComboBox()
        self.warehouse_box.setMinimumWidth(220)
        fill_combo(self.warehouse_box, warehouse_choices(self.ctx.session), empty="All warehouses")
        self.warehouse_box.currentIndexChanged.connect(self._filter)
        bar.addWidget(self.warehouse_box)

    def _filter(self) -> None:
        self.warehouse_id = self.warehouse_box.currentData()
        self.model.source = self.source = self.make_source()
        self.model.reload()

    def activate(self) -> None:
        self.warehouse_box.blockSignals(True)
        fill_combo(self.warehouse_box, warehouse_choices(self.ctx.session), empty="All warehouses")
        self.warehouse_box.blockSignals(False)
        super().activate()

    @property
    def can_create(self) -> bool:
        return self.ctx.writable

    def add_actions(self, header: PageHeader) -> None:
        self.count_button = button("Count…", tooltip="Record a stock count of the selected line")
        self.move_button = button("New move", primary=True, tooltip="Ctrl+N")
        self.count_button.clicked.connect(self.count_current)
        self.move_button.clicked.connect(self.new_item)
        header.add_action(self.count_button)
        header.add_action(self.move_button)
        self.count_button.setVisible(self.ctx.writable)
        self.move_button.setVisible(self.ctx.writable)

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        self.count_button.setEnabled(row is not None)

    def new_item(self) -> Any:
        from desktop.ui.stock_moves import StockMoveDialog

        if not self.can_create:
            return None
        dialog = StockMoveDialog(self, self.ctx, "receipt")
        dialog.open()
        return dialog

    def count_current(self) -> Any:
        from desktop.ui.stock_moves import StockMoveDialog

        row = self.current_row()
        if row is None or not self.can_create:
            return None
        dialog = StockMoveDialog(self, self.ctx, "count")
        dialog.picker.set_value(row["product_id"])
        dialog.set_value("warehouse_id", row["warehouse_id"])
        dialog.inputs["quantity"].setFocus()
        dialog.open()
        return dialog

"""Purchase orders: draft → ordered → received (receiving records the stock receipts)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.commands.inventory import PURCHASE_ORDER_TRANSITIONS
from common.schema import PurchaseOrder, Supplier, Warehouse
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.qt import QMessageBox
from desktop.ui.context import UiContext
from desktop.ui.document_list import HeaderActions, StatePage
from desktop.ui.printing import PrintPreview, print_purchase_order
from desktop.ui.purchase_order_dialog import PurchaseOrderDialog
from desktop.ui.receive import ReceiveDialog
from desktop.ui.widgets import PageHeader

__all__ = ["PurchaseOrderDialog", "PurchaseOrdersPage", "ReceiveDialog"]

STATUSES = tuple(PURCHASE_ORDER_TRANSITIONS)  # life-cycle order, from common/
COLUMNS = (
    Column("number", "Number", width=150),
    Column("supplier", "Supplier", stretch=True),
    Column("warehouse", "Deliver to", width=110),
    Column("status", "Status", kind="status", width=100),
    Column("expected_on", "Expected", kind="date", width=110),
    Column("total", "Total", kind="money", width=140),
    Column("updated_at", "Last change", kind="datetime", width=140),
)


def order_source(ctx: UiContext, status: str | None = None) -> ListSource:
    o, s, w = PurchaseOrder.__table__, Supplier.__table__, Warehouse.__table__

    def build() -> Any:
        stmt = (
            select(
                o.c.id,
                o.c.number,
                o.c.status,
                o.c.currency,
                o.c.expected_on,
                o.c.total,
                o.c.note,
                o.c.supplier_id,
                o.c.warehouse_id,
                o.c.updated_at,
                s.c.name.label("supplier"),
                w.c.code.label("warehouse"),
            )
            .select_from(o)
            .join(s, (s.c.org_id == o.c.org_id) & (s.c.id == o.c.supplier_id), isouter=True)
            .join(w, (w.c.org_id == o.c.org_id) & (w.c.id == o.c.warehouse_id), isouter=True)
            .where(live(PurchaseOrder, ctx.session.org_id))
        )
        return stmt.where(o.c.status == status) if status else stmt

    return ListSource(
        ctx.session.store,
        COLUMNS,
        build,
        search_keys=("number", "supplier", "warehouse"),
        default_sort="updated_at",
        default_descending=True,
    )


@page(
    "inventory", "purchase_orders", "Purchase orders", writes="inventory.create_purchase_order", position=70
)
class PurchaseOrdersPage(StatePage):
    title = "Purchase orders"
    subtitle = "Orders to suppliers: draft → ordered → received. Receiving brings the goods into stock."
    noun = "purchase order"
    search_placeholder = "Search by number, supplier or warehouse  (Ctrl+F)"
    empty_hint = "Start one with New order (Ctrl+N), or from Low stock → Order."
    history_entity = "purchase_order"
    statuses = tuple((status, status.capitalize()) for status in STATUSES)

    def make_dialog(self, row: dict[str, Any] | None) -> PurchaseOrderDialog:
        return PurchaseOrderDialog(self, self.ctx, row)

    def make_source(self) -> ListSource:
        return order_source(self.ctx, self.status)

    def add_actions(self, header: PageHeader) -> None:
        actions = HeaderActions(self, header)
        self.print_button = actions.add(
            "Print…", self.print_row, tooltip="Print the selected order with preview (Ctrl+P)"
        )
        self.history_button = actions.history()
        self.cancel_order_button = actions.add("Cancel order", self.cancel_order, writes=True, danger=True)
        self.order_button = actions.add(
            "Mark ordered", self.mark_ordered, writes=True, tooltip="The order was sent to the supplier"
        )
        self.receive_button = actions.add(
            "Receive…", self.receive, writes=True, tooltip="Goods arrived: record them into stock"
        )
        self.new_button = actions.new("New order", self.new_item)

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        status = row["status"] if row else None
        allowed = PURCHASE_ORDER_TRANSITIONS.get(status or "", frozenset())
        self.history_button.setEnabled(row is not None)
        self.print_button.setEnabled(row is not None)
        self.order_button.setEnabled("ordered" in allowed)
        self.receive_button.setEnabled("received" in allowed)
        self.cancel_order_button.setEnabled("cancelled" in allowed)

    def print_row(self, row: dict[str, Any]) -> PrintPreview:
        return print_purchase_order(self, self.ctx.session, row["id"])

    def receive(self, row: dict[str, Any]) -> ReceiveDialog:
        dialog = ReceiveDialog(self, self.ctx, row)
        dialog.open()
        return dialog

    def mark_ordered(self, row: dict[str, Any]) -> None:
        self.run_state("inventory.order_purchase_order", {"id": row["id"]}, "Not ordered")

    def cancel_order(self, row: dict[str, Any]) -> None:
        answer = QMessageBox.question(self, "Cancel order", f"Cancel purchase order {row['number']}?")
        if answer == QMessageBox.StandardButton.Yes:
            self.run_state("inventory.cancel_purchase_order", {"id": row["id"]}, "Not cancelled")

"""Quotations and sales orders: draft (a quotation) → confirmed → delivered (stock issued);
draft/confirmed → cancelled. A confirmed or delivered order is invoiced from here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.commands.sales import SALES_ORDER_TRANSITIONS
from common.ids import new_id
from common.sales_forms import build_order_invoice
from common.schema import Customer, Invoice, SalesOrder, Warehouse
from desktop.formatting import parse_quantity_input
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.qt import QMessageBox
from desktop.ui.context import UiContext
from desktop.ui.document_list import HeaderActions, StatePage
from desktop.ui.forms import FormDialog, FormField, apply_from_form
from desktop.ui.sales_common import RATE_FIELD_HINT, ledger_currency_of
from desktop.ui.sales_order_dialog import SalesOrderDialog
from desktop.ui.widgets import PageHeader

STATUSES = tuple(SALES_ORDER_TRANSITIONS)  # life-cycle order, from common/
STATUS_WORDS = {
    "draft": "Quotation",
    "confirmed": "Confirmed",
    "fulfilled": "Delivered",
    "cancelled": "Cancelled",
}
COLUMNS = (
    Column("number", "Number", width=150),
    Column("customer", "Customer", stretch=True),
    Column("stage", "Stage", sortable=False, width=110),
    Column("order_date", "Date", kind="date", width=110),
    Column("warehouse", "Ship from", width=100),
    Column("total", "Total", kind="money", width=140),
    Column("invoice", "Invoice", width=160),
)


def sales_order_source(ctx: UiContext, status: str | None = None) -> ListSource:
    o, c, w, i = SalesOrder.__table__, Customer.__table__, Warehouse.__table__, Invoice.__table__
    org_id = ctx.session.org_id

    def build() -> Any:
        invoice = (
            select(i.c.number)
            .where(i.c.org_id == o.c.org_id, i.c.sales_order_id == o.c.id, i.c.deleted.is_(False))
            .limit(1)
            .scalar_subquery()
        )
        stmt = (
            select(
                o.c.id, o.c.number, o.c.status, o.c.currency, o.c.order_date, o.c.total, o.c.note,
                o.c.customer_id, o.c.warehouse_id, o.c.updated_at,
                c.c.name.label("customer"), w.c.code.label("warehouse"), invoice.label("invoice"),
            )
            .select_from(o)
            .join(c, (c.c.org_id == o.c.org_id) & (c.c.id == o.c.customer_id), isouter=True)
            .join(w, (w.c.org_id == o.c.org_id) & (w.c.id == o.c.warehouse_id), isouter=True)
            .where(live(SalesOrder, org_id))
        )  # fmt: skip
        return stmt.where(o.c.status == status) if status else stmt

    def decorate(_session: Any, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            row["stage"] = STATUS_WORDS.get(row["status"], row["status"])

    return ListSource(
        ctx.session.store,
        COLUMNS,
        build,
        search_keys=("number", "customer"),
        default_sort="order_date",
        default_descending=True,
        decorate=decorate,
    )


@page("sales", "sales_orders", "Quotations & orders", writes="sales.create_sales_order", position=20)
class SalesOrdersPage(StatePage):
    title = "Quotations & orders"
    subtitle = "Quotation → confirmed → delivered (the goods leave the stock) → invoiced."
    noun = "sales order"
    search_placeholder = "Search by number or customer  (Ctrl+F)"
    empty_hint = "Start one with New quotation (Ctrl+N)."
    history_entity = "sales_order"
    statuses = tuple((status, STATUS_WORDS[status]) for status in STATUSES)
    all_statuses = "All stages"
    filter_word = "Stage"

    def make_dialog(self, row: dict[str, Any] | None) -> SalesOrderDialog:
        return SalesOrderDialog(self, self.ctx, row)

    def make_source(self) -> ListSource:
        return sales_order_source(self.ctx, self.status)

    def add_actions(self, header: PageHeader) -> None:
        actions = HeaderActions(self, header)
        self.history_button = actions.history()
        self.cancel_order_button = actions.add("Cancel order", self.cancel_order, writes=True, danger=True)
        self.confirm_button = actions.add(
            "Confirm", self.confirm, writes=True, tooltip="The customer accepted the quotation"
        )
        self.deliver_button = actions.add(
            "Deliver", self.deliver, writes=True, tooltip="Ship the goods: they leave the stock"
        )
        self.invoice_button = actions.add(
            "Invoice", self.invoice, writes=True, tooltip="Make a draft invoice of this order"
        )
        self.new_button = actions.new("New quotation", self.new_item)

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        status = row["status"] if row else None
        allowed = SALES_ORDER_TRANSITIONS.get(status or "", frozenset())
        self.history_button.setEnabled(row is not None)
        self.confirm_button.setEnabled("confirmed" in allowed)
        self.deliver_button.setEnabled("fulfilled" in allowed)
        self.cancel_order_button.setEnabled("cancelled" in allowed and not (row or {}).get("invoice"))
        self.invoice_button.setEnabled(
            status in ("confirmed", "fulfilled") and not (row or {}).get("invoice")
        )

    def confirm(self, row: dict[str, Any]) -> None:
        """Confirm the quotation; beyond the customer's credit limit it is flagged, not refused."""
        self.run_state("sales.confirm_sales_order", {"id": row["id"]}, "Not confirmed")

    def deliver(self, row: dict[str, Any]) -> None:
        """Ship the order: one stock issue per line from its warehouse."""
        if not row.get("warehouse_id"):
            QMessageBox.warning(
                self, "Not delivered", "Choose the warehouse it ships from first (open the order)."
            )
            return
        self.run_state("sales.fulfil_sales_order", {"id": row["id"]}, "Not delivered")

    def invoice(self, row: dict[str, Any]) -> str:
        """A draft invoice with the order's lines; returns its id. An order in another currency
        than the books' asks for the exchange rate first."""
        invoice_id = new_id()
        ledger = ledger_currency_of(self.ctx.session)
        currency = str(row["currency"])

        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
            built = build_order_invoice(invoice_id, row["id"], raw, currency, ledger, parse_quantity_input)
            return built.args, built.problems

        if ledger is None or currency == ledger:
            self.run_state("sales.create_invoice", build({})[0], "Not invoiced")
            return invoice_id
        rate = FormField(
            "exchange_rate", f"{ledger} per 1 {currency}", kind="quantity", required=True, max_length=24,
            hint=RATE_FIELD_HINT,
        )  # fmt: skip
        self.rate_dialog = FormDialog(
            self,
            f"Invoice sales order {row['number']}",
            (rate,),
            build=build,
            save=apply_from_form(self.ctx, "sales.create_invoice"),
            save_text="Make draft invoice",
        )
        self.rate_dialog.open()
        return invoice_id

    def cancel_order(self, row: dict[str, Any]) -> None:
        answer = QMessageBox.question(self, "Cancel order", f"Cancel sales order {row['number']}?")
        if answer == QMessageBox.StandardButton.Yes:
            self.run_state("sales.cancel_sales_order", {"id": row["id"]}, "Not cancelled")

"""Invoices: direct or from an order; draft → posted (its legal number arrives at sync: offline
it is ``DRAFT-<device>-<n>``), only a draft may be deleted; a posted invoice is corrected by a
credit note and paid through Payments received."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.commands.invoicing import INVOICE_TRANSITIONS
from common.schema import Customer, Invoice, SalesOrder
from desktop.lists import Column, ListSource, Related, live
from desktop.modules import page
from desktop.qt import QMessageBox
from desktop.ui.context import UiContext
from desktop.ui.document_list import HeaderActions, StatePage
from desktop.ui.printing import PrintPreview, print_document
from desktop.ui.sales_credit_note import CreditNoteDialog
from desktop.ui.sales_invoice_dialog import InvoiceDialog
from desktop.ui.sales_payments import PaymentDialog
from desktop.ui.widgets import PageHeader

STATUSES = tuple(INVOICE_TRANSITIONS)
COLUMNS = (
    Column("number", "Number", width=160),
    Column("customer", "Customer", stretch=True),
    Column("status", "Status", kind="status", width=90),
    Column("issue_date", "Issued", kind="date", width=105),
    Column("due_date", "Due", kind="date", width=105),
    Column("total", "Total", kind="money", width=130),
    Column("open_amount", "Open", kind="money", width=130),
)


def invoice_source(ctx: UiContext, status: str | None = None) -> ListSource:
    """Invoices, newest first, with what is still open on each."""
    i, c, o = Invoice.__table__, Customer.__table__, SalesOrder.__table__

    def build(scan: bool = False) -> Any:
        open_amount = (i.c.total - i.c.amount_paid - i.c.amount_credited).label("open_amount")
        stmt = (
            select(
                i.c.id, i.c.number, i.c.status, i.c.issue_date, i.c.due_date, i.c.currency, i.c.total,
                i.c.subtotal, i.c.tax_total, i.c.amount_paid, i.c.amount_credited, open_amount, i.c.exchange_rate,
                i.c.customer_id, i.c.sales_order_id, i.c.updated_at,
                c.c.name.label("customer"), o.c.number.label("order"),
            )
            .select_from(i)
            .join(c, (c.c.org_id == i.c.org_id) & (c.c.id == i.c.customer_id), isouter=True)
            .join(o, (o.c.org_id == i.c.org_id) & (o.c.id == i.c.sales_order_id), isouter=True)
            .where(live(Invoice, ctx.session.org_id, scan=scan))
        )  # fmt: skip
        return stmt.where(i.c.status == status) if status else stmt

    return ListSource(
        ctx.session.store,
        COLUMNS,
        build,
        search_keys=("number", "customer", "order"),
        default_sort="issue_date",
        default_descending=True,
        build_for_search=lambda: build(scan=True),
        search_table="invoice",
        search_related=(
            Related("customer", "customer", "name", "customer_id"),
            Related("order", "sales_order", "number", "sales_order_id"),
        ),
    )


@page("sales", "invoices", "Invoices", writes="sales.create_invoice", position=30)
class InvoicesPage(StatePage):
    title = "Invoices"
    subtitle = "Draft → posted → paid or credited. The legal number comes at sync."
    noun = "invoice"
    search_placeholder = "Search by number, customer or order  (Ctrl+F)"
    empty_hint = "Make one with New invoice (Ctrl+N), or from a confirmed order (Invoice)."
    history_entity = "invoice"
    statuses = tuple((status, status.capitalize()) for status in STATUSES)

    def make_dialog(self, row: dict[str, Any] | None) -> InvoiceDialog:
        return InvoiceDialog(self, self.ctx, row)

    def make_source(self) -> ListSource:
        return invoice_source(self.ctx, self.status)

    def add_actions(self, header: PageHeader) -> None:
        actions = HeaderActions(self, header)
        self.history_button = actions.history()
        self.print_button = actions.add(
            "Print…", self.print_row, tooltip="Print the selected invoice with preview (Ctrl+P)"
        )
        self.delete_button = actions.add(
            "Delete", self.delete_draft, writes=True, danger=True, tooltip="Delete a draft invoice"
        )
        self.credit_button = actions.add(
            "Credit note…", self.credit, writes=True, tooltip="Take back the invoice, whole or by line"
        )
        self.pay_button = actions.add(
            "Payment…", self.receive_payment, writes=True, tooltip="Record a payment received for it"
        )
        self.post_button = actions.add(
            "Post", self.post, writes=True, tooltip="Issue the invoice: its final number comes at sync"
        )
        self.new_button = actions.new("New invoice", self.new_item)

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        status = row["status"] if row else None
        self.history_button.setEnabled(row is not None)
        self.print_button.setEnabled(row is not None)
        self.post_button.setEnabled(status == "draft")
        self.delete_button.setEnabled(status == "draft")
        self.pay_button.setEnabled(status == "posted")
        self.credit_button.setEnabled(status in ("posted", "paid"))

    def print_selected(self) -> PrintPreview | None:
        """Print the selected invoice with preview."""
        row = self.current_row()
        return self.print_row(row) if row is not None else None

    def print_row(self, row: dict[str, Any]) -> PrintPreview:
        """The invoice as its document (letterhead, number or DRAFT, tax per rate), with preview."""
        return print_document(self, self.ctx.session, "invoice", row["id"])

    def post(self, row: dict[str, Any]) -> None:
        """Issue the draft: posted at once here; its legal number is the server's, at sync."""
        self.run_state("sales.post_invoice", {"id": row["id"]}, "Not posted")

    def delete_draft(self, row: dict[str, Any]) -> None:
        answer = QMessageBox.question(self, "Delete draft", f"Delete draft invoice {row['number']}?")
        if answer == QMessageBox.StandardButton.Yes:
            self.run_state("sales.delete_invoice", {"id": row["id"]}, "Not deleted")

    def credit(self, row: dict[str, Any]) -> CreditNoteDialog:
        dialog = CreditNoteDialog(self, self.ctx, row)
        dialog.open()
        return dialog

    def receive_payment(self, row: dict[str, Any]) -> PaymentDialog:
        dialog = PaymentDialog(self, self.ctx, row["customer_id"])
        dialog.open()
        return dialog

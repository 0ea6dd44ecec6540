"""Payments received: the list, and receiving one payment allocated to one or several of the
customer's open invoices — partly, in full, or beyond (the excess is the customer's credit)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.commands.invoicing import PAYMENT_METHODS
from common.ids import new_id
from common.sales_forms import OpenInvoice, allocate_oldest_first, build_payments
from common.schema import Customer, Invoice, Payment
from desktop.formatting import money, money_input, parse_money, parse_quantity_input
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.qt import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.draft_edits import apply_together
from desktop.ui.forms import FormDialog, FormField
from desktop.ui.list_page import ListPage
from desktop.ui.pickers import fill_combo
from desktop.ui.sales_common import RATE_FIELD_HINT, customer_choices, customer_row, ledger_currency_of
from desktop.ui.widgets import PageHeader, button, label

METHOD_WORDS = {
    "bank_transfer": "Bank transfer",
    "card": "Card",
    "cash": "Cash",
    "cheque": "Cheque",
    "direct_debit": "Direct debit",
    "other": "Other",
}
FIELDS = (
    FormField("customer_id", "Customer", kind="choice", required=True),
    FormField("amount", "Amount received", kind="money", required=True, max_length=24),
    FormField("paid_on", "Received on", kind="date", required=True),
    FormField("method", "Method", kind="choice", choices=[(m, METHOD_WORDS[m]) for m in PAYMENT_METHODS]),
    FormField("reference", "Reference", max_length=100, placeholder="e.g. the bank statement's text"),
    FormField("exchange_rate", "Exchange rate", kind="quantity", max_length=24, hint=RATE_FIELD_HINT),
)
ALLOCATION_COLUMNS = ("Invoice", "Issued", "Due", "Open", "Apply")
PAYMENT_COLUMNS = (
    Column("paid_on", "Received", kind="date", width=110),
    Column("customer", "Customer", stretch=True),
    Column("invoice", "Invoice", width=160),
    Column("method_text", "Method", sortable=False, width=120),
    Column("reference", "Reference", width=160),
    Column("amount", "Amount", kind="money", width=130),
    Column("credit_amount", "Kept as credit", kind="money", width=130),
)


def open_invoices(ctx: UiContext, customer_id: str) -> list[dict[str, Any]]:
    """The customer's posted invoices with something due, oldest due first."""
    i = Invoice.__table__.c
    with ctx.session.store.read_session() as db:
        rows = db.execute(
            select(
                i.id,
                i.number,
                i.issue_date,
                i.due_date,
                i.currency,
                i.total,
                i.amount_paid,
                i.amount_credited,
            )
            .where(live(Invoice, ctx.session.org_id), i.customer_id == customer_id, i.status == "posted")
            .order_by(i.due_date, i.issue_date, i.number)
        ).mappings()
        out = []
        for row in rows:
            due = row["total"] - row["amount_paid"] - row["amount_credited"]
            if due > 0:
                out.append({**row, "open_amount": due})
        return out


class PaymentDialog(FormDialog):
    """One payment received, spread over the customer's open invoices."""

    def __init__(self, parent: QWidget, ctx: UiContext, customer_id: str | None = None) -> None:
        self.ctx = ctx
        self.table: QTableWidget | None = None
        self.invoices: list[dict[str, Any]] = []
        self.payment_ids: list[str] = []
        self.currency = ""
        self.ledger = ledger_currency_of(ctx.session)
        super().__init__(
            parent,
            "Receive payment",
            FIELDS,
            build=self.build_args,
            save=self.save,
            save_text="Record payment",
        )
        self.setMinimumWidth(760)
        fill_combo(self.inputs["customer_id"], customer_choices(ctx.session), empty="Choose a customer…")  # type: ignore[arg-type]
        box = QWidget()
        box_layout = QVBoxLayout(box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.setSpacing(theme.SPACING)
        top = QHBoxLayout()
        top.addWidget(label("Open invoices", "muted"))
        top.addStretch(1)
        self.summary = label("", None)
        self.summary.setStyleSheet("font-weight: 600;")
        top.addWidget(self.summary)
        self.spread_button = button(
            "Spread oldest first", tooltip="Apply the amount to the oldest invoices first"
        )
        self.spread_button.clicked.connect(self.spread)
        top.addWidget(self.spread_button)
        box_layout.addLayout(top)
        table = QTableWidget(0, len(ALLOCATION_COLUMNS))
        table.setHorizontalHeaderLabels(list(ALLOCATION_COLUMNS))
        table.verticalHeader().setVisible(False)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in ((1, 110), (2, 110), (3, 140), (4, 130)):
            table.horizontalHeader().resizeSection(column, width)
        table.setMinimumHeight(180)
        box_layout.addWidget(table)
        self.table = table
        main = self.layout()
        assert isinstance(main, QVBoxLayout)
        main.insertWidget(main.indexOf(self.form_error), box, 1)
        if customer_id is not None:
            self.set_value("customer_id", customer_id)
        self.inputs["customer_id"].currentIndexChanged.connect(self.load_invoices)  # type: ignore[attr-defined]
        self.load_invoices()

    def load_invoices(self, *_args: Any) -> None:
        customer_id = self.raw().get("customer_id")
        customer = customer_row(self.ctx.session, customer_id)
        self.currency = str(customer["currency"]) if customer else ""
        self.invoices = (
            [r for r in open_invoices(self.ctx, customer_id) if r["currency"] == self.currency]
            if customer_id
            else []
        )
        self.payment_ids = [new_id() for _ in self.invoices]
        assert self.table is not None
        self.table.setRowCount(0)  # the old rows' inputs go with them
        self.table.setRowCount(len(self.invoices))
        for row, invoice in enumerate(self.invoices):
            texts = (
                invoice["number"],
                str(invoice["issue_date"]),
                str(invoice["due_date"] or ""),
                money(invoice["open_amount"], self.currency),
            )
            for column, text in enumerate(texts):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                if column == 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
            edit = QLineEdit()
            edit.setAlignment(Qt.AlignmentFlag.AlignRight)
            edit.setMaxLength(24)
            edit.textChanged.connect(lambda *_a: self._changed("allocations"))
            self.table.setCellWidget(row, 4, edit)
        self.validate()

    def allocation_edit(self, row: int) -> QLineEdit:
        assert self.table is not None
        widget = self.table.cellWidget(row, 4)
        assert isinstance(widget, QLineEdit)
        return widget

    def allocate(self, number: str, text: str) -> None:
        """Type ``text`` against invoice ``number`` (tests and the keyboard)."""
        row = next(i for i, inv in enumerate(self.invoices) if inv["number"] == number)
        self.allocation_edit(row).setText(text)

    def spread(self) -> None:
        """Fill the allocations from the amount, oldest invoice first."""
        try:
            amount = parse_money(str(self.raw().get("amount") or "0"), self.currency)
        except ValueError:
            return
        opened = [OpenInvoice(r["id"], r["number"], r["open_amount"]) for r in self.invoices]
        for row, share in enumerate(allocate_oldest_first(amount, opened)):
            self.allocation_edit(row).setText(money_input(share, self.currency) if share else "")

    def loose_problem_visible(self, key: str) -> bool:
        return super().loose_problem_visible(key) or "allocations" in self.touched

    def build_args(self, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        opened = [OpenInvoice(r["id"], r["number"], r["open_amount"]) for r in self.invoices]
        typed = [self.allocation_edit(row).text() for row in range(len(self.invoices))] if self.table else []
        built = build_payments(
            self.payment_ids,
            raw,
            opened,
            typed,
            self.currency,
            parse_money,
            self.ledger,
            parse_quantity_input,
        )
        if hasattr(self, "form"):
            needed = bool(self.currency and self.ledger and self.currency != self.ledger)
            self.set_field_visible("exchange_rate", needed)
        if hasattr(self, "summary"):
            extra = built.extra
            text = f"Allocated {money(extra['allocated'], self.currency)}" if self.currency else ""
            if extra["excess"]:
                text += f" · {money(extra['excess'], self.currency)} kept as credit"
            self.summary.setText(text)
        return built.args, dict(built.problems)

    def save(self, _dialog: Any, args: dict[str, Any]) -> None:
        # All the invoices or none.
        apply_together(
            self, self.ctx, [("sales.record_payment", payment) for payment in args["payments"]], "Recording…"
        )


def payment_source(ctx: UiContext) -> ListSource:
    p, c, i = Payment.__table__, Customer.__table__, Invoice.__table__

    def build() -> Any:
        return (
            select(
                p.c.id, p.c.paid_on, p.c.amount, p.c.currency, p.c.method, p.c.reference, p.c.credit_amount,
                p.c.customer_id, p.c.invoice_id, c.c.name.label("customer"), i.c.number.label("invoice"),
            )
            .select_from(p)
            .join(c, (c.c.org_id == p.c.org_id) & (c.c.id == p.c.customer_id), isouter=True)
            .join(i, (i.c.org_id == p.c.org_id) & (i.c.id == p.c.invoice_id), isouter=True)
            .where(live(Payment, ctx.session.org_id))
        )  # fmt: skip

    def decorate(_session: Any, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            row["method_text"] = METHOD_WORDS.get(row["method"], row["method"])

    return ListSource(
        ctx.session.store,
        PAYMENT_COLUMNS,
        build,
        search_keys=("customer", "invoice", "reference"),
        default_sort="paid_on",
        default_descending=True,
        decorate=decorate,
    )


@page("sales", "payments_received", "Payments received", writes="sales.record_payment", position=40)
class PaymentsPage(ListPage):
    title = "Payments received"
    subtitle = "Money in from customers, allocated to their invoices; paying beyond them is kept as credit."
    noun = "payment"
    search_placeholder = "Search by customer, invoice or reference  (Ctrl+F)"
    empty_hint = "Record one with Receive payment (Ctrl+N)."

    def make_source(self) -> ListSource:
        return payment_source(self.ctx)

    @property
    def can_create(self) -> bool:
        return self.ctx.writable

    def add_actions(self, header: PageHeader) -> None:
        self.new_button = button("Receive payment", primary=True, tooltip="Ctrl+N")
        self.new_button.clicked.connect(self.new_item)
        header.add_action(self.new_button)
        self.new_button.setVisible(self.ctx.writable)

    def new_item(self, customer_id: str | None = None) -> PaymentDialog | None:
        if not self.can_create:
            return None
        dialog = PaymentDialog(self, self.ctx, customer_id)
        dialog.open()
        return dialog

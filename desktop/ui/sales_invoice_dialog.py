"""An invoice: a new direct invoice (customer, dates, lines), a draft edited like a draft
quotation (header and lines), or a posted one shown read-only (a credit note corrects it).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from common.ids import new_id
from common.sales_forms import build_invoice
from common.schema import InvoiceLine
from desktop.formatting import money, money_input, parse_money, parse_quantity_input, quantity_input
from desktop.lists import live
from desktop.qt import QWidget
from desktop.ui.context import UiContext
from desktop.ui.draft_edits import save_draft
from desktop.ui.forms import FormField
from desktop.ui.pickers import fill_combo
from desktop.ui.sales_common import RATE_FIELD_HINT, customer_choices, customer_row, ledger_currency_of
from desktop.ui.sales_order_dialog import LinesDialog, discount_input
from desktop.ui.widgets import label

PAYMENT_DAYS = 30
HEADER_FIELDS = (
    FormField("customer_id", "Customer", kind="choice", required=True),
    FormField("issue_date", "Issue date", kind="date", required=True),
    FormField("due_date", "Due date", kind="date"),
    FormField("exchange_rate", "Exchange rate", kind="quantity", max_length=24, hint=RATE_FIELD_HINT),
)
HEADER_KEYS = ("customer_id", "issue_date", "due_date", "exchange_rate")


def invoice_lines(ctx: UiContext, invoice_id: str) -> list[dict[str, Any]]:
    line = InvoiceLine.__table__.c
    with ctx.session.store.read_session() as db:
        rows = db.execute(
            select(InvoiceLine.__table__)
            .where(live(InvoiceLine, ctx.session.org_id), line.invoice_id == invoice_id)
            .order_by(line.line_no)
        ).mappings()
        return [dict(r) for r in rows]


class InvoiceDialog(LinesDialog):
    """``invoice=None``: a new direct invoice; a draft is edited (by those who may write); any
    other invoice is shown read-only."""

    def __init__(self, parent: QWidget, ctx: UiContext, invoice: dict[str, Any] | None) -> None:
        self.ctx = ctx
        self.invoice = invoice
        self.invoice_id = invoice["id"] if invoice else new_id()
        self.ledger = ledger_currency_of(ctx.session)
        self.editable = ctx.writable and (invoice is None or invoice["status"] == "draft")
        title = "New invoice" if invoice is None else f"Invoice {invoice['number']}"
        super().__init__(
            parent,
            title,
            HEADER_FIELDS,
            build=self.build_args,
            save=self.save,
            save_text="Save draft" if invoice is None else "Save",
        )
        self.setMinimumWidth(1100)
        fill_combo(self.inputs["customer_id"], customer_choices(ctx.session), empty="Choose a customer…")  # type: ignore[arg-type]
        self.add_lines_grid(ctx, with_description=True, add_tip="Add a line (a product, or a description)")
        assert self.lines is not None
        if invoice is None:
            self.set_value("due_date", (date.today() + timedelta(days=PAYMENT_DAYS)).isoformat())
        else:
            self.set_value("customer_id", invoice["customer_id"])
            self.set_value("issue_date", str(invoice["issue_date"]))
            self.set_value("due_date", str(invoice.get("due_date") or ""))
            self.set_value("exchange_rate", quantity_input(invoice.get("exchange_rate")))
            currency = invoice["currency"]
            for line in invoice_lines(ctx, invoice["id"]):
                self.lines.add_line(
                    line["id"],
                    line["product_id"],
                    quantity_input(line["quantity"]),
                    money_input(line["unit_price"], currency),
                    line["tax_rate_id"],
                    line["description"],
                    discount_input(line["discount_percent"]),
                )
            state = f"{invoice['status'].capitalize()}. Total {money(invoice['total'], currency)}"
            if invoice["status"] != "draft":
                state += f", paid {money(invoice['amount_paid'], currency)}"
                state += f", credited {money(invoice['amount_credited'], currency)}"
                state += f", open {money(invoice.get('open_amount', 0), currency)}"
            self.state_label = label(state + ".", "muted", wrap=True)
            main = self.layout()
            main.insertWidget(1, self.state_label)  # type: ignore[union-attr]
            if invoice.get("sales_order_id"):  # an order's invoice is for the order's customer
                self.inputs["customer_id"].setEnabled(False)
            self.original = self.build_args(self.raw())[0]
        if not self.editable:
            self.lock()
        self.touched.clear()
        self.validate()

    def currency_now(self) -> str:
        if self.invoice is not None:
            return str(self.invoice["currency"])
        customer = customer_row(self.ctx.session, self.raw().get("customer_id"))
        return str(customer["currency"]) if customer else ""

    def build_args(self, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        currency = self.currency_now() if hasattr(self, "ctx") else ""
        inputs = self.lines.inputs() if self.lines is not None else []
        rates = {rate_id: percent for rate_id, _text, percent in getattr(self, "rates", [])}
        ledger = getattr(self, "ledger", None)
        built = build_invoice(
            self.invoice_id, raw, inputs, currency, rates, parse_quantity_input, parse_money, ledger=ledger
        )
        if hasattr(self, "form"):
            self.set_field_visible("exchange_rate", bool(currency and ledger and currency != ledger))
        self.show_totals(built.extra, currency)
        found = dict(built.problems)
        if self.invoice is not None and not found and built.args == getattr(self, "original", None):
            found[""] = "Nothing to save yet: nothing was changed."
        return built.args, found

    def save(self, _dialog: Any, args: dict[str, Any]) -> None:
        save_draft(
            self, self.ctx, self.invoice_id, args, None if self.invoice is None else self.original,
            create="sales.create_invoice", update="sales.update_invoice",
            set_lines="sales.set_invoice_lines", header_keys=HEADER_KEYS,
        )  # fmt: skip

"""A quotation (draft sales order): customer, warehouse, date, note and lines, totals as you type."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.ids import new_id
from common.sales_forms import build_sales_order
from common.schema import SalesOrderLine
from desktop.formatting import money, money_input, parse_money, parse_quantity_input, quantity_input
from desktop.lists import live
from desktop.qt import QVBoxLayout, QWidget
from desktop.ui.context import UiContext
from desktop.ui.draft_edits import save_draft
from desktop.ui.forms import FormDialog, FormField
from desktop.ui.line_grid import LineGridBox, LinesFormDialog
from desktop.ui.pickers import fill_combo, warehouse_choices
from desktop.ui.sales_common import customer_choices, customer_row, open_balances, tax_rates
from desktop.ui.sales_lines import SalesLinesTable
from desktop.ui.widgets import label

HEADER_FIELDS = (
    FormField("customer_id", "Customer", kind="choice", required=True),
    FormField("warehouse_id", "Ship from", kind="choice", hint="Needed to deliver the order."),
    FormField("order_date", "Date", kind="date", required=True),
    FormField("note", "Note", kind="multiline", max_length=1000),
)
HEADER_KEYS = ("customer_id", "warehouse_id", "order_date", "note")


def discount_input(percent: Any) -> str:
    """A stored discount as the text its input starts with (empty for none)."""
    return quantity_input(percent) if percent else ""


def sales_order_lines(ctx: UiContext, order_id: str) -> list[dict[str, Any]]:
    line = SalesOrderLine.__table__.c
    with ctx.session.store.read_session() as db:
        rows = db.execute(
            select(
                line.id,
                line.line_no,
                line.product_id,
                line.quantity,
                line.unit_price,
                line.discount_percent,
                line.tax_rate_id,
            )
            .where(live(SalesOrderLine, ctx.session.org_id), line.sales_order_id == order_id)
            .order_by(line.line_no)
        ).mappings()
        return [dict(r) for r in rows]


class LinesDialog(LinesFormDialog):
    """A form with a lines grid under its header fields and the totals above it."""

    lines: SalesLinesTable | None = None

    def add_lines_grid(self, ctx: UiContext, *, with_description: bool, add_tip: str) -> None:
        self.session = ctx.session
        self.rates = tax_rates(ctx.session)
        self.lines = SalesLinesTable(self, self.rates, with_description=with_description)
        box = LineGridBox(self.lines, add_tip=add_tip, on_add=self.add_line, totals_above=True)
        self.total_label, self.add_button = box.totals_label, box.add_button
        box.place_in(self)

    def currency_now(self) -> str:
        raise NotImplementedError

    def add_line(self, product_id: str | None = None) -> None:
        assert self.lines is not None
        self.lines.add_line(None, product_id)
        self.validate()

    def snapshot(self) -> Any:
        return (self.raw(), self.lines.snapshot() if self.lines is not None else [])

    def show_totals(self, extra: dict[str, Any], currency: str) -> None:
        if self.lines is not None:
            for row, amount in enumerate(extra["line_totals"]):
                self.lines.set_line_total(row, money(amount, currency) if amount is not None else "")
        if hasattr(self, "total_label"):
            self.total_label.setText(
                f"Net {money(extra['subtotal'], currency)}   Tax {money(extra['tax'], currency)}   "
                f"Total {money(extra['total'], currency)}"
                if currency
                else "Choose a customer to see the totals"
            )

    def lock(self) -> None:
        for widget in self.inputs.values():
            widget.setEnabled(False)
        if self.lines is not None:
            self.lines.set_editable(False)
        self.add_button.hide()
        self.save_button.hide()
        self.cancel_button.setText("Close")


class SalesOrderDialog(LinesDialog):
    """Create a quotation, edit a draft, or look at an order that was confirmed."""

    def __init__(self, parent: QWidget, ctx: UiContext, order: dict[str, Any] | None) -> None:
        self.ctx = ctx
        self.order = order
        self.order_id = order["id"] if order else new_id()
        self.editable = ctx.writable and (order is None or order["status"] == "draft")
        title = "New quotation" if order is None else f"Sales order {order['number']}"
        super().__init__(
            parent,
            title,
            HEADER_FIELDS,
            build=self.build_args,
            save=self.save,
            save_text="Save quotation" if order is None else "Save",
        )
        self.setMinimumWidth(1060)
        fill_combo(self.inputs["customer_id"], customer_choices(ctx.session), empty="Choose a customer…")  # type: ignore[arg-type]
        fill_combo(self.inputs["warehouse_id"], warehouse_choices(ctx.session), empty="Not chosen yet")  # type: ignore[arg-type]
        self.add_lines_grid(ctx, with_description=False, add_tip="Add a product to the quotation")
        assert self.lines is not None
        self.credit_label = label("", "muted", wrap=True)
        main = self.layout()
        assert isinstance(main, QVBoxLayout)
        main.insertWidget(1, self.credit_label)
        if order is not None:
            self.set_value("customer_id", order["customer_id"])
            self.set_value("warehouse_id", order["warehouse_id"])
            self.set_value("order_date", str(order["order_date"]))
            self.set_value("note", order.get("note") or "")
            for line in sales_order_lines(ctx, order["id"]):
                self.lines.add_line(
                    line["id"],
                    line["product_id"],
                    quantity_input(line["quantity"]),
                    money_input(line["unit_price"], order["currency"]),
                    line["tax_rate_id"],
                    discount=discount_input(line["discount_percent"]),
                )
            self.original = self.build_args(self.raw())[0]
        if not self.editable:
            self.lock()
        self.touched.clear()
        self.validate()

    def currency_now(self) -> str:
        if self.order is not None:
            return str(self.order["currency"])
        customer = customer_row(self.ctx.session, self.raw().get("customer_id"))
        return str(customer["currency"]) if customer else ""

    def build_args(self, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """The form's args through the Qt-free builder (:mod:`common.sales_forms`)."""
        currency = self.currency_now() if hasattr(self, "ctx") else ""
        inputs = self.lines.inputs() if self.lines is not None else []
        rates = {rate_id: percent for rate_id, _text, percent in getattr(self, "rates", [])}
        built = build_sales_order(
            self.order_id, raw, inputs, currency, rates, parse_quantity_input, parse_money
        )
        self.show_totals(built.extra, currency)
        self.show_credit(raw.get("customer_id"), currency, built.extra["total"])
        found = dict(built.problems)
        if self.order is not None and not found and built.args == getattr(self, "original", None):
            found[""] = "Nothing to save yet: nothing was changed."
        return built.args, found

    def show_credit(self, customer_id: str | None, currency: str, total: int) -> None:
        """What the customer owes against their credit limit, and whether this order passes it."""
        if not hasattr(self, "credit_label"):
            return
        customer = customer_row(self.ctx.session, customer_id)
        if customer is None or customer["currency"] != currency:
            self.credit_label.setText("")
            return
        with self.ctx.session.store.read_session() as db:
            owed = open_balances(db, self.ctx.session.org_id, [customer["id"]]).get(
                (customer["id"], currency), 0
            )
        text = f"{customer['name']} owes {money(owed, currency)} on posted invoices"
        limit = customer["credit_limit"]
        if limit is not None:
            text += f"; credit limit {money(limit, currency)}"
            if owed + total > limit:
                text += f". With this order: {money(owed + total, currency)}, over the limit (confirming is still allowed)"
        self.credit_label.setText(text + ".")

    def save(self, dialog: FormDialog, args: dict[str, Any]) -> None:
        save_draft(
            self, self.ctx, self.order_id, args, None if self.order is None else self.original,
            create="sales.create_sales_order", update="sales.update_sales_order",
            set_lines="sales.set_sales_order_lines", header_keys=HEADER_KEYS,
        )  # fmt: skip

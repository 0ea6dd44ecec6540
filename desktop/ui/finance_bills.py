"""Supplier bills and supplier payments, and the payables aging with drill-down to the bills.

A bill is recorded from a received purchase order (its lines: what was received and not billed
yet, at the order's cost, which the supplier's price may differ from) or directly (each line on
the account it is spent on), with a tax rate per line; it is posted when recorded (``BILL-…``).
A payment pays one bill, never beyond what is still due.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from common.commands import CommandError
from common.commands.invoicing import PAYMENT_METHODS
from common.finance_forms import BillLineInput, build_supplier_bill, build_supplier_payment, line_refusal
from common.ids import new_id
from common.money import currency_exponent
from common.reports import ReportError, run_report
from common.schema import (
    Account,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
    SupplierBill,
    SupplierBillLine,
    SupplierPayment,
)
from desktop.formatting import (
    day,
    money,
    money_input,
    number_example,
    parse_quantity_input,
    quantity,
    quantity_input,
    status,
)
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.qt import (
    QAbstractItemView,
    QComboBox,
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
from desktop.ui.finance_common import (
    account_choices,
    amount,
    fill_accounts,
    ledger_currency,
    parse_amount,
    tax_rates,
)
from desktop.ui.forms import DateInput, FormDialog, FormField
from desktop.ui.line_grid import LineGridBox
from desktop.ui.list_page import ListPage, header_metrics
from desktop.ui.pickers import fill_combo, supplier_choices
from desktop.ui.widgets import PageHeader, button, label
from desktop.validation import refusal_field

BILL_COLUMNS = (
    Column("number", "Number", width=155),
    Column("supplier", "Supplier", stretch=True),
    Column("supplier_reference", "Their no.", width=125),
    Column("bill_date", "Date", kind="date", width=100),
    Column("due_date", "Due", kind="date", width=100),
    Column("total", "Total", kind="money", width=150),
    Column("open_amount", "Still due", kind="money", width=150),
)
PAYMENT_COLUMNS = (
    Column("paid_on", "Paid on", kind="date", width=110),
    Column("bill_number", "Bill", width=165),
    Column("supplier", "Supplier", stretch=True),
    Column("method", "Method", kind="status", width=130),
    Column("reference", "Reference", width=150),
    Column("amount", "Amount", kind="money", width=150),
)
BILL_FIELDS = (
    FormField("supplier_id", "Supplier", kind="choice", required=True),
    FormField("purchase_order_id", "Purchase order", kind="choice",
              hint="A received order brings its lines; leave it empty for a direct bill"),
    FormField("supplier_reference", "Supplier's number", max_length=100, placeholder="As printed on their bill"),
    FormField("bill_date", "Bill date", kind="date", required=True),
    FormField("due_date", "Due date", kind="date"),
    FormField("exchange_rate", "Exchange rate", kind="quantity",
              hint="Ledger currency units per unit of the bill's currency"),
)  # fmt: skip
METHOD_TITLES = {m: m.replace("_", " ").capitalize() for m in PAYMENT_METHODS}
PAYMENT_FIELDS = (
    FormField("amount", "Amount", kind="money", required=True),
    FormField("paid_on", "Paid on", kind="date", required=True),
    FormField("method", "Method", kind="choice", choices=tuple(METHOD_TITLES.items())),
    FormField("reference", "Reference", max_length=100, placeholder="Bank reference"),
    FormField(
        "exchange_rate",
        "Exchange rate",
        kind="quantity",
        hint="Ledger currency units per unit, on the day paid",
    ),
)
LINE_COLUMNS = ("Description", "Account", "Quantity", "Unit price", "Tax", "Net", "")


def bill_source(ctx: UiContext, status: str | None = None, supplier_id: str | None = None) -> ListSource:
    b, s = SupplierBill.__table__, Supplier.__table__

    def build() -> Any:
        stmt = (
            select(
                b.c.id, b.c.number, b.c.supplier_reference, b.c.supplier_id, b.c.purchase_order_id, b.c.status,
                b.c.bill_date, b.c.due_date, b.c.currency, b.c.exchange_rate, b.c.subtotal, b.c.tax_total,
                b.c.total, b.c.amount_paid, (b.c.total - b.c.amount_paid).label("open_amount"),
                s.c.name.label("supplier"),
            )
            .select_from(b)
            .join(s, (s.c.org_id == b.c.org_id) & (s.c.id == b.c.supplier_id), isouter=True)
            .where(live(SupplierBill, ctx.session.org_id))
        )  # fmt: skip
        if status:
            stmt = stmt.where(b.c.status == status)
        if supplier_id:
            stmt = stmt.where(b.c.supplier_id == supplier_id)
        return stmt

    return ListSource(
        ctx.session.store,
        BILL_COLUMNS,
        build,
        search_keys=("number", "supplier", "supplier_reference"),
        default_sort="bill_date",
        default_descending=True,
    )


def bill_row(ctx: UiContext, bill_id: str) -> dict[str, Any] | None:
    source = bill_source(ctx)
    stmt = source.selected("id")
    with ctx.session.store.read_session() as db:
        found = db.execute(source.filtered("").where(stmt == bill_id)).mappings().first()
        return dict(found) if found is not None else None


def billable_orders(ctx: UiContext, supplier_id: str | None) -> list[tuple[str, str]]:
    """The supplier's orders with goods received and not billed yet."""
    if not supplier_id:
        return []
    o, line = PurchaseOrder.__table__.c, PurchaseOrderLine.__table__.c
    with ctx.session.store.read_session() as db:
        rows = db.execute(
            select(o.id, o.number, o.status)
            .where(
                live(PurchaseOrder, ctx.session.org_id),
                o.supplier_id == supplier_id,
                o.id.in_(
                    select(line.purchase_order_id).where(
                        live(PurchaseOrderLine, ctx.session.org_id),
                        line.received_quantity > line.billed_quantity,
                    )
                ),
            )
            .order_by(o.number)
        ).all()
    return [(row.id, f"{row.number} ({row.status})") for row in rows]


def unbilled_lines(ctx: UiContext, order_id: str) -> list[dict[str, Any]]:
    line, product = PurchaseOrderLine.__table__.c, Product.__table__.c
    with ctx.session.store.read_session() as db:
        rows = db.execute(
            select(
                line.id, line.product_id, line.quantity, line.unit_cost, line.received_quantity,
                line.billed_quantity, product.name, product.sku,
            )
            .join(Product.__table__, (product.org_id == line.org_id) & (product.id == line.product_id), isouter=True)
            .where(live(PurchaseOrderLine, ctx.session.org_id), line.purchase_order_id == order_id)
            .order_by(line.line_no)
        ).mappings()  # fmt: skip
        return [dict(r) for r in rows if r["received_quantity"] > r["billed_quantity"]]


def order_currency(ctx: UiContext, order_id: str | None, supplier_id: str | None) -> str:
    with ctx.session.store.read_session() as db:
        if order_id:
            found = db.execute(
                select(PurchaseOrder.currency).where(
                    PurchaseOrder.org_id == ctx.session.org_id, PurchaseOrder.id == order_id
                )
            ).scalar()
            if found:
                return str(found)
        if supplier_id:
            found = db.execute(
                select(Supplier.currency).where(
                    Supplier.org_id == ctx.session.org_id, Supplier.id == supplier_id
                )
            ).scalar()
            if found:
                return str(found)
    return ledger_currency(ctx.session)


# -- the bill form ---------------------------------------------------------------------------


class BillLines(QTableWidget):
    """A bill's lines: order lines (description fixed, posted to goods received not invoiced)
    and direct lines (description and account typed)."""

    def __init__(self, dialog: BillDialog) -> None:
        super().__init__(0, len(LINE_COLUMNS))
        self.dialog = dialog
        self.keys: list[tuple[str, str | None, str | None]] = []  # line id, order line id, product id
        self.setHorizontalHeaderLabels(list(LINE_COLUMNS))
        self.verticalHeader().setVisible(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in ((1, 250), (2, 100), (3, 110), (4, 120), (5, 110), (6, 44)):
            header.resizeSection(column, width)
        self.verticalHeader().setDefaultSectionSize(36)
        self.setMinimumHeight(200)

    def add_line(
        self,
        *,
        order_line: dict[str, Any] | None = None,
        description: str = "",
        qty: str = "",
        price: str = "",
    ) -> int:
        row = self.rowCount()
        self.insertRow(row)
        line_id = new_id()
        self.keys.append((line_id, order_line["id"] if order_line else None,
                          order_line["product_id"] if order_line else None))  # fmt: skip
        changed = self.dialog.lines_changed
        if order_line is not None:
            item = QTableWidgetItem(description)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.setItem(row, 0, item)
            account = QTableWidgetItem("Goods received (order)")
            account.setFlags(Qt.ItemFlag.ItemIsEnabled)
            account.setToolTip("Clears goods received not invoiced at the order's cost; a price difference "
                               "goes to purchase price variance")  # fmt: skip
            self.setItem(row, 1, account)
        else:
            edit = QLineEdit(description)
            edit.setMaxLength(500)
            edit.setPlaceholderText("What was bought")
            edit.textChanged.connect(lambda *_: changed())
            self.setCellWidget(row, 0, edit)
            combo = QComboBox()
            fill_accounts(combo, self.dialog.expense_accounts)
            combo.currentIndexChanged.connect(lambda *_: changed())
            self.setCellWidget(row, 1, combo)
        for column, text in ((2, qty), (3, price)):
            edit = QLineEdit(text)
            edit.setAlignment(Qt.AlignmentFlag.AlignRight)
            edit.setMaxLength(24)
            if column == 3:
                edit.setPlaceholderText(number_example())
            edit.textChanged.connect(lambda *_: changed())
            self.setCellWidget(row, column, edit)
        tax = QComboBox()
        tax.addItem("No tax", None)
        for rate_id, rate in self.dialog.rates.items():
            tax.addItem(str(rate["code"]), rate_id)
            tax.setItemData(
                tax.count() - 1,
                f"{rate['name']}: {quantity(Decimal(rate['rate']).normalize())} %",
                Qt.ItemDataRole.ToolTipRole,
            )
        tax.currentIndexChanged.connect(lambda *_: changed())
        self.setCellWidget(row, 4, tax)
        net = QTableWidgetItem("")
        net.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        net.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.setItem(row, 5, net)
        remove = button("×", tooltip="Remove this line")
        remove.setObjectName("lineRemove")
        remove.setAccessibleName("Remove this line")
        remove.clicked.connect(lambda: self.remove_line(line_id))
        self.setCellWidget(row, 6, remove)
        return row

    def remove_line(self, line_id: str) -> None:
        row = next((i for i, key in enumerate(self.keys) if key[0] == line_id), -1)
        if row >= 0:
            self.removeRow(row)
            del self.keys[row]
            self.dialog.lines_changed()

    def clear_lines(self) -> None:
        self.setRowCount(0)
        self.keys.clear()

    def _text(self, row: int, column: int) -> str:
        widget = self.cellWidget(row, column)
        if isinstance(widget, QLineEdit):
            return widget.text()
        item = self.item(row, column)
        return item.text() if item is not None else ""

    def line_edit(self, row: int, column: int) -> QLineEdit:
        widget = self.cellWidget(row, column)
        assert isinstance(widget, QLineEdit)
        return widget

    def combo(self, row: int, column: int) -> QComboBox:
        widget = self.cellWidget(row, column)
        assert isinstance(widget, QComboBox)
        return widget

    def inputs(self) -> list[BillLineInput]:
        found = []
        for row, (line_id, order_line_id, product_id) in enumerate(self.keys):
            account = self.cellWidget(row, 1)
            found.append(
                BillLineInput(
                    line_id,
                    order_line_id,
                    account.currentData() if isinstance(account, QComboBox) else None,
                    self._text(row, 0),
                    self._text(row, 2),
                    self._text(row, 3),
                    self.combo(row, 4).currentData(),
                    product_id,
                )
            )
        return found

    def set_net(self, row: int, text: str) -> None:
        item = self.item(row, 5)
        if item is not None:
            item.setText(text)


class BillDialog(FormDialog):
    """Record a supplier's bill, from a received order or direct; it is posted when saved."""

    def __init__(self, parent: QWidget, ctx: UiContext, *, order_id: str | None = None) -> None:
        self.ctx = ctx
        self.bill_id = new_id()
        self.lines: BillLines | None = None
        self.ledger = ledger_currency(ctx.session)
        self.rates = tax_rates(ctx.session)
        self.expense_accounts = account_choices(ctx.session)
        self._loading = False
        self.sent_rows: list[int] = []
        super().__init__(
            parent,
            "New supplier bill",
            BILL_FIELDS,
            build=self.build_args,
            save=self.save_bill,
            save_text="Record bill",
            intro="Recorded bills are posted at once: payables for the total, input tax per rate.",
        )
        self.setMinimumWidth(1040)
        fill_combo(self.inputs["supplier_id"], supplier_choices(ctx.session), empty="Choose a supplier…")  # type: ignore[arg-type]
        self.lines = BillLines(self)
        box = LineGridBox(
            self.lines,
            add_tip="A line on an account: freight, services, anything not ordered",
            on_add=self.lines.add_line,
        )
        self.total_label, self.add_button = box.totals_label, box.add_button
        box.place_in(self)
        supplier_box = self.inputs["supplier_id"]
        order_box = self.inputs["purchase_order_id"]
        assert isinstance(supplier_box, QComboBox) and isinstance(order_box, QComboBox)
        supplier_box.currentIndexChanged.connect(lambda *_: self._supplier_changed())
        order_box.currentIndexChanged.connect(lambda *_: self._order_changed())
        self._supplier_changed()
        if order_id is not None:
            self.start_from_order(order_id)
        self.touched.clear()
        self.validate()

    def start_from_order(self, order_id: str) -> None:
        o = PurchaseOrder.__table__.c
        with self.ctx.session.store.read_session() as db:
            supplier_id = db.execute(
                select(o.supplier_id).where(o.org_id == self.ctx.session.org_id, o.id == order_id)
            ).scalar()
        self.set_value("supplier_id", supplier_id)
        self.set_value("purchase_order_id", order_id)

    def currency(self) -> str:
        raw = self.raw()
        return order_currency(self.ctx, raw.get("purchase_order_id"), raw.get("supplier_id"))

    def _supplier_changed(self) -> None:
        combo = self.inputs["purchase_order_id"]
        assert isinstance(combo, QComboBox)
        self._loading = True
        fill_combo(
            combo, billable_orders(self.ctx, self.raw().get("supplier_id")), empty="— direct bill (no order)"
        )
        self._loading = False
        self._order_changed()

    def _order_changed(self) -> None:
        if self._loading or self.lines is None:
            return
        order_id = self.raw().get("purchase_order_id")
        self.lines.clear_lines()
        if order_id:
            currency = self.currency()
            for line in unbilled_lines(self.ctx, order_id):
                self.lines.add_line(
                    order_line=line,
                    description=f"{line['name']} ({line['sku']})" if line["name"] else "Order line",
                    qty=quantity_input(line["received_quantity"] - line["billed_quantity"]),
                    price=money_input(line["unit_cost"], currency),
                )
        else:
            self.lines.add_line()
        foreign = self.currency() != self.ledger
        self.set_field_visible("exchange_rate", foreign)
        self.validate()

    def lines_changed(self) -> None:
        self.touched.add("lines")
        self.validate()

    def loose_problem_visible(self, key: str) -> bool:
        return super().loose_problem_visible(key) or "lines" in self.touched

    def snapshot(self) -> Any:
        return (self.raw(), self.lines.inputs() if self.lines is not None else [])

    def build_args(self, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        currency = self.currency() if self.lines is not None else self.ledger
        lines = self.lines.inputs() if self.lines is not None else []
        rates = {rate_id: Decimal(rate["rate"]) for rate_id, rate in self.rates.items()}
        if currency == self.ledger:
            raw = {**raw, "exchange_rate": ""}
        built = build_supplier_bill(
            self.bill_id, raw, lines, currency, rates, parse_quantity_input, parse_amount
        )
        extra = built.extra
        self.sent_rows = list(extra["rows"])
        if self.lines is not None:
            for row, net in enumerate(extra["line_totals"]):
                self.lines.set_net(row, money(net, currency) if net is not None else "")
        if hasattr(self, "total_label"):
            self.total_label.setText(
                f"Net {money(extra['subtotal'], currency)}   Tax {money(extra['tax'], currency)}   "
                f"Total {money(extra['total'], currency)}"
            )
        return built.args, built.problems

    def refused(self, error: CommandError) -> None:
        """A refused line is named by its row (``Line 3 account: …``), never by its args path."""
        key, phrase = refusal_field(error)
        said = line_refusal(key, phrase, self.sent_rows)
        if said is None:
            super().refused(error)
            return
        self.set_saving(False)
        self.show_form_error(said)

    def save_bill(self, dialog: FormDialog, args: dict[str, Any]) -> None:
        self.ctx.apply(
            self,
            "finance.record_supplier_bill",
            args,
            on_done=self.saved,
            on_refused=self.refused,
            on_error=self.failed,
            busy_text="Recording…",
        )


class BillView(FormDialog):
    """A recorded bill: its lines and its payments (bills are never edited)."""

    def __init__(self, parent: QWidget, ctx: UiContext, bill: dict[str, Any]) -> None:
        self.ctx = ctx
        currency = bill["currency"]
        super().__init__(
            parent,
            f"Bill {bill['number']}",
            (),
            build=lambda raw: ({}, {}),
            save=lambda dialog, args: None,
            intro=f"{bill.get('supplier') or ''}"
            + (f" · their number {bill['supplier_reference']}" if bill.get("supplier_reference") else "")
            + f" · dated {day(bill['bill_date'])}"
            + (f", due {day(bill['due_date'])}" if bill.get("due_date") else "")
            + f" · {status(bill['status'])}",
        )
        self.setMinimumWidth(820)
        line, account = SupplierBillLine.__table__.c, Account.__table__.c
        pay = SupplierPayment.__table__.c
        with ctx.session.store.read_session() as db:
            lines = db.execute(
                select(line.description, line.quantity, line.unit_price, line.tax_amount, line.line_total,
                       account.code, account.name)
                .join(Account.__table__, (account.org_id == line.org_id) & (account.id == line.account_id),
                      isouter=True)
                .where(live(SupplierBillLine, ctx.session.org_id), line.supplier_bill_id == bill["id"])
                .order_by(line.line_no)
            ).mappings().all()  # fmt: skip
            payments = (
                db.execute(
                    select(pay.paid_on, pay.amount, pay.method, pay.reference)
                    .where(live(SupplierPayment, ctx.session.org_id), pay.supplier_bill_id == bill["id"])
                    .order_by(pay.paid_on)
                )
                .mappings()
                .all()
            )
        self.lines_table = _table(
            ["Description", "Account", "Quantity", "Unit price", "Tax", "Total"],
            [
                [
                    row["description"],
                    f"{row['code']} {row['name']}" if row["code"] else "Goods received (order)",
                    quantity(row["quantity"]),
                    money(row["unit_price"], currency),
                    money(row["tax_amount"], currency),
                    money(row["line_total"], currency),
                ]
                for row in lines
            ],
            (2, 3, 4, 5),
        )
        self.payments_table = _table(
            ["Paid on", "Method", "Reference", "Amount"],
            [
                [day(p["paid_on"]), METHOD_TITLES.get(p["method"], p["method"]), p["reference"] or "",
                 money(p["amount"], currency)]
                for p in payments
            ],
            (3,),
        )  # fmt: skip
        self.summary = label(
            f"Net {money(bill['subtotal'], currency)}   Tax {money(bill['tax_total'], currency)}   "
            f"Total {money(bill['total'], currency)}   Paid {money(bill['amount_paid'], currency)}   "
            f"Still due {money(bill['total'] - bill['amount_paid'], currency)}"
        )
        self.summary.setStyleSheet("font-weight: 600;")
        main = self.layout()
        assert isinstance(main, QVBoxLayout)
        at = main.indexOf(self.form_error)
        payments_title = label("Payments" if payments else "No payments yet", "muted")
        for offset, widget in enumerate(
            (self.lines_table, self.summary, payments_title, self.payments_table)
        ):
            main.insertWidget(at + offset, widget)
        self.payments_table.setVisible(bool(payments))
        self.save_button.hide()
        self.cancel_button.setText("Close")


def _table(headers: list[str], rows: list[list[str]], numeric: tuple[int, ...]) -> QTableWidget:
    """A read-only table whose columns fit their texts (the first one takes the rest)."""
    table = QTableWidget(len(rows), len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setWordWrap(False)
    head = table.horizontalHeader()
    head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    metrics, bold = table.fontMetrics(), header_metrics(table)
    for c, title in enumerate(headers):
        if c:
            widest = max((metrics.horizontalAdvance(values[c]) for values in rows), default=0)
            head.resizeSection(c, max(bold.horizontalAdvance(title) + 34, widest + 28))
    for r, values in enumerate(rows):
        for c, text in enumerate(values):
            item = QTableWidgetItem(text)
            if c in numeric:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.setMinimumHeight(min(260, 60 + 30 * max(1, len(rows))))
    return table


class PaymentDialog(FormDialog):
    """Pay a bill (all of what is due by default, or part of it)."""

    def __init__(self, parent: QWidget, ctx: UiContext, bill: dict[str, Any]) -> None:
        self.ctx = ctx
        self.bill = bill
        self.payment_id = new_id()
        currency = bill["currency"]
        due = bill["total"] - bill["amount_paid"]
        super().__init__(
            parent,
            f"Pay bill {bill['number']}",
            PAYMENT_FIELDS,
            build=self.build_args,
            save=self.save_payment,
            save_text="Record payment",
            intro=f"{bill.get('supplier') or ''}: total {money(bill['total'], currency)}, paid "
            f"{money(bill['amount_paid'], currency)}, still due {money(due, currency)}.",
            initial={"amount": money_input(due, currency), "method": "bank_transfer"},
        )
        self.set_field_visible("exchange_rate", currency != ledger_currency(ctx.session))
        self.validate()

    def build_args(self, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        built = build_supplier_payment(self.payment_id, self.bill, raw, parse_amount, parse_quantity_input)
        return built.args, built.problems

    def save_payment(self, dialog: FormDialog, args: dict[str, Any]) -> None:
        self.ctx.apply(
            self,
            "finance.record_supplier_payment",
            args,
            on_done=self.saved,
            on_refused=self.refused,
            on_error=self.failed,
            busy_text="Recording…",
        )


# -- pages -----------------------------------------------------------------------------------


@page("finance", "supplier_bills", "Supplier bills", writes="finance.record_supplier_bill", position=30)
class SupplierBillsPage(ListPage):
    title = "Supplier bills"
    subtitle = "What suppliers billed, from received orders or direct, and what is still due on each."
    noun = "bill"
    search_placeholder = "Search by number, supplier or their number  (Ctrl+F)"
    empty_hint = "Record one with New bill (Ctrl+N) once a supplier's bill arrives."
    history_entity = "supplier_bill"

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        self.status: str | None = None
        self.supplier_id: str | None = None
        super().__init__(ctx, parent)

    def make_source(self) -> ListSource:
        return bill_source(self.ctx, self.status, self.supplier_id)

    def add_filters(self, bar: QHBoxLayout) -> None:
        self.status_box = QComboBox()
        for text, value in (("All bills", None), ("Still due", "posted"), ("Paid", "paid")):
            self.status_box.addItem(text, value)
        self.status_box.currentIndexChanged.connect(self._filter)
        bar.addWidget(self.status_box)
        self.supplier_box = QComboBox()
        self.supplier_box.currentIndexChanged.connect(self._filter)
        bar.addWidget(self.supplier_box)
        self._fill_suppliers()

    def _fill_suppliers(self) -> None:
        self.supplier_box.blockSignals(True)
        fill_combo(self.supplier_box, supplier_choices(self.ctx.session), empty="All suppliers")
        self.supplier_box.blockSignals(False)

    def _filter(self) -> None:
        self.status = self.status_box.currentData()
        self.supplier_id = self.supplier_box.currentData()
        self.model.source = self.source = self.make_source()
        self.model.reload()

    def export_filters(self) -> list[str]:
        shown = []
        if self.status:
            shown.append(f"Status: {self.status_box.currentText()}")
        if self.supplier_id:
            shown.append(f"Supplier: {self.supplier_box.currentText()}")
        return shown

    @property
    def can_create(self) -> bool:
        return self.ctx.writable

    def add_actions(self, header: PageHeader) -> None:
        self.view_button = button("View…", tooltip="Lines and payments of the selected bill (Enter)")
        self.pay_button = button("Pay…", tooltip="Record a payment of the selected bill")
        self.new_button = button("New bill", primary=True, tooltip="Ctrl+N")
        self.view_button.clicked.connect(self.open_current)
        self.pay_button.clicked.connect(lambda: self.pay(self.current_row()) if self.current_row() else None)
        self.new_button.clicked.connect(self.new_item)
        for widget in (self.view_button, self.pay_button, self.new_button):
            header.add_action(widget)
        self.pay_button.setVisible(self.ctx.can("finance.post"))
        self.new_button.setVisible(self.ctx.writable)

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        self.view_button.setEnabled(row is not None)
        self.pay_button.setEnabled(row is not None and row["status"] == "posted")

    def new_item(self, order_id: str | None = None) -> BillDialog | None:
        if not self.can_create:
            return None
        dialog = BillDialog(self, self.ctx, order_id=order_id)
        dialog.accepted.connect(lambda: setattr(self, "_kept_id", dialog.bill_id))
        dialog.open()
        return dialog

    def open_row(self, row: dict[str, Any]) -> BillView:
        dialog = BillView(self, self.ctx, row)
        dialog.open()
        return dialog

    def pay(self, row: dict[str, Any] | None) -> PaymentDialog | None:
        if row is None or not self.ctx.can("finance.post"):
            return None
        dialog = PaymentDialog(self, self.ctx, row)
        dialog.open()
        return dialog


def payment_source(ctx: UiContext) -> ListSource:
    p, b, s = SupplierPayment.__table__, SupplierBill.__table__, Supplier.__table__

    def build() -> Any:
        return (
            select(
                p.c.id, p.c.paid_on, p.c.amount, p.c.currency, p.c.method, p.c.reference, p.c.supplier_bill_id,
                b.c.number.label("bill_number"), s.c.name.label("supplier"),
            )
            .select_from(p)
            .join(b, (b.c.org_id == p.c.org_id) & (b.c.id == p.c.supplier_bill_id), isouter=True)
            .join(s, (s.c.org_id == p.c.org_id) & (s.c.id == p.c.supplier_id), isouter=True)
            .where(live(SupplierPayment, ctx.session.org_id))
        )  # fmt: skip

    return ListSource(
        ctx.session.store,
        PAYMENT_COLUMNS,
        build,
        search_keys=("bill_number", "supplier", "reference"),
        default_sort="paid_on",
        default_descending=True,
    )


@page(
    "finance", "supplier_payments", "Supplier payments", writes="finance.record_supplier_payment", position=35
)
class SupplierPaymentsPage(ListPage):
    title = "Supplier payments"
    subtitle = "What was paid to suppliers, per bill. New payment (Ctrl+N) pays a bill that is still due."
    noun = "payment"
    search_placeholder = "Search by bill, supplier or reference  (Ctrl+F)"
    empty_hint = "Pay a bill with New payment (Ctrl+N), or from Supplier bills → Pay…"

    def make_source(self) -> ListSource:
        return payment_source(self.ctx)

    @property
    def can_create(self) -> bool:
        return self.ctx.writable

    def add_actions(self, header: PageHeader) -> None:
        self.new_button = button("New payment", primary=True, tooltip="Ctrl+N")
        self.new_button.clicked.connect(self.new_item)
        header.add_action(self.new_button)
        self.new_button.setVisible(self.ctx.writable)

    def new_item(self) -> FormDialog | None:
        """Choose the bill to pay (those still due, oldest due first), then the payment form."""
        if not self.can_create:
            return None
        source = bill_source(self.ctx, "posted")
        with self.ctx.session.store.read_session() as db:
            open_bills = [dict(r) for r in db.execute(source.ordered(sort="due_date")).mappings()]
        by_id = {bill["id"]: bill for bill in open_bills}
        choices = tuple(
            (bill["id"], f"{bill['number']} · {bill['supplier'] or ''} · still due "
                         f"{money(bill['open_amount'], bill['currency'])}")
            for bill in open_bills
        )  # fmt: skip

        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
            chosen = raw.get("supplier_bill_id")
            return {"supplier_bill_id": chosen}, ({} if chosen else {"supplier_bill_id": "is required"})

        def next_step(dialog: FormDialog, args: dict[str, Any]) -> None:
            dialog.saved()
            self.payment_dialog = PaymentDialog(self, self.ctx, by_id[args["supplier_bill_id"]])
            self.payment_dialog.open()

        chooser = FormDialog(
            self,
            "New supplier payment",
            (FormField("supplier_bill_id", "Bill", kind="choice", required=True, choices=choices),),
            build=build,
            save=next_step,
            save_text="Next…",
            intro="Which bill is paid?" if choices else "No bill is still due.",
        )
        chooser.open()
        return chooser

    def open_row(self, row: dict[str, Any]) -> BillView | None:
        bill = bill_row(self.ctx, row["supplier_bill_id"])
        if bill is None:
            return None
        dialog = BillView(self, self.ctx, bill)
        dialog.open()
        return dialog


AGING_COLUMNS = (
    ("name", "Supplier"),
    ("current", "Not yet due"),
    ("days_1_30", "1–30 days"),
    ("days_31_60", "31–60 days"),
    ("days_61_90", "61–90 days"),
    ("over_90", "Over 90 days"),
    ("total", "Total"),
)


@page("finance", "payables_aging", "Payables aging", position=40)
class PayablesAgingPage(QWidget):
    """What is owed per supplier by days overdue; a supplier's row lists its open bills below,
    and a bill opens with its lines and payments."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.report: dict[str, Any] | None = None
        self._stale = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.SPACING * 2)
        layout.setSpacing(theme.SPACING * 2)
        layout.addWidget(
            PageHeader(
                "Payables aging",
                "What is owed to each supplier as of a date, by days past the due date. "
                "Select a supplier to see its open bills; open a bill for its lines.",
            )
        )
        bar = QHBoxLayout()
        bar.addWidget(label("As of", "muted"))
        self.as_of = DateInput(optional=False)
        self.as_of.changed.connect(self.reload)
        bar.addWidget(self.as_of)
        bar.addStretch(1)
        self.currency_label = label("", "muted")
        bar.addWidget(self.currency_label)
        layout.addLayout(bar)
        self.table = QTableWidget(0, len(AGING_COLUMNS))
        self.table.setHorizontalHeaderLabels([title for _key, title in AGING_COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(AGING_COLUMNS)):
            self.table.horizontalHeader().resizeSection(column, 130)
        self.table.currentCellChanged.connect(lambda row, *_: self.show_bills(row))
        layout.addWidget(self.table, 1)
        self.bills_title = label("", "muted")
        layout.addWidget(self.bills_title)
        self.bills = QTableWidget(0, 5)
        self.bills.setHorizontalHeaderLabels(["Bill", "Date", "Due", "Days overdue", "Still due"])
        self.bills.verticalHeader().setVisible(False)
        self.bills.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.bills.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.bills.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 5):
            self.bills.horizontalHeader().resizeSection(column, 130)
        self.bills.cellActivated.connect(lambda row, _column: self.open_bill(row))
        self.bills.cellDoubleClicked.connect(lambda row, _column: self.open_bill(row))
        layout.addWidget(self.bills, 1)
        self.bill_rows: list[dict[str, Any]] = []
        ctx.data_changed.connect(self.refresh)

    def activate(self) -> None:
        if self._stale:
            self.reload()

    def refresh(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def reload(self) -> None:
        self._stale = False
        session, as_of = self.ctx.session, self.as_of.value()

        def work() -> dict[str, Any]:
            with session.store.read_session() as db:
                return run_report(db, session.org_id, "ap_aging", {"as_of": as_of}, session.permissions)

        def failed(exc: BaseException) -> None:
            message = exc.message if isinstance(exc, ReportError) else str(exc)
            self.currency_label.setText(f"Could not make the aging: {message}")

        self.ctx.run(self, work, on_success=self._loaded, on_failure=failed, busy_text="Aging payables…")

    def _loaded(self, made: dict[str, Any]) -> None:
        self.report = made
        currency = made["currency"]
        self.currency_label.setText(f"Amounts in {currency}")
        rows = [*made["rows"], {"name": "Total", "party_id": None, **made["totals"]}]
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, (key, _title) in enumerate(AGING_COLUMNS):
                if key == "name":
                    text = row.get("name") or "(name not shown)"
                else:
                    value = _minor(row[key], currency)
                    text = amount(value, currency) if value or key == "total" else ""
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if row["party_id"] is None:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                item.setData(Qt.ItemDataRole.UserRole, row["party_id"])
                self.table.setItem(r, c, item)
        self.show_bills(self.table.currentRow())

    def supplier_rows(self) -> list[dict[str, Any]]:
        return list(self.report["rows"]) if self.report else []

    def show_bills(self, row: int) -> None:
        """The open bills of the supplier on table row ``row`` (none for the total row)."""
        item = self.table.item(row, 0) if row >= 0 else None
        supplier_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        self.bill_rows = []
        if supplier_id:
            as_of = date.fromisoformat(self.as_of.value())
            source = bill_source(self.ctx, None, supplier_id)
            with self.ctx.session.store.read_session() as db:
                found = db.execute(source.ordered(sort="due_date", descending=False)).mappings().all()
            pay = SupplierPayment.__table__.c
            with self.ctx.session.store.read_session() as db:
                paid = {
                    bill_id: int(total or 0)
                    for bill_id, total in db.execute(
                        select(pay.supplier_bill_id, func.sum(pay.amount))
                        .where(
                            live(SupplierPayment, self.ctx.session.org_id),
                            pay.supplier_id == supplier_id,
                            pay.paid_on <= as_of,
                        )
                        .group_by(pay.supplier_bill_id)
                    ).all()
                }
            for bill in found:
                still = bill["total"] - min(bill["total"], paid.get(bill["id"], 0))
                if bill["bill_date"] <= as_of and still > 0:
                    self.bill_rows.append({**bill, "still_due": still})
        self.bills_title.setText(
            f"Open bills of {item.text()}"
            if supplier_id and item is not None
            else "Select a supplier to see its open bills"
        )
        self.bills.setRowCount(len(self.bill_rows))
        as_of_day = date.fromisoformat(self.as_of.value())
        for r, open_bill in enumerate(self.bill_rows):
            overdue = (as_of_day - (open_bill["due_date"] or open_bill["bill_date"])).days
            values = [
                open_bill["number"],
                day(open_bill["bill_date"]),
                day(open_bill["due_date"]),
                str(overdue) if overdue > 0 else "",
                money(open_bill["still_due"], open_bill["currency"]),
            ]
            for c, text in enumerate(values):
                cell = QTableWidgetItem(text)
                if c >= 3:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.bills.setItem(r, c, cell)

    def select_supplier(self, supplier_id: str) -> bool:
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == supplier_id:
                self.table.setCurrentCell(row, 0)
                return True
        return False

    def open_bill(self, row: int) -> BillView | None:
        if not 0 <= row < len(self.bill_rows):
            return None
        dialog = BillView(self, self.ctx, self.bill_rows[row])
        dialog.open()
        return dialog


def _minor(text: str, currency: str) -> int:
    return int(Decimal(text).scaleb(currency_exponent(currency)))


__all__ = ["BillDialog", "BillView", "PayablesAgingPage", "PaymentDialog", "SupplierBillsPage"]

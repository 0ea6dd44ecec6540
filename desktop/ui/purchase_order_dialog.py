"""Editing a purchase order: header fields and lines (product, quantity, unit cost)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from common.ids import new_id
from common.inventory_forms import OrderLineInput, build_purchase_order
from common.schema import PurchaseOrderLine, Supplier
from desktop.formatting import (
    money,
    money_input,
    parse_money,
    parse_quantity_input,
    quantity,
    quantity_input,
)
from desktop.lists import live
from desktop.qt import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)
from desktop.ui.context import UiContext
from desktop.ui.draft_edits import save_draft
from desktop.ui.forms import FormDialog, FormField
from desktop.ui.line_grid import LineGridBox, LinesFormDialog
from desktop.ui.pickers import ProductPicker, fill_combo, supplier_choices, warehouse_choices
from desktop.ui.widgets import button


def order_lines(ctx: UiContext, order_id: str) -> list[dict[str, Any]]:
    line = PurchaseOrderLine.__table__.c
    with ctx.session.store.read_session() as db:
        rows = db.execute(
            select(
                line.id, line.line_no, line.product_id, line.quantity, line.unit_cost, line.received_quantity
            )
            .where(live(PurchaseOrderLine, ctx.session.org_id), line.purchase_order_id == order_id)
            .order_by(line.line_no)
        ).mappings()
        return [dict(r) for r in rows]


def supplier_currency(ctx: UiContext, supplier_id: str | None) -> str | None:
    if not supplier_id:
        return None
    t = Supplier.__table__.c
    with ctx.session.store.read_session() as db:
        return db.execute(
            select(t.currency).where(t.org_id == ctx.session.org_id, t.id == supplier_id)
        ).scalar()


HEADER_FIELDS = (
    FormField("supplier_id", "Supplier", kind="choice", required=True),
    FormField("warehouse_id", "Deliver to", kind="choice", required=True),
    FormField("expected_on", "Expected on", kind="date"),
    FormField("note", "Note", kind="multiline", max_length=1000),
)
HEADER_KEYS = ("supplier_id", "warehouse_id", "expected_on", "note")
LINE_COLUMNS = ("Product", "Quantity", "Unit cost", "Line total", "Received", "")


class LinesTable(QTableWidget):
    """Order lines: a product picker, quantity and unit cost per row."""

    def __init__(self, dialog: PurchaseOrderDialog) -> None:
        super().__init__(0, len(LINE_COLUMNS))
        self.dialog = dialog
        self.line_ids: list[str] = []
        self.received: list[Decimal] = []
        self.setHorizontalHeaderLabels(list(LINE_COLUMNS))
        self.verticalHeader().setVisible(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in ((1, 100), (2, 110), (3, 130), (4, 90), (5, 44)):
            header.resizeSection(column, width)
        self.verticalHeader().setDefaultSectionSize(36)
        self.setMinimumHeight(200)

    def add_line(
        self,
        line_id: str | None = None,
        product_id: str | None = None,
        qty: str = "",
        cost: str = "",
        received: Decimal = Decimal(0),
    ) -> int:
        row = self.rowCount()
        self.insertRow(row)
        self.line_ids.append(line_id or new_id())
        self.received.append(received)
        picker = ProductPicker(self.dialog.ctx.session)
        if product_id:
            picker.set_value(product_id)
        quantity_edit, cost_edit = QLineEdit(qty), QLineEdit(cost)
        this_line = self.line_ids[row]
        for edit in (quantity_edit, cost_edit):
            edit.setAlignment(Qt.AlignmentFlag.AlignRight)
            edit.setMaxLength(24)
            edit.textChanged.connect(lambda *_a: self.dialog.line_touched(this_line))
        picker.changed.connect(lambda *_a: self.dialog.line_touched(this_line))
        self.setCellWidget(row, 0, picker)
        self.setCellWidget(row, 1, quantity_edit)
        self.setCellWidget(row, 2, cost_edit)
        for column, text in ((3, ""), (4, quantity(received) if received else "")):
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.setItem(row, column, item)
        remove = button("×", tooltip="Remove this line")
        remove.setObjectName("lineRemove")
        remove.setAccessibleName("Remove this line")
        remove.clicked.connect(lambda: self.remove_line(self.line_ids.index(this_line)))
        self.setCellWidget(row, 5, remove)
        return row

    def remove_line(self, row: int) -> None:
        if 0 <= row < self.rowCount():
            self.removeRow(row)
            del self.line_ids[row]
            del self.received[row]
            self.dialog.lines_changed()

    def picker(self, row: int) -> ProductPicker:
        widget = self.cellWidget(row, 0)
        assert isinstance(widget, ProductPicker)
        return widget

    def text(self, row: int, column: int) -> str:
        widget = self.cellWidget(row, column)
        return widget.text() if isinstance(widget, QLineEdit) else ""

    def set_line_total(self, row: int, text: str) -> None:
        item = self.item(row, 3)
        if item is not None:
            item.setText(text)

    def set_editable(self, editable: bool) -> None:
        for row in range(self.rowCount()):
            for column in (0, 1, 2, 5):
                widget = self.cellWidget(row, column)
                if widget is not None:
                    widget.setEnabled(editable)


class PurchaseOrderDialog(LinesFormDialog):
    """Create a draft order, edit a draft, or look at an order that was sent."""

    def __init__(self, parent: QWidget, ctx: UiContext, order: dict[str, Any] | None) -> None:
        self.ctx = ctx
        self.order = order
        self.order_id = order["id"] if order else new_id()
        self.editable = ctx.writable and (order is None or order["status"] == "draft")
        self.lines: LinesTable | None = None
        title = "New purchase order" if order is None else f"Purchase order {order['number']}"
        super().__init__(
            parent,
            title,
            HEADER_FIELDS,
            build=self.build_args,
            save=self.save,
            save_text="Create draft" if order is None else "Save",
        )
        self.setMinimumWidth(820)
        fill_combo(self.inputs["supplier_id"], supplier_choices(ctx.session), empty="Choose a supplier…")  # type: ignore[arg-type]
        fill_combo(self.inputs["warehouse_id"], warehouse_choices(ctx.session), empty="Choose a warehouse…")  # type: ignore[arg-type]
        self.lines = LinesTable(self)
        box = LineGridBox(
            self.lines, add_tip="Add a product to the order", on_add=self.add_line, totals_above=True
        )
        self.total_label, self.add_button = box.totals_label, box.add_button
        box.place_in(self)
        if order is not None:
            self.set_value("supplier_id", order["supplier_id"])
            self.set_value("warehouse_id", order["warehouse_id"])
            self.set_value("expected_on", str(order.get("expected_on") or ""))
            self.set_value("note", order.get("note") or "")
            for line in order_lines(ctx, order["id"]):
                self.lines.add_line(
                    line["id"],
                    line["product_id"],
                    quantity_input(line["quantity"]),
                    money_input(line["unit_cost"], order["currency"]),
                    line["received_quantity"],
                )
            self.original = self.build_args(self.raw())[0]
        if not self.editable:
            for widget in self.inputs.values():
                widget.setEnabled(False)
            self.lines.set_editable(False)
            self.add_button.hide()
            self.save_button.hide()
            self.cancel_button.setText("Close")
        self.touched.clear()
        self.validate()

    def add_line(self, product_id: str | None = None, qty: Any = None, unit_cost: int | None = None) -> None:
        """A new line; ``unit_cost`` (minor units, in the supplier's currency) prefills its cost."""
        assert self.lines is not None
        currency = self.currency(self.raw())
        cost = money_input(unit_cost, currency) if unit_cost is not None and currency else ""
        self.lines.add_line(None, product_id, quantity_input(qty) if qty else "", cost)
        self.validate()  # a new, empty line shows no problem until it is typed into or saved

    def snapshot(self) -> Any:
        table = self.lines
        rows = []
        for row in range(table.rowCount() if table is not None else 0):
            assert table is not None
            rows.append((table.picker(row).text(), table.text(row, 1), table.text(row, 2)))
        return (self.raw(), rows)

    def currency(self, raw: dict[str, Any]) -> str:
        if self.order is not None:
            return str(self.order["currency"])
        return supplier_currency(self.ctx, raw.get("supplier_id")) or ""

    def build_args(self, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """The form's args through the Qt-free builder (:mod:`common.inventory_forms`)."""
        currency = self.currency(raw)
        table = self.lines
        lines = []
        for row in range(table.rowCount() if table is not None else 0):
            assert table is not None
            picker = table.picker(row)
            product_id = picker.product["id"] if picker.product is not None else None
            lines.append(
                OrderLineInput(
                    table.line_ids[row], product_id, picker.text(), table.text(row, 1), table.text(row, 2)
                )
            )
        built = build_purchase_order(self.order_id, raw, lines, currency, parse_quantity_input, parse_money)
        if table is not None:
            for row, amount in enumerate(built.extra["line_totals"]):
                table.set_line_total(row, money(amount, currency) if amount is not None else "")
        self._show_total(built.extra["total"], currency)
        found = dict(built.problems)
        if self.order is not None and not found and built.args == getattr(self, "original", None):
            found[""] = "Nothing to save yet: nothing was changed."
        return built.args, found

    def _show_total(self, total: int, currency: str) -> None:
        if hasattr(self, "total_label"):
            self.total_label.setText(f"Total {money(total, currency)}" if currency else "")

    def save(self, dialog: FormDialog, args: dict[str, Any]) -> None:
        save_draft(
            self, self.ctx, self.order_id, args, None if self.order is None else self.original,
            create="inventory.create_purchase_order", update="inventory.update_purchase_order",
            set_lines="inventory.set_purchase_order_lines", header_keys=HEADER_KEYS,
        )  # fmt: skip

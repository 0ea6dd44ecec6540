"""Receiving goods of an ordered purchase order: how much of each line arrived."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from common.commands.inventory import ReceivePurchaseOrderArgs
from common.money import quantity_text
from desktop.formatting import InputError, parse_quantity_input, quantity, quantity_input
from desktop.guardrails import ReceiptLine, over_receipt_warning
from desktop.qt import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from desktop.ui.context import UiContext
from desktop.ui.forms import FormDialog
from desktop.ui.pickers import ProductPicker
from desktop.ui.purchase_order_dialog import order_lines
from desktop.ui.widgets import ask_once
from desktop.validation import problems


class ReceiveDialog(FormDialog):
    """Receive goods: how much of each line arrived (default: everything outstanding)."""

    def __init__(self, parent: QWidget, ctx: UiContext, order: dict[str, Any]) -> None:
        self.ctx = ctx
        self.order = order
        self.order_lines = order_lines(ctx, order["id"])
        self.table: QTableWidget | None = None
        super().__init__(
            parent,
            f"Receive {order['number']}",
            (),
            build=self.build_args,
            save=self.save_receipt,
            intro=f"Goods arriving at {order.get('warehouse') or 'the warehouse'}. Receiving records a stock "
            "receipt for every line; the order is complete once everything has arrived.",
            save_text="Receive",
        )
        table = QTableWidget(len(self.order_lines), 5)
        table.setHorizontalHeaderLabels(
            ["Product", "Ordered", "Received so far", "Outstanding", "Receiving now"]
        )
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for row, line in enumerate(self.order_lines):
            picker = ProductPicker(ctx.session)
            picker.set_value(line["product_id"])
            outstanding = max(Decimal(0), line["quantity"] - line["received_quantity"])
            values = (
                picker.text(),
                quantity(line["quantity"]),
                quantity(line["received_quantity"]),
                quantity(outstanding),
            )
            for column, text in enumerate(values):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(row, column, item)
            edit = QLineEdit(quantity_input(outstanding) if outstanding else "0")
            edit.setAlignment(Qt.AlignmentFlag.AlignRight)
            edit.textChanged.connect(lambda *_: self.validate())
            table.setCellWidget(row, 4, edit)
        self.table = table
        main = self.layout()
        assert isinstance(main, QVBoxLayout)
        main.insertWidget(main.indexOf(self.form_error), table, 1)
        self.resize(760, 420)
        self.validate()

    def build_args(self, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        found: dict[str, str] = {}
        lines = []
        for row, line in enumerate(self.order_lines):
            widget = self.table.cellWidget(row, 4) if self.table is not None else None
            text = widget.text().strip() if isinstance(widget, QLineEdit) else ""
            if not text or text == "0":
                continue
            try:
                qty = parse_quantity_input(text)
            except InputError as exc:
                found[f"Line {row + 1}"] = str(exc)
                continue
            if qty < 0:
                found[f"Line {row + 1}"] = "must not be negative"
            elif qty > 0:
                lines.append({"line_id": line["id"], "quantity": quantity_text(qty)})
        args = {"id": self.order["id"], "lines": lines}
        for key, phrase in problems(ReceivePurchaseOrderArgs, args).items():
            found.setdefault(key, phrase)
        if self.table is not None and not lines and not found:
            found[""] = "Enter the quantity that arrived on at least one line."
        return args, found

    def save_receipt(self, dialog: FormDialog, args: dict[str, Any]) -> None:
        """Receive; more than ordered on any line asks once first, with the numbers."""
        by_id = {line["id"]: (row, line) for row, line in enumerate(self.order_lines)}
        lines = []
        for receipt in args["lines"]:
            row, line = by_id[receipt["line_id"]]
            item = self.table.item(row, 0) if self.table is not None else None
            lines.append(
                ReceiptLine(
                    item.text() if item is not None else f"Line {row + 1}",
                    line["quantity"],
                    line["received_quantity"],
                    Decimal(receipt["quantity"]),
                    "",
                )
            )
        warning = over_receipt_warning(lines)
        if warning is None:
            self._receive(args)
            return
        self.guardrail = ask_once(
            self,
            "More than ordered",
            warning,
            "Receive anyway",
            lambda: self._receive(args),
            back=lambda: self.set_saving(False),
        )

    def _receive(self, args: dict[str, Any]) -> None:
        self.ctx.apply(
            self,
            "inventory.receive_purchase_order",
            args,
            on_done=self.saved,
            on_refused=self.refused,
            on_error=self.failed,
            busy_text="Receiving…",
        )

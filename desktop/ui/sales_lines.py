"""The lines grid of a quotation or invoice: product picker, quantity, unit price (the product's
sale price when picked), discount %, tax rate and the line total, worked out as you type.

The dialog owning the grid turns its rows into :class:`common.sales_forms.SalesLineInput` and
shows the totals the builder works out; the grid itself holds no arithmetic.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from common.ids import new_id
from common.sales_forms import SalesLineInput
from desktop.formatting import money_input
from desktop.qt import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLineEdit,
    Qt,
    QTableWidget,
    QTableWidgetItem,
)
from desktop.session import UserSession
from desktop.ui.pickers import ProductPicker
from desktop.ui.widgets import button


class LinesOwner(Protocol):
    session: UserSession

    def currency_now(self) -> str: ...

    def line_touched(self, line_id: str) -> None: ...

    def lines_changed(self) -> None: ...


PRODUCT, DESCRIPTION, QUANTITY, PRICE, DISCOUNT, TAX, TOTAL, REMOVE = range(8)
TITLES = ("Product", "Description", "Quantity", "Unit price", "Disc. %", "Tax", "Line total", "")
WIDTHS = {QUANTITY: 100, PRICE: 110, DISCOUNT: 90, TAX: 175, TOTAL: 130, REMOVE: 44, DESCRIPTION: 200}


class SalesLinesTable(QTableWidget):
    """Order or invoice lines; ``with_description`` adds the free-text column of invoices."""

    def __init__(
        self, owner: LinesOwner, rates: list[tuple[str, str, Decimal]], *, with_description: bool = False
    ) -> None:
        super().__init__(0, len(TITLES))
        self.owner = owner
        self.rates = rates
        self.line_ids: list[str] = []
        self.setHorizontalHeaderLabels(list(TITLES))
        self.verticalHeader().setVisible(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.horizontalHeader()
        header.setSectionResizeMode(PRODUCT, QHeaderView.ResizeMode.Stretch)
        for column, width in WIDTHS.items():
            header.resizeSection(column, width)
        self.setColumnHidden(DESCRIPTION, not with_description)
        self.verticalHeader().setDefaultSectionSize(36)
        self.setMinimumHeight(200)

    def add_line(
        self,
        line_id: str | None = None,
        product_id: str | None = None,
        qty: str = "",
        price: str = "",
        tax_rate_id: str | None = None,
        description: str = "",
        discount: str = "",
    ) -> int:
        row = self.rowCount()
        self.insertRow(row)
        this_line = line_id or new_id()
        self.line_ids.append(this_line)
        picker = ProductPicker(self.owner.session)
        if product_id:
            picker.set_value(product_id)
        edits = {DESCRIPTION: QLineEdit(description), QUANTITY: QLineEdit(qty), PRICE: QLineEdit(price)}
        edits[DISCOUNT] = QLineEdit(discount)
        edits[DESCRIPTION].setMaxLength(500)
        edits[DESCRIPTION].setPlaceholderText("the product's name")
        for column, edit in edits.items():
            if column != DESCRIPTION:
                edit.setAlignment(Qt.AlignmentFlag.AlignRight)
                edit.setMaxLength(24)
            edit.textChanged.connect(lambda *_a: self.owner.line_touched(this_line))
            self.setCellWidget(row, column, edit)
        tax = QComboBox()
        tax.addItem("No tax", None)
        for rate_id, text, _percent in self.rates:
            tax.addItem(text, rate_id)
        if tax_rate_id is not None:
            tax.setCurrentIndex(max(0, tax.findData(tax_rate_id)))
        elif line_id is None and self.rates:
            tax.setCurrentIndex(1)  # a new line starts with the first rate (most lines are taxed)
        tax.currentIndexChanged.connect(lambda *_a: self.owner.line_touched(this_line))
        self.setCellWidget(row, TAX, tax)
        picker.changed.connect(lambda *_a: self._product_changed(this_line))
        self.setCellWidget(row, PRODUCT, picker)
        item = QTableWidgetItem("")
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.setItem(row, TOTAL, item)
        remove = button("×", tooltip="Remove this line")
        remove.setObjectName("lineRemove")
        remove.setAccessibleName("Remove this line")
        remove.clicked.connect(lambda: self.remove_line(self.line_ids.index(this_line)))
        self.setCellWidget(row, REMOVE, remove)
        return row

    def _product_changed(self, line_id: str) -> None:
        """A product picked: its sale price fills the price, when in the document's currency."""
        row = self.line_ids.index(line_id)
        product = self.picker(row).product
        currency = self.owner.currency_now()
        if product is not None and (not currency or product["currency"] == currency):
            self.cell_edit(row, PRICE).setText(money_input(product["sale_price"], product["currency"]))
        self.owner.line_touched(line_id)

    def remove_line(self, row: int) -> None:
        if 0 <= row < self.rowCount():
            self.removeRow(row)
            del self.line_ids[row]
            self.owner.lines_changed()

    def picker(self, row: int) -> ProductPicker:
        widget = self.cellWidget(row, PRODUCT)
        assert isinstance(widget, ProductPicker)
        return widget

    def cell_edit(self, row: int, column: int) -> QLineEdit:
        widget = self.cellWidget(row, column)
        assert isinstance(widget, QLineEdit)
        return widget

    def tax(self, row: int) -> QComboBox:
        widget = self.cellWidget(row, TAX)
        assert isinstance(widget, QComboBox)
        return widget

    def inputs(self) -> list[SalesLineInput]:
        out = []
        for row in range(self.rowCount()):
            picker = self.picker(row)
            out.append(
                SalesLineInput(
                    self.line_ids[row],
                    picker.product["id"] if picker.product is not None else None,
                    picker.text(),
                    self.cell_edit(row, QUANTITY).text(),
                    self.cell_edit(row, PRICE).text(),
                    self.cell_edit(row, DISCOUNT).text(),
                    self.tax(row).currentData(),
                    self.cell_edit(row, DESCRIPTION).text() if not self.isColumnHidden(DESCRIPTION) else "",
                )
            )
        return out

    def snapshot(self) -> list[Any]:
        return [tuple(vars(line).values()) for line in self.inputs()]

    def set_line_total(self, row: int, text: str) -> None:
        item = self.item(row, TOTAL)
        if item is not None:
            item.setText(text)

    def set_editable(self, editable: bool) -> None:
        for row in range(self.rowCount()):
            for column in (PRODUCT, DESCRIPTION, QUANTITY, PRICE, DISCOUNT, TAX, REMOVE):
                widget = self.cellWidget(row, column)
                if widget is not None:
                    widget.setEnabled(editable)

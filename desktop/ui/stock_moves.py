"""Stock moves: the list of every receipt, issue, transfer and count, and recording new ones.

A count asks for the quantity counted and records the difference to the stock on hand as a
move (stock is the sum of moves; nothing is ever overwritten).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from common.ids import new_id
from common.inventory_forms import build_stock_move
from common.schema import Product, StockMove, Warehouse
from common.stock import MOVE_REASON_TITLES, RECORDED_REASONS, stock_on_hand
from desktop.formatting import parse_money, parse_quantity_input, quantity
from desktop.guardrails import negative_stock_warning
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.qt import QComboBox, QHBoxLayout, QWidget
from desktop.ui.context import UiContext
from desktop.ui.forms import FormDialog, FormField, apply_from_form
from desktop.ui.list_page import ListPage
from desktop.ui.pickers import ProductPicker, fill_combo, warehouse_choices
from desktop.ui.widgets import PageHeader, ask_once, button, label

REASONS = tuple((reason, MOVE_REASON_TITLES[reason]) for reason in RECORDED_REASONS)

COLUMNS = (
    Column("moved_at", "When", kind="datetime", width=135),
    Column("reason", "Kind", kind="status", width=75),
    Column("sku", "SKU", width=125),
    Column("product_name", "Product", stretch=True),
    Column("route", "From → to", sortable=False, width=110),
    Column("quantity", "Quantity", kind="quantity", width=80),
    Column("unit_cost", "Unit cost", kind="money", width=100),
    Column("reference", "Reference", width=140),
)


def move_source(ctx: UiContext, reason: str | None = None) -> ListSource:
    org_id = ctx.session.org_id
    m, p = StockMove.__table__.c, Product.__table__
    source_wh, target_wh = aliased(Warehouse), aliased(Warehouse)

    def build() -> Any:
        stmt = (
            select(
                m.id,
                m.moved_at,
                m.reason,
                m.quantity,
                m.unit_cost,
                m.currency,
                m.reference,
                m.note,
                m.negative_stock,
                p.c.sku.label("sku"),
                p.c.name.label("product_name"),
                source_wh.code.label("from_code"),
                target_wh.code.label("to_code"),
            )
            .select_from(StockMove.__table__)
            .join(p, (p.c.org_id == m.org_id) & (p.c.id == m.product_id), isouter=True)
            .join(
                source_wh,
                (source_wh.org_id == m.org_id) & (source_wh.id == m.from_warehouse_id),
                isouter=True,
            )
            .join(
                target_wh, (target_wh.org_id == m.org_id) & (target_wh.id == m.to_warehouse_id), isouter=True
            )
            .where(live(StockMove, org_id))
        )
        return stmt.where(m.reason == reason) if reason else stmt

    return ListSource(
        ctx.session.store,
        COLUMNS,
        build,
        search_keys=("sku", "product_name", "reference", "from_code", "to_code"),
        default_sort="moved_at",
        default_descending=True,
        decorate=add_routes,
    )


def add_routes(_session: Any, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        row["route"] = route(row)


def route(row: dict[str, Any]) -> str:
    """``MAIN → EAST``, ``→ MAIN`` (in), ``MAIN →`` (out): one column for both warehouses."""
    return f"{row.get('from_code') or ''} → {row.get('to_code') or ''}".strip()


FIELDS = (
    FormField("reason", "Kind", kind="choice", required=True, choices=REASONS),
    FormField("product_id", "Product", kind="custom", required=True),
    FormField("from_warehouse_id", "From warehouse", kind="choice", required=True),
    FormField("to_warehouse_id", "To warehouse", kind="choice", required=True),
    FormField("warehouse_id", "Warehouse", kind="choice", required=True),
    FormField("quantity", "Quantity", kind="quantity", required=True, max_length=24),
    FormField(
        "unit_cost",
        "Unit cost",
        kind="money",
        placeholder="optional, in the product's currency",
        max_length=24,
    ),
    FormField("reference", "Reference", max_length=100, placeholder="delivery note, order number…"),
    FormField("note", "Note", kind="multiline", max_length=1000),
)
VISIBLE = {
    "receipt": {"to_warehouse_id", "unit_cost"},
    "issue": {"from_warehouse_id"},
    "transfer": {"from_warehouse_id", "to_warehouse_id"},
    "count": {"warehouse_id"},
}


class StockMoveDialog(FormDialog):
    def __init__(self, page: QWidget, ctx: UiContext, reason: str = "receipt") -> None:
        self.ctx = ctx
        self.move_id = new_id()
        self.command = "inventory.record_stock_move"
        self.picker = ProductPicker(ctx.session)
        self.on_hand: Decimal | None = None
        super().__init__(
            page,
            "Record a stock move",
            FIELDS,
            build=self.build_args,
            save=self.save_move,
            extra_widgets={"product_id": self.picker},
            initial={"reason": reason},
            save_text="Record move",
        )
        self.stock_info = label("", "muted")
        self.stock_row = self.rows["quantity"]
        self.form.insertRow(self.stock_row, "", self.stock_info)
        self.rows = {k: (v + 1 if v >= self.stock_row else v) for k, v in self.rows.items()}
        self.form.setRowVisible(self.stock_row, False)
        choices = warehouse_choices(ctx.session)
        for key in ("from_warehouse_id", "to_warehouse_id", "warehouse_id"):
            combo = self.inputs[key]
            assert isinstance(combo, QComboBox)
            fill_combo(combo, choices, empty="Choose a warehouse…")
        self.inputs["reason"].currentIndexChanged.connect(lambda *_: self.arrange())  # type: ignore[attr-defined]
        self.arrange()

    def arrange(self) -> None:
        reason = self.raw().get("reason") or "receipt"
        for key in ("from_warehouse_id", "to_warehouse_id", "warehouse_id", "unit_cost"):
            self.set_field_visible(key, key in VISIBLE[reason])
        self.set_field_label("quantity", "Counted quantity *" if reason == "count" else "Quantity *")
        self.validate()

    def build_args(self, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """The form's args through the Qt-free builder (:mod:`common.inventory_forms`)."""
        reason = raw.get("reason") or "receipt"
        product = self.picker.product
        warehouse_for_stock = None
        if reason == "count":
            warehouse_for_stock = raw.get("warehouse_id")
        elif reason in ("issue", "transfer"):
            warehouse_for_stock = raw.get("from_warehouse_id")
        self._show_stock(product, warehouse_for_stock)
        built = build_stock_move(
            self.move_id, raw, product, self.picker.text(), parse_quantity_input, parse_money
        )
        self.command = built.command
        return built.args, built.problems

    def save_move(self, dialog: FormDialog, args: dict[str, Any]) -> None:
        """Record the move; an issue or transfer taking more than is on hand asks once first."""
        apply = apply_from_form(self.ctx, self.command)
        product = self.picker.product
        warning = None
        if args.get("reason") in ("issue", "transfer") and self.on_hand is not None and product is not None:
            combo = self.inputs["from_warehouse_id"]
            assert isinstance(combo, QComboBox)
            warning = negative_stock_warning(
                self.on_hand, Decimal(args["quantity"]), product["unit"], combo.currentText()
            )
        if warning is None:
            apply(dialog, args)
            return
        self.guardrail = ask_once(
            self,
            "Not enough stock",
            warning,
            "Record anyway",
            lambda: apply(dialog, args),
            back=lambda: self.set_saving(False),
        )

    def _show_stock(self, product: dict[str, Any] | None, warehouse_id: str | None) -> None:
        self.on_hand = None
        if product is None or not warehouse_id or not hasattr(self, "stock_info"):
            if hasattr(self, "stock_info"):
                self.stock_info.setText("")
                self.form.setRowVisible(self.stock_row, False)
            return
        with self.ctx.session.store.read_session() as db:
            self.on_hand = stock_on_hand(db, self.ctx.session.org_id, product["id"], warehouse_id)
        shown = f"On hand there now: {quantity(self.on_hand)} {product['unit']}"
        if self.raw().get("reason") == "count":
            shown += ". Enter what you counted: the difference is recorded."
        self.stock_info.setText(shown)
        self.form.setRowVisible(self.stock_row, True)


@page("inventory", "stock_moves", "Stock moves", writes="inventory.record_stock_move", position=30)
class StockMovesPage(ListPage):
    title = "Stock moves"
    subtitle = "Every receipt, issue, transfer and count. Moves are never edited: a mistake is reversed."
    noun = "stock move"
    search_placeholder = "Search by SKU, product, warehouse or reference  (Ctrl+F)"
    empty_hint = "Record a receipt with New move (Ctrl+N) to bring stock in."

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        self.reason: str | None = None
        super().__init__(ctx, parent)

    def make_source(self) -> ListSource:
        return move_source(self.ctx, self.reason)

    def add_filters(self, bar: QHBoxLayout) -> None:
        self.reason_box = QComboBox()
        self.reason_box.addItem("All kinds", None)
        for value, text in REASONS:
            self.reason_box.addItem(text.split(" — ")[0], value)
        self.reason_box.addItem(MOVE_REASON_TITLES["adjustment"], "adjustment")
        self.reason_box.currentIndexChanged.connect(self._filter_reason)
        bar.addWidget(self.reason_box)

    def _filter_reason(self) -> None:
        self.reason = self.reason_box.currentData()
        self.model.source = self.source = self.make_source()
        self.model.reload()

    @property
    def can_create(self) -> bool:
        return self.ctx.writable

    def add_actions(self, header: PageHeader) -> None:
        self.reverse_button = button("Reverse", tooltip="Record the exact opposite of the selected move")
        self.reverse_button.clicked.connect(self.reverse_current)
        self.new_button = button("New move", primary=True, tooltip="Ctrl+N")
        self.new_button.clicked.connect(self.new_item)
        header.add_action(self.reverse_button)
        header.add_action(self.new_button)
        self.new_button.setVisible(self.ctx.writable)
        self.reverse_button.setVisible(self.ctx.writable)

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        self.reverse_button.setEnabled(row is not None)

    def new_item(self, reason: str = "receipt") -> StockMoveDialog | None:
        if not self.can_create:
            return None
        dialog = StockMoveDialog(self, self.ctx, reason)
        dialog.open()
        return dialog

    def reverse_current(self) -> None:
        from desktop.qt import QMessageBox

        row = self.current_row()
        if row is None:
            return
        answer = QMessageBox.question(
            self,
            "Reverse stock move",
            f"Record the opposite of this {row['reason']} of {quantity(row['quantity'])} × {row['sku']}?",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.ctx.apply(
            self,
            "inventory.reverse_stock_move",
            {"id": new_id(), "move_id": row["id"]},
            on_refused=lambda error: QMessageBox.warning(self, "Not reversed", error.message),
        )

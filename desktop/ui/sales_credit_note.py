"""A credit note for a posted invoice: the whole invoice, or chosen quantities of its lines."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from common.ids import new_id
from common.sales_forms import CreditLineInput, build_credit_note
from common.schema import CreditNote, CreditNoteLine
from desktop.formatting import money, parse_quantity_input, quantity
from desktop.lists import live
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
from desktop.ui.forms import FormDialog, FormField
from desktop.ui.sales_invoice_dialog import invoice_lines

FIELDS = (
    FormField(
        "whole", "Whole invoice", kind="bool", hint="Credit everything on the invoice not credited yet"
    ),
    FormField("issue_date", "Issue date", kind="date", required=True),
    FormField("reason", "Reason", max_length=500, placeholder="e.g. goods returned damaged"),
)
COLUMNS = ("Line", "Invoiced", "Left to credit", "Credit quantity", "Unit price")


def credited_quantities(ctx: UiContext, invoice_id: str) -> dict[str, Decimal]:
    """Per invoice line, the quantity credited so far."""
    n, line = CreditNote.__table__.c, CreditNoteLine.__table__.c
    org_id = ctx.session.org_id
    with ctx.session.store.read_session() as db:
        notes = select(n.id).where(live(CreditNote, org_id), n.invoice_id == invoice_id)
        rows = db.execute(
            select(line.invoice_line_id, line.quantity).where(
                live(CreditNoteLine, org_id), line.credit_note_id.in_(notes)
            )
        ).all()
    done: dict[str, Decimal] = defaultdict(Decimal)
    for line_id, qty in rows:
        done[line_id] += Decimal(qty)
    return done


class CreditNoteDialog(FormDialog):
    def __init__(self, parent: QWidget, ctx: UiContext, invoice: dict[str, Any]) -> None:
        self.ctx = ctx
        self.invoice = invoice
        self.note_id = new_id()
        self.table: QTableWidget | None = None
        credited = credited_quantities(ctx, invoice["id"])
        self.invoice_lines = [
            {**line, "left": Decimal(line["quantity"]) - credited.get(line["id"], Decimal(0))}
            for line in invoice_lines(ctx, invoice["id"])
        ]
        super().__init__(
            parent,
            f"Credit note for invoice {invoice['number']}",
            FIELDS,
            build=self.build_args,
            save=self.save,
            save_text="Issue credit note",
            intro="A posted invoice is never edited: a credit note takes back all of it or part of its lines. "
            "What is credited beyond what is still due becomes the customer's credit.",
            initial={"whole": True},
        )
        self.setMinimumWidth(900)
        table = QTableWidget(len(self.invoice_lines), len(COLUMNS))
        table.setHorizontalHeaderLabels(list(COLUMNS))
        table.verticalHeader().setVisible(False)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        discounted = any(line["discount_percent"] for line in self.invoice_lines)
        for column, width in ((1, 110), (2, 140), (3, 150), (4, 190 if discounted else 130)):
            table.horizontalHeader().resizeSection(column, width)
        for row, line in enumerate(self.invoice_lines):
            texts = (
                line["description"],
                quantity(line["quantity"]),
                quantity(line["left"]),
                None,
                money(line["unit_price"], invoice["currency"])
                + (f" less {quantity(line['discount_percent'])} %" if line["discount_percent"] else ""),
            )
            for column, text in enumerate(texts):
                if text is None:
                    edit = QLineEdit()
                    edit.setAlignment(Qt.AlignmentFlag.AlignRight)
                    edit.setMaxLength(24)
                    edit.setEnabled(line["left"] > 0)
                    edit.textChanged.connect(lambda *_a: self._changed("lines"))
                    table.setCellWidget(row, column, edit)
                    continue
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(row, column, item)
        self.table = table
        main = self.layout()
        assert isinstance(main, QVBoxLayout)
        main.insertWidget(main.indexOf(self.form_error), table, 1)
        self.inputs["whole"].toggled.connect(self._whole_toggled)  # type: ignore[attr-defined]
        self._whole_toggled(True)

    def _whole_toggled(self, whole: bool) -> None:
        if self.table is not None:
            self.table.setEnabled(not whole)

    def quantity_edit(self, row: int) -> QLineEdit:
        assert self.table is not None
        widget = self.table.cellWidget(row, 3)
        assert isinstance(widget, QLineEdit)
        return widget

    def loose_problem_visible(self, key: str) -> bool:
        return super().loose_problem_visible(key) or "lines" in self.touched

    def build_args(self, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        lines = [
            CreditLineInput(
                line["id"],
                line["description"],
                line["left"],
                self.quantity_edit(row).text() if self.table is not None else "",
            )
            for row, line in enumerate(getattr(self, "invoice_lines", []))
        ]
        built = build_credit_note(self.note_id, self.invoice["id"], raw, lines, parse_quantity_input)
        return built.args, dict(built.problems)

    def save(self, _dialog: Any, args: dict[str, Any]) -> None:
        self.ctx.apply(
            self,
            "sales.issue_credit_note",
            args,
            on_done=self.saved,
            on_refused=self.refused,
            on_error=self.failed,
        )

"""One payslip of a run, line by line: base salary with its paid days, earnings, gross pay,
deductions, net pay, and the employer's contributions (paid on top, shown for information)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.hr_forms import proration_text
from common.schema import PayslipLine
from desktop.formatting import money
from desktop.lists import live
from desktop.qt import (
    QAbstractItemView,
    QColor,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.widgets import label

TOTAL_KINDS = frozenset({"gross", "net"})


def payslip_lines(ctx: UiContext, payslip_id: str) -> list[dict[str, Any]]:
    t = PayslipLine.__table__.c
    with ctx.session.store.read_session() as db:
        rows = db.execute(
            select(t.line_no, t.kind, t.description, t.amount)
            .where(live(PayslipLine, ctx.session.org_id), t.payslip_id == payslip_id)
            .order_by(t.line_no)
        ).mappings()
        return [dict(r) for r in rows]


class PayslipDialog(QDialog):
    """Read-only: a payslip is never edited (a run is corrected by reversing it)."""

    def __init__(self, parent: QWidget, ctx: UiContext, slip: dict[str, Any], run: dict[str, Any]) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Payslip: {slip['employee']}")
        self.setMinimumSize(560, 460)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN)
        layout.setSpacing(theme.SPACING)
        layout.addWidget(label(f"Payslip: {slip['employee']}", "pageTitle"))
        period = f"{run['period_start'].isoformat()} to {run['period_end'].isoformat()}"
        layout.addWidget(
            label(f"{period} · paid {proration_text(slip['paid_days'], slip['period_days'])}", "muted")
        )
        self.lines = payslip_lines(ctx, slip["id"])
        self.table = QTableWidget(len(self.lines), 2)
        self.table.setObjectName("payslipLines")
        self.table.setHorizontalHeaderLabels(["Line", "Amount"])
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(1, 150)
        currency = slip["currency"]
        for row, line in enumerate(self.lines):
            text = QTableWidgetItem(line["description"])
            amount = QTableWidgetItem(money(line["amount"], currency))
            amount.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if line["kind"] in TOTAL_KINDS:
                for item in (text, amount):
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
            if line["kind"] == "employer":
                text.setText(f"{line['description']} (paid by the employer)")
                for item in (text, amount):
                    item.setForeground(QColor(theme.MUTED))
            self.table.setItem(row, 0, text)
            self.table.setItem(row, 1, amount)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def shown_lines(self) -> list[tuple[str, str]]:
        """What the payslip shows, line by line (for tests and screen readers)."""
        shown = []
        for row in range(self.table.rowCount()):
            text, amount = self.table.item(row, 0), self.table.item(row, 1)
            shown.append((text.text() if text else "", amount.text() if amount else ""))
        return shown

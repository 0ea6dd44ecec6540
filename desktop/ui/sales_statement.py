"""A customer's account: every document (history) and the statement on screen, from a date."""

from __future__ import annotations

from datetime import date
from typing import Any

from common.documents.loaders import Period
from desktop.formatting import day, money
from desktop.lists import Column
from desktop.qt import QDate, QDialog, QDialogButtonBox, QHBoxLayout, QTabWidget, QVBoxLayout, QWidget
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.forms import DateInput
from desktop.ui.printing import PrintPreview, print_document
from desktop.ui.sales_common import RowsTable, Statement, customer_documents, customer_statement
from desktop.ui.widgets import button, label

DOCUMENT_COLUMNS = (
    Column("day", "Date", kind="date", width=110),
    Column("kind", "Document", width=120),
    Column("number", "Number / reference", stretch=True),
    Column("status", "Status", kind="status", width=110),
    Column("amount", "Amount", kind="money", width=150),
)
STATEMENT_COLUMNS = (
    Column("day", "Date", kind="date", width=110),
    Column("kind", "Document", width=120),
    Column("number", "Number / reference", stretch=True),
    Column("charge", "Charged", kind="money", width=125),
    Column("credit", "Paid / credited", kind="money", width=125),
    Column("balance", "Balance", kind="money", width=130),
)


class CustomerAccountDialog(QDialog):
    """Two tabs: the customer's documents, newest first, and their statement."""

    def __init__(self, parent: QWidget, ctx: UiContext, customer: dict[str, Any]) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.customer = customer
        self.currency = str(customer["currency"])
        self.setWindowTitle(f"Account — {customer['name']}")
        self.resize(960, 580)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN)
        layout.setSpacing(theme.SPACING * 2)
        layout.addWidget(label(str(customer["name"]), "pageTitle"))
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)
        self.documents = RowsTable(DOCUMENT_COLUMNS)
        self.tabs.addTab(self.documents, "History")
        self.tabs.addTab(self._statement_tab(), "Statement")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.reload()

    def _statement_tab(self) -> QWidget:
        tab = QWidget()
        box = QVBoxLayout(tab)
        bar = QHBoxLayout()
        bar.addWidget(label("From", "muted"))
        self.start = DateInput(optional=True)
        self.start.set_value(date.today().replace(day=1).isoformat())
        self.end = DateInput(optional=False)
        bar.addWidget(self.start)
        bar.addWidget(label("to", "muted"))
        bar.addWidget(self.end)
        bar.addStretch(1)
        self.print_button = button("Print…", tooltip="Print the statement with preview")
        self.print_button.setAutoDefault(False)
        self.print_button.clicked.connect(self.print_statement)
        bar.addWidget(self.print_button)
        box.addLayout(bar)
        self.opening_label = label("", "muted")
        box.addWidget(self.opening_label)
        self.statement_table = RowsTable(STATEMENT_COLUMNS)
        box.addWidget(self.statement_table, 1)
        self.closing_label = label("", None)
        self.closing_label.setStyleSheet("font-weight: 600;")
        box.addWidget(self.closing_label)
        self.start.changed.connect(self.reload)
        self.end.changed.connect(self.reload)
        return tab

    def period(self) -> tuple[date | None, date]:
        start = self.start.value()
        return (date.fromisoformat(start) if start else None), date.fromisoformat(self.end.value())

    def set_period(self, start: date | None, end: date) -> None:
        self.start.set_value(start.isoformat() if start else "")
        self.end.setDate(QDate(end.year, end.month, end.day))

    def reload(self) -> None:
        start, end = self.period()
        session = self.ctx.session
        with session.store.read_session() as db:
            docs = customer_documents(db, session.org_id, self.customer["id"])
            self.statement = customer_statement(
                db, session.org_id, self.customer["id"], self.currency, start, end
            )
        self.documents.set_rows(docs)
        self.show_statement(self.statement)

    def show_statement(self, statement: Statement) -> None:
        rows = [
            {
                "day": line.day,
                "kind": line.kind,
                "number": line.number,
                "charge": line.charge or None,
                "credit": line.credit or None,
                "balance": line.balance,
                "currency": statement.currency,
            }
            for line in statement.lines
        ]
        self.statement_table.set_rows(rows)
        since = f" on {day(statement.start)}" if statement.start else ""
        self.opening_label.setText(
            f"Balance brought forward{since}: {money(statement.opening, statement.currency)}"
        )
        closing = statement.closing
        owes = "owes" if closing >= 0 else "is in credit by"
        self.closing_label.setText(
            f"On {day(statement.end)} {self.customer['name']} {owes} {money(abs(closing), statement.currency)}"
        )

    def print_statement(self) -> PrintPreview | None:
        """Print the statement on screen (its period, the customer's currency) with preview."""
        statement = getattr(self, "statement", None)
        if statement is None:
            return None
        period = Period(statement.start or date.min, statement.end)
        self.preview = print_document(self, self.ctx.session, "statement", self.customer["id"], period=period)
        return self.preview

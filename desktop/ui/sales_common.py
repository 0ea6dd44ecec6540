"""What the sales screens share: customer and tax rate choices, a customer's open balance,
documents and statement read from the local store, and a small read-only table.

The queries here are plain SQL over the local store (no Qt); the one widget is
:class:`RowsTable`, a read-only table filled from a few dozen rows (a statement, a document's
lines) — long lists use :class:`desktop.ui.list_page.ListPage` instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.schema import (
    CommunicationPreference,
    CreditNote,
    Customer,
    Invoice,
    Ledger,
    Payment,
    SalesOrder,
    TaxRate,
)
from desktop.formatting import display
from desktop.lists import Column, live
from desktop.qt import (
    QAbstractItemView,
    QHeaderView,
    QMessageBox,
    QShowEvent,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)
from desktop.session import UserSession
from desktop.ui.list_page import column_width

# Invoices that are owed on: issued to the customer and not settled.
OWED_STATES = ("posted",)
# Invoices that count on a statement: everything issued (a draft is not sent yet).
ISSUED_STATES = ("posted", "paid", "credited")


def customer_choices(session: UserSession) -> list[tuple[str, str]]:
    """Active customers as ``(id, "Name (EUR)")``, by name."""
    t = Customer.__table__.c
    with session.store.read_session() as db:
        rows = db.execute(
            select(t.id, t.name, t.currency)
            .where(live(Customer, session.org_id), t.archived.is_(False), t.erased.is_(False))
            .order_by(t.name)
        ).all()
    return [(row.id, f"{row.name} ({row.currency})") for row in rows]


def ledger_currency_of(session: UserSession) -> str | None:
    """The books' currency (``None`` before the books are set up)."""
    t = Ledger.__table__.c
    with session.store.read_session() as db:
        found = db.execute(
            select(t.currency).where(live(Ledger, session.org_id), t.id == session.org_id)
        ).scalar()
    return str(found) if found is not None else None


RATE_FIELD_HINT = "Units of the books' currency for one unit of the document's currency, that day."


def customer_row(session: UserSession, customer_id: str | None) -> dict[str, Any] | None:
    if not customer_id:
        return None
    t = Customer.__table__.c
    with session.store.read_session() as db:
        table = Customer.__table__
        row = (
            db.execute(select(table).where(t.org_id == session.org_id, t.id == customer_id))
            .mappings()
            .first()
        )
    return dict(row) if row is not None else None


def tax_rates(session: UserSession) -> list[tuple[str, str, Decimal]]:
    """Usable tax rates as ``(id, "VAT20 — 20 %", percent)``, by code."""
    t = TaxRate.__table__.c
    with session.store.read_session() as db:
        rows = db.execute(
            select(t.id, t.code, t.rate)
            .where(live(TaxRate, session.org_id), t.archived.is_(False))
            .order_by(t.code)
        ).all()
    return [
        (row.id, f"{row.code} — {display('quantity', {'r': row.rate}, 'r')} %", Decimal(row.rate))
        for row in rows
    ]


def open_balances(db: Session, org_id: str, customer_ids: Sequence[str]) -> dict[tuple[str, str], int]:
    """What each customer still owes on posted invoices, per ``(customer id, currency)``."""
    i = Invoice.__table__.c
    stmt = (
        select(i.customer_id, i.currency, func.sum(i.total - i.amount_paid - i.amount_credited))
        .where(
            i.org_id == org_id,
            i.deleted.is_(False),
            i.status.in_(OWED_STATES),
            i.customer_id.in_(list(customer_ids)),
        )
        .group_by(i.customer_id, i.currency)
    )
    return {(cid, currency): int(total or 0) for cid, currency, total in db.execute(stmt)}


def opt_outs(db: Session, org_id: str, customer_ids: Sequence[str]) -> dict[str, list[str]]:
    """Per customer, what they opted out of, in words (``E-mail marketing``)."""
    p = CommunicationPreference.__table__.c
    stmt = select(p.subject_id, p.channel, p.purpose).where(
        p.org_id == org_id,
        p.deleted.is_(False),
        p.subject_type == "customer",
        p.opted_out.is_(True),
        p.subject_id.in_(list(customer_ids)),
    )
    found: dict[str, list[str]] = defaultdict(list)
    for subject_id, channel, purpose in db.execute(stmt.order_by(p.channel, p.purpose)):
        found[subject_id].append(f"{CHANNEL_WORDS.get(channel, channel)} {purpose}")
    return found


CHANNEL_WORDS = {"email": "E-mail", "phone": "Phone", "sms": "SMS", "post": "Post"}


@dataclass(frozen=True)
class StatementLine:
    day: date
    kind: str  # Invoice | Credit note | Payment
    number: str
    charge: int  # what it adds to what is owed
    credit: int  # what it takes off
    balance: int  # running balance after it (negative: the customer is in credit)


@dataclass(frozen=True)
class Statement:
    currency: str
    start: date | None
    end: date
    opening: int
    lines: list[StatementLine]

    @property
    def closing(self) -> int:
        return self.lines[-1].balance if self.lines else self.opening


def customer_statement(
    db: Session, org_id: str, customer_id: str, currency: str, start: date | None, end: date
) -> Statement:
    """Issued invoices, credit notes and payments of a customer in ``currency``, in date order,
    with the balance carried from before ``start`` and a running balance."""
    i, n, p = Invoice.__table__.c, CreditNote.__table__.c, Payment.__table__.c
    events: list[tuple[date, int, str, str, int, int]] = []
    row: Any
    for row in db.execute(
        select(i.issue_date, i.number, i.total).where(
            i.org_id == org_id, i.deleted.is_(False), i.customer_id == customer_id,
            i.currency == currency, i.status.in_(ISSUED_STATES), i.issue_date <= end,
        )
    ):  # fmt: skip
        events.append((row.issue_date, 0, "Invoice", row.number, row.total, 0))
    for row in db.execute(
        select(n.issue_date, n.number, n.total).where(
            n.org_id == org_id, n.deleted.is_(False), n.customer_id == customer_id,
            n.currency == currency, n.issue_date <= end,
        )
    ):  # fmt: skip
        events.append((row.issue_date, 1, "Credit note", row.number, 0, row.total))
    for row in db.execute(
        select(p.paid_on, p.reference, p.amount, p.invoice_id).where(
            p.org_id == org_id, p.deleted.is_(False), p.customer_id == customer_id,
            p.currency == currency, p.paid_on <= end,
        )
    ):  # fmt: skip
        events.append((row.paid_on, 2, "Payment", row.reference or "", 0, row.amount))
    events.sort(key=lambda e: (e[0], e[1], e[3]))
    opening = sum(charge - credit for day, _o, _k, _n, charge, credit in events if start and day < start)
    balance, lines = opening, []
    for day, _order, kind, number, charge, credit in events:
        if start is not None and day < start:
            continue
        balance += charge - credit
        lines.append(StatementLine(day, kind, number, charge, credit, balance))
    return Statement(currency, start, end, opening, lines)


def customer_documents(db: Session, org_id: str, customer_id: str) -> list[dict[str, Any]]:
    """Every order, invoice, credit note and payment of a customer, newest first."""
    o, i, n, p = SalesOrder.__table__.c, Invoice.__table__.c, CreditNote.__table__.c, Payment.__table__.c
    rows: list[dict[str, Any]] = []
    row: Any
    for row in db.execute(
        select(o.order_date, o.number, o.status, o.total, o.currency).where(
            live(SalesOrder, org_id), o.customer_id == customer_id
        )
    ):
        rows.append({"day": row.order_date, "kind": "Sales order", "number": row.number, "status": row.status,
                     "amount": row.total, "currency": row.currency})  # fmt: skip
    for row in db.execute(
        select(i.issue_date, i.number, i.status, i.total, i.currency).where(
            live(Invoice, org_id), i.customer_id == customer_id
        )
    ):
        rows.append({"day": row.issue_date, "kind": "Invoice", "number": row.number, "status": row.status,
                     "amount": row.total, "currency": row.currency})  # fmt: skip
    for row in db.execute(
        select(n.issue_date, n.number, n.total, n.currency).where(
            live(CreditNote, org_id), n.customer_id == customer_id
        )
    ):
        rows.append({"day": row.issue_date, "kind": "Credit note", "number": row.number, "status": "issued",
                     "amount": row.total, "currency": row.currency})  # fmt: skip
    for row in db.execute(
        select(p.paid_on, p.reference, p.amount, p.currency, p.method).where(
            live(Payment, org_id), p.customer_id == customer_id
        )
    ):
        rows.append({"day": row.paid_on, "kind": "Payment", "number": row.reference or "", "status": row.method,
                     "amount": row.amount, "currency": row.currency})  # fmt: skip
    rows.sort(key=lambda r: (r["day"], r["kind"]), reverse=True)
    return rows


class RowsTable(QTableWidget):
    """A read-only table of a few rows, each cell shown as its column's kind says."""

    def __init__(self, columns: Sequence[Column], parent: QWidget | None = None) -> None:
        super().__init__(0, len(columns), parent)
        self.columns = list(columns)
        self.rows: list[dict[str, Any]] = []
        self.setHorizontalHeaderLabels([c.title for c in self.columns])
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        for index, column in enumerate(self.columns):
            if column.stretch:
                header.setSectionResizeMode(index, QHeaderView.ResizeMode.Stretch)
            elif column.width:
                header.resizeSection(index, column.width)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        header = self.horizontalHeader()
        for index, column in enumerate(self.columns):  # the fonts are final once shown
            if not column.stretch and column.width:
                header.resizeSection(index, max(header.sectionSize(index), column_width(self, column)))

    def set_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        self.rows = list(rows)
        self.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            for c, column in enumerate(self.columns):
                item = QTableWidgetItem(display(column.kind, row, column.key, column.currency_key))
                if column.numeric:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(r, c, item)

    def text(self, row: int, key: str) -> str:
        item = self.item(row, [c.key for c in self.columns].index(key))
        return item.text() if item is not None else ""

    def current(self) -> dict[str, Any] | None:
        row = self.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) else None


def tell(parent: QWidget, title: str, text: str) -> QMessageBox:
    """A note that does not block (a command's warning: credit limit, customer credit)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle(title)
    box.setText(text)
    box.open()
    return box

"""Receivables aging: what each customer owes as of a date, by days overdue, and a drill-down
from any figure to the invoices that make it up.

Worked out the way ``common.reports.aging`` does (an invoice is open as of a date for its total
less the payments and credit notes dated up to then; its age counts from its due date, else its
issue date; the same buckets), but per invoice and in each invoice's own currency, from the sales
records a sales clerk reads — the ledger's version, in the ledger currency, is Finance's report.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.reports.aging import BUCKETS, bucket_of
from common.schema import CreditNote, Customer, Invoice, Payment
from desktop.formatting import money
from desktop.lists import Column, live
from desktop.modules import page
from desktop.qt import QHBoxLayout, QVBoxLayout, QWidget
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.forms import DateInput
from desktop.ui.sales_common import RowsTable
from desktop.ui.sales_invoice_dialog import InvoiceDialog
from desktop.ui.widgets import PageHeader, label

BUCKET_TITLES = {
    "current": "Not yet due",
    "days_1_30": "1–30 days",
    "days_31_60": "31–60 days",
    "days_61_90": "61–90 days",
    "over_90": "Over 90 days",
}
SUMMARY_COLUMNS = (
    Column("customer", "Customer", stretch=True),
    *(Column(bucket, title, kind="money", width=120) for bucket, title in BUCKET_TITLES.items()),
    Column("total", "Total", kind="money", width=130),
)
INVOICE_COLUMNS = (
    Column("number", "Invoice", width=170),
    Column("customer", "Customer", stretch=True),
    Column("issue_date", "Issued", kind="date", width=110),
    Column("due_date", "Due", kind="date", width=110),
    Column("days", "Days overdue", kind="number", width=110),
    Column("total", "Total", kind="money", width=140),
    Column("open", "Open", kind="money", width=140),
)
ALL_CUSTOMERS = "__all__"


def _settled(db: Session, org_id: str, as_of: date) -> dict[str, int]:
    p, n = Payment.__table__.c, CreditNote.__table__.c
    settled: dict[str, int] = defaultdict(int)
    for invoice_id, amount in db.execute(
        select(p.invoice_id, func.sum(p.amount - p.credit_amount))
        .where(p.org_id == org_id, p.deleted.is_(False), p.paid_on <= as_of)
        .group_by(p.invoice_id)
    ):
        settled[invoice_id] += int(amount or 0)
    for invoice_id, amount in db.execute(
        select(n.invoice_id, func.sum(n.total))
        .where(n.org_id == org_id, n.deleted.is_(False), n.issue_date <= as_of)
        .group_by(n.invoice_id)
    ):
        settled[invoice_id] += int(amount or 0)
    return settled


def open_invoices_as_of(db: Session, org_id: str, as_of: date) -> list[dict[str, Any]]:
    """Every issued invoice with something open on ``as_of``, with its age and bucket."""
    i, c = Invoice.__table__, Customer.__table__
    settled = _settled(db, org_id, as_of)
    stmt = (
        select(
            i.c.id, i.c.number, i.c.customer_id, i.c.currency, i.c.issue_date, i.c.due_date, i.c.total,
            c.c.name.label("customer"),
        )
        .select_from(i)
        .join(c, (c.c.org_id == i.c.org_id) & (c.c.id == i.c.customer_id), isouter=True)
        .where(live(Invoice, org_id), i.c.status != "draft", i.c.issue_date <= as_of)
        .order_by(i.c.due_date, i.c.issue_date, i.c.number)
    )  # fmt: skip
    out = []
    for row in db.execute(stmt).mappings():
        still_open = row["total"] - min(row["total"], settled.get(row["id"], 0))
        if still_open == 0:
            continue
        days = (as_of - (row["due_date"] or row["issue_date"])).days
        out.append({**row, "open": still_open, "days": max(days, 0), "bucket": bucket_of(days)})
    return out


def summarize(invoices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per customer and currency: the open amounts per bucket and their total."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for invoice in invoices:
        key = (invoice["customer_id"], invoice["currency"])
        row = rows.setdefault(
            key,
            {
                "customer_id": key[0],
                "customer": invoice["customer"],
                "currency": key[1],
                **dict.fromkeys(BUCKETS, 0),
                "total": 0,
            },
        )
        row[invoice["bucket"]] += invoice["open"]
        row["total"] += invoice["open"]
    totals: dict[str, dict[str, Any]] = {}
    for row in rows.values():
        total = totals.setdefault(
            row["currency"],
            {
                "customer_id": ALL_CUSTOMERS,
                "customer": "All customers",
                "currency": row["currency"],
                **dict.fromkeys(BUCKETS, 0),
                "total": 0,
            },
        )
        for name in (*BUCKETS, "total"):
            total[name] += row[name]
    ordered = sorted(rows.values(), key=lambda r: (r["currency"], r["customer"] or ""))
    return ordered + [totals[currency] for currency in sorted(totals)]


@page("sales", "receivables_aging", "Receivables aging", position=50)
class ReceivablesAgingPage(QWidget):
    """The aging as of a date; click a figure to see its invoices, double-click one to open it."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.invoices: list[dict[str, Any]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.SPACING * 2)
        layout.setSpacing(theme.SPACING * 2)
        self.header = PageHeader(
            "Receivables aging",
            "What customers owe, by days past the due date. Click a figure to see its invoices.",
        )
        layout.addWidget(self.header)
        bar = QHBoxLayout()
        bar.addWidget(label("As of", "muted"))
        self.as_of = DateInput(optional=False)
        self.as_of.changed.connect(self.reload)
        bar.addWidget(self.as_of)
        bar.addStretch(1)
        layout.addLayout(bar)
        self.summary = RowsTable(SUMMARY_COLUMNS)
        self.summary.cellClicked.connect(self._figure_clicked)
        layout.addWidget(self.summary, 3)
        self.drill_label = label("Click a figure above to see the invoices behind it.", "muted")
        layout.addWidget(self.drill_label)
        self.drill = RowsTable(INVOICE_COLUMNS)
        self.drill.cellDoubleClicked.connect(lambda row, _col: self.open_invoice(row))
        layout.addWidget(self.drill, 2)
        ctx.data_changed.connect(self.refresh)
        self._stale = True

    def activate(self) -> None:
        if self._stale:
            self._stale = False
            self.reload()

    def refresh(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def reload(self) -> None:
        as_of = date.fromisoformat(self.as_of.value())
        with self.ctx.session.store.read_session() as db:
            self.invoices = open_invoices_as_of(db, self.ctx.session.org_id, as_of)
        # an empty bucket shows blank, so the figures stand out
        shown = [
            {k: (None if k in BUCKETS and v == 0 else v) for k, v in row.items()}
            for row in summarize(self.invoices)
        ]
        self.summary.set_rows(shown)
        self.drill.set_rows([])
        self.drill_label.setText("Click a figure above to see the invoices behind it.")

    def drill_down(self, customer_id: str, currency: str, bucket: str | None) -> list[dict[str, Any]]:
        """Show the invoices behind one figure (``bucket=None``: the row's total)."""
        found = [
            inv
            for inv in self.invoices
            if inv["currency"] == currency
            and (customer_id == ALL_CUSTOMERS or inv["customer_id"] == customer_id)
            and (bucket is None or inv["bucket"] == bucket)
        ]
        self.drill.set_rows(found)
        who = "all customers" if customer_id == ALL_CUSTOMERS else (found[0]["customer"] if found else "")
        where = BUCKET_TITLES[bucket].lower() if bucket else "in total"
        total = sum(inv["open"] for inv in found)
        self.drill_label.setText(
            f"{len(found)} invoice{'s' if len(found) != 1 else ''} of {who}, {where}: {money(total, currency)} open"
        )
        return found

    def _figure_clicked(self, row: int, column: int) -> None:
        if not 0 <= row < len(self.summary.rows):
            return
        line = self.summary.rows[row]
        key = SUMMARY_COLUMNS[column].key
        bucket = key if key in BUCKETS else None
        self.drill_down(line["customer_id"], line["currency"], bucket)

    def open_invoice(self, row: int) -> InvoiceDialog | None:
        if not 0 <= row < len(self.drill.rows):
            return None
        i = Invoice.__table__.c
        with self.ctx.session.store.read_session() as db:
            found = (
                db.execute(
                    select(
                        Invoice.__table__, (i.total - i.amount_paid - i.amount_credited).label("open_amount")
                    ).where(i.org_id == self.ctx.session.org_id, i.id == self.drill.rows[row]["id"])
                )
                .mappings()
                .first()
            )
        if found is None:
            return None
        dialog = InvoiceDialog(self, self.ctx, dict(found))
        dialog.open()
        return dialog

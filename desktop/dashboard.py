"""The dashboard's figures from the local store, each behind the fields it reads (no Qt here).

A tile names the stored fields it sums or lists; it is made only when the signed-in user may
read every one of them under the read rules of sync (:func:`common.access.readable_columns`),
and reports only when the user holds the report's permission. A warehouse login therefore
gets stock figures and no sales or finance ones; the store itself only holds what sync sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.access import readable_columns
from common.money import currency_exponent
from common.reports import REPORTS, ReportError, run_report
from common.schema import (
    Account,
    EmployeeDirectory,
    Invoice,
    InvoiceLine,
    JournalBalance,
    LeaveRequest,
    Product,
    Task,
)
from common.stock import low_stock_query
from desktop.formatting import money
from desktop.session import UserSession

OPEN_INVOICE_STATES = ("draft", "cancelled")  # states that are not sales


@dataclass(frozen=True)
class Tile:
    """One dashboard figure: a headline, an optional series for a chart, the page it opens."""

    key: str
    title: str
    headline: str
    series: list[tuple[str, Decimal]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    opens: str | None = None


@dataclass(frozen=True)
class TileSpec:
    key: str
    reads: tuple[str, ...]  # "entity.column" fields, or "report:<name>"
    make: Callable[[Session, UserSession, date, str], Tile]


def _major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-currency_exponent(currency))


def _months_back(today: date, count: int) -> list[str]:
    year, month, found = today.year, today.month, []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(found))


def sales_per_month(db: Session, user: UserSession, today: date, currency: str) -> Tile:
    months = _months_back(today, 6)
    month = func.substr(Invoice.issue_date, 1, 7)  # dates are ISO text in the local store
    rows = db.execute(
        select(month, func.sum(Invoice.total))
        .where(
            Invoice.org_id == user.org_id,
            Invoice.deleted.is_(False),
            Invoice.currency == currency,
            Invoice.status.not_in(OPEN_INVOICE_STATES),
            month >= months[0],
        )
        .group_by(month)
    ).all()
    by_month = {m: int(total or 0) for m, total in rows}
    series = [(m, _major(by_month.get(m, 0), currency)) for m in months]
    return Tile(
        "sales_per_month",
        "Sales per month",
        money(by_month.get(months[-1], 0), currency) + " this month",
        series,
        opens="invoices",
    )


def top_products(db: Session, user: UserSession, today: date, currency: str) -> Tile:
    rows = db.execute(
        select(Product.name, func.sum(InvoiceLine.line_total).label("sold"))
        .join(Product, (Product.org_id == InvoiceLine.org_id) & (Product.id == InvoiceLine.product_id))
        .join(Invoice, (Invoice.org_id == InvoiceLine.org_id) & (Invoice.id == InvoiceLine.invoice_id))
        .where(
            InvoiceLine.org_id == user.org_id,
            InvoiceLine.deleted.is_(False),
            Invoice.currency == currency,
            Invoice.status.not_in(OPEN_INVOICE_STATES),
        )
        .group_by(Product.name)
        .order_by(func.sum(InvoiceLine.line_total).desc())
        .limit(5)
    ).all()
    # A ranked list, not a chart: product names are too long for an axis in a card.
    lines = [
        f"{number}. {name} · {money(int(sold or 0), currency)}" for number, (name, sold) in enumerate(rows, 1)
    ]
    headline = str(rows[0][0]) if rows else "No sales yet"
    return Tile("top_products", "Top products", headline, lines=lines, opens="products")


AGING_LABELS = {
    "current": "Not due",
    "days_1_30": "1–30 days",
    "days_31_60": "31–60 days",
    "days_61_90": "61–90 days",
    "over_90": "Over 90",
}


def receivables_aging(db: Session, user: UserSession, today: date, currency: str) -> Tile:
    made = run_report(db, user.org_id, "ar_aging", {"as_of": today.isoformat()}, user.permissions)
    totals = made["totals"]
    exponent = currency_exponent(made["currency"])

    def shown(amount: str) -> str:
        return money(int(Decimal(amount).scaleb(exponent)), made["currency"])

    # One line per bucket (an axis in a card is too narrow for their names).
    lines = [
        f"{AGING_LABELS.get(key, key)}: {shown(totals[key])}"
        for key in made["columns"]
        if key not in ("name", "total")
    ]
    return Tile(
        "receivables_aging",
        "Receivables aging",
        shown(totals["total"]) + " open",
        lines=lines,
        opens="balance_sheet",  # receivables are on it; a double-click there lists the invoices
    )


def cash_position(db: Session, user: UserSession, today: date, currency: str) -> Tile:
    # Cash and bank are the asset accounts numbered 10xx (the chart every organization starts with).
    # What they hold today, in the currency shown: not a payment dated next week, nor lines of
    # entries from before the books in another currency (the trial balance leaves those out too).
    rows = db.execute(
        select(Account.name, func.sum(JournalBalance.debit - JournalBalance.credit))
        .join(Account, (Account.org_id == JournalBalance.org_id) & (Account.id == JournalBalance.account_id))
        .where(
            JournalBalance.org_id == user.org_id,
            JournalBalance.currency == currency,
            JournalBalance.entry_date <= today,
            Account.type == "asset",
            Account.code.like("10%"),
        )
        .group_by(Account.name)
    ).all()
    total = sum(int(v or 0) for _, v in rows)
    return Tile(
        "cash_position",
        "Cash position",
        money(total, currency),
        lines=[f"{name}: {money(int(v or 0), currency)}" for name, v in rows],
        opens="balance_sheet",
    )


def stock_value(db: Session, user: UserSession, today: date, currency: str) -> Tile:
    try:
        made = run_report(db, user.org_id, "stock_valuation", {}, user.permissions)
        currency = made["currency"]
        value = money(int(Decimal(made["totals"]["value"]).scaleb(currency_exponent(currency))), currency)
    except ReportError:
        value = "—"
    low = db.execute(select(func.count()).select_from(low_stock_query(user.org_id).subquery())).scalar() or 0
    return Tile(
        "stock_value",
        "Stock value",
        value,
        lines=[f"{low} products at or below their reorder point"],
        opens="stock",
    )


def low_stock_tile(db: Session, user: UserSession, today: date, currency: str) -> Tile:
    query = low_stock_query(user.org_id).subquery()
    rows = db.execute(
        select(query.c.sku, query.c.shortfall).order_by(query.c.shortfall.desc()).limit(5)
    ).all()
    count = db.execute(select(func.count()).select_from(query)).scalar() or 0
    return Tile(
        "low_stock",
        "Low stock",
        f"{count} products",
        [(str(sku), Decimal(str(short or 0))) for sku, short in rows],
        opens="low_stock",
    )


def away_today(db: Session, user: UserSession, today: date, currency: str) -> Tile:
    rows = (
        db.execute(
            select(EmployeeDirectory.name)
            .join(
                LeaveRequest,
                (LeaveRequest.org_id == EmployeeDirectory.org_id)
                & (LeaveRequest.employee_id == EmployeeDirectory.id),
            )
            .where(
                LeaveRequest.org_id == user.org_id,
                LeaveRequest.deleted.is_(False),
                LeaveRequest.status == "approved",
                LeaveRequest.start_date <= today,
                LeaveRequest.end_date >= today,
            )
        )
        .scalars()
        .all()
    )
    return Tile("away_today", "Away today", f"{len(rows)} away", lines=sorted(rows), opens="leave_calendar")


def overdue_tasks(db: Session, user: UserSession, today: date, currency: str) -> Tile:
    rows = db.execute(
        select(Task.title, Task.due_date)
        .where(
            Task.org_id == user.org_id,
            Task.deleted.is_(False),
            Task.due_date < today,
            Task.status.not_in(("done", "cancelled")),
        )
        .order_by(Task.due_date)
        .limit(50)
    ).all()
    return Tile(
        "overdue_tasks",
        "Overdue tasks",
        f"{len(rows)} overdue",
        lines=[f"{title} (due {due})" for title, due in rows[:5]],
        opens="task_board",
    )


TILES: tuple[TileSpec, ...] = (
    TileSpec("sales_per_month", ("invoice.total", "invoice.issue_date", "invoice.status"), sales_per_month),
    TileSpec(
        "top_products", ("invoice_line.line_total", "invoice_line.product_id", "product.name"), top_products
    ),
    TileSpec("receivables_aging", ("report:ar_aging",), receivables_aging),
    TileSpec("cash_position", ("journal_entry.lines_json", "account.name"), cash_position),
    TileSpec("stock_value", ("report:stock_valuation", "stock_move.quantity"), stock_value),
    TileSpec("low_stock", ("product.reorder_point", "stock_move.quantity"), low_stock_tile),
    TileSpec(
        "away_today",
        (
            "leave_request.start_date",
            "leave_request.end_date",
            "leave_request.status",
            "employee_directory.name",
        ),
        away_today,
    ),
    TileSpec("overdue_tasks", ("task.title", "task.due_date", "task.status"), overdue_tasks),
)


def may_read(reads: tuple[str, ...], permissions: frozenset[str]) -> bool:
    """True when every field (and report) a tile reads is readable with ``permissions``."""
    for item in reads:
        if item.startswith("report:"):
            if REPORTS[item.removeprefix("report:")][0] not in permissions:
                return False
            continue
        entity, _, column = item.partition(".")
        if column not in readable_columns(entity, permissions):
            return False
    return True


def visible_tiles(permissions: frozenset[str]) -> list[TileSpec]:
    return [spec for spec in TILES if may_read(spec.reads, permissions)]


def dashboard(user: UserSession, today: date) -> list[Tile]:
    """Every tile the user may see, made from the local store (a tile whose data is not there
    yet, like books before the first sync, is left out rather than failing the dashboard)."""
    from desktop.importing import default_currency

    currency = default_currency(user)
    tiles = []
    with user.store.read_session() as db:
        for spec in visible_tiles(user.permissions):
            try:
                tiles.append(spec.make(db, user, today, currency))
            except ReportError:
                continue
    return tiles

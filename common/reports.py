"""Reports computed in SQL: the trial balance and the stock valuation.

Each report is one aggregate query per organization, so it scales with the number of accounts
(or products), not with the number of journal lines or stock moves (DESIGN §9: a trial balance
over a million journal lines within a second). Both sides run them: the desktop on its local
store, the server on the canonical one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from common.money import line_amount
from common.schema import Account, JournalLine, Product
from common.stock import stock_levels


@dataclass(frozen=True)
class TrialBalanceRow:
    """One account's totals in one currency; ``balance`` is debit minus credit."""

    account_id: str
    code: str
    name: str
    type: str
    currency: str
    debit: int
    credit: int

    @property
    def balance(self) -> int:
        return self.debit - self.credit


@dataclass
class TrialBalance:
    as_of: date | None
    rows: list[TrialBalanceRow] = field(default_factory=list)

    def totals(self) -> dict[str, tuple[int, int]]:
        """``{currency: (total debit, total credit)}``; equal per currency when the books balance."""
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for row in self.rows:
            sums[row.currency][0] += row.debit
            sums[row.currency][1] += row.credit
        return {currency: (debit, credit) for currency, (debit, credit) in sorted(sums.items())}

    def is_balanced(self) -> bool:
        return all(debit == credit for debit, credit in self.totals().values())


def trial_balance(session: Session, org_id: str, as_of: date | None = None) -> TrialBalance:
    """Debit and credit totals per account and currency of every posted line up to ``as_of``.

    One query: lines are summed per account and currency (an index-only scan of
    ``ix_journal_line_balance``, which carries the entry date), then joined to the accounts.
    """
    lines = JournalLine.__table__
    where = [lines.c.org_id == org_id, lines.c.deleted.is_(False)]
    if as_of is not None:
        where.append(lines.c.entry_date <= as_of)
    sums = (
        select(
            lines.c.account_id,
            lines.c.currency,
            func.sum(lines.c.debit).label("debit"),
            func.sum(lines.c.credit).label("credit"),
        )
        .where(*where)
        .group_by(lines.c.account_id, lines.c.currency)
        .subquery("sums")
    )
    accounts = Account.__table__
    stmt = (
        select(
            accounts.c.id,
            accounts.c.code,
            accounts.c.name,
            accounts.c.type,
            sums.c.currency,
            sums.c.debit,
            sums.c.credit,
        )
        .select_from(
            sums.join(accounts, and_(accounts.c.org_id == org_id, accounts.c.id == sums.c.account_id))
        )
        .order_by(accounts.c.code, sums.c.currency)
    )
    return TrialBalance(
        as_of=as_of,
        rows=[
            TrialBalanceRow(
                account_id=row.id,
                code=row.code,
                name=row.name,
                type=row.type,
                currency=row.currency,
                debit=int(row.debit or 0),
                credit=int(row.credit or 0),
            )
            for row in session.execute(stmt)
        ],
    )


@dataclass(frozen=True)
class StockValuationRow:
    """Stock of one product in one warehouse, valued at the product's cost price."""

    product_id: str
    sku: str
    name: str
    warehouse_id: str
    quantity: Decimal
    unit_cost: int | None
    currency: str
    value: int | None


def stock_valuation(session: Session, org_id: str) -> list[StockValuationRow]:
    """On-hand stock per product and warehouse with its value at cost (``None`` without a cost
    price). Stock levels come from one aggregate query over the moves."""
    levels = stock_levels(session, org_id)
    if not levels:
        return []
    products = Product.__table__
    columns = (products.c.id, products.c.sku, products.c.name, products.c.cost_price, products.c.currency)
    found = {row.id: row for row in session.execute(select(*columns).where(products.c.org_id == org_id))}
    rows = []
    for (product_id, warehouse_id), quantity in levels.items():
        product = found.get(product_id)
        if product is None or quantity == 0:
            continue
        cost = product.cost_price
        rows.append(
            StockValuationRow(
                product_id=product_id,
                sku=product.sku,
                name=product.name,
                warehouse_id=warehouse_id,
                quantity=quantity,
                unit_cost=cost,
                currency=product.currency,
                value=line_amount(quantity, cost) if cost is not None else None,
            )
        )
    rows.sort(key=lambda r: (r.sku, r.warehouse_id))
    return rows

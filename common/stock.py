"""Stock on hand: always the sum of append-only stock moves (never a stored counter)."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Select,
    bindparam,
    case,
    func,
    literal,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from common.money import scaled_to_quantity
from common.schema import Product, StockMove

# Moves may only be made for these reasons; which warehouse sides each needs is data too.
MOVE_REASONS: dict[str, tuple[bool, bool]] = {
    # reason: (needs from_warehouse, needs to_warehouse); None-able sides are checked in commands
    "receipt": (False, True),
    "issue": (True, False),
    "transfer": (True, True),
    "adjustment": (False, False),  # exactly one side
    "count": (False, False),  # exactly one side: the difference found by a stock count
}
# What each reason is called on screen (the desktop's lists and filters read these).
MOVE_REASON_TITLES: dict[str, str] = {
    "receipt": "Receipt — goods in",
    "issue": "Issue — goods out",
    "transfer": "Transfer between warehouses",
    "count": "Count — record a stock count",
    "adjustment": "Adjustment",
}
# The reasons a person records directly (adjustments come from reversals and imports).
RECORDED_REASONS = ("receipt", "issue", "transfer", "count")


def _signed_moves(org_id: str | BindParameter[str]) -> Select[Any]:
    """Per move and warehouse, the signed scaled quantity (+ into, - out of)."""
    raw_qty = type_coerce(StockMove.__table__.c.quantity, BigInteger)  # scaled integer as stored
    incoming = select(
        StockMove.product_id.label("product_id"),
        StockMove.to_warehouse_id.label("warehouse_id"),
        raw_qty.label("qty"),
    ).where(StockMove.org_id == org_id, StockMove.deleted.is_(False), StockMove.to_warehouse_id.is_not(None))
    outgoing = select(
        StockMove.product_id.label("product_id"),
        StockMove.from_warehouse_id.label("warehouse_id"),
        (literal(0) - raw_qty).label("qty"),
    ).where(
        StockMove.org_id == org_id, StockMove.deleted.is_(False), StockMove.from_warehouse_id.is_not(None)
    )
    return union_all(incoming, outgoing).subquery("signed_moves").select()


def stock_on_hand(session: Session, org_id: str, product_id: str, warehouse_id: str) -> Decimal:
    """Quantity of ``product_id`` in ``warehouse_id`` (may be negative: it is what happened)."""
    table = StockMove.__table__
    qty = type_coerce(table.c.quantity, BigInteger)
    stmt = select(
        func.coalesce(
            func.sum(
                case((table.c.to_warehouse_id == warehouse_id, qty), else_=0)
                - case((table.c.from_warehouse_id == warehouse_id, qty), else_=0)
            ),
            0,
        )
    ).where(
        table.c.org_id == org_id,
        table.c.product_id == product_id,
        table.c.deleted.is_(False),
    )
    return scaled_to_quantity(int(session.execute(stmt).scalar() or 0))


def stock_levels(
    session: Session, org_id: str, product_ids: list[str] | None = None
) -> dict[tuple[str, str], Decimal]:
    """``{(product_id, warehouse_id): quantity}`` for the given products (all when ``None``)."""
    params: dict[str, Any] = {"org_id": org_id}
    if product_ids is not None:
        params["product_ids"] = product_ids
    return {
        (product_id, warehouse_id): scaled_to_quantity(int(total or 0))
        for product_id, warehouse_id, total in session.execute(
            _levels_statement(product_ids is not None), params
        )
    }


@cache
def _levels_statement(of_products: bool) -> Select[Any]:
    """:func:`stock_levels`' statement, built once (a products list asks it for every page it
    shows): the organization and the products are bound parameters, ``org_id`` and
    ``product_ids`` (expanding)."""
    signed = _signed_moves(bindparam("org_id")).subquery()
    stmt = select(signed.c.product_id, signed.c.warehouse_id, func.sum(signed.c.qty)).group_by(
        signed.c.product_id, signed.c.warehouse_id
    )
    if of_products:
        stmt = stmt.where(signed.c.product_id.in_(bindparam("product_ids", expanding=True)))
    return stmt


def on_hand_by_location(org_id: str) -> Select[Any]:
    """``SELECT product_id, warehouse_id, on_hand`` (scaled integer) for every product and
    warehouse that has moves: the query behind stock lists that filter, sort and page in SQL."""
    signed = _signed_moves(org_id).subquery()
    return select(
        signed.c.product_id, signed.c.warehouse_id, func.sum(signed.c.qty).label("on_hand")
    ).group_by(signed.c.product_id, signed.c.warehouse_id)


def low_stock_query(org_id: str) -> Select[Any]:
    """Live, unarchived products at or below their reorder point: ``id, sku, name, unit,
    reorder_point, on_hand`` (scaled integer) and ``shortfall`` (scaled, reorder point − on hand),
    unordered and unlimited, for callers that add their own filter, order and paging."""
    signed = _signed_moves(org_id).subquery()
    totals = (
        select(signed.c.product_id, func.sum(signed.c.qty).label("on_hand"))
        .group_by(signed.c.product_id)
        .subquery()
    )
    table = Product.__table__
    on_hand = func.coalesce(totals.c.on_hand, 0)
    reorder = type_coerce(table.c.reorder_point, BigInteger)
    return (
        select(
            table.c.id,
            table.c.sku,
            table.c.name,
            table.c.unit,
            table.c.reorder_point,
            on_hand.label("on_hand"),
            (reorder - on_hand).label("shortfall"),
        )
        .select_from(table.outerjoin(totals, totals.c.product_id == table.c.id))
        .where(
            table.c.org_id == org_id,
            table.c.deleted.is_(False),
            table.c.archived.is_(False),
            table.c.reorder_point.is_not(None),
            on_hand <= reorder,
        )
    )


def low_stock(session: Session, org_id: str, limit: int = 500) -> list[dict[str, Any]]:
    """Live products whose total stock is at or below their reorder point, lowest first."""
    query = low_stock_query(org_id).subquery()
    stmt = select(query).order_by(
        query.c.on_hand - type_coerce(query.c.reorder_point, BigInteger), query.c.sku
    )
    return [
        {
            "id": row.id,
            "sku": row.sku,
            "name": row.name,
            "unit": row.unit,
            "reorder_point": row.reorder_point,
            "on_hand": scaled_to_quantity(int(row.on_hand)),
        }
        for row in session.execute(stmt.limit(limit))
    ]

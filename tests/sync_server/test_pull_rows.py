"""Snapshot rows written by SQLite itself (``json_object``) carry exactly the general path's values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest
from sqlalchemy import insert

from common.access import readable_entities
from common.ids import new_id
from common.permissions import BUILTIN_ROLES
from common.schema import DataSubjectRequest, Product, StockMove
from common.schema.base import table_of
from common.schema.types import utcnow
from sync_server.pull_rows import row_plan
from sync_server.services import Services

# As sent on the wire (canonical text), stored scaled by 10**6.
QUANTITIES = [
    "0",
    "0.000001",
    "-0.000001",
    "1",
    "-1",
    "2.5",
    "-0.25",
    "-7",
    "0.999999",
    "999999999999.999999",
    "-999999999999.999999",
    "120",
]


@pytest.mark.parametrize("store_kind", ["sqlite"])
def test_sqlite_built_rows_equal_the_general_path(services: Services) -> None:
    store = services.store
    org_id = make_org_row(services)
    now = utcnow()
    base = {"org_id": org_id, "updated_at": now, "updated_by": None, "deleted": False}
    product_ids = [new_id() for _ in QUANTITIES]
    products = [
        {
            **base,
            "id": pid,
            "version": n + 1,
            "sku": f"S-{n}",
            "name": ['Tab\t"quoted" \\ back', "émoji 📦 ünïcode", "plain"][n % 3],
            "description": None if n % 2 else "line one\nline two",
            "barcode": "00123" if n % 2 else None,
            "unit": "pcs",
            "sale_price": -5 if n == 1 else 2**62,
            "cost_price": None,
            "currency": "EUR",
            "reorder_point": None if n == 0 else Decimal(QUANTITIES[n]),
            "archived": bool(n % 2),
        }
        for n, pid in enumerate(product_ids)
    ]
    moves = [
        {
            **base,
            "id": new_id(),
            "version": 100 + n,
            "product_id": product_ids[n],
            "from_warehouse_id": None,
            "to_warehouse_id": None,
            "quantity": Decimal(q),
            "unit_cost": None,
            "currency": None,
            "reason": "count",
            "note": None,
            "reference": None,
            "moved_at": now,
            "negative_stock": n == 3,
            "reverses_move_id": None,
        }
        for n, q in enumerate(QUANTITIES)
    ]
    requests = [
        {
            **base,
            "id": new_id(),
            "version": 200 + n,
            "subject_type": "customer",
            "subject_id": new_id(),
            "kind": "export",
            "status": "completed",
            "requested_at": now,
            "completed_at": None,
            "details": None,
            "outcome": outcome,
        }
        for n, outcome in enumerate([None, {"rows": 3, "note": "ok ✓", "list": [1, None, True]}, [], "text"])
    ]
    with store.session(org_id, write=True) as session:
        session.execute(insert(table_of(Product)), products)
        session.execute(insert(table_of(StockMove)), moves)
        session.execute(insert(table_of(DataSubjectRequest)), requests)
    admin = readable_entities(frozenset(BUILTIN_ROLES["admin"]))
    with store.session(org_id) as session:
        connection = session.connection()
        for entity, count in (
            ("product", len(products)),
            ("stock_move", len(moves)),
            ("data_subject_request", 4),
        ):
            plan = row_plan(entity, admin[entity], connection.dialect)
            assert plan.json_keyset_statement is not None
            built = plan.plain_changes(connection, org_id, "", 1000)
            general = [
                {"entity": entity, "id": row["id"], "op": "upsert", "version": row["version"], "data": row}
                for row in plan.keyset(connection, org_id, "", 1000, None)
            ]
            assert len(built) == len(general) == count
            assert _canonical(built) == _canonical(general), entity
    quantities = [c["data"]["quantity"] for c in _wire(built_moves(store, org_id))]
    assert quantities == QUANTITIES


def built_moves(store: Any, org_id: str) -> list[dict[str, Any]]:
    access = readable_entities(frozenset(BUILTIN_ROLES["warehouse"]))["stock_move"]
    with store.session(org_id) as session:
        connection = session.connection()
        return row_plan("stock_move", access, connection.dialect).plain_changes(connection, org_id, "", 1000)


def _wire(changes: list[dict[str, Any]]) -> Any:
    from sync_server.pull import _default

    return orjson.loads(orjson.dumps(changes, default=_default))


def _canonical(changes: list[dict[str, Any]]) -> bytes:
    """Compared as JSON text: ``true`` is not ``1`` there, as it is in Python."""
    return orjson.dumps(_wire(changes), option=orjson.OPT_SORT_KEYS)


def make_org_row(services: Services) -> str:
    from sync_server import admin_ops

    return admin_ops.create_org(services.store, "Rows")

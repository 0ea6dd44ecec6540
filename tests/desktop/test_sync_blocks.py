"""The sync engine pulls in the ``blocks`` format when the server offers it: the local copy is the
same, row for row, as one pulled in DESIGN §5's ``changes`` format (a full download and what
follows it, tombstones, decimals, dates, nulls, rows read only in part), and a server that does
not know the format gets the ``changes`` requests it always got."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

from common.ids import new_id
from common.money import QUANTITY_SCALE
from common.schema import ENTITIES
from common.wire import WireModel
from desktop.session import UserSession
from desktop.sync import SyncEngine
from sync_server import api as server_api
from sync_server.pull import PullQuery
from tests.desktop.conftest import LiveServer
from tests.desktop.test_sync_engine import FAST, online


def local_rows(session: UserSession) -> dict[str, list[tuple[Any, ...]]]:
    """Every entity table of the local copy, rows in id order."""
    with session.store.engine.connect() as connection:
        return {
            name: [tuple(row) for row in connection.exec_driver_sql(f'SELECT * FROM "{name}" ORDER BY id')]
            for name in ENTITIES
        }


def scaled(quantity: str) -> int:
    return int(Decimal(quantity) * QUANTITY_SCALE)


def sync(session: UserSession, *, blocks: bool) -> SyncEngine:
    engine = SyncEngine(session.store, session.api, session.org_id, policy=FAST, page_limit=3, blocks=blocks)
    engine.run()
    return engine


def test_blocks_and_changes_give_the_same_local_copy(live_server: LiveServer, tmp_path: Path) -> None:
    office = online(tmp_path / "office", live_server, "admin@acme.test")
    people = online(tmp_path / "people", live_server, "hr@acme.test")
    sessions = [office, people]
    try:
        wh, chair, supplier, order, line_a, line_b = (new_id() for _ in range(6))
        for name, args in (
            ("inventory.create_warehouse", {"id": wh, "code": "MAIN", "name": "Main"}),
            (
                "inventory.create_product",
                {
                    "id": chair,
                    "sku": "CHAIR",
                    "name": "Chair",
                    "unit": "pcs",
                    "sale_price": 1999,
                    "currency": "EUR",
                    "reorder_point": "2.5",
                },
            ),
            (
                "inventory.create_product",
                {"id": new_id(), "sku": "DESK", "name": "Desk", "sale_price": 100, "currency": "EUR"},
            ),
            (
                "inventory.record_stock_move",
                {
                    "id": new_id(),
                    "product_id": chair,
                    "to_warehouse_id": wh,
                    "quantity": "0.125",
                    "reason": "receipt",
                },
            ),
            ("inventory.create_supplier", {"id": supplier, "name": "Supplier", "currency": "EUR"}),
            (
                "inventory.create_purchase_order",
                {
                    "id": order,
                    "supplier_id": supplier,
                    "warehouse_id": wh,
                    "lines": [
                        {"id": line_a, "product_id": chair, "quantity": "1.5", "unit_cost": 10},
                        {"id": line_b, "product_id": chair, "quantity": "2", "unit_cost": 10},
                    ],
                },
            ),
        ):
            office.apply(name, args)
        people.apply(
            "hr.create_employee",
            {
                "id": new_id(),
                "name": "Cara Castro",
                "salary": 400000,
                "salary_currency": "EUR",
                "birth_date": "1990-02-28",
            },
        )
        for session in sessions:
            sync(session, blocks=True)
        # The admin reads employees without their sensitive fields: rows read only in part.
        copies = {
            (email, blocks): online(tmp_path / f"{email}-{blocks}", live_server, email)
            for email in ("admin@acme.test", "hr@acme.test")
            for blocks in (True, False)
        }
        sessions.extend(copies.values())
        for (_, blocks), copy in copies.items():
            sync(copy, blocks=blocks)
        for email in ("admin@acme.test", "hr@acme.test"):
            full = local_rows(copies[(email, True)])
            assert full == local_rows(copies[(email, False)]), email
            assert full["employee"], email
        admin = local_rows(copies[("admin@acme.test", True)])
        assert admin["product"] and admin["stock_move"] and admin["purchase_order_line"]
        # What follows a download: an update to a decimal and a null, a line removed (a tombstone).
        office.apply(
            "inventory.update_product",
            {
                "id": chair,
                "changes": {"reorder_point": "0.75", "description": None},
                "base": {"reorder_point": "2.5", "description": None},
            },
        )
        office.apply(
            "inventory.set_purchase_order_lines",
            {
                "id": order,
                "lines": [{"id": line_a, "product_id": chair, "quantity": "3.25", "unit_cost": 10}],
            },
        )
        sync(office, blocks=True)
        for (_, blocks), copy in copies.items():
            engine = sync(copy, blocks=blocks)
            assert engine.blocks is blocks  # the server knows the format: it stays in use
        for email in ("admin@acme.test", "hr@acme.test"):
            after = local_rows(copies[(email, True)])
            assert after == local_rows(copies[(email, False)]), email
        with copies[("admin@acme.test", True)].store.engine.connect() as connection:
            lines = dict(connection.exec_driver_sql("SELECT id, quantity FROM purchase_order_line").all())
            (reorder,) = connection.exec_driver_sql(
                "SELECT reorder_point FROM product WHERE id = ?", (chair,)
            ).one()
        assert set(lines) == {line_a}  # the removed line is gone
        assert (lines[line_a], reorder) == (scaled("3.25"), scaled("0.75"))
    finally:
        for session in sessions:
            session.close()


class PullQueryBeforeBlocks(WireModel):
    """The pull's query as servers before the ``blocks`` format declare it (no ``format``)."""

    cursor: str | None = Field(default=None, min_length=1)
    limit: int = Field(default=2000, ge=1, le=5000)
    schema_version: int | None = Field(default=None, ge=1, le=10_000)

    @property
    def format(self) -> str:
        return "changes"  # what this release's handler reads: the only answer older servers had


def test_a_server_without_the_format_gets_changes_requests(
    live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    office = online(tmp_path / "office", live_server, "admin@acme.test")
    try:
        for sku in ("CHAIR", "DESK", "LAMP", "SOFA"):
            office.apply(
                "inventory.create_product",
                {"id": new_id(), "sku": sku, "name": sku, "sale_price": 1, "currency": "EUR"},
            )
        sync(office, blocks=True)
        parse = server_api.parse_query
        monkeypatch.setattr(
            server_api,
            "parse_query",
            lambda model: parse(PullQueryBeforeBlocks if model is PullQuery else model),
        )
        older = online(tmp_path / "older", live_server, "warehouse@acme.test")
        try:
            engine = sync(older, blocks=True)
            assert engine.blocks is False  # told once (400 naming the format), not asked again
            assert len(local_rows(older)["product"]) == 4
        finally:
            older.close()
    finally:
        office.close()

"""Retention of the change log and tombstones (≥ 90 days), and what it means for old cursors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from common.ids import new_id
from common.schema import ChangeLog, PurchaseOrderLine, Warehouse
from common.schema.types import utcnow
from sync_server.retention import RETENTION_DAYS, PruneReport, prune, prune_organization
from tests.sync_server.conftest import World, mutation, product, warehouse
from tests.sync_server.ops_server import ops_server as cli
from tests.sync_server.ops_server import shell_env as _env
from tests.sync_server.pulling import applied, cursor_of, pull_all, pull_page


def _log(world: World) -> list[int]:
    with world.services.store.session(world.a.id) as db:
        return list(
            db.execute(
                select(ChangeLog.seq).where(ChangeLog.org_id == world.a.id).order_by(ChangeLog.seq)
            ).scalars()
        )


def _ours(world: World, when: timedelta) -> PruneReport:
    return next(r for r in prune(world.services.store, now=utcnow() + when) if r.org_id == world.a.id)


def test_nothing_younger_than_90_days_is_ever_dropped(world: World) -> None:
    email = world.a.email("warehouse")
    applied(world, email, world.a, [product("A"), product("B")])
    assert _ours(world, timedelta(days=89, hours=23)).change_log_rows == 0
    assert _log(world) == [1, 2]
    with (
        pytest.raises(ValueError, match="at least 90 days"),
        world.services.store.session(world.a.id, write=True) as db,
    ):
        prune_organization(db, world.a.id, keep_days=RETENTION_DAYS - 1)
    report = _ours(world, timedelta(days=90, minutes=1))
    assert (report.floor, report.change_log_rows) == (2, 2)
    assert _log(world) == []


def test_a_clock_that_went_backwards_delays_pruning_but_never_drops_a_young_change(world: World) -> None:
    email = world.a.email("warehouse")
    applied(world, email, world.a, [product(f"P{n}") for n in range(4)])
    with world.services.store.session(world.a.id, write=True) as db:
        old = utcnow() - timedelta(days=200)
        db.execute(update(ChangeLog).where(ChangeLog.org_id == world.a.id).values(at=old))
        db.execute(
            update(ChangeLog).where(ChangeLog.org_id == world.a.id, ChangeLog.seq == 2).values(at=utcnow())
        )
    report = _ours(world, timedelta(0))
    assert report.floor == 1
    assert _log(world) == [2, 3, 4]


def test_a_cursor_older_than_the_history_must_resync_and_a_recent_one_goes_on(world: World) -> None:
    email = world.a.email("warehouse")
    applied(world, email, world.a, [product("A"), product("B")])
    old_cursor = pull_all(world, email, world.a).cursor
    snapshot_cursor = pull_page(world, email, world.a, limit=1).get_json()["cursor"]
    assert cursor_of(snapshot_cursor, world.a).in_snapshot
    applied(world, email, world.a, [product("C")])
    recent_cursor = pull_all(world, email, world.a, old_cursor).cursor
    with world.services.store.session(world.a.id, write=True) as db:
        db.execute(update(ChangeLog).values(at=utcnow() - timedelta(days=100)))
    applied(world, email, world.a, [product("D")])
    assert _ours(world, timedelta(0)).floor == 3

    for stale in (old_cursor, snapshot_cursor):
        response = pull_page(world, email, world.a, stale)
        assert response.status_code == 409, response.get_json()
        assert response.get_json()["error"]["details"]["reason"] == "cursor_expired"
    later = pull_all(world, email, world.a, recent_cursor)
    assert [c["data"]["sku"] for c in later.changes] == ["D"]


def test_old_unreferenced_tombstones_go_and_referenced_ones_stay(world: World) -> None:
    email = world.a.email("admin")
    wh, chair, gone_wh = warehouse(), product("CHAIR"), warehouse("GONE")
    supplier, order, kept_line, dropped_line = new_id(), new_id(), new_id(), new_id()
    line = {"product_id": chair["args"]["id"], "unit_cost": 10}
    applied(
        world,
        email,
        world.a,
        [
            wh,
            gone_wh,
            chair,
            mutation("inventory.create_supplier", id=supplier, name="S", currency="EUR"),
            mutation(
                "inventory.create_purchase_order",
                id=order,
                supplier_id=supplier,
                warehouse_id=wh["args"]["id"],
                lines=[
                    {"id": kept_line, "quantity": "1", **line},
                    {"id": dropped_line, "quantity": "2", **line},
                ],
            ),
            mutation(
                "inventory.set_purchase_order_lines",
                id=order,
                lines=[{"id": kept_line, "quantity": "1", **line}],
            ),
            mutation(
                "inventory.record_stock_move",
                id=new_id(),
                product_id=chair["args"]["id"],
                to_warehouse_id=gone_wh["args"]["id"],
                quantity="1",
                reason="receipt",
            ),
        ],
    )
    # No command deletes warehouses yet: a tombstone still referenced by a stock move, made here.
    with world.services.store.session(world.a.id, write=True) as db:
        db.execute(update(Warehouse).where(Warehouse.id == gone_wh["args"]["id"]).values(deleted=True))
    report = _ours(world, timedelta(days=91))
    assert report.tombstones == 1
    with world.services.store.session(world.a.id) as db:
        lines = set(db.execute(select(PurchaseOrderLine.id)).scalars())
        warehouses = db.execute(select(func.count()).select_from(Warehouse)).scalar()
    assert lines == {kept_line}
    assert warehouses == 2


@pytest.mark.parametrize("store_kind", ["sqlite"])
def test_ops_server_prune(world: World, tmp_path: Path) -> None:
    data_dir = world.services.config.data_dir
    world.services.store.dispose()
    env = _env(data_dir)
    done = cli(env, "prune")
    assert done.returncode == 0, done.stderr
    assert world.a.id in done.stdout and "dropped 0 change-log rows" in done.stdout
    refused = cli(env, "prune", "--days", "30")
    assert refused.returncode == 2 and "at least 90" in refused.stderr

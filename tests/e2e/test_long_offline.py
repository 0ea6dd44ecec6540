"""A workstation offline for 90 days with thousands of pending commands catches up incrementally; a
copy older than the retained change history downloads a fresh copy and keeps its pending commands.

The catch-up here is sized to cross every boundary the sync has: several push batches and more
than one pull page. Its full size (200,000 changes in, 20,000 commands out, DESIGN §9) is
``bench_sync``'s row, not a test's."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from common.ids import new_id
from common.schema import ChangeLog, StockMove
from common.schema.types import utcnow
from common.wire import MAX_PULL_LIMIT, MAX_PUSH_MUTATIONS
from sync_server.retention import prune
from tests.e2e.conftest import Client, ClientFactory, Server
from tests.e2e.scenario import by_id, create_product, create_warehouse, rename

# More than one pull page and five push batches (6,000 with today's limits).
OFFLINE_COMMANDS = MAX_PULL_LIMIT + MAX_PUSH_MUTATIONS


def record_moves(client: Client, products: list[str], warehouse: str, count: int) -> None:
    """``count`` stock moves made offline, committed in large local transactions."""
    store, session = client.store, client.session
    for start in range(0, count, 2000):
        with store.write_session() as db:
            for n in range(start, min(count, start + 2000)):
                store.apply(
                    "inventory.record_stock_move",
                    {
                        "id": new_id(),
                        "product_id": products[n % len(products)],
                        "to_warehouse_id": warehouse,
                        "quantity": "1",
                        "reason": "receipt",
                    },
                    actor_id=session.user.id,
                    permissions=session.permissions,
                    session=db,
                )


def server_count(server: Server, model: type) -> int:
    with server.services.store.session(server.a.id) as db:
        return int(db.execute(select(func.count()).select_from(model)).scalar() or 0)


def test_ninety_days_offline_with_thousands_pending_catches_up_without_a_reset(
    clients: ClientFactory, server: Server
) -> None:
    assert OFFLINE_COMMANDS > MAX_PULL_LIMIT and OFFLINE_COMMANDS >= 5 * MAX_PUSH_MUTATIONS
    office = clients("admin@acme.test")
    main = create_warehouse(office)
    products = [create_product(office, f"SKU-{n}", f"Item {n}") for n in range(20)]
    office.sync()
    depot = clients("warehouse@acme.test")
    depot.sync()
    went_offline = utcnow()

    record_moves(depot, products, main, OFFLINE_COMMANDS)
    assert depot.store.pending_count() == OFFLINE_COMMANDS
    for n, product in enumerate(products[:10]):
        rename(office, product, f"Renamed {n}", f"Item {n}")
    office.sync()

    # 90 days later the server prunes its history: nothing since the depot went offline goes.
    (report,) = [
        r
        for r in prune(server.services.store, now=went_offline + timedelta(days=90))
        if r.org_id == server.a.id
    ]
    assert report.floor > 0 and report.change_log_rows > 0
    assert server_count(server, ChangeLog) > 0

    caught_up = depot.sync()
    assert not caught_up.resynced
    assert (caught_up.pushed, caught_up.applied) == (OFFLINE_COMMANDS, OFFLINE_COMMANDS)
    assert depot.outbox_count() == 0
    assert server_count(server, StockMove) == OFFLINE_COMMANDS
    names = {p["id"]: p["name"] for p in depot.rows("product")}
    assert names[products[3]] == "Renamed 3" and names[products[15]] == "Item 15"
    office.sync()
    assert office.snapshot() == depot.snapshot()


def test_a_copy_older_than_the_history_downloads_afresh_and_keeps_its_outbox(
    clients: ClientFactory, server: Server
) -> None:
    office = clients("admin@acme.test")
    main = create_warehouse(office)
    chair = create_product(office, "CHAIR", "Chair")
    office.sync()
    depot = clients("warehouse@acme.test")
    depot.sync()
    went_offline = utcnow()
    record_moves(depot, [chair], main, 3)
    rename(office, chair, "Oak chair", "Chair")
    office.sync()

    prune(server.services.store, now=went_offline + timedelta(days=91, minutes=5))

    report = depot.sync()
    assert report.resynced
    assert report.applied == 3 and depot.outbox_count() == 0
    assert by_id(depot.rows("product"))[chair]["name"] == "Oak chair"
    assert len(depot.rows("stock_move")) == 3
    office.sync()
    assert office.snapshot() == depot.snapshot()

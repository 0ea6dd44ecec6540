"""Two workstations of one organization work offline, sync in either order and end up identical;
a workstation of another organization never sees any of it."""

from __future__ import annotations

import pytest

from common.schema import ENTITIES
from tests.e2e.conftest import ClientFactory, Server
from tests.e2e.scenario import by_id, create_product, create_warehouse, receive, rename


@pytest.mark.parametrize(
    ("store_kind", "order"),
    [("sqlite", "office_first"), ("sqlite", "warehouse_first"), ("postgres", "warehouse_first")],
)
def test_offline_edits_converge_in_either_order(clients: ClientFactory, server: Server, order: str) -> None:
    office = clients("admin@acme.test")
    depot = clients("warehouse@acme.test")
    main = create_warehouse(office, "MAIN")
    chair = create_product(office, "CHAIR", "Chair")
    lamp = create_product(office, "LAMP", "Lamp")
    receive(office, chair, main, "10")
    office.sync()
    depot.sync()
    assert by_id(depot.rows("product")).keys() == {chair, lamp}

    # Offline on both sides: different fields of one product, new rows, stock moves.
    rename(office, chair, "Oak chair", "Chair")
    rename(depot, chair, "25", None, field="reorder_point")
    east = create_warehouse(depot, "EAST")
    table = create_product(depot, "TABLE", "Table")
    receive(depot, table, east, "3")
    receive(depot, chair, main, "5.5")
    desk = create_product(office, "DESK", "Desk")
    receive(office, desk, main, "2")

    first, second = (office, depot) if order == "office_first" else (depot, office)
    first.sync()
    second.sync()
    first.sync()  # picks up what the second one sent

    for client in (office, depot):
        assert client.outbox_count() == 0
    assert office.snapshot() == depot.snapshot()
    products = by_id(office.rows("product"))
    assert products.keys() == {chair, lamp, table, desk}
    merged = products[chair]
    assert merged["name"] == "Oak chair"  # the office's field
    assert str(merged["reorder_point"]) == "25"  # the warehouse's field of the same record
    assert len(office.rows("stock_move")) == 4
    assert {w["code"] for w in office.rows("warehouse")} == {"MAIN", "EAST"}

    # Every row's version is the server's change sequence: identical to the server's own copy.
    with server.services.store.session(server.a.id) as db:
        from sqlalchemy import select

        from common.schema import Product

        server_versions = dict(db.execute(select(Product.id, Product.version)).all())
    assert {p["id"]: p["version"] for p in products.values()} == server_versions

    outsider = clients("admin@globex.test", server.b)
    outsider.sync()
    seen = outsider.snapshot()
    assert all(not seen[entity] for entity in ENTITIES), "another organization's rows reached Globex"


def test_a_second_sync_with_nothing_new_changes_nothing(clients: ClientFactory) -> None:
    office = clients("admin@acme.test")
    create_product(office, "CHAIR")
    office.sync()
    before = office.snapshot()
    report = office.sync()
    assert (report.pushed, report.pulled) == (0, 0)
    assert office.snapshot() == before

"""A workstation whose clock is a day off syncs normally: the server orders changes by its own
change sequence, never by a client's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from common.ids import new_id
from common.schema.types import utcnow
from tests.e2e.conftest import Client, ClientFactory
from tests.e2e.scenario import by_id


def apply_at(client: Client, when: datetime, command: str, **args: Any) -> None:
    client.session.apply(command, args, now=when)


def test_clients_a_day_ahead_and_a_day_behind_sync_normally(clients: ClientFactory) -> None:
    ahead = clients("admin@acme.test")
    behind = clients("warehouse@acme.test")
    tomorrow, yesterday = utcnow() + timedelta(days=1), utcnow() - timedelta(days=1)

    chair, main = new_id(), new_id()
    apply_at(ahead, tomorrow, "inventory.create_warehouse", id=main, code="MAIN", name="Main")
    apply_at(
        ahead,
        tomorrow,
        "inventory.create_product",
        id=chair,
        sku="C",
        name="Chair",
        sale_price=1,
        currency="EUR",
    )
    assert by_id(ahead.rows("product"))[chair]["updated_at"] > utcnow() + timedelta(hours=12)
    ahead.sync()
    behind.sync()

    # The one behind edits after the one ahead, with timestamps a day older: still applied.
    apply_at(
        behind,
        yesterday,
        "inventory.update_product",
        id=chair,
        changes={"name": "Stool"},
        base={"name": "Chair"},
    )
    apply_at(
        behind,
        yesterday,
        "inventory.record_stock_move",
        id=new_id(),
        product_id=chair,
        to_warehouse_id=main,
        quantity="4",
        reason="receipt",
    )
    report = behind.sync()
    assert (report.applied, report.rejected, report.conflicts) == (2, 0, 0)
    ahead.sync()
    apply_at(
        ahead,
        tomorrow,
        "inventory.update_product",
        id=chair,
        changes={"name": "Bench"},
        base={"name": "Stool"},
    )
    ahead.sync()
    behind.sync()

    assert ahead.snapshot() == behind.snapshot()
    product = by_id(behind.rows("product"))[chair]
    assert product["name"] == "Bench"
    # Stamped by the server's clock, not the clients'.
    stamp = (
        datetime.fromisoformat(product["updated_at"])
        if isinstance(product["updated_at"], str)
        else product["updated_at"]
    )
    assert abs(stamp.astimezone(UTC) - utcnow()) < timedelta(minutes=10)
    assert len(behind.rows("stock_move")) == 1

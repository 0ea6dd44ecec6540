"""Resolving rejected and conflicting outbox entries, on real entries in a real encrypted store."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from common.commands import CommandError
from common.ids import new_id
from common.schema import OutboxEntry, Product
from common.wire import row_to_wire
from desktop.attention import ResolutionError, attention_count, attention_items, keep_server, reapply_mine
from desktop.rows import WRITERS
from desktop.session import UserSession, may_have_unsynced


def product_row(session: UserSession, product_id: str) -> dict[str, Any] | None:
    with session.store.read_session() as db:
        row = (
            db.execute(select(*Product.__table__.columns).where(Product.id == product_id)).mappings().first()
        )
    return dict(row) if row else None


def create_product(session: UserSession, sku: str = "CHAIR-1", name: str = "Chair") -> tuple[str, str]:
    product_id = new_id()
    entry_id, _ = session.apply(
        "inventory.create_product",
        {"id": product_id, "sku": sku, "name": name, "sale_price": 1000, "currency": "EUR"},
    )
    return product_id, entry_id


def confirm_by_server(session: UserSession, entry_id: str, product_id: str, version: int) -> None:
    """What a sync does when the server applied a command: the entry goes, the row gets a version."""
    with session.store.write_session() as db:
        db.execute(OutboxEntry.__table__.delete().where(OutboxEntry.id == entry_id))
        db.execute(update(Product).where(Product.id == product_id).values(version=version))


def mark(session: UserSession, entry_id: str, **values: Any) -> None:
    with session.store.write_session() as db:
        session.store.mark(db, entry_id, **values)


def rename_with_conflict(session: UserSession, product_id: str, server_name: str) -> str:
    entry_id, _ = session.apply(
        "inventory.update_product", {"id": product_id, "changes": {"name": "Mine"}, "base": {"name": "Chair"}}
    )
    mark(
        session,
        entry_id,
        status="conflict",
        code="conflict",
        message="name changed on the server since you read it",
        server_values={"name": server_name},
    )
    return entry_id


def test_rejected_entries_are_listed_with_their_reason(session: UserSession) -> None:
    _, entry_id = create_product(session)
    assert attention_items(session) == []
    mark(session, entry_id, status="rejected", code="invalid", message="sku: 'CHAIR-1' is already used")
    (item,) = attention_items(session)
    assert item.status == "rejected" and item.message == "sku: 'CHAIR-1' is already used"
    assert item.summary == "New product"
    assert not item.can_reapply
    assert attention_count(session) == 1


def test_keep_the_servers_undoes_a_refused_create_and_drops_the_entry(session: UserSession) -> None:
    product_id, entry_id = create_product(session)
    mark(session, entry_id, status="rejected", code="invalid", message="sku: already used")
    keep_server(session, entry_id)
    assert product_row(session, product_id) is None
    assert session.store.outbox() == []
    assert not may_have_unsynced(session.root, session.profile)


def test_keep_the_servers_on_a_conflict_shows_the_servers_values(session: UserSession) -> None:
    product_id, created = create_product(session)
    confirm_by_server(session, created, product_id, version=5)
    entry_id = rename_with_conflict(session, product_id, "Server chair")
    assert product_row(session, product_id)["name"] == "Mine"  # type: ignore[index]
    keep_server(session, entry_id)
    row = product_row(session, product_id)
    assert row is not None and row["name"] == "Server chair" and row["version"] == 5
    assert attention_items(session) == []


def test_keep_the_servers_never_overwrites_a_row_the_server_sent_since(session: UserSession) -> None:
    product_id, created = create_product(session)
    confirm_by_server(session, created, product_id, version=5)
    entry_id = rename_with_conflict(session, product_id, "Server chair")
    newer = {**row_to_wire(product_row(session, product_id) or {}), "name": "Renamed again", "version": 9}
    with session.store.write_session() as db:
        WRITERS["product"].upsert(db.connection(), [newer])  # as a pull writes it
    keep_server(session, entry_id)
    row = product_row(session, product_id)
    assert row is not None and row["name"] == "Renamed again" and row["version"] == 9


def test_reapply_mine_sends_my_change_based_on_the_servers_values(session: UserSession) -> None:
    product_id, created = create_product(session)
    confirm_by_server(session, created, product_id, version=5)
    entry_id = rename_with_conflict(session, product_id, "Server chair")
    (item,) = attention_items(session)
    assert item.can_reapply
    assert item.changed_fields() == [
        {"field": "name", "mine": "Mine", "base": "Chair", "server": "Server chair"}
    ]
    new_entry = reapply_mine(session, entry_id)
    (pending,) = session.store.outbox()
    assert pending["id"] == new_entry != entry_id
    assert pending["status"] == "pending" and pending["name"] == "inventory.update_product"
    assert pending["args"] == {
        "id": product_id,
        "changes": {"name": "Mine"},
        "base": {"name": "Server chair"},
    }
    assert product_row(session, product_id)["name"] == "Mine"  # type: ignore[index]
    # if the server refuses the new one too, undoing it shows the server's values
    mark(session, new_entry, status="rejected", code="forbidden", message="no")
    keep_server(session, new_entry)
    assert product_row(session, product_id)["name"] == "Server chair"  # type: ignore[index]


def test_reapply_is_only_for_conflicting_field_changes(session: UserSession) -> None:
    _, entry_id = create_product(session)
    mark(session, entry_id, status="rejected", code="invalid", message="sku: already used")
    with pytest.raises(ResolutionError, match="only a conflicting change"):
        reapply_mine(session, entry_id)
    (pending_id,) = [e["id"] for e in session.store.outbox()]
    mark(session, pending_id, status="pending")
    with pytest.raises(ResolutionError, match="still waiting to be sent"):
        keep_server(session, pending_id)


def test_a_reapply_that_cannot_be_done_keeps_the_entry_listed(session: UserSession) -> None:
    product_id, created = create_product(session)
    confirm_by_server(session, created, product_id, version=3)
    entry_id = rename_with_conflict(session, product_id, "Server chair")
    with session.store.write_session() as db:
        WRITERS["product"].delete(db.connection(), session.org_id, [product_id])  # a pulled delete
    with pytest.raises(ResolutionError, match="no longer on this computer"):
        reapply_mine(session, entry_id)
    assert [i.id for i in attention_items(session)] == [entry_id]
    keep_server(session, entry_id)
    assert attention_items(session) == [] and product_row(session, product_id) is None


def test_a_reapply_the_command_refuses_keeps_the_entry_listed(session: UserSession) -> None:
    product_id, created = create_product(session, sku="A-1")
    confirm_by_server(session, created, product_id, version=3)
    entry_id, _ = session.apply(
        "inventory.update_product", {"id": product_id, "changes": {"sku": "A-2"}, "base": {"sku": "A-1"}}
    )
    mark(
        session,
        entry_id,
        status="conflict",
        code="conflict",
        message="sku changed",
        server_values={"sku": "A-9"},
    )
    other = {
        **row_to_wire(product_row(session, product_id) or {}),
        "id": new_id(),
        "sku": "A-2-NEW",
        "version": 4,
    }
    with session.store.write_session() as db:
        WRITERS["product"].upsert(db.connection(), [other])
        db.execute(update(Product).where(Product.id == product_id).values(sku="A-9"))
        db.execute(update(Product).where(Product.id == other["id"]).values(sku="A-2"))  # pulled: A-2 is taken
    with pytest.raises(CommandError) as refused:
        reapply_mine(session, entry_id)
    assert refused.value.field == "changes.sku"
    assert [i.id for i in attention_items(session)] == [entry_id]
    assert product_row(session, product_id)["sku"] == "A-9"  # type: ignore[index]

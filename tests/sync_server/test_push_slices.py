"""A push applied in slices: fair tenants, retries between slices, the optimistic first try.

Fair tenants: one organization's large push never holds another organization's push for longer
than a slice (DESIGN §9). Observed by the order of events, never by timing.

The big push is held inside its first slice, with its organization's write lock taken, until
the other tenant's push is either waiting its turn (embedded store: one writer at a time) or
done (PostgreSQL: writers of different organizations never wait for each other).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from common.commands.fields import Args, Id
from common.commands.framework import REGISTRY, CommandContext, command, invalid
from common.heap import bursts_paused
from common.ids import new_id
from common.journal_lines import decode_lines
from common.schema import (
    SCHEMA_VERSION,
    AuditEvent,
    ChangeLog,
    JournalEntry,
    JournalLine,
    ProductCost,
    StockMove,
    Warehouse,
)
from common.wire import Mutation
from sync_server import writes
from sync_server.audit import verify_chain
from sync_server.store import Store
from tests.sync_server.conftest import World, mutation, product, set_up_books, warehouse

DEADLINE_S = 60


def _poll(condition: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.01)  # polling another thread's progress, with a deadline


def _push(app: Flask, world: World, email: str, org_id: str, mutations: list[dict[str, Any]]) -> Any:
    body = {"client_id": "fairness", "schema_version": SCHEMA_VERSION, "mutations": mutations}
    with app.test_client() as client:  # one client per thread
        return client.post(f"/api/v1/orgs/{org_id}/sync/push", json=body, headers=world.headers(email))


def test_a_small_push_goes_between_the_slices_of_a_large_one(
    world: World, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    store: Store = world.services.store
    big_org, small_org = world.a, world.b
    big_batch = [warehouse(f"W{n:03d}") for n in range(writes.EMBEDDED_SLICE * 3)]
    small_batch = [warehouse("ONE")]
    big_email, small_email = big_org.email("warehouse"), small_org.email("warehouse")
    world.headers(big_email), world.headers(small_email)  # sign in before the race starts

    events: list[tuple[str, str]] = []
    big_holds_lock = threading.Event()
    small_done = threading.Event()
    held_once = False
    real_lock = writes.lock_organization

    def lock_and_maybe_hold(session: Any, org_id: str) -> writes.WriteLock:
        nonlocal held_once
        found = real_lock(session, org_id)
        who = "big" if org_id == big_org.id else "small"
        events.append((who, "locked"))
        if who == "big" and not held_once:
            held_once = True
            big_holds_lock.set()
            if store.writer_turns is not None:
                # Embedded store: hold the first slice until the small push waits for its turn.
                turns = store.writer_turns
                _poll(lambda: turns.waiting >= 1, "the small push waiting for its turn")
            else:
                # PostgreSQL: the small push must get through while the big one holds its lock.
                assert small_done.wait(DEADLINE_S), "the small push waited for another organization's lock"
        return found

    monkeypatch.setattr(writes, "lock_organization", lock_and_maybe_hold)
    answers: dict[str, Any] = {}

    def big() -> None:
        answers["big"] = _push(app, world, big_email, big_org.id, big_batch)

    def small() -> None:
        answers["small"] = _push(app, world, small_email, small_org.id, small_batch)
        events.append(("small", "answered"))
        small_done.set()

    big_thread = threading.Thread(target=big)
    big_thread.start()
    assert big_holds_lock.wait(DEADLINE_S)
    small_thread = threading.Thread(target=small)
    small_thread.start()
    small_thread.join(DEADLINE_S)
    big_thread.join(DEADLINE_S)
    assert not small_thread.is_alive() and not big_thread.is_alive()

    # The small tenant went right after the big push's first slice (embedded store), or while
    # it was still in it (PostgreSQL); the big push's other slices came after.
    slices = len(big_batch) // writes.EMBEDDED_SLICE if store.writer_turns is not None else 1
    assert events[0] == ("big", "locked")
    assert events[1:3] == [("small", "locked"), ("small", "answered")]
    assert events[3:] == [("big", "locked")] * (slices - 1)

    # Each push answered exactly as if it had been alone: every command, in order.
    assert answers["small"].status_code == 200
    assert [r["status"] for r in answers["small"].get_json()["results"]] == ["applied"]
    assert answers["big"].status_code == 200
    results = answers["big"].get_json()["results"]
    assert [r["id"] for r in results] == [m["id"] for m in big_batch]
    assert {r["status"] for r in results} == {"applied"}


def test_a_batch_cut_off_between_slices_is_safe_to_send_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store failure in the second slice: the first slice stays committed, and sending the
    whole batch again answers it ``duplicate`` and applies the rest, once."""
    org = world.a
    email = org.email("warehouse")
    batch = [warehouse(f"C{n:03d}") for n in range(writes.EMBEDDED_SLICE + 10)]
    real_apply = writes.apply_mutations
    calls = 0

    def fail_second_slice(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionError("the store went away")
        return real_apply(*args, **kwargs)

    user = org.users["warehouse"]
    perms = frozenset({"inventory.read", "inventory.write"})
    mutations = [Mutation.model_validate(m) for m in batch]
    monkeypatch.setattr(writes, "apply_mutations", fail_second_slice)
    with pytest.raises(ConnectionError):
        writes.apply_in_slices(
            world.services.store, org.id, user, None, perms, mutations, slice_size=writes.EMBEDDED_SLICE
        )
    monkeypatch.setattr(writes, "apply_mutations", real_apply)
    again = world.push(email, org, batch)
    assert again.status_code == 200
    statuses = [r["status"] for r in again.get_json()["results"]]
    assert statuses == ["duplicate"] * writes.EMBEDDED_SLICE + ["applied"] * 10


@pytest.fixture
def refused_after_writing() -> Iterator[str]:
    """A command that renames a warehouse, then refuses (a CommandError after a write)."""

    class HalfArgs(Args):
        id: Id
        warehouse_id: Id

    @command("inventory.test_refuse_late", args=HalfArgs, permission="inventory.write")
    def refuse_late(ctx: CommandContext, args: HalfArgs) -> None:
        ctx.update(Warehouse, args.warehouse_id, {"name": "renamed by a refused command"})
        raise invalid("warehouse_id", "refused after writing")

    yield "inventory.test_refuse_late"
    REGISTRY.pop("inventory.test_refuse_late", None)


def test_a_command_refused_after_it_wrote_leaves_nothing_and_the_rest_applies_once(
    world: World, refused_after_writing: str
) -> None:
    """Applied without savepoints first, the slice meets a refusal after a write: it is rolled
    back and applied again with savepoints; every other command is applied exactly once."""
    first, second = warehouse("A"), warehouse("B")
    late = mutation(refused_after_writing, id=new_id(), warehouse_id=first["args"]["id"])
    early_refusal = mutation("inventory.create_warehouse", id=new_id(), code="A", name="clash")
    response = world.push(world.a.email("warehouse"), world.a, [first, early_refusal, late, second])
    assert [r["status"] for r in response.get_json()["results"]] == [
        "applied",
        "rejected",
        "rejected",
        "applied",
    ]
    with world.services.store.session(world.a.id) as session:
        names = sorted(session.execute(select(Warehouse.name)).scalars())
        log = session.execute(select(ChangeLog.seq).order_by(ChangeLog.seq)).scalars().all()
        events = session.execute(select(AuditEvent.entity_id).where(AuditEvent.entity == "warehouse")).all()
    assert names == ["Warehouse A", "Warehouse B"]
    assert log == [1, 2]  # gapless: the replay consumed no sequence twice
    assert len(events) == 2


def test_rows_inserted_and_changed_in_one_batch_are_stored_as_each_command_left_them(world: World) -> None:
    """A batch that creates a warehouse and renames it, creates a product and receives it three
    times (its cost row updated by each receipt): every command applied, the store holds the
    last values, one change-log row per write and an audit chain that verifies."""
    org = world.a
    set_up_books(world, org)
    site, item = warehouse("A"), product("SKU-A")
    site_id, item_id = site["args"]["id"], item["args"]["id"]
    rename = mutation(
        "inventory.update_warehouse",
        id=site_id,
        changes={"name": "Renamed in the same push"},
        base={"name": "Warehouse A"},
    )
    receipts = [
        mutation(
            "inventory.record_stock_move",
            id=new_id(),
            product_id=item_id,
            to_warehouse_id=site_id,
            quantity="2.5",
            unit_cost=100 * n,
            reason="receipt",
        )
        for n in (1, 2, 3)
    ]
    with world.services.store.session(org.id) as session:
        before = session.execute(select(ChangeLog.seq)).scalars().all()
    response = world.push(org.email("warehouse"), org, [site, rename, item, *receipts])
    assert [r["status"] for r in response.get_json()["results"]] == ["applied"] * 6
    with world.services.store.session(org.id) as session:
        stored = session.execute(
            select(Warehouse.name, Warehouse.version).where(Warehouse.id == site_id)
        ).one()
        cost = session.execute(
            select(ProductCost.quantity, ProductCost.value, ProductCost.version).where(
                ProductCost.id == item_id
            )
        ).one()
        moves = (
            session.execute(select(StockMove.quantity).where(StockMove.product_id == item_id)).scalars().all()
        )
        logged = session.execute(select(ChangeLog.seq).order_by(ChangeLog.seq)).scalars().all()
        # The receipts' journal entries carry their lines (lines_json, revision 0019): a line's
        # version is its entry's, a sequence number with a change-log row.
        entries = session.execute(select(JournalEntry.version, JournalEntry.lines_json)).all()
        lines = session.execute(select(JournalLine.version)).scalars().all()
        _, problem = verify_chain(session, org.id)
    assert stored.name == "Renamed in the same push"
    assert cost.quantity == Decimal("7.5")
    assert cost.value == 250 + 500 + 750  # 2.5 units at 1.00, 2.00 and 3.00
    assert sorted(moves) == [Decimal("2.5")] * 3
    assert len(entries) == 3 and len(lines) == sum(len(decode_lines(e.lines_json)) for e in entries) >= 6
    assert set(lines) == {e.version for e in entries} <= set(logged)
    new = logged[len(before) :]
    assert new == list(range(len(before) + 1, len(logged) + 1))  # gapless, none consumed twice
    assert {stored.version, cost.version} <= set(new)
    assert problem is None


def test_an_id_taken_in_the_store_or_earlier_in_the_batch_is_refused_and_the_rest_applied(
    world: World,
) -> None:
    org = world.a
    first = warehouse("A")
    assert world.push(org.email("warehouse"), org, [first]).get_json()["results"][0]["status"] == "applied"
    second = warehouse("B")
    again_in_store = mutation("inventory.create_warehouse", id=first["args"]["id"], code="X", name="X")
    again_in_batch = mutation("inventory.create_warehouse", id=second["args"]["id"], code="Y", name="Y")
    third = warehouse("C")
    response = world.push(org.email("warehouse"), org, [again_in_store, second, again_in_batch, third])
    results = response.get_json()["results"]
    assert [(r["status"], r.get("code")) for r in results] == [
        ("rejected", "invalid"),
        ("applied", None),
        ("rejected", "invalid"),
        ("applied", None),
    ]
    with world.services.store.session(org.id) as session:
        codes = sorted(session.execute(select(Warehouse.code)).scalars())
        events = session.execute(select(AuditEvent.entity_id).where(AuditEvent.entity == "warehouse")).all()
    assert codes == ["A", "B", "C"]
    assert len(events) == 3


def test_a_push_pauses_the_cycle_collector_and_starts_it_again(
    world: World, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pushed batch keeps its rows, change-log rows and audit events until written: the cycle
    collector is paused meanwhile (it would walk them over and over) and running again after,
    also when a command of the batch is refused and the slice is applied again."""
    import gc

    collector_during: list[bool] = []
    real_lock = writes.lock_organization

    def lock_and_look(session: Any, org_id: str) -> writes.WriteLock:
        collector_during.append(gc.isenabled())
        return real_lock(session, org_id)

    monkeypatch.setattr(writes, "lock_organization", lock_and_look)
    email = world.a.email("warehouse")
    # A burst an earlier test left running in this process (a download on Qt's pool, a live
    # server's push) pauses the collector until it ends: let it end first.
    deadline = time.monotonic() + 60
    while bursts_paused() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert bursts_paused() == 0
    assert gc.isenabled()
    ok = _push(
        app, world, email, world.a.id, [warehouse(f"G{n:03d}") for n in range(writes.EMBEDDED_SLICE + 1)]
    )
    assert ok.status_code == 200, ok.get_json()
    assert collector_during and not any(collector_during)
    assert gc.isenabled()

    collector_during.clear()
    refused = _push(app, world, email, world.a.id, [warehouse("G900"), warehouse("G900")])
    assert refused.status_code == 200, refused.get_json()
    assert [r["status"] for r in refused.get_json()["results"]] == ["applied", "rejected"]
    assert collector_during and not any(collector_during)
    assert gc.isenabled()

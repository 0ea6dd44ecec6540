"""Push and the server write path: applied / duplicate / rejected, ordering, numbering, audit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import requests
from sqlalchemy import select

from common.commands.fields import Args, Id
from common.commands.framework import REGISTRY, CommandContext, command
from common.commands.postings import chart_account_id
from common.ids import new_id
from common.schema import SCHEMA_VERSION, AuditEvent, ChangeLog, Invoice, JournalEntry, Product, PurchaseOrder
from common.wire import MAX_PUSH_MUTATIONS
from sync_server import admin_ops
from sync_server.audit import verify_chain
from sync_server.serve import BackgroundServer
from tests.sync_server.conftest import World, mutation, product, set_up_books, warehouse


def _statuses(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [r["status"] for r in response.get_json()["results"]]


def _change_log(world: World, org_id: str) -> list[tuple[int, str, str]]:
    with world.services.store.session(org_id) as session:
        rows = session.execute(
            select(ChangeLog.seq, ChangeLog.entity, ChangeLog.entity_id).order_by(ChangeLog.seq)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_results_come_back_in_order_and_retries_are_duplicates(world: World) -> None:
    wh, p1 = warehouse(), product("A-1")
    clash = product("A-1")  # same SKU: rejected
    batch = [wh, p1, clash]
    first = world.push("warehouse@acme.test", world.a, batch)
    assert _statuses(first) == ["applied", "applied", "rejected"]
    rejected = first.get_json()["results"][2]
    assert rejected["code"] == "invalid" and rejected["message"].startswith("sku:")
    assert [r["id"] for r in first.get_json()["results"]] == [m["id"] for m in batch]
    log_before = _change_log(world, world.a.id)
    again = world.push("warehouse@acme.test", world.a, batch)
    assert _statuses(again) == ["duplicate"] * 3
    replay = again.get_json()["results"][2]
    assert (replay["code"], replay["message"]) == (rejected["code"], rejected["message"])
    assert replay["details"]["original_status"] == "rejected"
    assert _change_log(world, world.a.id) == log_before


def test_the_same_id_twice_in_one_batch_is_applied_once(world: World) -> None:
    wh = warehouse()
    assert _statuses(world.push("warehouse@acme.test", world.a, [wh, wh])) == ["applied", "duplicate"]


def test_change_sequence_is_gapless_and_versions_match(world: World) -> None:
    wh, p = warehouse(), product("B-1")
    bad = mutation(
        "inventory.create_product", id=new_id(), sku="B-2", name="x", sale_price=-5, currency="EUR"
    )
    world.push("warehouse@acme.test", world.a, [wh, bad, p])
    log = _change_log(world, world.a.id)
    assert [seq for seq, _, _ in log] == list(range(1, len(log) + 1))
    with world.services.store.session(world.a.id) as session:
        version = session.execute(select(Product.version).where(Product.id == p["args"]["id"])).scalar()
    assert (version, "product", p["args"]["id"]) in log


def test_a_rejected_command_consumes_no_document_number(world: World) -> None:
    wh = warehouse()
    supplier = mutation("inventory.create_supplier", id=new_id(), name="Supplier", currency="EUR")
    orders = [
        mutation(
            "inventory.create_purchase_order",
            id=new_id(),
            supplier_id=supplier["args"]["id"],
            warehouse_id=wh["args"]["id"],
        ),
        mutation(
            "inventory.create_purchase_order",
            id=new_id(),
            supplier_id=new_id(),
            warehouse_id=wh["args"]["id"],
        ),
        mutation(
            "inventory.create_purchase_order",
            id=new_id(),
            supplier_id=supplier["args"]["id"],
            warehouse_id=wh["args"]["id"],
        ),
    ]
    results = world.push("warehouse@acme.test", world.a, [wh, supplier, *orders]).get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied", "applied", "rejected", "applied"]
    assert results[2]["details"]["data"]["number"] == "PO-000001"
    assert results[4]["details"]["data"]["number"] == "PO-000002"
    with world.services.store.session(world.a.id) as session:
        numbers = sorted(session.execute(select(PurchaseOrder.number)).scalars())
    assert numbers == ["PO-000001", "PO-000002"]
    # Numbering is per organization.
    other = world.push(
        "warehouse@globex.test",
        world.b,
        [
            warehouse(),
        ],
    )
    assert _statuses(other) == ["applied"]


def test_each_row_written_is_audited_with_the_changed_fields(world: World) -> None:
    p = product("C-1")
    world.push("warehouse@acme.test", world.a, [p])
    update = mutation(
        "inventory.update_product",
        id=p["args"]["id"],
        changes={"name": "Renamed"},
        base={"name": "Product C-1"},
    )
    conflict = mutation(
        "inventory.update_product", id=p["args"]["id"], changes={"name": "Again"}, base={"name": "stale"}
    )
    results = world.push("warehouse@acme.test", world.a, [update, conflict]).get_json()["results"]
    assert results[0]["status"] == "applied"
    assert results[1]["status"] == "rejected" and results[1]["code"] == "conflict"
    assert results[1]["server_values"] == {"name": "Renamed"}
    with world.services.store.session(world.a.id) as session:
        events = session.execute(
            select(AuditEvent.action, AuditEvent.actor, AuditEvent.before, AuditEvent.after)
            .where(AuditEvent.entity_id == p["args"]["id"])
            .order_by(AuditEvent.seq)
        ).all()
        assert verify_chain(session, world.a.id)[1] is None
    assert [e.action for e in events] == ["inventory.create_product", "inventory.update_product"]
    assert events[0].before is None and events[0].after["sku"] == "C-1"
    assert (events[1].before, events[1].after) == ({"name": "Product C-1"}, {"name": "Renamed"})
    assert {e.actor for e in events} == {world.a.users["warehouse"]}


def test_commands_need_their_permission(world: World) -> None:
    result = world.push("employee@acme.test", world.a, [warehouse()]).get_json()["results"][0]
    assert (result["status"], result["code"]) == ("rejected", "forbidden")
    result = world.push(
        "hr@acme.test",
        world.a,
        [mutation("hr.create_employee", id=new_id(), name="Pat", salary=100, salary_currency="EUR")],
    ).get_json()["results"][0]
    assert result["status"] == "applied"
    admin = world.push(
        "admin@acme.test",
        world.a,
        [mutation("hr.create_employee", id=new_id(), name="Pat", salary=100, salary_currency="EUR")],
    ).get_json()["results"][0]
    assert (admin["status"], admin["code"]) == ("rejected", "forbidden")  # admin lacks hr.sensitive.read


def test_unknown_commands_are_rejected_and_do_not_block_the_queue(world: World) -> None:
    results = world.push("warehouse@acme.test", world.a, [mutation("inventory.teleport"), warehouse()])
    assert _statuses(results) == ["rejected", "applied"]
    assert results.get_json()["results"][0]["code"] == "unknown_command"


@pytest.fixture
def exploding_command() -> Iterator[str]:
    class BoomArgs(Args):
        id: Id

    @command("inventory.test_explode", args=BoomArgs, permission="inventory.write")
    def explode(ctx: CommandContext, args: BoomArgs) -> None:
        raise RuntimeError("a bug in a command")

    yield "inventory.test_explode"
    REGISTRY.pop("inventory.test_explode", None)


def test_a_crashing_command_is_rejected_without_blocking_the_queue(
    world: World, exploding_command: str
) -> None:
    boom = mutation(exploding_command, id=new_id())
    response = world.push("warehouse@acme.test", world.a, [boom, warehouse()])
    assert _statuses(response) == ["rejected", "applied"]
    assert response.get_json()["results"][0]["code"] == "server_error"
    assert "bug" not in response.get_data(as_text=True)


def test_bad_batches_are_refused_whole(world: World) -> None:
    too_many = [warehouse(f"W{n}") for n in range(MAX_PUSH_MUTATIONS + 1)]
    response = world.push("warehouse@acme.test", world.a, too_many)
    assert response.status_code == 400 and response.get_json()["error"]["details"]["field"] == "mutations"
    missing_args = {"id": new_id(), "name": "inventory.create_warehouse"}
    response = world.push("warehouse@acme.test", world.a, [missing_args])
    assert response.status_code == 400 and response.get_json()["error"]["message"].startswith(
        "mutations.0.args"
    )
    response = world.push("warehouse@acme.test", world.a, [{"id": "not-a-uuid", "name": "a.b", "args": {}}])
    assert response.status_code == 400 and "mutations.0.id" in response.get_json()["error"]["message"]
    assert _change_log(world, world.a.id) == []


def test_a_schema_version_the_server_cannot_serve_needs_an_upgrade(world: World) -> None:
    response = world.push("warehouse@acme.test", world.a, [warehouse()], schema_version=999)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "upgrade_required" and error["details"]["server_schema_version"] >= 1
    assert _change_log(world, world.a.id) == []


def test_concurrent_pushes_over_http_keep_the_change_log_ordered(
    world: World, live_server: BackgroundServer
) -> None:
    headers = world.headers("warehouse@acme.test")
    url = f"{live_server.url}/api/v1/orgs/{world.a.id}/sync/push"
    failures: list[Any] = []

    def pusher(worker: int) -> None:
        with requests.Session() as http:
            for batch in range(4):
                body = {
                    "client_id": f"w{worker}",
                    "schema_version": SCHEMA_VERSION,
                    "mutations": [warehouse(f"W{worker}-{batch}-{n}") for n in range(10)],
                }
                response = http.post(url, json=body, headers=headers, timeout=60)
                if response.status_code != 200 or {r["status"] for r in response.json()["results"]} != {
                    "applied"
                }:
                    failures.append(response.text)

    threads = [threading.Thread(target=pusher, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    log = _change_log(world, world.a.id)
    assert [seq for seq, _, _ in log] == list(range(1, 4 * 4 * 10 + 1))
    with world.services.store.session(world.a.id) as session:
        count, problem = verify_chain(session, world.a.id)
    assert problem is None and count >= 160


def test_a_row_id_can_be_created_only_once(world: World) -> None:
    first = warehouse("ONE")
    again = mutation("inventory.create_warehouse", id=first["args"]["id"], code="TWO", name="Second")
    results = world.push("warehouse@acme.test", world.a, [first, again]).get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert results[1]["code"] == "invalid" and results[1]["message"].startswith("id: a warehouse with id")
    # The same id in another organization is another row.
    other = mutation("inventory.create_warehouse", id=first["args"]["id"], code="ONE", name="Globex's")
    assert _statuses(world.push("warehouse@globex.test", world.b, [other])) == ["applied"]


def test_another_users_mutation_id_is_not_a_duplicate_and_reveals_nothing(world: World) -> None:
    """Duplicate detection is per user: a guessed or replayed id of someone else's command
    neither returns its result nor applies anything."""
    customer = mutation("sales.create_customer", id=new_id(), name="Private Customer Ltd")
    assert _statuses(world.push("sales@acme.test", world.a, [customer])) == ["applied"]
    replay = mutation("inventory.create_warehouse", id=new_id(), code="X", name="X")
    replay["id"] = customer["id"]
    response = world.push("admin@acme.test", world.a, [replay])
    [result] = response.get_json()["results"]
    assert (result["status"], result["code"]) == ("rejected", "id_taken")
    assert result["details"] == {"field": "id"}
    assert "Private Customer" not in response.get_data(as_text=True)
    again = world.push("admin@acme.test", world.a, [replay]).get_json()["results"][0]
    assert again["code"] == "id_taken"
    assert _statuses(world.push("sales@acme.test", world.a, [customer])) == ["duplicate"]
    log = _change_log(world, world.a.id)
    assert [entity for _, entity, _ in log] == ["customer"]
    # In another organization the same command id is another command: applied there, and
    # nothing tells that an organization the pusher cannot see has one of that id.
    elsewhere = world.push("warehouse@globex.test", world.b, [replay]).get_json()["results"][0]
    assert elsewhere["status"] == "applied"
    assert [entity for _, entity, _ in _change_log(world, world.b.id)] == ["warehouse"]
    assert [entity for _, entity, _ in _change_log(world, world.a.id)] == ["customer"]


def test_a_member_of_two_organizations_replaying_a_command_id_in_the_other_gets_it_applied(
    world: World,
) -> None:
    """The same person, the same command id, two organizations: two commands. The second push is
    applied in its own organization, not answered as the first one's duplicate, and its answer
    carries nothing of the first organization's command (the look-up of processed commands
    names the organization itself)."""
    admin_ops.grant(world.services.store, "sales@acme.test", world.b.id, "sales")
    first = mutation("sales.create_customer", id=new_id(), name="Acme's Private Customer Ltd")
    assert _statuses(world.push("sales@acme.test", world.a, [first])) == ["applied"]
    again = mutation("sales.create_customer", id=new_id(), name="Globex customer")
    again["id"] = first["id"]
    response = world.push("sales@acme.test", world.b, [again])
    [result] = response.get_json()["results"]
    assert result["status"] == "applied"
    assert "Private Customer" not in response.get_data(as_text=True)
    assert [entity for _, entity, _ in _change_log(world, world.b.id)] == ["customer"]
    # Each organization answers its own command as the duplicate from now on.
    assert _statuses(world.push("sales@acme.test", world.a, [first])) == ["duplicate"]
    assert _statuses(world.push("sales@acme.test", world.b, [again])) == ["duplicate"]


@pytest.fixture
def half_done_command() -> Iterator[str]:
    """A command that changes a product's currency, then fails: nothing of it may be seen."""

    class HalfArgs(Args):
        id: Id
        product_id: Id

    @command("inventory.test_half_done", args=HalfArgs, permission="inventory.write")
    def half_done(ctx: CommandContext, args: HalfArgs) -> None:
        ctx.update(Product, args.product_id, {"currency": "USD"})
        raise RuntimeError("failed after writing")

    yield "inventory.test_half_done"
    REGISTRY.pop("inventory.test_half_done", None)


@pytest.fixture
def tombstone_command() -> Iterator[str]:
    """A command that makes a product a tombstone (no shipped command deletes products)."""

    class TombstoneArgs(Args):
        id: Id
        product_id: Id

    @command("inventory.test_tombstone", args=TombstoneArgs, permission="inventory.write")
    def tombstone(ctx: CommandContext, args: TombstoneArgs) -> None:
        ctx.update(Product, args.product_id, {"deleted": True})

    yield "inventory.test_tombstone"
    REGISTRY.pop("inventory.test_tombstone", None)


def _receipt_with_cost(product_id: str, warehouse_id: str) -> dict[str, Any]:
    """A receipt with a unit cost and no currency: it takes the product's currency as read."""
    return mutation(
        "inventory.record_stock_move",
        id=new_id(),
        product_id=product_id,
        to_warehouse_id=warehouse_id,
        quantity="1",
        unit_cost=500,
        reason="receipt",
    )


def _move_currencies(world: World, moves: list[dict[str, Any]]) -> list[str | None]:
    from common.schema import StockMove

    with world.services.store.session(world.a.id) as session:
        found = dict(session.execute(select(StockMove.id, StockMove.currency)).all())
    return [found.get(m["args"]["id"]) for m in moves]


def test_later_commands_of_a_batch_read_what_earlier_ones_wrote(world: World, tombstone_command: str) -> None:
    wh, p = warehouse(), product("D-1")
    pid, whid = p["args"]["id"], wh["args"]["id"]
    before = _receipt_with_cost(pid, whid)
    to_usd = mutation(
        "inventory.update_product", id=pid, changes={"currency": "USD"}, base={"currency": "EUR"}
    )
    after = _receipt_with_cost(pid, whid)
    remove = mutation(tombstone_command, id=new_id(), product_id=pid)
    gone = _receipt_with_cost(pid, whid)
    response = world.push("warehouse@acme.test", world.a, [wh, p, before, to_usd, after, remove, gone])
    assert _statuses(response) == ["applied"] * 6 + ["rejected"]
    assert response.get_json()["results"][6]["message"].startswith("product_id:")
    assert _move_currencies(world, [before, after, gone]) == ["EUR", "USD", None]


def test_a_failed_command_leaves_nothing_for_the_rest_of_the_batch_to_read(
    world: World, half_done_command: str
) -> None:
    wh, p = warehouse(), product("E-1")
    pid, whid = p["args"]["id"], wh["args"]["id"]
    # Read (and so known to the batch) before the failed command changes it.
    first = _receipt_with_cost(pid, whid)
    half = mutation(half_done_command, id=new_id(), product_id=pid)
    second = _receipt_with_cost(pid, whid)
    cas = mutation("inventory.update_product", id=pid, changes={"currency": "GBP"}, base={"currency": "EUR"})
    response = world.push("warehouse@acme.test", world.a, [wh, p, first, half, second, cas])
    assert _statuses(response) == ["applied", "applied", "applied", "rejected", "applied", "applied"]
    assert _move_currencies(world, [first, second]) == ["EUR", "EUR"]
    with world.services.store.session(world.a.id) as session:
        currency = session.execute(select(Product.currency).where(Product.id == pid)).scalar()
    assert currency == "GBP"  # the compare-and-set found EUR: the failed command's USD is gone
    with world.services.store.session(world.a.id) as session:
        assert verify_chain(session, world.a.id)[1] is None


def test_a_row_missing_when_first_asked_for_is_found_once_a_command_of_the_batch_creates_it(
    world: World,
) -> None:
    # The batch's first move names a product that does not exist yet, and the first receipts are
    # recorded before the books exist: both answers ("no such row") must not outlive the
    # commands that create the rows later in the same batch.
    wh, p = warehouse(), product("F-1")
    pid, whid = p["args"]["id"], wh["args"]["id"]
    too_early = _receipt_with_cost(pid, whid)
    unbooked = _receipt_with_cost(pid, whid)
    books = mutation("finance.set_up_books", currency="EUR")
    booked = _receipt_with_cost(pid, whid)
    batch = [wh, too_early, p, unbooked, books, booked]
    response = world.push("admin@acme.test", world.a, batch)
    statuses = _statuses(response)
    assert statuses == ["applied", "rejected", "applied", "applied", "applied", "applied"]
    assert response.get_json()["results"][1]["message"].startswith("product_id:")
    with world.services.store.session(world.a.id) as session:
        posted = set(
            session.execute(
                select(JournalEntry.source_id).where(JournalEntry.source == "stock_move")
            ).scalars()
        )
    assert posted == {booked["args"]["id"]}
    again = world.push("admin@acme.test", world.a, batch)
    assert _statuses(again) == ["duplicate"] * 6
    assert [r["details"]["original_status"] for r in again.get_json()["results"]] == statuses


def _invoice(customer: str, tax_rate: str) -> list[dict[str, Any]]:
    invoice = new_id()
    line = {
        "id": new_id(),
        "description": "Service",
        "quantity": "1",
        "unit_price": 1000,
        "tax_rate_id": tax_rate,
    }
    return [
        mutation("sales.create_invoice", id=invoice, customer_id=customer, lines=[line]),
        mutation("sales.post_invoice", id=invoice),
    ]


def test_a_command_refused_after_taking_numbers_gives_them_back_and_counters_carry_over(world: World) -> None:
    """Document counters are counted in memory through a batch and written once at its end: a
    command refused after it took a number gives it back, and the next batch goes on from the
    last number given."""
    set_up_books(world, world.a)
    admin = world.a.email("admin")
    customer = mutation("sales.create_customer", id=new_id(), name="Customer")
    vat = mutation("finance.create_tax_rate", id=new_id(), code="VAT", name="VAT", rate="20")
    revenue = chart_account_id(world.a.id, "4000")
    archive = mutation(
        "finance.update_account", id=revenue, changes={"archived": True}, base={"archived": False}
    )
    restore = mutation(
        "finance.update_account", id=revenue, changes={"archived": False}, base={"archived": True}
    )
    ids = (customer["args"]["id"], vat["args"]["id"])
    first, refused, third = _invoice(*ids), _invoice(*ids), _invoice(*ids)
    batch = [customer, vat, *first, archive, *refused, restore, *third]
    results = world.push(admin, world.a, batch).get_json()["results"]
    # The refused posting took INV-000002 and the journal entry's number before its revenue
    # account was found archived; both are given back.
    assert [r["status"] for r in results] == ["applied"] * 6 + ["rejected"] + ["applied"] * 3
    assert "archived" in results[6]["message"]
    assert results[3]["details"]["data"]["number"] == "INV-000001"
    assert results[9]["details"]["data"]["number"] == "INV-000002"
    again = world.push(admin, world.a, _invoice(*ids)).get_json()["results"]
    assert again[1]["details"]["data"]["number"] == "INV-000003"
    with world.services.store.session(world.a.id) as session:
        entries = session.execute(select(JournalEntry.number).order_by(JournalEntry.number)).scalars().all()
        invoices = session.execute(select(Invoice.number).where(Invoice.status == "posted")).scalars().all()
    assert sorted(invoices) == ["INV-000001", "INV-000002", "INV-000003"]
    books_entries = [n for n in entries if n is not None]
    assert len(books_entries) == len(set(books_entries))
    assert len(set(books_entries)) >= 3


def test_a_period_closed_within_a_batch_refuses_what_follows_it(world: World) -> None:
    """The organization's fiscal periods are read once per batch, and read again once a command
    of the batch writes one."""
    set_up_books(world, world.a)
    today = date.today()
    period = mutation(
        "finance.create_fiscal_period",
        id=new_id(),
        name="This year",
        start_date=date(today.year, 1, 1).isoformat(),
        end_date=date(today.year, 12, 31).isoformat(),
    )
    customer = mutation("sales.create_customer", id=new_id(), name="Customer")
    vat = mutation("finance.create_tax_rate", id=new_id(), code="VAT", name="VAT", rate="20")
    ids = (customer["args"]["id"], vat["args"]["id"])
    close = mutation("finance.close_fiscal_period", id=period["args"]["id"])
    reopen = mutation("finance.reopen_fiscal_period", id=period["args"]["id"])
    batch = [period, customer, vat, *_invoice(*ids), close, *_invoice(*ids), reopen, *_invoice(*ids)]
    results = world.push(world.a.email("admin"), world.a, batch).get_json()["results"]
    assert [r["status"] for r in results] == ["applied"] * 6 + ["rejected"] * 2 + ["applied"] * 3
    assert results[6]["code"] == "period_closed" and results[6]["details"]["period"] == "This year"
    assert results[10]["details"]["data"]["number"] == "INV-000002"


def test_invoices_posted_in_the_batch_that_wrote_their_lines_post_their_current_lines(world: World) -> None:
    """Posting reads an invoice's lines from what the batch wrote when the batch created the
    invoice; lines replaced later in the batch are read again, and a line id used earlier in the
    batch is refused for a new line."""
    from common.schema import JournalLine

    set_up_books(world, world.a)
    customer, first, second, third = new_id(), new_id(), new_id(), new_id()
    kept, dropped, added = new_id(), new_id(), new_id()

    def line(line_id: str, quantity: str, price: int, text: str) -> dict[str, Any]:
        return {"id": line_id, "description": text, "quantity": quantity, "unit_price": price}

    response = world.push(
        "sales@acme.test",
        world.a,
        [
            mutation("sales.create_customer", id=customer, name="Ada"),
            mutation(
                "sales.create_invoice",
                id=first,
                customer_id=customer,
                lines=[line(kept, "1", 1000, "Kept"), line(dropped, "2", 500, "Dropped")],
            ),
            mutation("sales.set_invoice_lines", id=first, lines=[line(kept, "3", 1000, "Kept"), line(added, "1", 700, "Added")]),
            mutation("sales.post_invoice", id=first),
            mutation("sales.create_invoice", id=second, customer_id=customer, lines=[line(new_id(), "1", 100, "Only")]),
            mutation("sales.post_invoice", id=second),
            mutation("sales.create_invoice", id=third, customer_id=customer, lines=[line(added, "1", 1, "Taken")]),
        ],
    )  # fmt: skip
    assert _statuses(response) == ["applied"] * 6 + ["rejected"]
    assert response.get_json()["results"][6]["message"] == "lines.0.id: is already used by another line"
    with world.services.store.session(world.a.id) as session:
        revenue = {
            source: sorted(
                (row.memo, row.credit)
                for row in session.execute(
                    select(JournalLine.memo, JournalLine.credit)
                    .join(JournalEntry, JournalEntry.id == JournalLine.journal_entry_id)
                    .where(JournalEntry.source_id == source, JournalLine.credit > 0)
                )
            )
            for source in (first, second)
        }
    assert revenue == {first: [("Added", 700), ("Kept", 3000)], second: [("Only", 100)]}


def test_the_derived_ids_header_says_how_the_commands_derive_their_rows_ids(world: World) -> None:
    """Without ``Ops-Derived-Ids`` (older desktops, other clients) a command derives its rows' ids
    as it always did (scheme 1); with ``2`` they start with the command id's time prefix, as the
    desktop that applied it derived them; ``1`` is scheme 1 said outright; any other value is
    refused and nothing is applied. The answer to a push of commands says the server derives
    scheme 2 (``Ops-Derived-Ids: 2``): a desktop applies its commands so only once it saw that."""
    from common.schema import JournalLine

    set_up_books(world, world.a)
    email = world.a.email("admin")
    customer = mutation("sales.create_customer", id=new_id(), name="Ada")
    assert _statuses(world.push(email, world.a, [customer])) == ["applied"]
    posts: dict[str, dict[str, Any]] = {}
    for header in (None, "1", "2", "3"):
        invoice = new_id()
        create = mutation(
            "sales.create_invoice",
            id=invoice,
            customer_id=customer["args"]["id"],
            lines=[{"id": new_id(), "description": "Visit", "quantity": "1", "unit_price": 1000}],
        )
        posts[str(header)] = post = mutation("sales.post_invoice", id=invoice)
        headers = world.headers(email) | ({"Ops-Derived-Ids": header} if header else {})
        body = {"client_id": "tests", "schema_version": SCHEMA_VERSION, "mutations": [create, post]}
        response = world.client.post(f"/api/v1/orgs/{world.a.id}/sync/push", json=body, headers=headers)
        if header == "3":
            assert response.status_code == 400
            error = response.get_json()["error"]
            assert error["code"] == "invalid" and "Ops-Derived-Ids" in error["message"]
            assert error["details"] == {"header": "Ops-Derived-Ids"}
        else:
            assert _statuses(response) == ["applied", "applied"]
            assert response.headers["Ops-Derived-Ids"] == "2"
    with world.services.store.session(world.a.id) as session:
        rows = {
            scheme: session.execute(
                select(JournalEntry.id, JournalLine.id)
                .join(JournalLine, JournalLine.journal_entry_id == JournalEntry.id)
                .where(JournalEntry.source_id == post["args"]["id"])
            ).all()
            for scheme, post in posts.items()
        }
    assert rows["3"] == []  # refused whole: nothing was applied
    for scheme, prefix_kept in (("None", False), ("1", False), ("2", True)):
        prefix = posts[scheme]["id"][:13]  # the command id's first 48 bits (its timestamp)
        assert len(rows[scheme]) >= 2
        for entry_id, line_id in rows[scheme]:
            assert (entry_id[:13] == prefix, line_id[:13] == prefix) == (prefix_kept, prefix_kept)
            assert entry_id[14] == line_id[14] == "8"  # derived: version 8 either way


def test_the_openapi_document_declares_the_optional_derived_ids_header(world: World) -> None:
    spec = world.client.get("/api/v1/openapi.json").get_json()
    push = spec["paths"]["/api/v1/orgs/{org_id}/sync/push"]["post"]
    (param,) = [p for p in push["parameters"] if p["in"] == "header"]
    assert (param["name"], param["required"], param["schema"]["enum"]) == (
        "Ops-Derived-Ids",
        False,
        ["1", "2"],
    )
    pull = spec["paths"]["/api/v1/orgs/{org_id}/sync/pull"]["get"]
    assert all(p["in"] != "header" for p in pull["parameters"])

"""A posted journal entry's lines have no change-log rows of their own: they travel with their
entry's change (``sync_server.writes.LOGGED_WITH``). What a pull sends is what one change-log
row per line sent: every line, right after its entry, as an ordinary ``journal_line`` upsert;
a later write of a line is a change of its own; a no-op pull after a posting stays a no-op.
On both stores."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import orjson
from sqlalchemy import event, select

from common.access import OwnerIds, readable_entities
from common.commands import CommandContext
from common.commands.postings import chart_account_id
from common.ids import new_id
from common.permissions import ALL_PERMISSIONS, BUILTIN_ROLES
from common.schema import SCHEMA_VERSION, ChangeLog, JournalLine, OrgSequence
from common.schema.types import utcnow
from common.wire import changes_to_blocks
from sync_server.pull import Reader, encode_page, incremental_page
from sync_server.writes import (
    CHANGE_SEQUENCE,
    SYSTEM_ACTOR,
    ServerMembers,
    ServerNumbering,
    ServerRecorder,
    _store_changes,
    lock_organization,
)
from tests.sync_server.conftest import OrgInfo, World, mutation, set_up_books
from tests.sync_server.pulling import cursor_of, pull_all, pull_page
from tests.sync_server.test_noop_sync import flask_requests
from tests.sync_server.test_pull import expected_view

ACCOUNTANT = "accountant@acme.test"


def _posting_push(world: World, org: OrgInfo) -> None:
    """Three invoices posted, then a journal entry posted by hand: the batch's last writes are
    journal lines, so its last change sequence has no change-log row."""
    customer, vat = new_id(), new_id()
    batch = [
        mutation("sales.create_customer", id=customer, name="Customer"),
        mutation("finance.create_tax_rate", id=vat, code="VAT", name="VAT", rate="20"),
    ]
    for n in range(3):
        invoice = new_id()
        line = {"id": new_id(), "description": f"Service {n}", "quantity": "2", "unit_price": 1000 + n,
                "tax_rate_id": vat}  # fmt: skip
        batch.append(mutation("sales.create_invoice", id=invoice, customer_id=customer, lines=[line]))
        batch.append(mutation("sales.post_invoice", id=invoice))
    cash, revenue = chart_account_id(org.id, "1000"), chart_account_id(org.id, "4000")
    batch.append(
        mutation(
            "finance.post_journal_entry",
            id=new_id(),
            entry_date=date.today().isoformat(),
            currency="EUR",
            lines=[
                {"account_id": cash, "debit": 500},
                {"account_id": revenue, "credit": 300},
                {"account_id": revenue, "credit": 200, "memo": "rest"},
            ],
        )
    )
    results = world.push(org.email("admin"), org, batch).get_json()["results"]
    assert [r["status"] for r in results] == ["applied"] * len(batch), results


def _log(world: World, org: OrgInfo) -> list[tuple[int, str, str]]:
    with world.services.store.session(org.id) as db:
        rows = db.execute(
            select(ChangeLog.seq, ChangeLog.entity, ChangeLog.entity_id)
            .where(ChangeLog.org_id == org.id)
            .order_by(ChangeLog.seq)
        ).all()
    return [(int(seq), entity, entity_id) for seq, entity, entity_id in rows]


def _last_change(world: World, org: OrgInfo) -> int:
    with world.services.store.session(org.id) as db:
        return int(
            db.execute(
                select(OrgSequence.value).where(
                    OrgSequence.org_id == org.id, OrgSequence.name == CHANGE_SEQUENCE
                )
            ).scalar_one()
        )


def _as_with_a_log_row_per_line(world: World, org: OrgInfo, role: str, after: int) -> list[tuple[str, str]]:
    """The rows an incremental pull from ``after`` sent when every line had a change-log row of
    its own (at its version), in the order it sent them: each row at its first change."""
    log = _log(world, org)
    logged = {(seq, entity, entity_id) for seq, entity, entity_id in log}
    with world.services.store.session(org.id) as db:
        lines = db.execute(
            select(JournalLine.id, JournalLine.version).where(JournalLine.org_id == org.id)
        ).all()
    for line_id, version in lines:
        if (version, "journal_line", line_id) not in logged:
            log.append((int(version), "journal_line", line_id))
    readable = readable_entities(frozenset(BUILTIN_ROLES[role]))
    order: dict[tuple[str, str], None] = {}
    for seq, entity, entity_id in sorted(log):
        if seq > after and entity in readable:
            order.setdefault((entity, entity_id), None)
    return list(order)


def _synced(world: World, email: str = ACCOUNTANT) -> str:
    cursor = pull_all(world, email, world.a).cursor
    assert cursor is not None
    return cursor


def test_lines_have_no_change_log_rows_and_reach_another_device_as_before(world: World) -> None:
    org = world.a
    set_up_books(world, org)
    cursor = _synced(world)
    after = cursor_of(cursor, org).seq
    _posting_push(world, org)

    log = _log(world, org)
    assert not [row for row in log if row[1] == "journal_line"]
    entries = [entity_id for _, entity, entity_id in log if entity == "journal_entry"]
    assert len(entries) == 4
    # The push's last writes are lines: the organization's last change has no change-log row.
    assert _last_change(world, org) > log[-1][0]

    pulled = pull_all(world, ACCOUNTANT, org, cursor, limit=5000)
    assert pulled.pages == 1
    keys = [(c["entity"], c["id"]) for c in pulled.changes]
    assert keys == _as_with_a_log_row_per_line(world, org, "accountant", after)
    view = expected_view(world, org.id, "accountant")
    for change in pulled.changes:
        assert change["op"] == "upsert"
        assert change["data"] == view[(change["entity"], change["id"])]
        assert change["version"] == change["data"]["version"]
    # Every line of every entry, right after its entry, in line order.
    stored_lines = [k for k in view if k[0] == "journal_line"]
    assert len(stored_lines) == 3 * 3 + 3
    assert {k for k in keys if k[0] == "journal_line"} == set(stored_lines)
    for entry in entries:
        at = keys.index(("journal_entry", entry))
        mine = sorted((view[k]["line_no"], k) for k in stored_lines if view[k]["journal_entry_id"] == entry)
        assert keys[at + 1 : at + 1 + len(mine)] == [k for _, k in mine]
    # The cursor moved to the organization's last change, past the last change-log row.
    assert cursor_of(pulled.cursor or "", org).seq == _last_change(world, org)
    # A snapshot reads the tables: the same journal rows.
    snapshot = pull_all(world, ACCOUNTANT, org)
    journal = {
        (c["entity"], c["id"]): c["data"] for c in snapshot.changes if c["entity"].startswith("journal_")
    }
    assert journal == {k: v for k, v in view.items() if k[0].startswith("journal_")}


def test_pages_of_every_size_send_each_line_once_after_its_entry(world: World) -> None:
    org = world.a
    set_up_books(world, org)
    cursor = _synced(world)
    _posting_push(world, org)
    whole = pull_all(world, ACCOUNTANT, org, cursor, limit=5000)
    expected = {(c["entity"], c["id"]): c for c in whole.changes}
    pages_log = len([row for row in _log(world, org) if row[0] > cursor_of(cursor, org).seq])
    for limit in range(1, pages_log + 1):
        pulled = pull_all(world, ACCOUNTANT, org, cursor, limit=limit)
        lines = [c for c in pulled.changes if c["entity"] == "journal_line"]
        assert len(lines) == len({c["id"] for c in lines}) == 12, limit  # each line once
        assert pulled.of("journal_line") | pulled.of("journal_entry") == {
            k[1]: v for k, v in expected.items() if k[0] in ("journal_line", "journal_entry")
        }, limit
        keys = [(c["entity"], c["id"]) for c in pulled.changes]
        for line in lines:
            entry = keys.index(("journal_entry", line["data"]["journal_entry_id"]))
            assert entry < keys.index(("journal_line", line["id"])), limit
        assert pulled.cursor == whole.cursor, limit
        # A page holds at most ``limit`` rows, lines counted: only a change whose own lines
        # take it past that (an entry and its 3 lines, 4 rows) is a page of its own.
        sizes = [len(orjson.loads(body)["changes"]) for body in pulled.bodies]
        assert max(sizes) <= max(limit, 4), (limit, sizes)


def test_a_no_op_pull_after_a_posting_push_stays_a_no_op(world: World, app: Any) -> None:
    org = world.a
    set_up_books(world, org)
    cursor = _synced(world)
    _posting_push(world, org)
    synced = pull_all(world, ACCOUNTANT, org, cursor).cursor
    assert synced is not None
    # Answered before Flask: only when the organization's last change is the cursor's.
    with flask_requests(app) as seen:
        response = pull_page(world, ACCOUNTANT, org, synced)
    assert seen == []
    assert response.status_code == 200
    assert orjson.loads(response.data) == {
        "changes": [],
        "cursor": synced,
        "has_more": False,
        "schema_version": SCHEMA_VERSION,
    }
    # The full path: no change-log query either.
    statements: list[str] = []
    reader = Reader.of(BUILTIN_ROLES["accountant"], OwnerIds(user_id=org.users["accountant"]))
    with world.services.store.session(org.id, user_id=org.users["accountant"]) as db:
        connection = db.connection()

        def seen_statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        event.listen(connection, "before_cursor_execute", seen_statement)
        page = incremental_page(connection, org.id, reader, cursor_of(synced, org), 100)
        event.remove(connection, "before_cursor_execute", seen_statement)
    assert (page.changes, page.has_more, page.cursor) == ([], False, cursor_of(synced, org))
    assert not [s for s in statements if "change_log" in s]


def _write_line(world: World, org: OrgInfo, line_id: str, changes: dict[str, Any]) -> None:
    """A later server-side write of a posted line (a repair an operator makes), through the
    command layer as any server write: version, change-log row, audit event."""
    info = JournalLine.__entity__
    with world.services.store.session(org.id, write=True) as session:
        lock = lock_organization(session, org.id)
        recorder = ServerRecorder(org.id, lock.change_seq, utcnow())
        recorder.action, recorder.actor = "test.repair_journal_line", SYSTEM_ACTOR
        ctx = CommandContext(
            session=session,
            org_id=org.id,
            actor_id=SYSTEM_ACTOR,
            permissions=ALL_PERMISSIONS,
            command_id=new_id(),
            recorder=recorder,
            numbering=ServerNumbering(session, org.id),
            now=recorder.now,
            members=ServerMembers(session, org.id),
        )
        JournalLine.__entity__ = replace(info, append_only=False)  # type: ignore[misc]
        try:
            ctx.update(JournalLine, line_id, changes)
        finally:
            JournalLine.__entity__ = info  # type: ignore[misc]
        _store_changes(session, org.id, recorder)
        recorder.append_audit(session, lock.audit_head)


def test_a_later_write_of_a_line_reaches_clients(world: World) -> None:
    org = world.a
    set_up_books(world, org)
    _posting_push(world, org)
    cursor = _synced(world)
    lines = sorted(pull_all(world, ACCOUNTANT, org).of("journal_line"))
    changed, removed = lines[0], lines[1]
    _write_line(world, org, changed, {"memo": "repaired"})
    _write_line(world, org, removed, {"deleted": True})
    log = _log(world, org)
    assert [(entity, entity_id) for _, entity, entity_id in log[-2:]] == [
        ("journal_line", changed),
        ("journal_line", removed),
    ]
    pulled = pull_all(world, ACCOUNTANT, org, cursor)
    assert [(c["entity"], c["id"], c["op"]) for c in pulled.changes] == [
        ("journal_line", changed, "upsert"),
        ("journal_line", removed, "delete"),
    ]
    assert pulled.changes[0]["data"]["memo"] == "repaired"
    assert [c["version"] for c in pulled.changes] == [seq for seq, _, _ in log[-2:]]
    assert cursor_of(pulled.cursor or "", org).seq == _last_change(world, org)


def test_readers_without_journal_lines_get_none(world: World) -> None:
    org = world.a
    set_up_books(world, org)
    cursor = _synced(world, org.email("sales"))
    _posting_push(world, org)
    pulled = pull_all(world, org.email("sales"), org, cursor)
    assert {c["entity"] for c in pulled.changes} >= {"invoice", "customer"}
    assert not [c for c in pulled.changes if c["entity"].startswith("journal_")]
    assert cursor_of(pulled.cursor or "", org).seq == _last_change(world, org)


def test_a_reader_of_lines_but_not_entries_still_gets_the_lines(world: World) -> None:
    """The lines travel with their entry's change even to a reader who may not read entries."""
    org = world.a
    set_up_books(world, org)
    cursor = _synced(world)
    _posting_push(world, org)
    full = readable_entities(frozenset(BUILTIN_ROLES["accountant"]))
    reader = Reader(OwnerIds(user_id=org.users["accountant"]), {"journal_line": full["journal_line"]}, "x")
    with world.services.store.session(org.id, user_id=org.users["accountant"]) as db:
        page = incremental_page(db.connection(), org.id, reader, cursor_of(cursor, org), 5000)
    sent = orjson.loads(encode_page(page, "cursor"))["changes"]
    assert {c["entity"] for c in sent} == {"journal_line"}
    assert len(sent) == 12
    view = expected_view(world, org.id, "accountant")
    assert all(c["data"] == view[("journal_line", c["id"])] for c in sent)


def test_the_blocks_format_sends_the_same_lines(world: World) -> None:
    org = world.a
    set_up_books(world, org)
    cursor = _synced(world)
    _posting_push(world, org)
    changes = pull_page(world, ACCOUNTANT, org, cursor, limit=5000).get_json()
    blocks = pull_page(world, ACCOUNTANT, org, cursor, limit=5000, format="blocks").get_json()
    assert blocks["blocks"] == orjson.loads(orjson.dumps(changes_to_blocks(changes["changes"])))
    assert (blocks["cursor"], blocks["has_more"]) == (changes["cursor"], False)
    line_rows = sum(len(b["rows"]) for b in blocks["blocks"] if b["entity"] == "journal_line")
    assert line_rows == 12


def test_a_page_counts_the_lines_that_travel_with_it(world: World) -> None:
    """An entry's lines travel with its change, up to 1,000 of them: a page is bounded by the
    rows it sends, lines counted, not by its change-log rows alone (a page of 1,000 changes
    could otherwise carry a million lines)."""
    org = world.a
    set_up_books(world, org)
    cursor = _synced(world)
    cash, revenue = chart_account_id(org.id, "1000"), chart_account_id(org.id, "4000")
    big = new_id()
    batch = [mutation("sales.create_customer", id=new_id(), name=f"Customer {n}") for n in range(5)]
    batch.append(mutation("finance.post_journal_entry", id=big, entry_date=date.today().isoformat(),
                          currency="EUR", lines=[*({"account_id": cash, "debit": 100 + n} for n in range(15)),
                                                 *({"account_id": revenue, "credit": 100 + n} for n in range(15))]))  # fmt: skip
    batch += [mutation("sales.create_customer", id=new_id(), name=f"Later {n}") for n in range(12)]
    results = world.push(org.email("admin"), org, batch).get_json()["results"]
    assert [r["status"] for r in results] == ["applied"] * len(batch), results

    pulled = pull_all(world, ACCOUNTANT, org, cursor, limit=10)
    sizes = [len(orjson.loads(body)["changes"]) for body in pulled.bodies]
    # 5 customers; the entry and its 30 lines alone (31 rows, more than a page but one change);
    # then the 12 later customers, 10 and 2 (the accountant reads customers: sales.read).
    assert sizes == [5, 31, 10, 2], sizes
    lines = [c for c in pulled.changes if c["entity"] == "journal_line"]
    assert len(lines) == len({c["id"] for c in lines}) == 30
    assert all(line["data"]["journal_entry_id"] == big for line in lines)
    assert pulled.cursor == pull_all(world, ACCOUNTANT, org, cursor, limit=5000).cursor


def test_an_entry_committed_between_the_counter_and_the_log_is_sent_whole_later(
    world: World, monkeypatch: Any
) -> None:
    """On PostgreSQL each statement of a pull sees what committed before it: a push committing
    after the change counter was read and before the change log is. Its entry is left for the
    next page, lines and all, never sent without them."""
    import sync_server.pull as pull

    org = world.a
    set_up_books(world, org)
    cursor = _synced(world)
    customer = new_id()
    world.push(org.email("admin"), org, [mutation("sales.create_customer", id=customer, name="Customer")])
    counter = _last_change(world, org)  # what the pull reads first...
    cash, revenue = chart_account_id(org.id, "1000"), chart_account_id(org.id, "4000")
    entry = new_id()
    pushed = world.push(org.email("admin"), org, [
        mutation("finance.post_journal_entry", id=entry, entry_date=date.today().isoformat(), currency="EUR",
                 lines=[{"account_id": cash, "debit": 100}, {"account_id": revenue, "credit": 100}])])  # fmt: skip
    assert pushed.get_json()["results"][0]["status"] == "applied"
    real = pull.counters  # ...then this push commits, then the pull reads the log
    monkeypatch.setattr(
        pull, "counters", lambda conn, org_id: {**real(conn, org_id), CHANGE_SEQUENCE: counter}
    )
    first = pull_page(world, ACCOUNTANT, org, cursor, limit=1000).get_json()
    assert [(c["entity"], c["id"]) for c in first["changes"]] == [("customer", customer)]
    monkeypatch.setattr(pull, "counters", real)
    rest = pull_all(world, ACCOUNTANT, org, first["cursor"], limit=1000)
    assert [c["entity"] for c in rest.changes] == ["journal_entry", "journal_line", "journal_line"]
    assert {c["data"]["journal_entry_id"] for c in rest.changes[1:]} == {entry}

"""A posted journal entry's lines are part of its row (``journal_entry.lines_json``, revision
0019): they reach another device inside their entry's change, in a snapshot and in incremental
pages alike, and the desktop's ``journal_line`` view and ``journal_balance`` show them as the
server's do. A page never splits an entry; pages stay bounded by ``limit`` rows. On both stores."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import event, select, text

from common.access import OwnerIds
from common.commands.postings import chart_account_id
from common.db import new_key
from common.ids import new_id
from common.journal_lines import decode_lines
from common.permissions import BUILTIN_ROLES
from common.schema import ENTITIES, SCHEMA_VERSION, ChangeLog, OrgSequence
from common.wire import blocks_to_changes, changes_to_blocks
from desktop.local_store import LocalStore
from desktop.profiles import Profile
from desktop.sync.local import apply_page
from sync_server.pull import Reader, incremental_page
from sync_server.writes import CHANGE_SEQUENCE
from tests.sync_server.conftest import OrgInfo, World, mutation, set_up_books
from tests.sync_server.pulling import cursor_of, pull_all, pull_page
from tests.sync_server.test_noop_sync import flask_requests
from tests.sync_server.test_pull import expected_view

ACCOUNTANT = "accountant@acme.test"
LINES = """
    SELECT id, journal_entry_id, line_no, account_id, debit, credit, currency, memo, entry_date
    FROM journal_line WHERE org_id = :org AND NOT deleted ORDER BY journal_entry_id, line_no"""
BALANCES = """
    SELECT account_id, currency, entry_date, debit, credit, lines
    FROM journal_balance WHERE org_id = :org ORDER BY account_id, currency, entry_date"""


def _posting_push(world: World, org: OrgInfo) -> None:
    """Three invoices posted (an entry of three lines each), then a journal entry of three lines
    posted by hand."""
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


def _synced(world: World, email: str = ACCOUNTANT) -> str:
    cursor = pull_all(world, email, world.a).cursor
    assert cursor is not None
    return cursor


def _server_ledger(world: World, org: OrgInfo) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The server's journal lines (its view) and balances, as plain values."""
    with world.services.store.session(org.id) as db:
        lines = db.execute(text(LINES), {"org": org.id}).all()
        balances = db.execute(text(BALANCES), {"org": org.id}).all()
    return _plain(lines), _plain(balances)


def _plain(rows: Any) -> list[tuple[Any, ...]]:
    return [tuple(v if v is None or isinstance(v, str) else int(v) if not isinstance(v, date) else v.isoformat()
                  for v in row) for row in rows]  # fmt: skip


def _desktop(tmp_path: Path, org: OrgInfo) -> LocalStore:
    profile = Profile("https://ops.example.test", ACCOUNTANT, org.id)
    profile.directory(tmp_path).mkdir(parents=True, mode=0o700)
    return LocalStore.open_with_key(tmp_path, profile, new_key())


def _desktop_pulls(world: World, store: LocalStore, cursor: str | None, *, limit: int = 1000) -> str:
    """Every page from ``cursor`` written into the desktop's store as its sync writes them."""
    fresh = cursor is None
    for _ in range(1000):
        body = pull_page(world, ACCOUNTANT, world.a, cursor, limit=limit).get_json()
        assert apply_page(store, body["changes"], body["cursor"], fresh_start=fresh)
        cursor, fresh = body["cursor"], False
        if not body["has_more"]:
            assert cursor is not None
            return cursor
    raise AssertionError("pull never finished")


def _desktop_ledger(store: LocalStore) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with store.read_session() as db:
        params = {"org": store.profile.org_id}
        return _plain(db.execute(text(LINES), params).all()), _plain(db.execute(text(BALANCES), params).all())


def test_lines_are_no_entity_of_their_own() -> None:
    """Lines sync inside their entry's row: no entity, no change-log rows of their own."""
    assert "journal_line" not in ENTITIES


def test_an_entry_reaches_another_device_with_all_its_lines(world: World, tmp_path: Path) -> None:
    org = world.a
    set_up_books(world, org)
    desktop = _desktop(tmp_path, org)
    try:
        cursor = _desktop_pulls(world, desktop, None)
        after = cursor_of(cursor, org).seq
        _posting_push(world, org)

        log = _log(world, org)
        assert not [row for row in log if row[1] == "journal_line"]
        entries = [entity_id for seq, entity, entity_id in log if entity == "journal_entry" and seq > after]
        assert len(entries) == 4
        pulled = pull_all(world, ACCOUNTANT, org, cursor, limit=5000)
        assert pulled.pages == 1
        # Each row changed once, at its change, in log order; the entries whole.
        readable = Reader.of(BUILTIN_ROLES["accountant"], OwnerIds()).entities
        order = list(dict.fromkeys((e, i) for seq, e, i in log if seq > after and e in readable))
        assert [(c["entity"], c["id"]) for c in pulled.changes] == order
        view = expected_view(world, org.id, "accountant")
        for change in pulled.changes:
            assert change["op"] == "upsert" and change["data"] == view[(change["entity"], change["id"])]
        server_lines, server_balances = _server_ledger(world, org)
        assert len(server_lines) == 4 * 3
        sent = {c["id"]: c["data"] for c in pulled.changes if c["entity"] == "journal_entry"}
        assert list(sent) == entries
        for entry_id, data in sent.items():
            lines = decode_lines(data["lines_json"])
            stored = [line for line in server_lines if line[1] == entry_id]
            assert [(ln["id"], entry_id, ln["line_no"], ln["account_id"], ln["debit"], ln["credit"], ln["currency"],
                     ln["memo"], data["entry_date"]) for ln in lines] == stored  # fmt: skip
        assert cursor_of(pulled.cursor or "", org).seq == _last_change(world, org)

        # The desktop, pulling the same pages, shows the same lines and balances.
        _desktop_pulls(world, desktop, cursor)
        assert _desktop_ledger(desktop) == (server_lines, server_balances)
        assert sum(row[-1] for row in server_balances) == len(server_lines)
        # A snapshot reads the same entries: a desktop downloading afresh has the same ledger.
        snapshot = pull_all(world, ACCOUNTANT, org)
        assert {c["id"]: c["data"] for c in snapshot.changes if c["entity"] == "journal_entry"} == {
            k[1]: v for k, v in view.items() if k[0] == "journal_entry"
        }
        _desktop_pulls(world, desktop, None, limit=7)
        assert _desktop_ledger(desktop) == (server_lines, server_balances)
    finally:
        desktop.close()


def test_pages_of_every_size_send_each_entry_once_and_whole(world: World) -> None:
    org = world.a
    set_up_books(world, org)
    cursor = _synced(world)
    _posting_push(world, org)
    whole = pull_all(world, ACCOUNTANT, org, cursor, limit=5000)
    expected = whole.of("journal_entry")
    assert len(expected) == 4
    in_log = len([row for row in _log(world, org) if row[0] > cursor_of(cursor, org).seq])
    for limit in range(1, in_log + 2):
        pulled = pull_all(world, ACCOUNTANT, org, cursor, limit=limit)
        entries = [c for c in pulled.changes if c["entity"] == "journal_entry"]
        assert len(entries) == len(expected), limit  # each entry once, in one change
        assert pulled.of("journal_entry") == expected, limit  # with all its lines
        # Every row arrives as it is now (a row changed in two pages is sent by each).
        assert {(c["entity"], c["id"]): c for c in pulled.changes} == {
            (c["entity"], c["id"]): c for c in whole.changes
        }, limit
        assert pulled.cursor == whole.cursor, limit
        sizes = [len(orjson.loads(body)["changes"]) for body in pulled.bodies]
        assert max(sizes) <= limit, (limit, sizes)


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


def test_readers_without_journal_lines_get_none(world: World) -> None:
    org = world.a
    set_up_books(world, org)
    cursor = _synced(world, org.email("sales"))
    _posting_push(world, org)
    pulled = pull_all(world, org.email("sales"), org, cursor)
    assert {c["entity"] for c in pulled.changes} >= {"invoice", "customer"}
    assert not [c for c in pulled.changes if c["entity"].startswith("journal_")]
    assert cursor_of(pulled.cursor or "", org).seq == _last_change(world, org)


def test_the_blocks_format_sends_the_same_entries(world: World) -> None:
    org = world.a
    set_up_books(world, org)
    cursor = _synced(world)
    _posting_push(world, org)
    changes = pull_page(world, ACCOUNTANT, org, cursor, limit=5000).get_json()
    blocks = pull_page(world, ACCOUNTANT, org, cursor, limit=5000, format="blocks").get_json()
    assert blocks["blocks"] == orjson.loads(orjson.dumps(changes_to_blocks(changes["changes"])))
    assert (blocks["cursor"], blocks["has_more"]) == (changes["cursor"], False)
    entries = [b for b in blocks["blocks"] if b["entity"] == "journal_entry"]
    assert sum(len(b["rows"]) for b in entries) == 4
    at = entries[0]["columns"].index("lines_json")
    assert all(len(decode_lines(row[at])) == 3 for b in entries for row in b["rows"])
    assert not [b for b in blocks["blocks"] if b["entity"] == "journal_line"]


def test_a_page_never_splits_an_entry_of_many_lines(world: World) -> None:
    """An entry of 30 lines is one row, one change; it counts 31 rows toward a page's ``limit``:
    with ``limit`` 10 it is a page of its own, and the pull goes on after it."""
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
    # 18 changes (the accountant reads customers: sales.read), the entry counting 31 rows: the
    # five customers before it, the entry alone, then 10 and 2 customers.
    assert sizes == [5, 1, 10, 2], sizes
    assert orjson.loads(pulled.bodies[1])["changes"][0]["id"] == big
    (entry,) = [c for c in pulled.changes if c["entity"] == "journal_entry"]
    assert entry["id"] == big
    lines = decode_lines(entry["data"]["lines_json"])
    assert len(lines) == len({line["id"] for line in lines}) == 30
    assert [line["line_no"] for line in lines] == list(range(1, 31))
    assert not [c for c in pulled.changes if c["entity"] == "journal_line"]
    assert pulled.cursor == pull_all(world, ACCOUNTANT, org, cursor, limit=5000).cursor


def test_an_entry_committed_between_the_counter_and_the_log_is_sent_whole_later(
    world: World, monkeypatch: Any
) -> None:
    """On PostgreSQL each statement of a pull sees what committed before it: a push committing
    after the change counter was read and before the change log is. Its entry is left for the
    next page (the log is read up to the counter), and sent then with its lines."""
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
    assert [(c["entity"], c["id"]) for c in rest.changes] == [("journal_entry", entry)]
    assert [line["debit"] for line in decode_lines(rest.changes[0]["data"]["lines_json"])] == [100, 0]
    assert cursor_of(first["cursor"], org).seq == counter


def _entries_of_many_lines(world: World, org: OrgInfo) -> dict[str, int]:
    """Customers and hand-posted entries of 2 to 12 lines, interleaved: entry id → its lines."""
    cash, revenue = chart_account_id(org.id, "1000"), chart_account_id(org.id, "4000")
    sizes: dict[str, int] = {}
    batch = []
    for n, lines in enumerate((2, 3, 12, 4, 2, 5, 3, 2)):
        batch.append(mutation("sales.create_customer", id=new_id(), name=f"Customer {n}"))
        entry = new_id()
        sizes[entry] = lines
        debits, credits = lines - lines // 2, lines // 2
        batch.append(mutation("finance.post_journal_entry", id=entry, entry_date=date.today().isoformat(),
                              currency="EUR", lines=[*({"account_id": cash, "debit": 100 * credits} for _ in range(debits)),
                                                     *({"account_id": revenue, "credit": 100 * debits, "memo": "[],[x"}
                                                       for _ in range(credits))]))  # fmt: skip
    results = world.push(org.email("admin"), org, batch).get_json()["results"]
    assert [r["status"] for r in results] == ["applied"] * len(batch), results
    return sizes


def _pages(
    world: World, cursor: str | None, limit: int, wire_format: str
) -> tuple[list[list[tuple[str, str, Any]]], str]:
    """Every page from ``cursor``, each as its ``(entity, id, lines_json or None)``, in either format."""
    pages = []
    for _ in range(1000):
        body = pull_page(world, ACCOUNTANT, world.a, cursor, limit=limit, format=wire_format).get_json()
        changes = blocks_to_changes(body["blocks"]) if wire_format == "blocks" else body["changes"]
        page = [(c["entity"], c["id"], (c.get("data") or {}).get("lines_json")) for c in changes]
        pages.append(page)
        cursor = body["cursor"]
        if not body["has_more"]:
            assert cursor is not None
            return pages, cursor
    raise AssertionError("pull never finished")


def _rows(page: list[tuple[str, str, Any]]) -> int:
    """What a page carries in rows: a change each, and an entry's lines."""
    return sum(
        1 + (len(decode_lines(lines)) if entity == "journal_entry" else 0) for entity, _, lines in page
    )


@pytest.mark.parametrize("wire_format", ["changes", "blocks"])
@pytest.mark.parametrize("incremental", [True, False], ids=["incremental", "snapshot"])
def test_an_entrys_lines_count_toward_a_pages_limit(
    world: World, wire_format: str, incremental: bool
) -> None:
    """A page ends before the entry whose lines would take it past ``limit`` rows; one entry of
    more lines than that is a page of its own, and the pull goes on after it. Each entry arrives
    once and whole; the pages end where one page of everything does."""
    org = world.a
    set_up_books(world, org)
    cursor = _synced(world) if incremental else None
    sizes = _entries_of_many_lines(world, org)
    whole, whole_cursor = _pages(world, cursor, 5000, wire_format)
    everything = [change for page in whole for change in page]  # a snapshot's last page is empty
    expected = {(entity, row_id): lines for entity, row_id, lines in everything}
    for limit in (1, 4, 6, 7, 13):
        pages, end = _pages(world, cursor, limit, wire_format)
        for page in pages:
            assert _rows(page) <= limit or len(page) == 1, (limit, [_rows(p) for p in pages])
        sent = [change for page in pages for change in page]
        entries = [(row_id, lines) for entity, row_id, lines in sent if entity == "journal_entry"]
        assert sorted(row_id for row_id, _ in entries) == sorted(
            row_id for (e, row_id) in expected if e == "journal_entry"
        )
        assert {row_id: len(decode_lines(lines)) for row_id, lines in entries if row_id in sizes} == sizes
        assert {(entity, row_id): lines for entity, row_id, lines in sent} == expected, limit
        if not incremental:
            assert sent == everything, limit  # a snapshot sends each row once, in the same order
        assert end == whole_cursor, limit
        if limit < 13:
            (alone,) = [
                p for p in pages if any(row_id in sizes and sizes[row_id] == 12 for _, row_id, _ in p)
            ]
            assert len(alone) == 1 and pages[-1] is not alone, limit

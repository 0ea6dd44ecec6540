"""The desktop's ledger since revision 0019: an entry's lines are in its row, ``journal_balance``
is kept from the entries by triggers. A fresh download into a store that holds entries, pulled
entries written again (``INSERT OR REPLACE``), and the undo of outbox entries queued before the
change (whose undo images name ``journal_line``) all leave the balances equal to the lines."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, text, update

from common.commands.postings import chart_account_id
from common.ids import new_id
from common.journal_lines import encode_lines
from common.schema import Account, JournalEntry, OutboxEntry
from common.schema.base import table_of
from common.wire import row_to_wire
from desktop.attention import keep_server
from desktop.rows import WRITERS
from desktop.session import UserSession
from desktop.sync.local import apply_page
from tests.common.business import Sums, ledger_sums


def _assert_balanced(session: UserSession) -> Sums:
    with session.store.read_session() as db:
        balances, lines = ledger_sums(db)
    assert balances == lines
    return balances


def _post(session: UserSession, amounts: list[int], day: str = "2026-11-02") -> str:
    org = session.profile.org_id
    entry = new_id()
    cash, revenue = chart_account_id(org, "1000"), chart_account_id(org, "4000")
    lines: list[dict[str, Any]] = [{"account_id": cash, "debit": sum(amounts)}]
    lines += [{"account_id": revenue, "credit": amount} for amount in amounts]
    session.apply(
        "finance.post_journal_entry", {"id": entry, "entry_date": day, "currency": "EUR", "lines": lines}
    )
    return entry


def _confirmed(session: UserSession) -> None:
    """What a sync does once the server applied every command: the outbox empties."""
    with session.store.write_session() as db:
        db.execute(table_of(OutboxEntry).delete())


def _wire(session: UserSession, model: Any) -> list[dict[str, Any]]:
    table = table_of(model)
    with session.store.read_session() as db:
        rows = db.execute(select(*table.columns)).mappings().all()
    return [{k: v for k, v in row_to_wire(dict(row)).items() if k != "org_id"} for row in rows]


def test_a_fresh_download_into_a_store_holding_entries_leaves_balances_equal_to_the_lines(
    session: UserSession,
) -> None:
    kept, dropped = _post(session, [100, 200]), _post(session, [300], day="2026-11-03")
    _post(session, [50, 60, 70], day="2026-11-02")
    _confirmed(session)
    assert len(_assert_balanced(session)) == 4
    accounts = _wire(session, Account)
    entries = {row["id"]: row for row in _wire(session, JournalEntry)}
    # The server's copy: one entry as here, one of this store's gone, one this store never had
    # (with a line on an account and day no local entry has).
    org = session.profile.org_id
    new_entry = {
        **entries[kept],
        "id": new_id(),
        "number": "JE-SERVER-1",
        "entry_date": "2026-11-05",
        "lines_json": encode_lines(
            [
                [new_id(), chart_account_id(org, "1000"), 999, 0, "EUR", None],
                [new_id(), chart_account_id(org, "4000"), 0, 999, "EUR", "server"],
            ]
        ),
    }
    snapshot = [{"entity": "account", "id": a["id"], "op": "upsert", "data": a} for a in accounts]
    snapshot += [
        {"entity": "journal_entry", "id": e["id"], "op": "upsert", "data": e}
        for e in (entries[kept], new_entry)
    ]
    assert apply_page(session.store, snapshot, "cursor-1", fresh_start=True)
    balances = _assert_balanced(session)
    with session.store.read_session() as db:
        ids = set(db.execute(select(JournalEntry.id)).scalars())
        line_count = db.execute(text("SELECT count(*) FROM journal_line")).scalar()
    assert ids == {kept, new_entry["id"]} and dropped not in ids
    assert line_count == 3 + 2 and sum(lines for *_, lines in balances.values()) == 5
    # Pulled again, by an incremental page (INSERT OR REPLACE of rows the store holds): counted once.
    again = [c for c in snapshot if c["entity"] == "journal_entry"]
    assert apply_page(session.store, again, "cursor-2", fresh_start=False)
    assert _assert_balanced(session) == balances
    # A tombstone pulled for an entry takes its lines out of the balances.
    tombstone = {**new_entry, "deleted": True, "version": new_entry["version"] + 1}
    assert apply_page(
        session.store,
        [{"entity": "journal_entry", "id": tombstone["id"], "op": "upsert", "data": tombstone}],
        "cursor-3",
        fresh_start=False,
    )
    assert sum(lines for *_, lines in _assert_balanced(session).values()) == 3


def test_a_second_fresh_download_of_the_same_entries_counts_them_once(session: UserSession) -> None:
    for n in range(5):
        _post(session, [10 * (n + 1), 5], day=f"2026-11-0{n + 1}")
    _confirmed(session)
    before = _assert_balanced(session)
    page = [{"entity": "account", "id": a["id"], "op": "upsert", "data": a} for a in _wire(session, Account)]
    page += [
        {"entity": "journal_entry", "id": e["id"], "op": "upsert", "data": e}
        for e in _wire(session, JournalEntry)
    ]
    for cursor in ("c1", "c2"):
        assert apply_page(session.store, page, cursor, fresh_start=True)
        assert _assert_balanced(session) == before


def _as_queued_before_revision_0019(session: UserSession, entry_id: str) -> list[str]:
    """The outbox entry of ``entry_id``'s posting as a program of version 7 queued it: an undo
    image per line the command created, besides the entry's own."""
    with session.store.write_session() as db:
        (command_id, undo), *_ = db.execute(select(OutboxEntry.id, OutboxEntry.undo)).all()
        lines = (
            db.execute(
                text("SELECT id FROM journal_line WHERE journal_entry_id = :entry ORDER BY line_no"),
                {"entry": entry_id},
            )
            .scalars()
            .all()
        )
        assert [image["entity"] for image in undo] == ["journal_entry"]
        undo = [*undo, *({"entity": "journal_line", "id": line, "before": None} for line in lines)]
        db.execute(update(OutboxEntry).where(OutboxEntry.id == command_id).values(undo=undo))
    return [command_id, *lines]


def test_undo_of_a_posting_queued_before_the_change_removes_the_entry_and_its_balances(
    session: UserSession,
) -> None:
    entry = _post(session, [100, 200])
    command_id, *lines = _as_queued_before_revision_0019(session, entry)
    assert len(lines) == 3
    with session.store.write_session() as db:
        db.execute(
            update(OutboxEntry).where(OutboxEntry.id == command_id).values(status="rejected", code="invalid")
        )
    keep_server(session, command_id)
    with session.store.read_session() as db:
        assert db.execute(select(JournalEntry.id).where(JournalEntry.id == entry)).first() is None
        assert db.execute(text("SELECT count(*) FROM journal_line")).scalar() == 0
    assert session.store.outbox() == []
    assert _assert_balanced(session) == {}


def test_undo_entry_skips_line_images_of_before_the_change(session: UserSession) -> None:
    kept = _post(session, [40])
    _confirmed(session)
    undone = _post(session, [100, 200], day=date(2026, 11, 4).isoformat())
    _as_queued_before_revision_0019(session, undone)
    (queued,) = session.store.outbox()
    with session.store.write_session() as db:
        session.store.undo_entry(db, queued)
    with session.store.read_session() as db:
        assert set(db.execute(select(JournalEntry.id)).scalars()) == {kept}
    assert sum(lines for *_, lines in _assert_balanced(session).values()) == 2


def _delete_trigger(session: UserSession) -> list[Any]:
    with session.store.read_session() as db:
        return db.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'journal_balance_delete'")
        ).all()


def test_a_fresh_download_puts_the_balances_delete_trigger_back(session: UserSession) -> None:
    """The download clears the balances with the entries, in one statement, and the trigger that
    subtracts a deleted entry's lines is there again afterwards: deleting an entry still counts."""
    trigger = _delete_trigger(session)
    assert len(trigger) == 1
    _post(session, [100])
    _confirmed(session)
    page = [{"entity": "account", "id": a["id"], "op": "upsert", "data": a} for a in _wire(session, Account)]
    page += [
        {"entity": "journal_entry", "id": e["id"], "op": "upsert", "data": e}
        for e in _wire(session, JournalEntry)
    ]
    assert apply_page(session.store, page, "c1", fresh_start=True)
    assert _delete_trigger(session) == trigger
    assert sum(lines for *_, lines in _assert_balanced(session).values()) == 2
    with session.store.write_session() as db:
        db.execute(table_of(JournalEntry).delete())
    assert _assert_balanced(session) == {}


def test_a_fresh_download_that_fails_leaves_entries_balances_and_trigger_as_they_were(
    session: UserSession, monkeypatch: Any
) -> None:
    _post(session, [100, 20])
    _confirmed(session)
    before = _assert_balanced(session)
    trigger = _delete_trigger(session)
    page = [
        {"entity": "journal_entry", "id": e["id"], "op": "upsert", "data": e}
        for e in _wire(session, JournalEntry)
    ]

    def broken(*args: Any) -> int:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(WRITERS["journal_entry"], "write", broken)
    with pytest.raises(RuntimeError, match="disk is full"):
        apply_page(session.store, page, "c1", fresh_start=True)
    monkeypatch.undo()
    assert _delete_trigger(session) == trigger
    assert _assert_balanced(session) == before
    with session.store.read_session() as db:
        assert len(db.execute(select(JournalEntry.id)).all()) == 1

"""The audit trail of the ledger since revision 0019 (a journal entry's lines in its row,
``lines_json``; ``journal_balance`` kept by triggers), on both stores:

- ``ops-server audit verify --data`` compares every entry's stored lines with what the chain
  recorded of them, whether the entry was posted since (its image's ``lines_json``) or converted
  by the migration (its lines' images in older events, nested or their own), and the balances
  the statements read with the sums of the live entries' lines;
- the audit API still reads, finds and masks the lines of old events, and a posting's or a
  reversal's event holds its lines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from common.ids import new_id
from common.journal_lines import decode_lines
from common.schema import AuditEvent, JournalBalance, JournalLine
from common.wire import to_wire
from tests.sync_server.conftest import World, mutation
from tests.sync_server.test_audit import _audit, _cli, _give_role, _post_an_invoice, _tamper
from tests.sync_server.test_audit_data import (
    _account,
    _converted_entry,
    _entry_of,
    _problems,
    _tamper_lines,
)

FORMS = ("whole", "slim", "own")


def _manual_and_reversal(world: World) -> tuple[str, str]:
    """A manual entry of organization A (rent paid from the bank, three lines) and its reversal,
    each an event of its own: their ids."""
    manual, reversal = new_id(), new_id()
    bank, rent, fees = (_account(world, code) for code in ("1000", "6500", "6900"))
    pushed = world.push(
        "admin@acme.test",
        world.a,
        [
            mutation(
                "finance.post_journal_entry",
                id=manual,
                entry_date=datetime.now(UTC).date().isoformat(),
                currency="EUR",
                memo="Rent",
                lines=[
                    {"account_id": rent, "debit": 70000},
                    {"account_id": fees, "debit": 250, "memo": "Bank fee"},
                    {"account_id": bank, "credit": 70250},
                ],
            ),
            mutation("finance.reverse_journal_entry", id=reversal, entry_id=manual),
        ],
    )
    assert [r["status"] for r in pushed.get_json()["results"]] == ["applied"] * 2, pushed.get_json()
    return manual, reversal


def _ledger(world: World) -> dict[str, list[dict[str, Any]]]:
    """Organization A's books with an entry of every form the chain holds: an invoice's posting
    (in the invoice's event), a manual entry and its reversal (events of their own), and three
    entries converted by revision 0019, one per form older servers audited lines in. Entry id →
    its lines as the ``journal_line`` view shows them; ``verify --data`` finds nothing."""
    invoice = _post_an_invoice(world)
    posted, lines = _entry_of(world, invoice)
    manual, reversal = _manual_and_reversal(world)
    entries = {
        posted["id"]: lines,
        manual: _view_lines(world, manual),
        reversal: _view_lines(world, reversal),
    }
    for n, form in enumerate(FORMS, start=1):
        entry_id, rows = _converted_entry(world, posted, lines, form, f"JE-OLD{n}")
        entries[entry_id] = rows
    assert _problems(world, world.a.id) == []
    return entries


def _view_lines(world: World, entry_id: str) -> list[dict[str, Any]]:
    """An entry's lines as the ``journal_line`` view shows them, by number."""
    with world.services.store.session(world.a.id) as session:
        return [
            dict(row)
            for row in session.execute(
                select(JournalLine.__table__)
                .where(JournalLine.journal_entry_id == entry_id)
                .order_by(JournalLine.line_no)
            ).mappings()
        ]


def test_a_clean_store_reports_nothing_and_counts_its_balances(world: World) -> None:
    """Every form of entry agrees with its trail, and the balances with the lines: the command
    line says so, the rows it checked counting the balance rows."""
    entries = _ledger(world)
    with world.services.store.session(world.a.id) as session:
        balances = len(session.execute(select(JournalBalance.account_id)).all())
        assert balances > 0
        lines = sum(session.execute(select(JournalBalance.lines)).scalars())
    # The converted entries count as live entries too: their lines are in the balances.
    assert lines == sum(len(rows) for rows in entries.values())
    result = _cli(world.services.config, "audit", "verify", "--org", "Acme", "--data")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "matches its audit trail" in result.stdout


def test_an_amount_changed_in_the_stored_lines_is_named_by_line(world: World) -> None:
    """An amount changed in an entry's ``lines_json`` behind the server (the balances follow it,
    through the triggers) is named by line and field, whatever form the entry's trail has: the
    posted invoice's, the manual entry's and its reversal's ``lines_json``, the converted
    entries' line images."""
    entries = _ledger(world)

    def overcharge(stored: list[list[Any]]) -> None:
        stored[-1][3] += 100  # the last line's credit

    for entry_id in entries:
        _tamper_lines(world, entry_id, overcharge)
    expected = []
    for rows in entries.values():
        last = rows[-1]
        expected.append(
            f"journal_line {last['id']} credit: stored {last['credit'] + 100}, "
            f"the audit trail says {last['credit']}"
        )
    assert sorted(_problems(world, world.a.id)) == sorted(expected)
    caught = _cli(world.services.config, "audit", "verify", "--org", "Acme", "--data")
    assert caught.returncode == 1 and f"DATA MISMATCH {expected[0]}" in caught.stdout, caught.stdout


@pytest.mark.parametrize("store_kind", ["sqlite"])
def test_an_amount_stored_as_another_json_type_is_named(world: World) -> None:
    """``10000.0`` is not ``10000``: an amount is a whole number of minor units. (On the embedded
    store only: PostgreSQL's balance trigger casts each amount to ``bigint`` and refuses it.)"""
    invoice = _post_an_invoice(world)
    entry, lines = _entry_of(world, invoice)

    def as_float(stored: list[list[Any]]) -> None:
        stored[0][2] = float(stored[0][2])

    _tamper_lines(world, entry["id"], as_float)
    debit = lines[0]["debit"]
    assert f"journal_line {lines[0]['id']} debit: stored {float(debit)!r}, the audit trail says {debit}" in (
        _problems(world, world.a.id)
    )


def test_a_line_added_or_removed_behind_the_server_is_named(world: World) -> None:
    """A line added to an entry's stored lines has no audit history; a line taken out is one the
    trail has and the store does not; a line moved is out of place. For every form of trail."""
    entries = _ledger(world)
    ids = list(entries)
    added = {entry_id: new_id() for entry_id in ids[0::2]}
    removed = {entry_id: entries[entry_id][0] for entry_id in ids[1::2]}
    for entry_id in ids:
        if entry_id in added:

            def add(stored: list[list[Any]], line_id: str = added[entry_id]) -> None:
                stored.append([line_id, stored[0][1], 5, 0, stored[0][4], None])

            _tamper_lines(world, entry_id, add)
        else:
            _tamper_lines(world, entry_id, lambda stored: stored.pop(0))
    expected = [
        f"journal_line {line_id}: journal entry {entry_id} holds this line, the audit trail does not "
        "(written behind the server)"
        for entry_id, line_id in added.items()
    ] + [
        f"journal_line {line['id']}: the audit trail has this line of journal entry {entry_id}, the store does not"
        for entry_id, line in removed.items()
    ]
    problems = _problems(world, world.a.id)
    assert sorted(problems) == sorted(expected), problems

    # Lines swapped: each named with its place.
    entry_id = ids[0]
    _tamper_lines(world, entry_id, lambda stored: stored.pop())  # the added line out again
    assert not any(entry_id in p for p in _problems(world, world.a.id))

    def swap(stored: list[list[Any]]) -> None:
        stored[0], stored[1] = stored[1], stored[0]

    _tamper_lines(world, entry_id, swap)
    first, second = entries[entry_id][0], entries[entry_id][1]
    assert {
        f"journal_line {first['id']} line_no: stored 2, the audit trail says 1",
        f"journal_line {second['id']} line_no: stored 1, the audit trail says 2",
    } <= set(_problems(world, world.a.id))


@pytest.mark.parametrize("form", FORMS)
def test_a_converted_entry_is_expected_to_hold_the_lines_the_migration_moved(world: World, form: str) -> None:
    """Revision 0019 moved a live entry's live lines and a tombstone's every line (tombstoned with
    it): the lines of a converted entry are expected as it moved them. A line deleted from a live
    entry before it is not expected; one taken out of a tombstone is named."""
    invoice = _post_an_invoice(world)
    posted, lines = _entry_of(world, invoice)
    three = [*lines, {**lines[0], "line_no": 3, "debit": 1}]
    live_id, live = _converted_entry(world, posted, three, form, "JE-OLD1", deleted=(1,))
    gone_id, gone = _converted_entry(world, posted, three, form, "JE-OLD2", tombstone=True)
    assert [row["id"] for row in _view_lines(world, live_id)] == [live[0]["id"], live[2]["id"]]
    assert len(_view_lines(world, gone_id)) == 3
    assert _problems(world, world.a.id) == []

    _tamper_lines(world, gone_id, lambda stored: stored.pop(1))
    _tamper_lines(world, live_id, lambda stored: stored.pop(1))
    assert sorted(_problems(world, world.a.id)) == sorted(
        [
            f"journal_line {gone[1]['id']}: the audit trail has this line of journal entry {gone_id}, "
            "the store does not",
            f"journal_line {live[2]['id']}: the audit trail has this line of journal entry {live_id}, "
            "the store does not",
        ]
    )


def test_a_balance_changed_added_or_removed_behind_the_server_is_named(world: World) -> None:
    """``journal_balance``, which the statements read and no event records, is checked against
    the live entries' lines: a sum changed, a row deleted and a row made up are each named by
    account, currency and day."""
    _ledger(world)
    with world.services.store.session(world.a.id) as session:
        rows = [
            dict(row)
            for row in session.execute(
                select(JournalBalance.__table__).order_by(
                    JournalBalance.account_id, JournalBalance.entry_date
                )
            ).mappings()
        ]
    assert len(rows) >= 3
    changed, gone = rows[0], rows[1]
    world.services.store.dispose()
    config = world.services.config

    def where(row: dict[str, Any]) -> str:
        return (
            f"org_id = '{row['org_id']}' AND account_id = '{row['account_id']}' AND currency = "
            f"'{row['currency']}' AND entry_date = '{to_wire(row['entry_date'])}'"
        )

    _tamper(config, f"UPDATE journal_balance SET debit = debit + 1 WHERE {where(changed)}")
    _tamper(config, f"DELETE FROM journal_balance WHERE {where(gone)}")
    made_up = {**changed, "entry_date": datetime(2001, 1, 1).date(), "debit": 999, "credit": 0, "lines": 1}
    _tamper(
        config,
        "INSERT INTO journal_balance (org_id, account_id, currency, entry_date, debit, credit, lines) "
        f"VALUES ('{made_up['org_id']}', '{made_up['account_id']}', 'EUR', '2001-01-01', 999, 0, 1)",
    )

    def name(row: dict[str, Any]) -> str:
        return f"journal_balance {row['account_id']} {row['currency']} {to_wire(row['entry_date'])}"

    assert sorted(_problems(world, world.a.id)) == sorted(
        [
            f"{name(changed)} debit: stored {changed['debit'] + 1}, the entries' lines sum to {changed['debit']}",
            f"{name(gone)}: the entries' lines sum to debit {gone['debit']}, credit {gone['credit']} over "
            f"{gone['lines']} lines; the store has no row",
            f"{name(made_up)}: stored debit 999, credit 0 over 1 lines; no live entry has a line of it",
        ]
    )
    caught = _cli(config, "audit", "verify", "--org", "Acme", "--data")
    assert caught.returncode == 1 and "DATA MISMATCH journal_balance" in caught.stdout


def test_unreadable_stored_lines_are_named(world: World) -> None:
    """Stored lines that are no lines (here one of five fields, which the balance triggers still
    take) are named on the entry, and the check goes on: the balances, which count that line,
    no longer match the entries' readable lines."""
    invoice = _post_an_invoice(world)
    entry, lines = _entry_of(world, invoice)
    text = f'[["{lines[0]["id"]}","{lines[0]["account_id"]}",0,0,"EUR"]]'
    world.services.store.dispose()
    _tamper(
        world.services.config, f"UPDATE journal_entry SET lines_json = '{text}' WHERE id = '{entry['id']}'"
    )
    problems = _problems(world, world.a.id)
    unreadable = f"journal_entry {entry['id']} lines_json: the stored lines are not lines: line 1 of an entry is not a line"
    assert unreadable in problems
    assert any(p.startswith("journal_balance ") for p in problems), problems


def test_a_posting_and_a_reversal_hold_their_lines_in_their_events(world: World) -> None:
    """What an auditor reads: the manual entry's event and its reversal's hold their lines as
    posted (the reversal's the same lines, debits and credits swapped); the desktop's history
    counts them."""
    _post_an_invoice(world)  # the books
    manual, reversal = _manual_and_reversal(world)
    shown = {}
    for entry_id in (manual, reversal):
        [event] = _audit(world, "auditor@acme.test", entity="journal_entry", entity_id=entry_id)["events"]
        assert (event["entity"], event["entity_id"]) == ("journal_entry", entry_id)
        shown[entry_id] = decode_lines(event["after"]["lines_json"])
    assert [(line["debit"], line["credit"], line["memo"]) for line in shown[manual]] == [
        (70000, 0, None),
        (250, 0, "Bank fee"),
        (0, 70250, None),
    ]
    assert [(line["account_id"], line["credit"], line["debit"]) for line in shown[reversal]] == [
        (line["account_id"], line["debit"], line["credit"]) for line in shown[manual]
    ]
    assert [line["id"] for line in shown[manual]] == [line["id"] for line in _view_lines(world, manual)]
    history = pytest.importorskip("desktop.ui.history")
    [event] = _audit(world, "auditor@acme.test", entity="journal_entry", entity_id=manual)["events"]
    assert "Lines: 3" in history.describe_change(event)


def test_old_line_images_are_found_and_masked_as_lines(world: World) -> None:
    """Events from before revision 0019, lines nested in their entry's event or events of their
    own: asked for a line, the audit API answers with them (the line found in its entry's stored
    lines); a reader of the audit who may not read the books sees the lines' ids only, the rest
    masked, as for any row, in the nested images and in a line's own event alike."""
    invoice = _post_an_invoice(world)
    posted, lines = _entry_of(world, invoice)
    converted = {
        form: _converted_entry(world, posted, lines, form, f"JE-OLD{n}") for n, form in enumerate(FORMS)
    }
    bare = _give_role(world, "employee", "bare_auditor", ["admin.audit"])
    books = _give_role(world, "project_manager", "books_auditor", ["admin.audit", "finance.read"])

    nested_id, nested_lines = converted["slim"]
    [whole] = _audit(world, books, entity="journal_line", entity_id=nested_lines[1]["id"])["events"]
    assert (whole["entity"], whole["entity_id"]) == ("journal_entry", nested_id) and "masked" not in whole
    assert [line["debit"] for line in whole["after"]["lines"]] == [line["debit"] for line in nested_lines]
    assert whole["after"]["lines"][0]["journal_entry_id"] == nested_id  # slim as stored, whole as shown
    [masked] = _audit(world, bare, entity="journal_line", entity_id=nested_lines[1]["id"])["events"]
    assert masked["seq"] == whole["seq"]
    assert masked["after"]["lines"] == [{"id": line["id"]} for line in nested_lines]
    assert {"lines.debit", "lines.account_id", "lines.journal_entry_id"} <= set(masked["masked"])
    # By the line's id alone, the same.
    assert _audit(world, bare, entity_id=nested_lines[1]["id"])["events"] == [masked]

    own_id, own_lines = converted["own"]
    line = own_lines[0]
    found = _audit(world, books, entity="journal_line", entity_id=line["id"])["events"]
    assert [(e["entity"], e["entity_id"]) for e in found] == [
        ("journal_line", line["id"]),
        ("journal_entry", own_id),
    ]
    assert found[0]["after"]["debit"] == line["debit"] and "masked" not in found[0]
    hidden = _audit(world, bare, entity="journal_line", entity_id=line["id"])["events"]
    assert [e["seq"] for e in hidden] == [e["seq"] for e in found]
    assert hidden[0]["after"] == {} and {"debit", "credit", "account_id", "journal_entry_id"} <= set(
        hidden[0]["masked"]
    )
    # Listed by entity, every old line event is masked too.
    listed = _audit(world, bare, entity="journal_line")["events"]
    own_events = [e for e in listed if e["entity"] == "journal_line"]
    assert len(own_events) == len(own_lines) and all(e["after"] == {} for e in own_events)
    with world.services.store.session(world.a.id) as session:
        assert session.execute(select(AuditEvent.seq).where(AuditEvent.entity == "journal_line")).all()

"""``ops-server audit verify --data``: a row changed behind the server is named, on both stores."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select

from common.ids import new_id
from common.journal_lines import decode_lines, encode_lines
from common.schema import Account, AuditEvent, Invoice, JournalEntry, JournalLine
from common.schema.base import table_of
from common.wire import to_wire
from sync_server import admin_ops
from sync_server.audit import (
    POSTING_HOLDERS,
    POSTINGS,
    PendingEvent,
    append_events,
    full_event_images,
    nested_images,
    verify_chain,
)
from sync_server.audit_data import verify_data
from sync_server.demo import seed_demo
from sync_server.writes import ServerRecorder
from tests.sync_server.conftest import World, mutation, warehouse
from tests.sync_server.inviting import join
from tests.sync_server.test_audit import _audit, _cli, _post_an_invoice, _tamper


def _problems(world: World, org_id: str) -> list[str]:
    with world.services.store.session(org_id) as session:
        _, problems = verify_data(session, org_id)
    return [str(p) for p in problems]


def _hire(world: World, salary: int) -> str:
    employee_id = new_id()
    pushed = world.push(
        "hr@acme.test",
        world.a,
        [
            mutation(
                "hr.create_employee", id=employee_id, name="Robin", salary=salary, salary_currency="EUR"
            ),
            mutation(
                "hr.update_employee", id=employee_id, changes={"job_title": "Clerk"}, base={"job_title": None}
            ),
        ],
    )
    assert [r["status"] for r in pushed.get_json()["results"]] == ["applied", "applied"], pushed.get_json()
    return employee_id


def test_attack_a_salary_multiplied_in_the_table_is_reported(world: World) -> None:
    employee_id = _hire(world, 420000)
    assert world.push("warehouse@acme.test", world.a, [warehouse("W1")]).status_code == 200
    join(world, world.a, "sales@globex.test", ["auditor"], "correct horse battery")
    config = world.services.config
    clean = _cli(config, "audit", "verify", "--org", "Acme", "--data")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "matches its audit trail" in clean.stdout
    world.services.store.dispose()
    _tamper(config, f"UPDATE employee SET salary = salary * 10 WHERE id = '{employee_id}'")
    assert _cli(config, "audit", "verify", "--org", "Acme").returncode == 0  # the chain itself is intact
    caught = _cli(config, "audit", "verify", "--org", "Acme", "--data")
    assert caught.returncode == 1
    assert (
        f"DATA MISMATCH employee {employee_id} salary: stored 4200000, the audit trail says 420000"
        in caught.stdout
    ), caught.stdout
    assert _cli(config, "audit", "verify", "--org", "Globex", "--data").returncode == 0


def test_rows_and_memberships_changed_behind_the_server_are_named(world: World) -> None:
    employee_id = _hire(world, 300000)
    assert _problems(world, world.a.id) == []
    world.services.store.dispose()
    config = world.services.config
    a = world.a.id
    _tamper(
        config, f"UPDATE membership SET roles = '[\"admin\"]' WHERE user_id = '{world.a.users['employee']}'"
    )
    _tamper(config, f"UPDATE employee SET updated_by = NULL WHERE id = '{employee_id}'")
    _tamper(
        config,
        "INSERT INTO warehouse (org_id, id, code, name, archived, version, updated_at, deleted) "
        f"VALUES ('{a}', '{new_id()}', 'GHOST', 'Ghost', false, 1, '2026-01-01T00:00:00+00:00', false)",
    )
    _tamper(config, f"DELETE FROM employee_directory WHERE id = '{employee_id}'")
    problems = _problems(world, a)
    membership = next(p for p in problems if p.startswith("membership"))
    assert membership.endswith("roles: stored ['admin'], the audit trail says ['employee']"), problems
    assert f"employee {employee_id} updated_by: stored None" in "\n".join(problems)
    assert any(p.startswith("warehouse") and "no audit history" in p for p in problems)
    assert f"employee_directory {employee_id}: the audit trail has this row, the store does not" in problems
    assert len(problems) == 4, problems
    assert _problems(world, world.b.id) == []


def test_every_module_of_the_demo_matches_its_trail(world: World) -> None:
    """The demo writes through every module's commands: the replay agrees with all of them."""
    seed_demo(world.services, "demo password 1")
    for org in ("Acme Trading", "Globex Manufacturing", "Acme", "Globex"):
        result = _cli(world.services.config, "audit", "verify", "--org", org, "--data")
        assert result.returncode == 0, (org, result.stdout[-3000:], result.stderr[-2000:])
    # Among them, postings nested in the events of every kind of document that posts: the
    # replay read each kind (and the manual entries' events of their own).
    demo_orgs = [
        admin_ops.find_org(world.services.store, name)[0] for name in ("Acme Trading", "Globex Manufacturing")
    ]
    for org_id in demo_orgs:
        with world.services.store.session(org_id) as session:
            events = session.execute(
                select(AuditEvent.entity, AuditEvent.after).where(AuditEvent.org_id == org_id)
            ).all()
        assert {entity for entity, after in events if (after or {}).get(POSTINGS)} == POSTING_HOLDERS
        assert any(entity == "journal_entry" for entity, _ in events)
    # And the demo's books are true: each organization's trial balance balances and is not empty,
    # assets equal liabilities plus equity, and the inventory account holds what the stock
    # valuation says the stock is worth.
    from decimal import Decimal

    from common.permissions import ALL_PERMISSIONS
    from common.reports import run_report

    for org_id in demo_orgs:
        with world.services.store.session(org_id) as session:
            made = {
                name: run_report(session, org_id, name, params, ALL_PERMISSIONS)
                for name, params in (
                    ("trial_balance", {}),
                    ("balance_sheet", {"as_of": "2099-12-31"}),
                    ("stock_valuation", {}),
                    (
                        "tax_summary",
                        {"from": f"{date.today().year}-01-01", "to": f"{date.today().year}-12-31"},
                    ),
                )
            }
        trial, sheet = made["trial_balance"]["totals"], made["balance_sheet"]["totals"]
        assert trial["debit"] == trial["credit"] and Decimal(trial["debit"]) > 0, trial
        assert Decimal(sheet["assets"]) == Decimal(sheet["liabilities"]) + Decimal(sheet["equity"]), sheet
        inventory = {row["code"]: row["balance"] for row in made["trial_balance"]["rows"]}.get("1300", "0.00")
        assert Decimal(inventory) == Decimal(made["stock_valuation"]["totals"]["value"]) > 0
        # Its invoices and a bill charge VAT: the tax summary is not all zeros.
        taxes = made["tax_summary"]["totals"]
        assert Decimal(taxes["output_tax"]) > 0 and Decimal(taxes["input_tax"]) > 0, taxes


def _entry_of(world: World, source_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The journal entry posted for ``source_id`` in organization A, and its lines by number."""
    entries, lines = table_of(JournalEntry), table_of(JournalLine)
    with world.services.store.session(world.a.id) as session:
        entry = dict(
            session.execute(
                select(entries).where(entries.c.org_id == world.a.id, entries.c.source_id == source_id)
            )
            .mappings()
            .one()
        )
        rows = [
            dict(row)
            for row in session.execute(
                select(lines).where(lines.c.journal_entry_id == entry["id"]).order_by(lines.c.line_no)
            ).mappings()
        ]
    return entry, rows


def _tamper_lines(world: World, entry_id: str, edit: Callable[[list[list[Any]]], object]) -> None:
    """Change organization A's entry's stored lines behind the server: ``edit`` changes them
    (``[id, account_id, debit, credit, currency, memo]`` each) in place, written back as text
    (the store's triggers keep ``journal_balance`` in step, as for any write of the entry)."""
    with world.services.store.session(world.a.id) as session:
        stored = session.execute(
            select(JournalEntry.lines_json).where(
                JournalEntry.org_id == world.a.id, JournalEntry.id == entry_id
            )
        ).scalar_one()
    world.services.store.dispose()
    lines = json.loads(stored)
    edit(lines)
    text = encode_lines(lines).replace("'", "''")
    _tamper(world.services.config, f"UPDATE journal_entry SET lines_json = '{text}' WHERE id = '{entry_id}'")


def _events(world: World, *entities: str) -> list[Any]:
    """Organization A's audit events of these entities, in order."""
    with world.services.store.session(world.a.id) as session:
        return list(
            session.execute(
                select(
                    AuditEvent.seq,
                    AuditEvent.at,
                    AuditEvent.actor,
                    AuditEvent.action,
                    AuditEvent.entity,
                    AuditEvent.entity_id,
                    AuditEvent.before,
                    AuditEvent.after,
                )
                .where(AuditEvent.org_id == world.a.id, AuditEvent.entity.in_(entities))
                .order_by(AuditEvent.seq)
            ).all()
        )


def test_a_posted_invoice_is_one_event_holding_its_entry_and_lines_checked_like_rows(world: World) -> None:
    """Posting an invoice is one audit event, the invoice's: its entry (with its id and its lines,
    ``lines_json``) is in it and has no event of its own; ``--data`` replays it from there and
    names an entry or a line changed behind the server, fields the nested image leaves out too."""
    invoice = _post_an_invoice(world)
    entry, lines = _entry_of(world, invoice)
    assert len(lines) == 2
    assert _events(world, "journal_entry", "journal_line") == []
    posts = [e for e in _events(world, "invoice") if e.action == "sales.post_invoice"]
    assert [(e.entity_id, e.before["status"], e.after["status"]) for e in posts] == [
        (invoice, "draft", "posted")
    ]
    (posting,) = posts[0].after["postings"]
    assert (
        posting["id"] == entry["id"]
        and posting["memo"] == entry["memo"] == f"Invoice {posts[0].after['number']}"
    )
    assert "source_id" not in posting and "deleted" not in posting  # the event says them
    assert posting["lines_json"] == entry["lines_json"]
    held = decode_lines(posting["lines_json"])
    assert [item["id"] for item in held] == [row["id"] for row in lines]
    assert [(item["debit"], item["credit"]) for item in held] == [(10000, 0), (0, 10000)]
    assert _problems(world, world.a.id) == []

    def overcharge(stored: list[list[Any]]) -> None:
        for line in stored:
            line[2] = 10001

    _tamper_lines(world, entry["id"], overcharge)
    config = world.services.config
    _tamper(config, f"UPDATE journal_entry SET memo = 'Nothing to see' WHERE id = '{entry['id']}'")
    elsewhere = new_id()
    _tamper(config, f"UPDATE journal_entry SET source_id = '{elsewhere}' WHERE id = '{entry['id']}'")
    _tamper(config, f"UPDATE journal_entry SET deleted = TRUE WHERE id = '{entry['id']}'")
    assert sorted(_problems(world, world.a.id)) == sorted(
        [
            f"journal_entry {entry['id']} memo: stored 'Nothing to see', the audit trail says '{entry['memo']}'",
            f"journal_entry {entry['id']} source_id: stored '{elsewhere}', the audit trail says '{invoice}'",
            f"journal_entry {entry['id']} deleted: stored True, the audit trail says False",
            f"journal_line {lines[0]['id']} debit: stored 10001, the audit trail says 10000",
            f"journal_line {lines[1]['id']} debit: stored 10001, the audit trail says 0",
        ]
    )


def _account(world: World, code: str) -> str:
    with world.services.store.session(world.a.id) as session:
        return str(
            session.execute(
                select(Account.id).where(Account.org_id == world.a.id, Account.code == code)
            ).scalar_one()
        )


def test_a_documents_posting_nests_in_its_event_a_manual_or_reversing_entry_keeps_its_own(
    world: World,
) -> None:
    """A customer's payment and a supplier's bill carry their postings in their own events (the
    payment's insert, the bill's insert), as a posted invoice does; a manual entry and its
    reversal, posted for no document, are events of their own. Every entry in the store is in
    exactly one event, and ``--data`` agrees with all of them."""
    invoice = _post_an_invoice(world)
    payment, supplier, bill, manual, reversal = (new_id() for _ in range(5))
    bank, rent = _account(world, "1000"), _account(world, "6500")
    pushed = world.push(
        "admin@acme.test",
        world.a,
        [
            mutation("sales.record_payment", id=payment, invoice_id=invoice, amount=4000),
            mutation("inventory.create_supplier", id=supplier, name="Landlord", currency="EUR"),
            mutation(
                "finance.record_supplier_bill",
                id=bill,
                supplier_id=supplier,
                lines=[
                    {
                        "id": new_id(),
                        "account_id": rent,
                        "description": "Rent",
                        "quantity": "1",
                        "unit_price": 2500,
                    }
                ],
            ),
            mutation(
                "finance.post_journal_entry",
                id=manual,
                entry_date=datetime.now(UTC).date().isoformat(),
                currency="EUR",
                memo="Cash count",
                lines=[{"account_id": rent, "debit": 700}, {"account_id": bank, "credit": 700}],
            ),
            mutation("finance.reverse_journal_entry", id=reversal, entry_id=manual),
        ],
    )
    assert [r["status"] for r in pushed.get_json()["results"]] == ["applied"] * 5, pushed.get_json()

    # The entries of a manual posting and of its reversal: an event each, with their lines.
    own = _events(world, "journal_entry", "journal_line")
    assert [(e.entity, e.entity_id, e.action) for e in own] == [
        ("journal_entry", manual, "finance.post_journal_entry"),
        ("journal_entry", reversal, "finance.reverse_journal_entry"),
    ]
    assert [(e.after["source"], e.after["source_id"]) for e in own] == [
        ("manual", None),
        ("reversal", manual),
    ]
    assert [
        [(line["debit"], line["credit"]) for line in decode_lines(e.after["lines_json"])] for e in own
    ] == [
        [(700, 0), (0, 700)],
        [(0, 700), (700, 0)],
    ]
    # A document's posting: in the event of the command's insert (or update) of the document.
    for entity, document, action, amount in (
        ("invoice", invoice, "sales.post_invoice", 10000),
        ("payment", payment, "sales.record_payment", 4000),
        ("supplier_bill", bill, "finance.record_supplier_bill", 2500),
    ):
        entry, lines = _entry_of(world, document)
        holders = [e for e in _events(world, entity) if e.entity_id == document and e.after.get("postings")]
        assert [e.action for e in holders] == [action], entity
        (posting,) = holders[0].after["postings"]
        assert posting["id"] == entry["id"] and posting["source"] == entry["source"], entity
        held = decode_lines(posting["lines_json"])
        assert [item["id"] for item in held] == [row["id"] for row in lines], entity
        assert sum(item["debit"] for item in held) == amount, entity
    # The invoice's update by the payment (amount paid) holds no posting: the payment's entry is
    # the payment's.
    paid = [e for e in _events(world, "invoice") if e.action == "sales.record_payment"]
    assert [(e.after.get("amount_paid"), "postings" in e.after) for e in paid] == [(4000, False)]

    # Each entry of the store is in exactly one event: its own, or its document's.
    with world.services.store.session(world.a.id) as session:
        stored = sorted(
            session.execute(select(JournalEntry.id).where(JournalEntry.org_id == world.a.id)).scalars()
        )
        everything = session.execute(
            select(AuditEvent.entity, AuditEvent.entity_id, AuditEvent.after).where(
                AuditEvent.org_id == world.a.id
            )
        ).all()
    audited = [e.entity_id for e in everything if e.entity == "journal_entry"] + [
        posting["id"] for e in everything for posting in (e.after or {}).get("postings", [])
    ]
    assert len(stored) == 5 and sorted(audited) == stored
    assert _problems(world, world.a.id) == []
    assert _cli(world.services.config, "audit", "verify", "--org", "Acme", "--data").returncode == 0


def test_a_command_refused_after_its_posting_leaves_no_nested_posting_behind() -> None:
    """The recorder (no store) as a command refused after it posted leaves it: its document's
    event goes, and with it the posting nested there; the next command's entry for the same
    document, which that command did not write, is an event of its own holding its lines (the
    entry's ``lines_json``), nothing of it put into the image of the refused one."""
    recorder = ServerRecorder("org", 0, datetime(2026, 11, 30, tzinfo=UTC))
    invoice, day = new_id(), date(2026, 11, 30)

    def post(entry_id: str, version: int) -> str:
        lines = encode_lines([[new_id(), "acc", 5 * (n % 2), 5 * (1 - n % 2), "EUR", None] for n in (1, 2)])
        entry = {"id": entry_id, "version": version, "entry_date": day, "number": f"JE-{version}",
                 "source": "invoice", "source_id": invoice, "memo": None, "deleted": False,
                 "lines_json": lines}  # fmt: skip
        recorder.record_write("journal_entry", entry_id, None, entry)
        return lines

    mark = recorder.mark()
    recorder.record_write(
        "invoice", invoice, {"status": "draft", "version": 1}, {"status": "posted", "version": 2}
    )
    refused = new_id()
    refused_lines = post(refused, 3)
    (event,) = recorder.events
    assert event.after is not None
    assert [posting["id"] for posting in event.after["postings"]] == [refused]  # nested, as it went
    assert event.after["postings"][0]["lines_json"] == refused_lines
    recorder.restore(mark)  # the command is refused
    assert recorder.events == []

    recorder.mark()
    entry_id = new_id()
    lines = post(entry_id, 10)
    (event,) = recorder.events
    assert (event.entity, event.entity_id) == ("journal_entry", entry_id) and event.after is not None
    assert event.after["source_id"] == invoice and "postings" not in event.after
    assert event.after["lines_json"] == lines and [line["line_no"] for line in decode_lines(lines)] == [1, 2]


def test_a_customers_export_leaves_their_invoices_posting_out(world: World) -> None:
    """A customer's copy of their data holds their invoice's audit events, but not the journal
    entry the post event holds (the organization's bookkeeping: accounts and amounts, which had an
    event of its own, not in the export, before postings were audited in their documents')."""
    invoice = _post_an_invoice(world)
    entry, lines = _entry_of(world, invoice)
    with world.services.store.session(world.a.id) as session:
        customer = session.execute(select(Invoice.customer_id).where(Invoice.id == invoice)).scalar_one()
    request_id = new_id()
    opened = world.push(
        "admin@acme.test",
        world.a,
        [
            mutation(
                "privacy.open_data_subject_request",
                id=request_id,
                subject_type="customer",
                subject_id=customer,
                kind="export",
            )
        ],
    )
    assert opened.get_json()["results"][0]["status"] == "applied", opened.get_json()
    answer = world.client.get(
        f"/api/v1/orgs/{world.a.id}/privacy/requests/{request_id}/export",
        headers=world.headers("admin@acme.test"),
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)[:2000]
    data = json.loads(zipfile.ZipFile(io.BytesIO(answer.data)).read("data.json"))
    [org] = data["organizations"]
    posts = [
        e for e in org["audit_events"] if e["entity"] == "invoice" and e["action"] == "sales.post_invoice"
    ]
    assert [e["entity_id"] for e in posts] == [invoice]
    assert posts[0]["after"]["status"] == "posted" and "postings" not in posts[0]["after"]
    # Nothing of the entry anywhere in the copy: not its id, not its lines' accounts.
    text = json.dumps(data)
    assert entry["id"] not in text
    assert all(line["id"] not in text and line["account_id"] not in text for line in lines)


_UNAUDITED = ("org_id", "id", "version", "updated_at", "updated_by")


def _full_image(row: dict[str, Any]) -> dict[str, Any]:
    """A row's image as the audit trail states it whole (keys sorted, as a stored image's)."""
    return {k: to_wire(v) for k, v in sorted(row.items()) if k not in _UNAUDITED}


def _line_id() -> str:
    """A new id of the form a line's has: derived from its command (``CommandContext.derived_id``),
    a UUID of version 8."""
    fresh = new_id()
    return f"{fresh[:14]}8{fresh[15:]}"


_SLIM_LINE = ("account_id", "credit", "currency", "debit", "line_no", "memo")


def _converted_entry(
    world: World,
    entry: dict[str, Any],
    lines: list[dict[str, Any]],
    form: str,
    number: str,
    *,
    tombstone: bool = False,
    deleted: tuple[int, ...] = (),
) -> tuple[str, list[dict[str, Any]]]:
    """A journal entry like ``entry`` (a stored row) with lines like ``lines`` (rows of the
    ``journal_line`` view), new ids, as revision 0019 leaves one that servers from before it
    posted: its row holds its lines (``lines_json``, in order), and its events, appended to
    organization A's chain as those servers wrote them, hold no ``lines_json``, but the lines'
    images: nested in the entry's event, ``whole`` (the oldest) or ``slim`` (no entry, date nor
    ``"deleted":false``), or ``own``: an event of each line's own after the entry's. A
    ``tombstone`` (the entry and every line deleted) keeps all its lines, a live entry those
    not ``deleted`` (their places, from 0), as the migration moves them. The entry's id and its
    lines (all) as view rows, each with its own ``deleted``."""
    entries = table_of(JournalEntry)
    entry_id = new_id()
    rows = [
        {**row, "id": _line_id(), "journal_entry_id": entry_id, "deleted": tombstone or n in deleted}
        for n, row in enumerate(lines)
    ]
    stored = [
        [row["id"], row["account_id"], row["debit"], row["credit"], row["currency"], row["memo"]]
        for row in rows
        if tombstone or not row["deleted"]
    ]
    image = {k: v for k, v in _full_image(entry).items() if k != "lines_json"}
    image |= {"number": number, "deleted": tombstone}
    events: list[PendingEvent] = []
    if form == "own":
        events = [
            PendingEvent(action="finance.post_journal_entry", entity="journal_line", entity_id=row["id"],
                         after=_full_image(row))
            for row in rows
        ]  # fmt: skip
    else:
        image["lines"] = [
            (
                _full_image(row)
                if form == "whole"
                else {k: to_wire(row[k]) for k in _SLIM_LINE} | ({"deleted": True} if row["deleted"] else {})
            )
            | {"id": row["id"]}
            for row in rows
        ]
    events.insert(
        0,
        PendingEvent(
            action="finance.post_journal_entry",
            entity="journal_entry",
            entity_id=entry_id,
            after=dict(sorted(image.items())),
        ),
    )
    actor = entry["updated_by"]
    for event in events:
        event.actor, event.at = actor, entry["updated_at"]
    with world.services.store.session(world.a.id, write=True) as session:
        session.execute(
            insert(entries).values(
                **{
                    **entry,
                    "id": entry_id,
                    "number": number,
                    "deleted": tombstone,
                    "lines_json": encode_lines(stored),
                }
            )
        )
        append_events(session, world.a.id, events)
    return entry_id, rows


def test_a_posting_in_its_documents_event_reads_as_an_entry_event_of_old(world: World) -> None:
    """A posted invoice's entry is stored in the invoice's post event, slim (no ``source_id``, no
    ``"deleted":false``), its lines in it as stored (``lines_json``); entries audited before
    revision 0019 have events of their own, with their lines as images nested whole (the
    oldest) or slim. All give the full images of the entry and of its lines where they are held
    to nested_images and to what the audit API and a privacy export show (full_event_images),
    and ``verify --data`` checks each entry's stored lines against what its form recorded."""
    invoice = _post_an_invoice(world)
    org_id = world.a.id
    entry, view_lines = _entry_of(world, invoice)
    (post,) = [e for e in _events(world, "invoice") if e.action == "sales.post_invoice"]
    (nested,) = post.after["postings"]
    assert sorted(nested) == ["entry_date", "fiscal_period_id", "id", "lines_json", "memo", "number",
                              "reverses_entry_id", "source"]  # fmt: skip
    assert nested["lines_json"] == entry["lines_json"]
    # The same entry posted by servers from before revision 0019, converted by it: its row, and
    # an event of its own as each wrote it (appended to the chain, which stays intact).
    olds = dict(
        _converted_entry(world, entry, view_lines, form, number)
        for form, number in (("whole", "JE-OLD1"), ("slim", "JE-OLD2"))
    )
    with world.services.store.session(org_id) as session:
        assert verify_chain(session, org_id)[1] is None
    afters = {e.entity_id: e.after for e in _events(world, "journal_entry")}
    assert list(afters) == list(olds)
    first, second = olds
    assert "journal_entry_id" in afters[first]["lines"][0]  # stored whole
    assert "journal_entry_id" not in afters[second]["lines"][0]  # stored slim
    assert all("lines_json" not in after for after in afters.values())

    # The posting reads as the entry's image, its lines in it; the old events as the entry's
    # image and its lines' images, whole.
    found = list(nested_images("invoice", invoice, post.after))
    assert found == [("journal_entry", entry["id"], _full_image(entry))]
    assert [line["id"] for line in decode_lines(found[0][2]["lines_json"])] == [r["id"] for r in view_lines]
    entry_rows = {old_id: {**entry, "number": afters[old_id]["number"]} for old_id in olds}
    for old_id, rows in olds.items():
        assert {k: v for k, v in afters[old_id].items() if k != "lines"} == {
            k: v for k, v in _full_image(entry_rows[old_id]).items() if k != "lines_json"
        }
        found = list(nested_images("journal_entry", old_id, afters[old_id]))
        assert found == [("journal_line", row["id"], _full_image(row)) for row in rows]
        assert [list(image) for *_, image in found] == [list(_full_image(row)) for row in rows]

    # What the audit API and a privacy export show: the entry whole with its lines; the old
    # events' lines whole, the same bytes either way (ids aside).
    shown_post = full_event_images({"entity": "invoice", "entity_id": invoice, "after": post.after})["after"]
    (shown_entry,) = shown_post["postings"]
    assert shown_entry == _full_image(entry) | {"id": entry["id"]}
    assert list(shown_entry) == sorted(shown_entry)
    shown = {
        old_id: full_event_images({"entity": "journal_entry", "entity_id": old_id, "after": afters[old_id]})[
            "after"
        ]["lines"]
        for old_id in olds
    }
    for old_id, rows in olds.items():
        assert shown[old_id] == [_full_image(row) | {"id": row["id"]} for row in rows]
    renamed = {old["id"]: new["id"] for old, new in zip(olds[first], olds[second], strict=True)}
    as_second = json.dumps(shown[first]).replace(first, second)
    for old, new in renamed.items():
        as_second = as_second.replace(old, new)
    assert as_second == json.dumps(shown[second])  # byte for byte, ids aside

    # verify --data: all agree with the store, and each entry's stored lines are checked
    # against what its events recorded, whichever form.
    assert _problems(world, org_id) == []
    assert _cli(world.services.config, "audit", "verify", "--org", "Acme", "--data").returncode == 0
    expected = {entry["id"]: view_lines} | olds
    elsewhere = new_id()

    def raise_first_debit(stored: list[list[Any]]) -> None:
        stored[0][2] += 1

    for entry_id in expected:
        _tamper_lines(world, entry_id, raise_first_debit)
        _tamper(
            world.services.config,
            f"UPDATE journal_entry SET source_id = '{elsewhere}' WHERE id = '{entry_id}'",
        )
    assert sorted(_problems(world, org_id)) == sorted(
        [
            f"journal_line {rows[0]['id']} debit: stored {rows[0]['debit'] + 1}, the audit trail says {rows[0]['debit']}"
            for rows in expected.values()
        ]
        + [
            f"journal_entry {entry_id} source_id: stored '{elsewhere}', the audit trail says '{invoice}'"
            for entry_id in expected
        ]
    )


def test_nested_lines_keep_what_differs_from_their_entry() -> None:
    """Events from before revision 0019 hold an entry's lines as nested images, slim: only what
    the entry's event says is left out of a line (its entry, always; its date and
    ``"deleted":false`` when the same as the entry's), so a line dated otherwise or deleted kept
    those fields. Each reads back whole (no store: an event's image as those servers wrote it)."""
    entry_id, day = new_id(), date(2026, 11, 30)
    rows = [
        {"id": new_id(), "journal_entry_id": entry_id, "line_no": 1, "entry_date": day,
         "deleted": False, "debit": 0, "credit": 5, "currency": "EUR", "memo": None},
        {"id": new_id(), "journal_entry_id": entry_id, "line_no": 2,
         "entry_date": date(2026, 12, 1), "deleted": True, "debit": 5, "credit": 0, "currency": "EUR",
         "memo": "x"},
        {"id": new_id(), "journal_entry_id": entry_id, "line_no": 3, "entry_date": day,
         "deleted": 0, "debit": 0, "credit": 0, "currency": "EUR", "memo": None},
    ]  # fmt: skip
    slim = [{k: to_wire(v) for k, v in row.items() if k != "journal_entry_id"} for row in rows]
    del slim[0]["entry_date"], slim[0]["deleted"], slim[2]["entry_date"]  # 0 is not False: kept
    after = {"entry_date": to_wire(day), "number": "JE-1", "deleted": False, "lines": slim}
    found = list(nested_images("journal_entry", entry_id, after))
    assert found == [
        ("journal_line", row["id"], {k: to_wire(v) for k, v in sorted(row.items()) if k != "id"})
        for row in rows
    ]


def test_a_nested_posting_is_masked_as_a_whole_entry_and_lines(world: World) -> None:
    """A caller who may read the audit but not the ledger sees a posted invoice's entry as its id
    only, the fields the nested image leaves out (its ``source_id`` and ``deleted``) listed as
    masked like the others, its lines (``lines_json``) among them; an admin sees it whole. Asked
    for journal entries, the audit API answers with the invoice's event that holds it (the API's
    side: ``sync_server.blueprints.audit``). Lines nested in events from before revision 0019 are
    masked as rows of their own: ``tests/sync_server/test_audit_ledger.py``."""
    invoice = _post_an_invoice(world)
    entry, lines = _entry_of(world, invoice)
    headers = world.headers("admin@acme.test")
    role = world.client.put(
        f"/api/v1/orgs/{world.a.id}/roles/bare_auditor",
        json={"permissions": ["admin.audit"]},
        headers=headers,
    )
    assert role.status_code == 200, role.get_json()
    granted = world.client.put(
        f"/api/v1/orgs/{world.a.id}/members/{world.a.users['employee']}/roles",
        json={"roles": ["employee", "bare_auditor"]},
        headers=headers,
    )
    assert granted.status_code == 200, granted.get_json()

    def posted(email: str) -> dict[str, Any]:
        events = _audit(world, email, entity="journal_entry")["events"]
        [event] = [e for e in events if e["action"] == "sales.post_invoice"]
        assert (event["entity"], event["entity_id"]) == ("invoice", invoice)
        return event

    masked, whole = posted("employee@acme.test"), posted("admin@acme.test")
    assert "masked" not in whole
    (posting,) = whole["after"]["postings"]
    assert posting == _full_image(entry) | {"id": entry["id"]}
    # Receivables and revenue (no tax on the line), as the journal_line view shows them.
    assert [line["id"] for line in decode_lines(posting["lines_json"])] == [row["id"] for row in lines]
    assert len(lines) == 2
    (hidden,) = masked["after"]["postings"]
    assert hidden == {"id": entry["id"]}
    assert {"postings.memo", "postings.source_id", "postings.deleted", "postings.lines_json"} <= set(
        masked["masked"]
    )
    held = {name for name in masked["masked"] if name.startswith("postings.")}
    assert held == {f"postings.{k}" for k in _full_image(entry)}


def _entry_row(invoice: str, entry_id: str, version: int) -> dict[str, Any]:
    """A journal entry posted for ``invoice``, with its two lines, as a command writes it."""
    lines = [[new_id(), "acc", 5 * (n % 2), 5 * (1 - n % 2), "EUR", None] for n in (1, 2)]
    return {"id": entry_id, "version": version, "entry_date": date(2026, 11, 30), "number": f"JE-{version}",
            "source": "invoice", "source_id": invoice, "memo": None, "deleted": False,
            "lines_json": encode_lines(lines)}  # fmt: skip


def test_an_entry_nests_only_in_its_own_commands_document_event() -> None:
    """The recorder (no store): a command that posts for a document an earlier command of the
    batch wrote (and it did not) gives the entry an event of its own, the earlier command's event
    untouched; a command that posts two entries for the document it wrote holds both, each with
    its own lines."""
    recorder = ServerRecorder("org", 0, datetime(2026, 11, 30, tzinfo=UTC))
    invoice = new_id()
    recorder.mark()
    recorder.record_write(
        "invoice", invoice, {"status": "draft", "version": 1}, {"status": "posted", "version": 2}
    )
    recorder.mark()  # the next command, accepted: the invoice's event is the earlier command's
    entry = _entry_row(invoice, new_id(), 3)
    recorder.record_write("journal_entry", entry["id"], None, entry)
    first, second = recorder.events
    assert first.entity == "invoice" and first.after is not None and "postings" not in first.after
    assert (second.entity, second.entity_id) == ("journal_entry", entry["id"]) and second.after is not None
    assert second.after["lines_json"] == entry["lines_json"]

    recorder.mark()
    other = new_id()
    recorder.record_write(
        "invoice", other, {"status": "draft", "version": 9}, {"status": "posted", "version": 10}
    )
    both = [_entry_row(other, new_id(), 11), _entry_row(other, new_id(), 20)]
    for entry in both:
        recorder.record_write("journal_entry", entry["id"], None, entry)
    held = recorder.events[-1]
    assert (held.entity, held.entity_id) == ("invoice", other) and held.after is not None
    assert len(recorder.events) == 3
    assert [(p["id"], p["lines_json"]) for p in held.after["postings"]] == [
        (entry["id"], entry["lines_json"]) for entry in both
    ]
    shown = full_event_images({"entity": "invoice", "entity_id": other, "after": held.after})["after"]
    assert [p["source_id"] for p in shown["postings"]] == [other, other]

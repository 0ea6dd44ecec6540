"""``ops-server audit verify --data``: a row changed behind the server is named, on both stores."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select

from common.ids import new_id
from common.schema import AuditEvent, JournalEntry, JournalLine
from common.schema.base import table_of
from common.wire import to_wire
from sync_server.audit import PendingEvent, append_events, nested_images, verify_chain
from sync_server.audit_data import verify_data
from sync_server.demo import seed_demo
from sync_server.writes import ServerRecorder
from tests.sync_server.conftest import World, mutation, set_up_books, warehouse
from tests.sync_server.inviting import join
from tests.sync_server.test_audit import _audit, _cli, _tamper


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


def _post_an_invoice(world: World) -> str:
    """Set up organization A's books and push an invoice of one untaxed line, created and
    posted (its entry has two lines); the invoice's id."""
    set_up_books(world, world.a)
    customer, invoice = new_id(), new_id()
    line = {"id": new_id(), "description": "Service", "quantity": "2", "unit_price": 5000}
    pushed = world.push(
        "sales@acme.test",
        world.a,
        [
            mutation("sales.create_customer", id=customer, name="Ada"),
            mutation("sales.create_invoice", id=invoice, customer_id=customer, lines=[line]),
            mutation("sales.post_invoice", id=invoice),
        ],
    )
    assert [r["status"] for r in pushed.get_json()["results"]] == ["applied"] * 3, pushed.get_json()
    return invoice


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


def test_journal_lines_are_audited_in_their_entry_and_checked_like_rows(world: World) -> None:
    """A posting's lines are in its entry's audit event (not an event each); a line changed
    behind the server is still named by ``--data``, and the audit API shows the lines with the
    entry, masked like rows of their own."""
    invoice = _post_an_invoice(world)
    with world.services.store.session(world.a.id) as session:
        entry_id = session.execute(
            select(JournalEntry.id).where(
                JournalEntry.org_id == world.a.id, JournalEntry.source_id == invoice
            )
        ).scalar_one()
        line_ids = sorted(
            session.execute(select(JournalLine.id).where(JournalLine.journal_entry_id == entry_id)).scalars()
        )
        events = session.execute(
            select(AuditEvent.entity, AuditEvent.after).where(
                AuditEvent.org_id == world.a.id, AuditEvent.entity.in_(("journal_entry", "journal_line"))
            )
        ).all()
    assert len(line_ids) == 2
    assert [entity for entity, _ in events] == ["journal_entry"]  # one event for the entry and its lines
    lines = events[0][1]["lines"]
    assert sorted(item["id"] for item in lines) == line_ids
    assert sorted((item["debit"], item["credit"]) for item in lines) == [(0, 10000), (10000, 0)]
    assert _problems(world, world.a.id) == []

    (event,) = _audit(world, "admin@acme.test", entity="journal_entry", entity_id=entry_id)["events"]
    assert sorted(item["id"] for item in event["after"]["lines"]) == line_ids
    assert "masked" not in event

    # Asked for a line, the audit API answers with the entry's event that holds it (DESIGN §5's
    # ``?entity=&entity_id=`` keeps finding a line's history).
    for line_id in line_ids:
        (event,) = _audit(world, "admin@acme.test", entity="journal_line", entity_id=line_id)["events"]
        assert (event["entity"], event["entity_id"]) == ("journal_entry", entry_id)
        assert line_id in [item["id"] for item in event["after"]["lines"]]
    listed = _audit(world, "admin@acme.test", entity="journal_line")
    assert [e["entity_id"] for e in listed["events"]] == [entry_id]
    # a line of no entry here: nothing, as for any unknown row
    assert _audit(world, "admin@acme.test", entity="journal_line", entity_id=new_id())["events"] == []
    elsewhere = world.client.get(  # another organization's line is not looked up
        f"/api/v1/orgs/{world.b.id}/audit",
        query_string={"entity": "journal_line", "entity_id": line_ids[0]},
        headers=world.headers("admin@globex.test"),
    )
    assert elsewhere.status_code == 200 and elsewhere.get_json()["events"] == []

    world.services.store.dispose()
    _tamper(world.services.config, f"UPDATE journal_line SET debit = 10001 WHERE id = '{line_ids[0]}'")
    _tamper(world.services.config, f"UPDATE journal_line SET debit = 10001 WHERE id = '{line_ids[1]}'")
    problems = _problems(world, world.a.id)
    assert len(problems) == 2, problems
    assert all(p.startswith("journal_line ") and " debit: stored 10001" in p for p in problems), problems


_UNAUDITED = ("org_id", "id", "version", "updated_at", "updated_by")


def _full_image(row: dict[str, Any]) -> dict[str, Any]:
    """A row's image as the audit trail states it whole (keys sorted, as a stored image's)."""
    return {k: to_wire(v) for k, v in sorted(row.items()) if k not in _UNAUDITED}


def test_slim_and_whole_nested_lines_read_the_same(world: World) -> None:
    """An entry's event stores its lines slim (no ``journal_entry_id``, no ``entry_date`` equal to
    the entry's, no ``"deleted":false``); an event written before that holds them whole. Both give
    the lines' full images, the same bytes, to nested_images, the audit API and ``verify --data``,
    which still checks the fields the slim form leaves out."""
    invoice = _post_an_invoice(world)
    org_id = world.a.id
    entries, lines = table_of(JournalEntry), table_of(JournalLine)
    old_id = new_id()
    with world.services.store.session(org_id, write=True) as session:
        entry = dict(session.execute(select(entries).where(entries.c.source_id == invoice)).mappings().one())
        slim_id = entry["id"]
        slim_lines = [
            dict(row)
            for row in session.execute(
                select(lines).where(lines.c.journal_entry_id == slim_id).order_by(lines.c.line_no)
            ).mappings()
        ]
        event = session.execute(
            select(AuditEvent.action, AuditEvent.actor, AuditEvent.at, AuditEvent.after).where(
                AuditEvent.org_id == org_id, AuditEvent.entity_id == slim_id
            )
        ).one()
        stored = event.after["lines"]
        assert [sorted(item) for item in stored] == [
            ["account_id", "credit", "currency", "debit", "id", "line_no", "memo"]
        ] * len(slim_lines)
        # The same entry posted by a server from before slim images: its rows, and an event with
        # the lines whole, as that server wrote it (appended to the chain, which stays intact).
        old_lines = [{**row, "id": new_id(), "journal_entry_id": old_id} for row in slim_lines]
        session.execute(insert(entries).values(**{**entry, "id": old_id, "number": "JE-OLD"}))
        session.execute(insert(lines), old_lines)
        old_after = {k: v for k, v in event.after.items() if k != "lines"} | {
            "number": "JE-OLD",
            "lines": [_full_image(row) | {"id": row["id"]} for row in old_lines],
        }
        append_events(
            session,
            org_id,
            [
                PendingEvent(
                    action=event.action,
                    actor=event.actor,
                    entity="journal_entry",
                    entity_id=old_id,
                    after=old_after,
                    at=event.at,
                )
            ],
        )
    with world.services.store.session(org_id) as session:
        assert verify_chain(session, org_id)[1] is None
        afters: dict[str, Any] = dict(
            session.execute(
                select(AuditEvent.entity_id, AuditEvent.after).where(
                    AuditEvent.org_id == org_id, AuditEvent.entity == "journal_entry"
                )
            ).all()
        )
    assert "journal_entry_id" in afters[old_id]["lines"][0]  # stored whole

    expected = {
        slim_id: {row["id"]: _full_image(row) for row in slim_lines},
        old_id: {row["id"]: _full_image(row) for row in old_lines},
    }
    for entry_id, rows in expected.items():
        found = {
            child_id: image
            for _, child_id, image in nested_images("journal_entry", entry_id, afters[entry_id])
        }
        assert found == rows
        assert [list(image) for image in found.values()] == [list(image) for image in rows.values()]

    # The audit API shows the lines whole, the same keys in the same order, either way; asked for
    # a line, it answers with its entry's event.
    shown: dict[str, list[dict[str, Any]]] = {}
    for entry_id, rows in expected.items():
        (listed,) = _audit(world, "admin@acme.test", entity="journal_entry", entity_id=entry_id)["events"]
        assert "masked" not in listed
        shown[entry_id] = listed["after"]["lines"]
        assert shown[entry_id] == [image | {"id": child_id} for child_id, image in rows.items()]
        for child_id in rows:
            (by_line,) = _audit(world, "admin@acme.test", entity="journal_line", entity_id=child_id)["events"]
            assert by_line["entity_id"] == entry_id and by_line["after"]["lines"] == shown[entry_id]
    renamed = {old["id"]: slim["id"] for old, slim in zip(old_lines, slim_lines, strict=True)}
    renamed[old_id] = slim_id
    as_slim = json.dumps(shown[old_id])
    for old, new in renamed.items():
        as_slim = as_slim.replace(old, new)
    assert as_slim == json.dumps(shown[slim_id])  # byte for byte, ids aside

    # verify --data: both agree with the store, and the fields the slim form leaves out are
    # still checked against the rows.
    assert _problems(world, org_id) == []
    assert _cli(world.services.config, "audit", "verify", "--org", "Acme", "--data").returncode == 0
    world.services.store.dispose()
    for entry_id in expected:
        first, second = list(expected[entry_id])
        _tamper(
            world.services.config, f"UPDATE journal_line SET entry_date = '2020-01-01' WHERE id = '{first}'"
        )
        _tamper(world.services.config, f"UPDATE journal_line SET deleted = TRUE WHERE id = '{second}'")
    problems = sorted(_problems(world, org_id))
    day = to_wire(entry["entry_date"])
    assert problems == sorted(
        [
            f"journal_line {next(iter(rows))} entry_date: stored '2020-01-01', the audit trail says '{day}'"
            for rows in expected.values()
        ]
        + [
            f"journal_line {list(rows)[1]} deleted: stored True, the audit trail says False"
            for rows in expected.values()
        ]
    ), problems


def test_nested_lines_keep_what_differs_from_their_entry() -> None:
    """Only what the entry's event says is left out of a nested line: a line dated otherwise or
    deleted keeps those fields, and reads back whole (no store: the recorder's images)."""
    recorder = ServerRecorder("org", 0, datetime(2026, 11, 30, tzinfo=UTC))
    recorder.mark()
    entry_id, day = new_id(), date(2026, 11, 30)
    entry = {"id": entry_id, "version": 1, "entry_date": day, "number": "JE-1", "deleted": False}
    recorder.record_write("journal_entry", entry_id, None, entry)
    rows = [
        {"id": new_id(), "version": 2, "journal_entry_id": entry_id, "line_no": 1, "entry_date": day,
         "deleted": False, "debit": 0, "credit": 5, "currency": "EUR", "memo": None},
        {"id": new_id(), "version": 3, "journal_entry_id": entry_id, "line_no": 2,
         "entry_date": date(2026, 12, 1), "deleted": True, "debit": 5, "credit": 0, "currency": "EUR",
         "memo": "x"},
        {"id": new_id(), "version": 4, "journal_entry_id": entry_id, "line_no": 3, "entry_date": day,
         "deleted": 0, "debit": 0, "credit": 0, "currency": "EUR", "memo": None},
    ]  # fmt: skip
    recorder.record_inserts("journal_line", [dict(row) for row in rows])
    (event,) = recorder.events
    assert event.after is not None
    assert [
        sorted(set(line) - {"id", "line_no", "debit", "credit", "currency", "memo"})
        for line in event.after["lines"]
    ] == [
        [],
        ["deleted", "entry_date"],
        ["deleted"],  # 0 is not False
    ]
    found = list(nested_images("journal_entry", entry_id, event.after))
    assert found == [
        (
            "journal_line",
            row["id"],
            {k: to_wire(v) for k, v in sorted(row.items()) if k not in ("id", "version")},
        )
        for row in rows
    ]


def test_slim_nested_lines_are_masked_as_whole_lines(world: World) -> None:
    """A caller who may read the audit but not the ledger sees a posted entry's lines as ids only,
    the fields a slim line leaves out listed as masked like the others; an admin sees them whole."""
    _post_an_invoice(world)
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
        return event

    masked, whole = posted("employee@acme.test"), posted("admin@acme.test")
    lines = whole["after"]["lines"]
    assert len(lines) == 2  # receivables and revenue (no tax on the line)
    assert [set(line) for line in masked["after"]["lines"]] == [{"id"}] * len(lines)
    assert {"lines.entry_date", "lines.journal_entry_id", "lines.deleted", "lines.debit"} <= set(
        masked["masked"]
    )
    assert [(line["journal_entry_id"], line["entry_date"], line["deleted"]) for line in lines] == [
        (whole["entity_id"], whole["after"]["entry_date"], False)
    ] * len(lines)

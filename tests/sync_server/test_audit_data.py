"""``ops-server audit verify --data``: a row changed behind the server is named, on both stores."""

from __future__ import annotations

from sqlalchemy import select

from common.ids import new_id
from common.schema import AuditEvent, JournalEntry, JournalLine
from sync_server.audit_data import verify_data
from sync_server.demo import seed_demo
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

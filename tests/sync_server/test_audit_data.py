"""``ops-server audit verify --data``: a row changed behind the server is named, on both stores."""

from __future__ import annotations

from common.ids import new_id
from sync_server.audit_data import verify_data
from sync_server.demo import seed_demo
from tests.sync_server.conftest import World, mutation, warehouse
from tests.sync_server.inviting import join
from tests.sync_server.test_audit import _cli, _tamper


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

"""Self-service and the employee directory as the server applies and serves them (DESIGN §6).

Every member pulls the directory (public fields, one row per employee still employed); only
``hr.read`` holders pull employee records, and an ``hr.self_service`` holder their own, without
its sensitive fields unless they also hold ``hr.sensitive.read``.
"""

from __future__ import annotations

from typing import Any

from common.ids import new_id
from tests.sync_server.conftest import World, mutation
from tests.sync_server.pulling import applied, pull_all, pull_page, seed_every_module

SENSITIVE = {"salary", "salary_currency", "bank_account", "national_id", "user_id"}


def _hire(world: World, name: str, user: str | None = None) -> str:
    employee_id = new_id()
    linked = {"user_id": world.a.users[user]} if user else {}
    applied(
        world,
        world.a.email("hr"),
        world.a,
        [
            mutation(
                "hr.create_employee",
                id=employee_id,
                name=name,
                job_title="Picker",
                home_address="1 Private Road",
                national_id="ID-777",
                bank_account="DE-777",
                salary=300_000,
                salary_currency="EUR",
                **linked,
            )
        ],
    )
    return employee_id


def _grant(world: World, role: str, roles: list[str], custom: dict[str, list[str]] | None = None) -> None:
    headers = world.headers(world.a.email("admin"))
    for name, permissions in (custom or {}).items():
        made = world.client.put(
            f"/api/v1/orgs/{world.a.id}/roles/{name}", json={"permissions": permissions}, headers=headers
        )
        assert made.status_code == 200, made.get_json()
    granted = world.client.put(
        f"/api/v1/orgs/{world.a.id}/members/{world.a.users[role]}/roles",
        json={"roles": roles},
        headers=headers,
    )
    assert granted.status_code == 200, granted.get_json()


def _entities(changes: list[dict[str, Any]]) -> set[str]:
    return {c["entity"] for c in changes}


def test_an_employee_reads_their_own_record_without_sensitive_fields_unless_granted(world: World) -> None:
    mine = _hire(world, "Emma", user="employee")
    other = _hire(world, "Otto")
    pulled = pull_all(world, world.a.email("employee"), world.a)
    assert set(pulled.of("employee")) == {mine}
    own = pulled.of("employee")[mine]["data"]
    assert own["home_address"] == "1 Private Road" and not SENSITIVE & set(own)
    assert set(pulled.of("employee_directory")) == {mine, other}
    for secret in (b"ID-777", b"DE-777", b"300000"):
        assert secret not in b"".join(pulled.bodies)

    _grant(world, "employee", ["employee", "pay_viewer"], {"pay_viewer": ["hr.sensitive.read"]})
    stale = pull_page(world, world.a.email("employee"), world.a, pulled.cursor)
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "resync_required"
    again = pull_all(world, world.a.email("employee"), world.a)
    assert set(again.of("employee")) == {mine}  # still nobody else's record
    own = again.of("employee")[mine]["data"]
    assert (own["salary"], own["bank_account"], own["national_id"]) == (300_000, "DE-777", "ID-777")


def test_a_warehouse_login_linked_to_a_record_neither_reads_nor_acts_for_it(world: World) -> None:
    linked = _hire(world, "Wanda", user="warehouse")
    pulled = pull_all(world, world.a.email("warehouse"), world.a)
    assert "employee" not in _entities(pulled.changes)
    assert set(pulled.of("employee_directory")) == {linked}
    response = world.push(
        world.a.email("warehouse"),
        world.a,
        [
            mutation(
                "hr.request_leave",
                id=new_id(),
                employee_id=linked,
                kind="annual",
                start_date="2030-07-01",
                end_date="2030-07-02",
            )
        ],
    )
    (result,) = response.get_json()["results"]
    assert (result["status"], result["code"]) == ("rejected", "forbidden")
    assert result["message"] == "hr.request_leave needs the permission hr.write or hr.self_service"
    # The same person as an employee may.
    _grant(world, "warehouse", ["warehouse", "employee"])
    applied(
        world,
        world.a.email("warehouse"),
        world.a,
        [
            mutation(
                "hr.request_leave",
                id=new_id(),
                employee_id=linked,
                kind="annual",
                start_date="2030-07-01",
                end_date="2030-07-02",
            )
        ],
    )


def test_directory_changes_reach_every_member_incrementally(world: World) -> None:
    employee_id = _hire(world, "Bea")
    email = world.a.email("sales")
    start = pull_all(world, email, world.a)
    assert start.of("employee_directory")[employee_id]["data"]["job_title"] == "Picker"
    hr = world.a.email("hr")
    applied(
        world,
        hr,
        world.a,
        [
            mutation(
                "hr.update_employee",
                id=employee_id,
                changes={"job_title": "Lead picker", "home_address": "2 Private Road"},
                base={"job_title": "Picker", "home_address": "1 Private Road"},
            )
        ],
    )
    renamed = pull_all(world, email, world.a, start.cursor)
    assert _entities(renamed.changes) == {"employee_directory"}
    change = renamed.of("employee_directory")[employee_id]
    assert change["op"] == "upsert" and change["data"]["job_title"] == "Lead picker"
    assert b"Private Road" not in b"".join(renamed.bodies)
    applied(
        world,
        hr,
        world.a,
        [
            mutation(
                "hr.update_employee",
                id=employee_id,
                changes={"status": "terminated"},
                base={"status": "active"},
            )
        ],
    )
    left = pull_all(world, email, world.a, renamed.cursor)
    assert [(c["entity"], c["id"], c["op"]) for c in left.changes] == [
        ("employee_directory", employee_id, "delete")
    ]
    # HR still has the record, now terminated, and no directory row for it.
    hr_view = pull_all(world, hr, world.a)
    assert hr_view.of("employee")[employee_id]["data"]["status"] == "terminated"
    assert employee_id not in hr_view.of("employee_directory")


# A workstation without hr.read holds only its user's own employee record and not its (sensitive)
# link to the user, so it accepts its user's own commands and the server checks the link: acting
# for a colleague, linked or not, is refused there.
def test_the_server_refuses_self_service_for_another_employee(world: World) -> None:
    org = world.a
    ids = seed_every_module(world, org)
    employee = org.email("employee")
    for_colleague = [
        mutation("projects.log_time", employee_id=ids["other_employee"], project_id=ids["project"],
                 work_date="2026-03-02", hours="1", id=new_id()),
        mutation("hr.request_leave", employee_id=ids["other_employee"], kind="annual",
                 start_date="2026-08-03", end_date="2026-08-03", id=new_id()),
    ]  # fmt: skip
    results = world.push(employee, org, for_colleague).get_json()["results"]
    assert [(r["status"], r["code"]) for r in results] == [("rejected", "forbidden")] * 2
    mine = mutation("projects.log_time", employee_id=ids["own_employee"], project_id=ids["project"],
                    work_date="2026-03-02", hours="1", id=new_id())  # fmt: skip
    (result,) = world.push(employee, org, [mine]).get_json()["results"]
    assert result["status"] == "applied", result

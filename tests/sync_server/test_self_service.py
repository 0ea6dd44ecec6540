"""Self-service on the server: a workstation without hr.read holds only its user's own employee
record and not its (sensitive) link to the user, so it accepts its user's own commands and the
server checks the link. Acting for a colleague, linked or not, is refused there."""

from __future__ import annotations

from common.ids import new_id
from tests.sync_server.conftest import World, mutation
from tests.sync_server.pulling import seed_every_module


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

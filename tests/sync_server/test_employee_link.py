"""Linking an employee record to a user account: it opens the record to that user (self-service).

So the link needs ``hr.sensitive.read`` (it is a sensitive field) and may name only a member of
the organization, which the server checks (a workstation does not know the memberships).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.ids import new_id
from common.schema import Employee
from tests.sync_server.conftest import World, mutation
from tests.sync_server.pulling import pull_all


def _result(world: World, email: str, command: dict[str, Any]) -> dict[str, Any]:
    response = world.push(email, world.a, [command])
    assert response.status_code == 200, response.get_json()
    result: dict[str, Any] = response.get_json()["results"][0]
    return result


def _unlinked_employee(world: World) -> str:
    employee_id = new_id()
    created = _result(
        world,
        "hr@acme.test",
        mutation(
            "hr.create_employee",
            id=employee_id,
            name="Casey Brown",
            salary=777_001,
            salary_currency="EUR",
            bank_account="DE-SECRET-1",
        ),
    )
    assert created["status"] == "applied", created
    return employee_id


def _linked_user(world: World, employee_id: str) -> str | None:
    with world.services.store.session(world.a.id) as session:
        return session.execute(select(Employee.user_id).where(Employee.id == employee_id)).scalar()


def test_an_admin_cannot_link_a_record_to_themself_to_read_its_pay(world: World) -> None:
    employee_id = _unlinked_employee(world)
    admin = world.a.users["admin"]
    linked = _result(
        world,
        "admin@acme.test",
        mutation("hr.update_employee", id=employee_id, changes={"user_id": admin}, base={"user_id": None}),
    )
    assert (linked["status"], linked["code"]) == ("rejected", "forbidden"), linked
    assert linked["details"]["field"] == "changes.user_id"
    created = _result(
        world, "admin@acme.test", mutation("hr.create_employee", id=new_id(), name="Me", user_id=admin)
    )
    assert (created["status"], created["code"], created["details"]["field"]) == (
        "rejected",
        "forbidden",
        "user_id",
    )
    assert _linked_user(world, employee_id) is None
    pulled = pull_all(world, "admin@acme.test", world.a).of("employee")
    assert "salary" not in pulled[employee_id]["data"]
    assert b"777001" not in b"".join(pull_all(world, "admin@acme.test", world.a).bodies)


def test_the_link_itself_is_read_only_with_sensitive_rights(world: World) -> None:
    employee_id = _unlinked_employee(world)
    employee = world.a.users["employee"]
    linked = _result(
        world,
        "hr@acme.test",
        mutation("hr.update_employee", id=employee_id, changes={"user_id": employee}, base={"user_id": None}),
    )
    assert linked["status"] == "applied", linked
    assert "user_id" not in pull_all(world, "admin@acme.test", world.a).of("employee")[employee_id]["data"]
    assert pull_all(world, "hr@acme.test", world.a).of("employee")[employee_id]["data"]["user_id"] == employee
    # Self-service stays: the linked employee reads their own record, but not its sensitive fields
    # (the link itself included).
    own = pull_all(world, "employee@acme.test", world.a).of("employee")[employee_id]["data"]
    assert own["name"] == "Casey Brown"
    assert not {"salary", "bank_account", "user_id"} & set(own)


def test_only_a_member_of_the_organization_can_be_linked(world: World) -> None:
    employee_id = _unlinked_employee(world)
    outsiders = {"another organization's user": world.b.users["employee"], "nobody": new_id()}
    for label, user_id in outsiders.items():
        created = _result(
            world, "hr@acme.test", mutation("hr.create_employee", id=new_id(), name="X", user_id=user_id)
        )
        assert (created["status"], created["code"]) == ("rejected", "invalid"), label
        assert created["message"].startswith("user_id: no member of this organization"), created
        updated = _result(
            world,
            "hr@acme.test",
            mutation(
                "hr.update_employee", id=employee_id, changes={"user_id": user_id}, base={"user_id": None}
            ),
        )
        assert (updated["status"], updated["code"]) == ("rejected", "invalid"), label
        assert updated["details"]["field"] == "changes.user_id"
    assert _linked_user(world, employee_id) is None
    member = world.a.users["sales"]
    created = _result(
        world, "hr@acme.test", mutation("hr.create_employee", id=new_id(), name="Sam", user_id=member)
    )
    assert created["status"] == "applied", created

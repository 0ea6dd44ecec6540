"""A conflict answer never shows what the caller may not read.

A custom role with ``hr.write`` but not ``hr.read`` reads only the public employee directory.
Sending a deliberately wrong base used to make the server answer ``conflict`` with the stored
personal values; and even without them, applied-or-conflict tells whether a guess is right.
Changing a field now needs the right to read it; conflicts on readable fields still merge.
"""

from __future__ import annotations

from typing import Any

from common.ids import new_id
from tests.sync_server.conftest import World, mutation

PRIVATE = {"home_address": "12 Secret Lane, Springfield", "birth_date": "1985-04-12"}


def _results(world: World, email: str, commands: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    response = world.push(email, world.a, commands)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"], response.get_data(as_text=True)


def _writer_without_read(world: World) -> str:
    """The warehouse user, given a custom role holding hr.write only."""
    headers = world.headers("admin@acme.test")
    role = world.client.put(
        f"/api/v1/orgs/{world.a.id}/roles/hr_writer", json={"permissions": ["hr.write"]}, headers=headers
    )
    assert role.status_code == 200
    granted = world.client.put(
        f"/api/v1/orgs/{world.a.id}/members/{world.a.users['warehouse']}/roles",
        json={"roles": ["warehouse", "hr_writer"]},
        headers=headers,
    )
    assert granted.status_code == 200
    return "warehouse@acme.test"


def test_a_wrong_base_reveals_nothing_the_caller_cannot_read(world: World) -> None:
    employee_id = new_id()
    created, _ = _results(
        world,
        "hr@acme.test",
        [mutation("hr.create_employee", id=employee_id, name="Taylor Kim", job_title="Buyer", **PRIVATE)],
    )
    assert created[0]["status"] == "applied"
    writer = _writer_without_read(world)
    guesses = [
        mutation(
            "hr.update_employee",
            id=employee_id,
            changes={"home_address": "x", "birth_date": "2000-01-01"},
            base={"home_address": "?", "birth_date": "1900-01-01"},
        ),
        # Compare-and-set to the same value: applied would confirm the guess without a change.
        mutation(
            "hr.update_employee",
            id=employee_id,
            changes={"birth_date": PRIVATE["birth_date"]},
            base={"birth_date": PRIVATE["birth_date"]},
        ),
    ]
    results, raw = _results(world, writer, guesses)
    assert [(r["status"], r["code"]) for r in results] == [("rejected", "forbidden")] * 2
    assert [r["details"]["field"] for r in results] == ["changes.birth_date"] * 2
    assert all("server_values" not in r for r in results)
    for value in PRIVATE.values():
        assert value not in raw
    # What the caller may read still merges and conflicts as usual.
    public, _ = _results(
        world,
        writer,
        [
            mutation(
                "hr.update_employee", id=employee_id, changes={"job_title": "Lead"}, base={"job_title": "?"}
            ),
            mutation(
                "hr.update_employee",
                id=employee_id,
                changes={"job_title": "Lead"},
                base={"job_title": "Buyer"},
            ),
        ],
    )
    assert (public[0]["code"], public[0]["server_values"]) == ("conflict", {"job_title": "Buyer"})
    assert public[1]["status"] == "applied"

"""Control characters in any wire string are refused by name (400 / rejected ``invalid``).

PostgreSQL cannot store a NUL byte: before validation refused them, each of these paths answered
500 there. Run on PostgreSQL, where it matters (the embedded store would just store them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from common.commands.fields import Args, Id
from common.commands.framework import REGISTRY, CommandContext, command
from common.ids import new_id
from common.schema import Department
from sync_server.app import create_app
from sync_server.services import Services
from tests.sync_server.conftest import PASSWORD, World, mutation

pytestmark = pytest.mark.parametrize("store_kind", ["postgres"])


def _error(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    error: dict[str, Any] = response.get_json()["error"]
    return error


def test_sign_in_fields(world: World) -> None:
    error = _error(
        world.client.post("/api/v1/auth/login", json={"email": "a\x00b@acme.test", "password": "x"})
    )
    assert error["details"]["field"] == "email" and "control characters" in error["message"]
    named = world.client.post(
        "/api/v1/auth/login",
        json={
            "email": "sales@acme.test",
            "password": PASSWORD,
            "device_id": new_id(),
            "device_name": "a\x00b",
        },
    )
    assert _error(named)["details"]["field"] == "device_name"
    escape = world.client.post(
        "/api/v1/auth/login",
        json={"email": "sales@acme.test", "password": PASSWORD, "device_name": "\x1b[31mEvil"},
    )
    assert _error(escape)["details"]["field"] == "device_name"


def test_role_description_and_permissions(world: World) -> None:
    url = f"/api/v1/orgs/{world.a.id}/roles/nulrole"
    headers = world.headers("admin@acme.test")
    described = world.client.put(url, json={"description": "a\x00b", "permissions": []}, headers=headers)
    assert _error(described)["details"]["field"] == "description"
    c1 = world.client.put(url, json={"description": "a\x85b", "permissions": []}, headers=headers)
    assert _error(c1)["details"]["field"] == "description"
    listed = world.client.put(url, json={"permissions": ["hr.read\x00"]}, headers=headers)
    assert _error(listed)["details"]["field"].startswith("permissions")
    lines = world.client.put(url, json={"description": "two\nlines", "permissions": []}, headers=headers)
    assert lines.status_code == 200


def test_command_email_and_text_arguments(world: World) -> None:
    commands = [
        mutation("hr.create_employee", id=new_id(), name="Dana", work_email="a\x00b@acme.test"),
        mutation("hr.create_employee", id=new_id(), name="Dana", personal_email="dana@acme.test\x7f"),
        mutation("hr.create_department", id=new_id(), code="D1", name="Sales\x00"),
    ]
    results = world.push("hr@acme.test", world.a, commands).get_json()["results"]
    fields = [(r["status"], r["code"], r["details"]["field"]) for r in results]
    assert fields == [
        ("rejected", "invalid", "work_email"),
        ("rejected", "invalid", "personal_email"),
        ("rejected", "invalid", "name"),
    ]


@pytest.fixture
def unchecked_command() -> Iterator[str]:
    """A command whose argument skips the control-character check (a bug the net must catch)."""

    class UncheckedArgs(Args):
        id: Id

    @command("hr.test_unchecked", args=UncheckedArgs, permission="hr.write")
    def unchecked(ctx: CommandContext, args: UncheckedArgs) -> None:
        ctx.insert(Department, {"id": new_id(), "code": "U1", "name": "x\x00y"})

    yield "hr.test_unchecked"
    REGISTRY.pop("hr.test_unchecked", None)


def test_a_value_the_store_refuses_is_bad_input_not_a_server_fault(
    world: World, unchecked_command: str, services: Services
) -> None:
    [result] = world.push(
        "hr@acme.test", world.a, [mutation(unchecked_command, id=new_id(), name="n")]
    ).get_json()["results"]
    assert (result["status"], result["code"]) == ("rejected", "invalid")
    assert (
        world.push(
            "hr@acme.test", world.a, [mutation("hr.create_department", id=new_id(), code="OK", name="Ok")]
        ).get_json()["results"][0]["status"]
        == "applied"
    )

    def store_nul() -> str:
        with services.store.session() as session:
            session.execute(text("SELECT :v"), {"v": "a\x00b"})
        return "stored"

    app = create_app(services.config, services)
    app.add_url_rule("/test/store-nul", "store_nul", store_nul)
    error = _error(app.test_client().get("/test/store-nul"))
    assert error["code"] == "invalid" and error["details"]["incident"]

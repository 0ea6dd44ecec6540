"""Nothing a user typed reaches the server's log, even when the store refuses a statement.

A failing statement's message carries its bound parameters (SQLAlchemy) and, on PostgreSQL, the
offending key values (the driver's DETAIL). The server logs an unexpected failure by its type,
where it happened and an incident id, which the answer repeats so an operator can find it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from common.commands.fields import Args, Text200
from common.commands.framework import REGISTRY, CommandContext, command
from common.ids import new_id
from common.schema import Account
from tests.sync_server.conftest import World, mutation

SECRET_CODE = "PIN4711SECRET"
SECRET_NAME = "Salary of Dana is 98765"


@pytest.fixture
def clashing_command() -> Iterator[str]:
    """A command with a bug: two accounts with one code, which the store's unique key refuses."""

    class ClashArgs(Args):
        code: Text200
        name: Text200

    @command("finance.test_clash", args=ClashArgs, permission="finance.post")
    def clash(ctx: CommandContext, args: ClashArgs) -> None:
        for _ in range(2):
            ctx.insert(Account, {"id": new_id(), "code": args.code, "name": args.name, "type": "asset"})

    yield "finance.test_clash"
    REGISTRY.pop("finance.test_clash", None)


def test_a_store_error_in_a_command_logs_no_argument_values(
    world: World, clashing_command: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    response = world.push(
        "accountant@acme.test", world.a, [mutation(clashing_command, code=SECRET_CODE, name=SECRET_NAME)]
    )
    [result] = response.get_json()["results"]
    assert (result["status"], result["code"]) == ("rejected", "server_error")
    incident = result["details"]["incident"]
    logged = caplog.text
    assert "IntegrityError" in logged and incident in logged
    for secret in (SECRET_CODE, SECRET_NAME, "98765"):
        assert secret not in logged
        assert secret not in response.get_data(as_text=True)

"""A program the server cannot serve hears which side must be upgraded (409 upgrade_required)."""

from __future__ import annotations

import pytest

from common.schema import SCHEMA_VERSION
from sync_server.blueprints import sync as sync_blueprint
from tests.sync_server.conftest import World, warehouse
from tests.sync_server.pulling import pull_page


def test_a_program_newer_than_the_server_is_told_the_server_needs_the_upgrade(world: World) -> None:
    email = world.a.email("warehouse")
    for response in (
        world.push(email, world.a, [warehouse()], schema_version=SCHEMA_VERSION + 1),
        pull_page(world, email, world.a, schema_version=SCHEMA_VERSION + 1),
    ):
        assert response.status_code == 409
        error = response.get_json()["error"]
        assert error["code"] == "upgrade_required"
        assert error["details"] == {
            "server_schema_version": SCHEMA_VERSION,
            "min_schema_version": sync_blueprint.MIN_CLIENT_SCHEMA_VERSION,
            "reason": "client_newer",
        }
        assert "newer than this server" in error["message"] and "server must be upgraded" in error["message"]


def test_a_program_older_than_the_server_serves_is_told_to_upgrade_itself(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_blueprint, "MIN_CLIENT_SCHEMA_VERSION", SCHEMA_VERSION)
    response = world.push(
        world.a.email("warehouse"), world.a, [warehouse()], schema_version=SCHEMA_VERSION - 1
    )
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert (error["code"], error["details"]["reason"]) == ("upgrade_required", "client_older")
    assert "upgrade the program" in error["message"]

"""Sync schema version 8 (revision 0019: a journal entry's lines travel inside its row): a program
of version 7 is told to upgrade itself, and a cursor issued before the change (of version 7, or
stopped in a snapshot at ``journal_line``, an entity no longer synced) is told to download afresh,
never refused as a bad cursor."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from common.schema import ENTITIES, SCHEMA_VERSION
from sync_server.blueprints import sync as sync_blueprint
from tests.sync_server.conftest import World, warehouse
from tests.sync_server.pulling import applied, cursor_of, forge, pull_all, pull_page

CONSOLE_PRIVACY = Path(sync_blueprint.__file__).parents[1] / "console" / "static" / "js" / "privacy.js"


def test_a_program_of_version_7_is_told_to_upgrade_itself(world: World) -> None:
    assert SCHEMA_VERSION >= 8 and sync_blueprint.MIN_CLIENT_SCHEMA_VERSION == 8
    email = world.a.email("warehouse")
    for response in (
        world.push(email, world.a, [warehouse()], schema_version=7),
        pull_page(world, email, world.a, schema_version=7),
    ):
        assert response.status_code == 409
        error = response.get_json()["error"]
        assert error["code"] == "upgrade_required"
        assert error["details"]["reason"] == "client_older"
        assert error["details"]["min_schema_version"] == 8
        assert "upgrade the program" in error["message"] and "keep your pending changes" in error["message"]
    # Nothing of the refused push was applied.
    assert not [c for c in pull_all(world, email, world.a).changes if c["entity"] == "warehouse"]


def _resync(response: object) -> str:
    assert response.status_code == 409, response.get_json()  # type: ignore[attr-defined]
    error = response.get_json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "resync_required", error
    return str(error["details"]["reason"])


@pytest.mark.parametrize("version", [7, SCHEMA_VERSION])
def test_a_snapshot_cursor_stopped_at_journal_lines_is_told_to_resync(world: World, version: int) -> None:
    """A desktop of version 7 whose download stopped in the journal lines (its cursor names
    ``journal_line``, an entity the server no longer syncs) downloads afresh."""
    assert "journal_line" not in ENTITIES
    email = world.a.email("accountant")
    applied(world, world.a.email("warehouse"), world.a, [warehouse()])
    cursor = pull_all(world, email, world.a).cursor
    assert cursor is not None
    at_lines = forge(
        replace(cursor_of(cursor, world.a), entity="journal_line", after_id="0" * 36, schema_version=version)
    )
    assert (
        _resync(pull_page(world, email, world.a, at_lines, schema_version=SCHEMA_VERSION)) == "schema_changed"
    )
    assert _resync(pull_page(world, email, world.a, at_lines)) == "schema_changed"
    assert _resync(pull_page(world, email, world.a, at_lines, format="blocks")) == "schema_changed"


def test_an_incremental_cursor_of_version_7_is_told_to_resync(world: World) -> None:
    email = world.a.email("accountant")
    cursor = pull_all(world, email, world.a).cursor
    assert cursor is not None
    old = forge(replace(cursor_of(cursor, world.a), schema_version=7))
    # The no-op layer and the endpoint alike (nothing changed since the cursor).
    assert _resync(pull_page(world, email, world.a, old, schema_version=SCHEMA_VERSION)) == "schema_changed"
    applied(world, world.a.email("warehouse"), world.a, [warehouse()])
    assert _resync(pull_page(world, email, world.a, old, schema_version=SCHEMA_VERSION)) == "schema_changed"


def test_a_snapshot_cursor_of_an_entity_still_synced_goes_on(world: World) -> None:
    email = world.a.email("warehouse")
    applied(world, email, world.a, [warehouse(f"W{n}") for n in range(3)])
    first = pull_page(world, email, world.a, limit=1).get_json()
    assert first["has_more"] and cursor_of(first["cursor"], world.a).entity in ENTITIES
    rest = pull_all(world, email, world.a, first["cursor"])
    assert len(first["changes"]) + len(rest.changes) == len(pull_all(world, email, world.a).changes)


def test_the_consoles_pushes_speak_a_version_the_server_serves() -> None:
    found = re.findall(r"schema_version:\s*(\d+)", CONSOLE_PRIVACY.read_text(encoding="utf-8"))
    assert found, CONSOLE_PRIVACY
    for version in map(int, found):
        assert sync_blueprint.MIN_CLIENT_SCHEMA_VERSION <= version <= SCHEMA_VERSION

"""Pull cursors and bad pull requests: tampering, other organizations, rights and schema changes."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest

from common.ids import new_id
from common.schema import SCHEMA_VERSION
from sync_server import admin_ops
from sync_server.pull_cursor import MAX_CURSOR_LENGTH
from tests.sync_server.conftest import PASSWORD, World, mutation, product
from tests.sync_server.pulling import applied, cursor_of, forge, pull_all, pull_page


def _error(response: object) -> tuple[int, str]:
    body = response.get_json()  # type: ignore[attr-defined]
    return response.status_code, body["error"]["code"]  # type: ignore[attr-defined]


def test_altered_or_foreign_cursors_are_refused_with_400(world: World) -> None:
    email = world.a.email("warehouse")
    applied(world, email, world.a, [product("A"), product("B")])
    cursor = pull_all(world, email, world.a).cursor
    assert cursor is not None
    version, payload, mac = cursor.split(".")
    bumped = (
        base64.urlsafe_b64encode(base64.urlsafe_b64decode(payload + "==").replace(b",2,", b",0,"))
        .rstrip(b"=")
        .decode()
    )
    flipped_mac = mac[:-2] + ("AA" if not mac.endswith("AA") else "BB")
    for bad in (
        "garbage",
        "1..",
        "1.e30.e30",
        f"2.{payload}.{mac}",
        f"{version}.{bumped}.{mac}",  # the seq rewound without the key
        f"{version}.{payload}.{flipped_mac}",
        f"{version}.{payload}",
        cursor + "x",
        "1." + "A" * 300 + "." + mac,
    ):
        response = pull_page(world, email, world.a, bad)
        assert _error(response) == (400, "invalid_cursor"), bad
        assert response.get_json()["error"]["details"]["field"] == "cursor"
    too_long = pull_page(world, email, world.a, "x" * (MAX_CURSOR_LENGTH + 1))
    assert _error(too_long) == (400, "invalid")


def test_a_cursor_of_one_organization_never_reads_another(world: World) -> None:
    admin_ops.grant(world.services.store, world.a.email("warehouse"), world.b.id, "warehouse")
    email = world.a.email("warehouse")
    applied(world, world.b.email("warehouse"), world.b, [product("GLOBEX-ONLY")])
    a_cursor = pull_all(world, email, world.a).cursor
    response = pull_page(world, email, world.b, a_cursor)
    assert _error(response) == (400, "invalid_cursor")
    assert b"GLOBEX-ONLY" not in response.data
    # Even a validly signed cursor naming the other organization is refused, not trusted.
    assert a_cursor is not None
    forged = forge(replace(cursor_of(a_cursor, world.a), org_id=world.b.id))
    assert _error(pull_page(world, email, world.a, forged)) == (400, "invalid_cursor")


def test_a_rights_change_since_the_cursor_requires_a_resync(world: World) -> None:
    email = world.a.email("warehouse")
    applied(world, email, world.a, [product("A")])
    cursor = pull_all(world, email, world.a).cursor
    admin_ops.grant(world.services.store, email, world.a.id, "sales")
    response = pull_page(world, email, world.a, cursor)
    assert _error(response) == (409, "resync_required")
    assert response.get_json()["error"]["details"]["reason"] == "access_changed"
    # Another user's cursor of the same organization does not fit either.
    other = pull_page(world, world.a.email("admin"), world.a, cursor)
    assert _error(other) == (409, "resync_required")
    # Without a cursor the caller starts over, with the new rights.
    fresh = pull_all(world, email, world.a)
    assert fresh.changes and cursor_of(fresh.cursor or "", world.a).seq == 1


def test_a_new_employee_link_counts_as_a_rights_change(world: World) -> None:
    email = world.a.email("employee")
    cursor = pull_all(world, email, world.a).cursor
    applied(
        world,
        world.a.email("hr"),
        world.a,
        [
            mutation(
                "hr.create_employee",
                id=new_id(),
                name="Me",
                user_id=world.a.users["employee"],
                salary=1,
                salary_currency="EUR",
            )
        ],
    )
    response = pull_page(world, email, world.a, cursor)
    assert _error(response) == (409, "resync_required")


def test_schema_versions(world: World) -> None:
    email = world.a.email("warehouse")
    cursor = pull_all(world, email, world.a).cursor
    assert cursor is not None
    too_new = pull_page(world, email, world.a, cursor, schema_version=SCHEMA_VERSION + 1)
    assert _error(too_new) == (409, "upgrade_required")
    details = too_new.get_json()["error"]["details"]
    assert details["server_schema_version"] == SCHEMA_VERSION
    old_layout = forge(replace(cursor_of(cursor, world.a), schema_version=SCHEMA_VERSION + 7))
    response = pull_page(world, email, world.a, old_layout, schema_version=SCHEMA_VERSION)
    assert _error(response) == (409, "resync_required")
    assert response.get_json()["error"]["details"]["reason"] == "schema_changed"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "5001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"schema_version": "0"}, "schema_version"),
        ({"since": "1"}, "since"),
    ],
)
def test_bad_query_parameters_name_the_field(world: World, query: dict[str, str], field: str) -> None:
    response = world.client.get(
        f"/api/v1/orgs/{world.a.id}/sync/pull",
        query_string=query,
        headers=world.headers(world.a.email("admin")),
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]["field"] == field


def test_pull_needs_a_member(world: World) -> None:
    url = f"/api/v1/orgs/{world.a.id}/sync/pull"
    assert world.client.get(url).status_code == 401
    outsider = world.client.get(url, headers=world.headers(world.b.email("admin")))
    assert _error(outsider) == (404, "not_found")
    unknown = world.client.get(
        "/api/v1/orgs/00000000-0000-4000-8000-00000000abcd/sync/pull",
        headers=world.headers(world.a.email("admin")),
    )
    assert unknown.status_code == 404
    repeated = world.client.get(url + "?limit=1&limit=2", headers=world.headers(world.a.email("admin")))
    assert repeated.status_code == 400
    assert PASSWORD not in repeated.get_data(as_text=True)

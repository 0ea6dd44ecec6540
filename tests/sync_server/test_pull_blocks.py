"""Pull's optional ``blocks`` format: asked for, the same changes in the same order with each run's
column names once; not asked for, exactly DESIGN §5's answer. On both stores."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from common.ids import new_id
from common.permissions import BUILTIN_ROLES
from common.schema import SCHEMA_VERSION
from common.wire import blocks_to_changes, changes_to_blocks
from tests.sync_server.conftest import OrgInfo, World, mutation, product, warehouse
from tests.sync_server.pulling import applied, pull_all, pull_page, seed_every_module


def _pages(
    world: World, email: str, org: OrgInfo, cursor: str | None, limit: int, **format: str
) -> list[Any]:
    """Every page's JSON answer until ``has_more`` is false."""
    pages = []
    for _ in range(1000):
        response = pull_page(world, email, org, cursor, limit=limit, **format)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        pages.append(page)
        cursor = page["cursor"]
        if not page["has_more"]:
            return pages
    raise AssertionError("pull never finished")


def _as_changes(pages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [blocks_to_changes(page["blocks"]) for page in pages]


def _changes_of(pages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [page["changes"] for page in pages]


def _edits(world: World, org: OrgInfo, chair_id: str, wh_id: str, order: str, lines: list[str]) -> None:
    """Changes of every kind after a snapshot: an update with a decimal and a null, a new row, a
    stock move with a fractional quantity, and a purchase order line removed (a tombstone)."""
    applied(
        world,
        org.email("admin"),
        org,
        [
            mutation(
                "inventory.update_product",
                id=chair_id,
                changes={"reorder_point": "2.125", "description": None},
                base={"reorder_point": None, "description": None},
            ),
            product("LATE"),
            mutation(
                "inventory.record_stock_move",
                id=new_id(),
                product_id=chair_id,
                to_warehouse_id=wh_id,
                quantity="0.5",
                reason="receipt",
            ),
            mutation(
                "inventory.set_purchase_order_lines",
                id=order,
                lines=[{"id": lines[0], "product_id": chair_id, "quantity": "5.25", "unit_cost": 10}],
            ),
        ],
    )


def _seed_order(world: World, org: OrgInfo) -> tuple[str, str, str, list[str]]:
    wh, chair = warehouse(), product("CHAIR")
    supplier, order, lines = new_id(), new_id(), [new_id(), new_id()]
    chair_id = chair["args"]["id"]
    applied(
        world,
        org.email("admin"),
        org,
        [
            wh,
            chair,
            mutation("inventory.create_supplier", id=supplier, name="Supplier", currency="EUR"),
            mutation(
                "inventory.create_purchase_order",
                id=order,
                supplier_id=supplier,
                warehouse_id=wh["args"]["id"],
                lines=[
                    {"id": lines[0], "product_id": chair_id, "quantity": "1.5", "unit_cost": 10},
                    {"id": lines[1], "product_id": chair_id, "quantity": "2", "unit_cost": 10},
                ],
            ),
        ],
    )
    return chair_id, wh["args"]["id"], order, lines


def test_without_the_format_the_answer_is_design_s_changes(world: World) -> None:
    seed_every_module(world, world.a)
    email = world.a.email("admin")
    plain = pull_page(world, email, world.a, limit=50)
    named = pull_page(world, email, world.a, limit=50, format="changes")
    assert plain.status_code == named.status_code == 200
    body = plain.get_json()
    assert set(body) == {"changes", "cursor", "has_more", "schema_version"}
    assert body["changes"] and all(
        set(c) <= {"entity", "id", "op", "version", "data"} for c in body["changes"]
    )
    # The same page either way (the cursor is signed afresh for each answer: compared apart).
    assert {**body, "cursor": ""} == {**named.get_json(), "cursor": ""}


def test_blocks_carry_the_same_snapshot_for_every_role(world: World) -> None:
    seed_every_module(world, world.a)
    seed_every_module(world, world.b)
    for role in BUILTIN_ROLES:
        email = world.a.email(role)
        for limit in (3, 1000):
            changes = _pages(world, email, world.a, None, limit)
            blocks = _pages(world, email, world.a, None, limit, format="blocks")
            assert [set(p) for p in blocks] == [{"blocks", "cursor", "has_more", "schema_version"}] * len(
                blocks
            )
            assert _as_changes(blocks) == _changes_of(changes), (role, limit)
            assert [p["has_more"] for p in blocks] == [p["has_more"] for p in changes]
            # Each run's names once: a block never follows one of the same entity, op and columns.
            for page in blocks:
                keys = [(b["entity"], b["op"], tuple(b["columns"])) for b in page["blocks"]]
                assert all(a != b for a, b in pairwise(keys)), role


def test_blocks_carry_the_same_incremental_changes_tombstones_decimals_and_nulls(world: World) -> None:
    chair_id, wh_id, order, lines = _seed_order(world, world.a)
    email = world.a.email("admin")
    start = pull_all(world, email, world.a)
    _edits(world, world.a, chair_id, wh_id, order, lines)
    for limit in (1, 2, 1000):
        changes = _pages(world, email, world.a, start.cursor, limit)
        blocks = _pages(world, email, world.a, start.cursor, limit, format="blocks")
        assert _as_changes(blocks) == _changes_of(changes), limit
    every = [
        c
        for page in _as_changes(_pages(world, email, world.a, start.cursor, 1000, format="blocks"))
        for c in page
    ]
    by_id = {c["id"]: c for c in every}
    assert by_id[lines[1]] == {
        "entity": "purchase_order_line",
        "id": lines[1],
        "op": "delete",
        "version": by_id[lines[1]]["version"],
    }
    assert by_id[lines[0]]["data"]["quantity"] == "5.25"
    chair = by_id[chair_id]["data"]
    assert chair["reorder_point"] == "2.125" and chair["description"] is None
    assert chair["updated_at"].endswith("+00:00")
    moves = [c for c in every if c["entity"] == "stock_move"]
    assert [m["data"]["quantity"] for m in moves] == ["0.5"]
    # Caught up: the no-op answer (served before Flask) keeps the format.
    last = _pages(world, email, world.a, start.cursor, 1000, format="blocks")[-1]["cursor"]
    again = pull_page(world, email, world.a, last, format="blocks").get_json()
    assert again == {"blocks": [], "cursor": last, "has_more": False, "schema_version": SCHEMA_VERSION}
    old = pull_page(world, email, world.a, last).get_json()
    assert old == {"changes": [], "cursor": last, "has_more": False, "schema_version": SCHEMA_VERSION}


def test_an_unknown_format_is_refused_naming_it(world: World) -> None:
    response = pull_page(world, world.a.email("admin"), world.a, format="columns")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and "format" in error["message"]


def test_changes_to_blocks_round_trips() -> None:
    changes: list[dict[str, Any]] = [
        {
            "entity": "product",
            "id": "a",
            "op": "upsert",
            "version": 3,
            "data": {"id": "a", "version": 3, "x": "1.5"},
        },
        {
            "entity": "product",
            "id": "b",
            "op": "upsert",
            "version": 4,
            "data": {"id": "b", "version": 4, "x": None},
        },
        {"entity": "product", "id": "c", "op": "upsert", "version": 5, "data": {"id": "c", "version": 5}},
        {"entity": "product", "id": "d", "op": "delete", "version": 6},
        {"entity": "product", "id": "e", "op": "delete", "version": 7},
        {"entity": "warehouse", "id": "f", "op": "upsert", "version": 8, "data": {"id": "f", "version": 8}},
    ]
    blocks = changes_to_blocks(changes)
    assert [(b["entity"], b["op"], b["columns"], len(b["rows"])) for b in blocks] == [
        ("product", "upsert", ["id", "version", "x"], 2),
        ("product", "upsert", ["id", "version"], 1),
        ("product", "delete", ["id", "version"], 2),
        ("warehouse", "upsert", ["id", "version"], 1),
    ]
    assert blocks_to_changes(blocks) == changes


def test_the_openapi_document_describes_the_format(world: World) -> None:
    spec = world.client.get("/api/v1/openapi.json").get_json()
    pull = spec["paths"]["/api/v1/orgs/{org_id}/sync/pull"]["get"]
    (param,) = [p for p in pull["parameters"] if p["name"] == "format"]
    assert not param["required"] and param["schema"]["default"] == "changes"
    assert param["schema"]["enum"] == ["changes", "blocks"]
    answers = pull["responses"]["200"]["content"]["application/json"]["schema"]["oneOf"]
    assert [a["$ref"].rsplit("/", 1)[1] for a in answers] == ["PullResponse", "PullBlocksResponse"]
    assert {"PullBlock", "PullBlocksResponse"} <= set(spec["components"]["schemas"])

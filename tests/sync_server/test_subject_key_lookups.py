"""The keys that seal data subjects' personal values in the audit trail are read by their whole
key: a push reads the keys of the subjects it writes, and reading them by organization and id
alone walked every key of the organization (one per customer, employee, user…) on every push."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from common.ids import new_id
from tests.common.plans import plans_of
from tests.sync_server.conftest import World, mutation


@pytest.fixture
def store_kind() -> str:
    return "sqlite"  # the plans asserted are SQLite's


def test_a_push_reads_each_subject_key_by_its_whole_key(world: World) -> None:
    def customers() -> list[dict[str, Any]]:
        return [
            mutation("sales.create_customer", id=new_id(), name=f"Customer {n}", email=f"c{n}@example.test")
            for n in range(3)
        ]

    first = world.push("sales@acme.test", world.a, customers()).get_json()["results"]
    assert {r["status"] for r in first} == {"applied"}
    engine = world.services.store.engine
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        second = world.push("sales@acme.test", world.a, customers()).get_json()["results"]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert {r["status"] for r in second} == {"applied"}
    with engine.connect() as connection:
        plans = plans_of(connection, seen, "subject_key")
    assert plans, "the push read no subject key"
    assert all("(org_id=? AND subject_type=? AND subject_id=?)" in plan for plan in plans), plans

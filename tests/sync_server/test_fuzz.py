"""Property-based tests: hostile input generated from the OpenAPI spec never gives a 500.

schemathesis builds requests from ``/api/v1/openapi.json`` (valid and invalid bodies, query
strings and path parameters) and sends them, signed in as an admin, to the app; every answer
must be a JSON document (or the file an endpoint serves), errors in the DESIGN §5 shape.
"""

from __future__ import annotations

import json
from typing import Any

import hypothesis.strategies as st
import orjson
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from common.schema import SCHEMA_VERSION
from tests.sync_server.conftest import World

_SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


def _check(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code == 204:
        return
    if response.status_code < 400 and not response.headers.get("content-type", [""])[0].startswith(
        "application/json"
    ):
        return  # a file answer (a PDF, a ZIP, SEPA XML): errors are still JSON
    body = orjson.loads(response.content)
    if response.status_code >= 400:
        assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"]), body


def test_generated_requests_never_cause_a_server_error(world: World) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.client.application)
    headers = world.headers("admin@acme.test")
    strategies = []
    for result in schema.get_all_operations():
        operation = result.ok()
        params: dict[str, Any] = {}
        names = {p.name for p in operation.path_parameters}
        if "org_id" in names:
            params["org_id"] = world.a.id
        if "user_id" in names:
            params["user_id"] = world.a.users["sales"]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategies.append(operation.as_strategy(mode, path_parameters=params or None))

    @_SETTINGS
    @given(case=st.one_of(strategies))
    def run(case: Any) -> None:
        _check(case.call(headers=headers))

    run()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    args=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4)
        ),
        max_leaves=12,
    ),
    name=st.sampled_from(
        [
            "inventory.create_product",
            "inventory.record_stock_move",
            "inventory.update_product",
            "hr.create_employee",
            "sales.create_customer",
            "inventory.receive_purchase_order",
            "nope.nothing",
        ]
    ),
)
def _push_case(world: World, name: str, args: Any) -> None:
    from common.ids import new_id

    body = {
        "client_id": "fuzz",
        "schema_version": SCHEMA_VERSION,
        "mutations": [{"id": new_id(), "name": name, "args": args}],
    }
    response = world.client.post(
        f"/api/v1/orgs/{world.a.id}/sync/push",
        data=json.dumps(body),
        headers={**world.headers("admin@acme.test"), "Content-Type": "application/json"},
    )
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
    if response.status_code == 200:
        [result] = response.get_json()["results"]
        assert result["status"] in ("applied", "rejected")


def test_random_command_arguments_are_answered_not_crashed_on(world: World) -> None:
    _push_case(world)  # type: ignore[call-arg]

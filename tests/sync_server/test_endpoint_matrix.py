"""Every registered endpoint: unauthenticated → 401, missing permission → 403, another
organization's ids → 404 (never 403, never data). New endpoints are covered automatically."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from common.ids import new_id
from sync_server.api import Endpoint, registered_endpoints
from tests.sync_server.conftest import World, product, warehouse


def _endpoints(app: Flask, auth: str | None = None) -> list[Endpoint]:
    found = registered_endpoints(app)
    return [e for e in found if auth is None or e.auth == auth]


def _any_id(name: str) -> str:
    assert name.endswith("_id"), f"the matrix does not know what to put in the path parameter {name!r}"
    return new_id()


def _call(world: World, spec: Endpoint, org_id: str, headers: dict[str, str] | None, **params: str) -> Any:
    values = {
        "org_id": org_id,
        "user_id": params.get("user_id", new_id()),
        "name": params.get("name", "custom_role"),
    }
    # Any other id in a path (a session, an invitation, a request, a payslip…): one that exists nowhere.
    path = spec.path.format(**{name: values.get(name) or _any_id(name) for name in spec.path_params})
    kwargs: dict[str, Any] = {"headers": headers or {}}
    if spec.body is not None:
        kwargs["json"] = {}
    return world.client.open(path, method=spec.method, **kwargs)


def test_the_matrix_covers_the_api(app: Flask) -> None:
    paths = {(e.method, e.path) for e in _endpoints(app)}
    assert ("POST", "/api/v1/orgs/{org_id}/sync/push") in paths
    assert ("GET", "/api/v1/orgs/{org_id}/audit") in paths
    assert ("POST", "/api/v1/auth/login") in paths


def test_unauthenticated_requests_get_401(world: World, app: Flask) -> None:
    for spec in _endpoints(app):
        if spec.auth == "none":
            continue
        for headers in (None, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic dXNlcjpwYXNz"}):
            response = _call(world, spec, world.a.id, headers)
            assert response.status_code == 401, (spec.name, headers, response.get_json())
            assert response.get_json()["error"]["code"] in ("unauthenticated", "invalid_token")
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_missing_permission_gets_403(world: World, app: Flask) -> None:
    # "employee" holds only projects.read: every permission-guarded endpoint refuses it.
    headers = world.headers("employee@acme.test")
    guarded = [e for e in _endpoints(app, "org") if e.permission is not None]
    assert guarded, "no permission-guarded endpoint found"
    for spec in guarded:
        response = _call(world, spec, world.a.id, headers, user_id=world.a.users["employee"])
        assert response.status_code == 403, (spec.name, response.get_json())
        assert response.get_json()["error"]["details"]["permission"] == spec.permission


@pytest.mark.parametrize("intruder", ["admin", "auditor", "employee"])
def test_another_organizations_ids_get_404(world: World, app: Flask, intruder: str) -> None:
    headers = world.headers(f"{intruder}@globex.test")
    for spec in _endpoints(app, "org"):
        for org_id in (world.a.id, new_id(), "not-a-uuid"):
            response = _call(world, spec, org_id, headers, user_id=world.a.users["admin"])
            assert response.status_code == 404, (spec.name, org_id, response.get_json())
            body = response.get_json()
            assert body["error"]["code"] == "not_found"
            assert world.a.name not in response.get_data(as_text=True)


def test_ids_of_another_organization_inside_your_own_are_not_found(world: World) -> None:
    """Globex's admin, in Globex's URL space, naming Acme's rows: 404 or a refusal, never data."""
    created = world.push("warehouse@acme.test", world.a, [warehouse(), product("ACME-1")])
    assert [r["status"] for r in created.get_json()["results"]] == ["applied", "applied"]
    headers = world.headers("admin@globex.test")
    response = world.client.put(
        f"/api/v1/orgs/{world.b.id}/members/{world.a.users['admin']}/roles",
        json={"roles": ["admin"]},
        headers=headers,
    )
    assert response.status_code == 404
    product_id = _acme_product_id(world)
    audit = world.client.get(
        f"/api/v1/orgs/{world.b.id}/audit?entity=product&entity_id={product_id}", headers=headers
    )
    assert audit.status_code == 200 and audit.get_json()["events"] == []
    move = {
        "id": new_id(),
        "name": "inventory.record_stock_move",
        "args": {
            "id": new_id(),
            "product_id": product_id,
            "to_warehouse_id": new_id(),
            "quantity": "1",
            "reason": "receipt",
        },
    }
    result = world.push("warehouse@globex.test", world.b, [move]).get_json()["results"][0]
    assert result["status"] == "rejected" and result["code"] == "invalid"
    assert result["message"].startswith("product_id: no product with id")
    assert "ACME" not in repr(result)


def _acme_product_id(world: World) -> str:
    from sqlalchemy import select

    from common.schema import Product

    with world.services.store.session(world.a.id) as session:
        found = session.execute(select(Product.id).where(Product.sku == "ACME-1")).scalar()
    assert isinstance(found, str)
    return found

"""``ops-server init`` upgrades a store of the previous release in place (both stores).

The store is filled through the server's own code (organizations, accounts, roles, pushed
commands; employees as rows), then taken back to revision 0005 (the release before the employee
directory) with the migrations' own downgrades, which keep every row that release had. ``init``
then migrates it forward again; nothing is lost, the audit chains verify, and the upgraded server
serves it. (Filling a 0005 store with today's code is not possible: today's sign-in writes columns
that 0007 added.)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from flask.testing import FlaskClient
from sqlalchemy import Engine, insert, select

from common import migrate
from common.schema import SCHEMA_VERSION, Employee, EmployeeDirectory
from common.schema.types import utcnow
from sync_server import cli, pg_security
from sync_server.app import create_app
from sync_server.config import ServerConfig, normalize_database_url
from sync_server.services import Services
from sync_server.store import Store
from tests.sync_server.conftest import JWT_KEY, PASSWORD, make_org, mutation, product, warehouse

PREVIOUS_RELEASE = "0005"


def _migrate_to(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        config = migrate.alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _downgrade_to(config: ServerConfig, revision: str) -> None:
    store = Store.open(config)
    try:
        with store.engine.begin() as connection:
            alembic = migrate.alembic_config()
            alembic.attributes["connection"] = connection
            command.downgrade(alembic, revision)
    finally:
        store.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def old_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerConfig]:
    """A store at today's revision, prepared as init leaves it; the test takes it back."""
    data_dir = tmp_path / "data"
    url = None
    if request.param == "postgres":
        url = normalize_database_url(request.getfixturevalue("pg_database"))
    config = ServerConfig(data_dir=data_dir, database_url=url, jwt_key=JWT_KEY, pool_size=4).for_tests()
    store = Store.open(config)
    try:
        _migrate_to(store.engine, "head")
        if store.is_postgres:
            pg_security.prepare(store.engine, config.app_role)
    finally:
        store.dispose()
    yield config


def _login(client: FlaskClient, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def _push(
    client: FlaskClient, headers: dict[str, str], org_id: str, mutations: list[dict[str, object]]
) -> None:
    body = {"client_id": "old-desk", "schema_version": SCHEMA_VERSION, "mutations": mutations}
    response = client.post(f"/api/v1/orgs/{org_id}/sync/push", json=body, headers=headers)
    assert [r["status"] for r in response.get_json()["results"]] == ["applied"] * len(mutations)


def _env(monkeypatch: pytest.MonkeyPatch, config: ServerConfig) -> None:
    for name in ("OPS_DB_KEY", "OPS_AUDIT_KEY", "OPS_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPS_DATA_DIR", str(config.data_dir))
    monkeypatch.setenv("OPS_JWT_KEY", JWT_KEY.hex())
    if config.database_url:
        monkeypatch.setenv("OPS_DATABASE_URL", config.database_url)


def test_init_upgrades_a_store_of_the_previous_release_in_place(
    old_store: ServerConfig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The release at work; then the store as the previous release held it.
    services = Services.build(old_store)
    try:
        org = make_org(services, "Acme")
        client = create_app(old_store, services).test_client()
        headers = _login(client, org.email("warehouse"))
        depot, chair = warehouse("DEPOT"), product("CHAIR")
        _push(client, headers, org.id, [depot, chair])
        _push(
            client,
            headers,
            org.id,
            [
                mutation(
                    "inventory.record_stock_move",
                    id=str(uuid.uuid4()),
                    product_id=chair["args"]["id"],
                    to_warehouse_id=depot["args"]["id"],
                    quantity="7",
                    reason="receipt",
                )
            ],
        )
        employee_id = str(uuid.uuid4())
        with services.store.session(org.id, write=True) as db:
            db.execute(
                insert(Employee).values(
                    org_id=org.id,
                    id=employee_id,
                    name="Ada",
                    status="active",
                    job_title="Engineer",
                    salary=900_000,
                    salary_currency="EUR",
                    version=1,
                    updated_at=utcnow(),
                    deleted=False,
                )
            )
    finally:
        services.store.dispose()
    _downgrade_to(old_store, PREVIOUS_RELEASE)

    _env(monkeypatch, old_store)
    assert cli.main(["init"]) == 0
    assert "store ready" in capsys.readouterr().out
    assert cli.main(["audit", "verify", "--org", "Acme"]) == 0
    assert "is intact" in capsys.readouterr().out
    assert cli.main(["init"]) == 0  # idempotent: nothing left to do

    upgraded = Services.build(old_store)
    try:
        with upgraded.store.engine.connect() as connection:
            assert migrate.current_revision(connection) == migrate.head_revision()
        with upgraded.store.session(org.id) as db:
            listed = db.execute(select(EmployeeDirectory.name, EmployeeDirectory.job_title)).all()
        assert [tuple(row) for row in listed] == [("Ada", "Engineer")]
        client = create_app(old_store, upgraded).test_client()
        admin = _login(client, org.email("admin"))
        pulled = client.get(f"/api/v1/orgs/{org.id}/sync/pull?limit=1000", headers=admin).get_json()
        kinds = {
            (c["entity"], c["data"].get("sku") or c["data"].get("code") or c["data"].get("name"))
            for c in pulled["changes"]
        }
        assert {("product", "CHAIR"), ("warehouse", "DEPOT"), ("employee_directory", "Ada")} <= kinds
        moves = [c for c in pulled["changes"] if c["entity"] == "stock_move"]
        assert [m["data"]["quantity"] for m in moves] == ["7"]
        _push(client, _login(client, org.email("warehouse")), org.id, [product("AFTER-UPGRADE")])
    finally:
        upgraded.store.dispose()

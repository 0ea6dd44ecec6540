"""The gadgets module, registered without editing a core file, everywhere a module shows.

Run by ``tests/common/test_adding_a_module.py`` in a pytest of its own (the registries are built
once per process): ``pytest -p tests.modules.gadgets.plugin tests/modules/gadgets/gadgets_scenario.py``.
The gadget table is created beside the migrated schema, as the module's own migration would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from common.commands import REGISTRY
from common.ids import new_id
from common.modules import demo_builders, module
from common.permissions import BUILTIN_ROLES, PERMISSIONS
from common.reports import REPORTS
from common.schema import ENTITIES
from desktop.modules import PAGES, visible_modules
from sync_server.config import ServerConfig
from sync_server.store import prepare_store
from tests.desktop.seed import offline_session
from tests.modules.gadgets.demo import gadget_data
from tests.modules.gadgets.schema import Gadget
from tests.modules.gadgets.screens import GadgetsPage
from tests.sync_server.conftest import JWT_KEY, World, app, client, mutation, services, world
from tests.sync_server.pulling import pull_all
from tests.sync_server.test_endpoint_matrix import (
    test_another_organizations_ids_get_404,
    test_missing_permission_gets_403,
    test_unauthenticated_requests_get_401,
)

# The endpoint matrix, run with the gadgets module registered; and the server fixtures.
__all__ = [
    "app",
    "client",
    "services",
    "test_another_organizations_ids_get_404",
    "test_missing_permission_gets_403",
    "test_unauthenticated_requests_get_401",
    "world",
]


@pytest.fixture
def server_config(tmp_path: Path) -> ServerConfig:
    data_dir = tmp_path / "server"
    store = prepare_store(ServerConfig(data_dir=data_dir))
    Gadget.__table__.create(store.engine)
    store.dispose()
    return ServerConfig(data_dir=data_dir, jwt_key=JWT_KEY).for_tests()


def gadget(name: str = "Sprocket") -> dict[str, Any]:
    return mutation("gadgets.create_gadget", id=new_id(), name=name)


def test_it_is_in_every_registry() -> None:
    assert module("gadgets").title == "Gadgets"
    assert {"gadgets.read", "gadgets.write"} <= set(PERMISSIONS)
    assert {"gadgets.read", "gadgets.write"} <= BUILTIN_ROLES["admin"]
    assert "gadgets.read" in BUILTIN_ROLES["auditor"] and "gadgets.write" not in BUILTIN_ROLES["auditor"]
    assert ENTITIES["gadget"] is Gadget
    assert REGISTRY["gadgets.create_gadget"].permission == "gadgets.write"
    assert REPORTS["gadget_count"][0] == "gadgets.read"
    assert gadget_data in demo_builders()


def test_navigation_offers_its_page_and_it_writes_with_its_commands_permission(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from desktop.ui.main_window import MainWindow

    assert PAGES["gadgets"].write_permission == "gadgets.write"
    [shown] = visible_modules(frozenset({"gadgets.read"}))
    assert (shown.key, shown.title, [p.key for p in shown.pages]) == ("gadgets", "Gadgets", ["gadgets"])
    assert "gadgets" not in [m.key for m in visible_modules(frozenset({"inventory.read"}))]
    session = offline_session(tmp_path)
    try:
        Gadget.__table__.create(session.store.engine)
        window = MainWindow(session)
        qtbot.addWidget(window)
        assert "gadgets" in window.page_keys()
        page = window.open_page("gadgets")
        assert isinstance(page, GadgetsPage) and page.ctx.writable
        products = window.open_page("products")
        assert products.ctx.page is not None and products.ctx.page.key == "products"
        session.apply("gadgets.create_gadget", {"id": new_id(), "name": "Cog"})
        with session.store.read_session() as db:
            assert db.query(Gadget).count() == 1
        window.close()
    finally:
        session.close()


def test_the_server_catalogue_push_pull_and_report(world: World) -> None:
    catalogue = world.client.get("/api/v1/permissions", headers=world.headers(world.a.email("employee")))
    listed = {p["name"]: p for p in catalogue.get_json()["permissions"]}
    assert listed["gadgets.write"]["module"] == "gadgets" and listed["gadgets.write"]["held_by_admin"]

    admin, warehouse = world.a.email("admin"), world.a.email("warehouse")
    applied = world.push(admin, world.a, [gadget()]).get_json()["results"][0]
    assert applied["status"] == "applied", applied
    refused = world.push(warehouse, world.a, [gadget()]).get_json()["results"][0]
    assert (refused["status"], refused["code"]) == ("rejected", "forbidden")

    assert [
        c["data"]["name"] for c in pull_all(world, admin, world.a).changes if c["entity"] == "gadget"
    ] == ["Sprocket"]
    assert not pull_all(world, warehouse, world.a).of("gadget")
    assert not pull_all(world, world.b.email("admin"), world.b).of("gadget")

    url = f"/api/v1/orgs/{world.a.id}/reports/gadget_count"
    report = world.client.get(url, headers=world.headers(admin))
    assert report.status_code == 200 and report.get_json()["rows"] == [{"gadgets": 1}]
    forbidden = world.client.get(url, headers=world.headers(warehouse))
    assert forbidden.status_code == 403
    assert forbidden.get_json()["error"]["details"]["permission"] == "gadgets.read"
    assert world.client.get(url, headers=world.headers(world.b.email("admin"))).status_code == 404

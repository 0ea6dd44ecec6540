"""Every module is declared once (``common.modules``) and the registries are exactly the specs'."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from common.commands import REGISTRY
from common.modules import demo_builders, modules, resolve
from common.permissions import ALL_PERMISSIONS, PERMISSIONS
from common.reports import REPORTS
from common.schema import ENTITIES, SCHEMA_VERSION, declared_sync_schema_version, table_of

CORE_SCHEMA = ("common.schema.identity", "common.schema.system")


def _owner_of_permission() -> dict[str, str]:
    return {p: spec.key for spec in modules() for p in spec.permissions}


def test_the_permission_catalogue_is_the_modules_permissions_in_module_order() -> None:
    declared = [p for spec in modules() for p in spec.permissions]
    assert list(PERMISSIONS) == declared and len(declared) == len(set(declared))
    assert frozenset(declared) == ALL_PERMISSIONS
    for spec in modules():
        assert spec.title and spec.permissions, spec.key
        assert set(spec.open_permissions) <= set(spec.permissions), spec.key


def test_every_command_is_registered_by_the_module_that_declares_its_permission() -> None:
    owner = _owner_of_permission()
    for name, command in REGISTRY.items():
        declaring = [spec for spec in modules() if command.handler.__module__ in spec.commands]
        assert len(declaring) == 1, f"{name}: its Python module is listed by {len(declaring)} specs"
        assert owner[command.permission] == declaring[0].key, name


def test_every_synced_entity_belongs_to_the_module_that_declares_its_schema() -> None:
    keys = {spec.key for spec in modules()}
    for name, model in ENTITIES.items():
        info = model.__entity__
        if model.__module__ in CORE_SCHEMA:
            continue
        declaring = [spec for spec in modules() if model.__module__ in spec.schema]
        assert len(declaring) == 1, f"{name}: declared by {len(declaring)} specs"
        # Notifications live with privacy's tables but are nobody's module (owners read them).
        assert info.module == declaring[0].key or info.module not in keys, name
        assert all(p in ALL_PERMISSIONS for p in info.readers), name


def test_reports_and_demo_data_come_from_the_specs() -> None:
    owner = _owner_of_permission()
    declared = {name: spec.key for spec in modules() for name in spec.reports}
    assert set(REPORTS) == set(declared)
    for name, (permission, _maker) in REPORTS.items():
        assert owner[permission] == declared[name], name
    orders = [d.order for spec in modules() for d in spec.demo]
    assert len(orders) == len(set(orders)), "two demo builders share an order"
    assert len(demo_builders()) == len(orders)
    assert resolve("common.modules.inventory.demo:inventory_data") in demo_builders()


# What syncs at each SCHEMA_VERSION: table → columns. A migration that changes it declares the
# next ``sync_schema_version``; then record the new fingerprint here.
SYNCED_FINGERPRINTS = {
    3: "7aeb1a7f1f1ebac2",
    5: "dfb1ed2bc05546c2",
    6: "03b1b311ae0776fa",  # the organization profile (documents)
    7: "fd26c932aaf1ab8b",  # discounts on sales order, invoice and credit note lines
    8: "708be18de953c27e",  # journal lines inside their entry (lines_json), no journal_line entity
}  # 4 (payroll) and 5 (privacy) landed together


def _synced_fingerprint() -> str:
    material = "\n".join(
        f"{name}:{','.join(sorted(c.name for c in table_of(model).columns))}"
        for name, model in sorted(ENTITIES.items())
    )
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def test_schema_version_is_the_migrations_and_changes_with_what_syncs() -> None:
    assert declared_sync_schema_version() == SCHEMA_VERSION
    assert max(SYNCED_FINGERPRINTS) == SCHEMA_VERSION
    assert _synced_fingerprint() == SYNCED_FINGERPRINTS[SCHEMA_VERSION], (
        "what syncs changed: the migration that changes it declares sync_schema_version = "
        f"{SCHEMA_VERSION + 1}; then record {_synced_fingerprint()!r} for it in SYNCED_FINGERPRINTS"
    )


def test_a_migration_without_a_declaration_is_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_x.py").write_text('revision = "0001"\n')
    with pytest.raises(RuntimeError, match="declares sync_schema_version"):
        declared_sync_schema_version(tmp_path)
    (tmp_path / "0002_y.py").write_text("sync_schema_version = 7\n")
    assert declared_sync_schema_version(tmp_path) == 7

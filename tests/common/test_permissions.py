"""Built-in roles hold exactly what DESIGN §6 says."""

from __future__ import annotations

import pytest

from common.commands import REGISTRY
from common.permissions import (
    ALL_PERMISSIONS,
    BUILTIN_ROLES,
    permissions_for_roles,
    validate_permissions,
)


def test_catalogue_is_the_designed_one() -> None:
    assert {
        "inventory.read", "inventory.write", "sales.read", "sales.write", "finance.read", "finance.post",
        "finance.close_period", "finance.write", "hr.read", "hr.write", "hr.sensitive.read", "hr.self_service",
        "payroll.run", "projects.read", "projects.write", "privacy.manage", "admin.users", "admin.audit",
    } == ALL_PERMISSIONS  # fmt: skip


def test_builtin_roles() -> None:
    assert set(BUILTIN_ROLES) == {
        "admin", "accountant", "sales", "warehouse", "hr", "project_manager", "employee", "auditor",
    }  # fmt: skip
    assert BUILTIN_ROLES["admin"] == ALL_PERMISSIONS - {"hr.sensitive.read", "payroll.run"}
    assert BUILTIN_ROLES["hr"] == {
        "hr.read",
        "hr.write",
        "hr.sensitive.read",
        "hr.self_service",
        "payroll.run",
    }
    assert BUILTIN_ROLES["warehouse"] == {"inventory.read", "inventory.write"}
    assert BUILTIN_ROLES["sales"] == {"sales.read", "sales.write", "inventory.read"}
    assert BUILTIN_ROLES["accountant"] == {
        "finance.read", "finance.post", "finance.close_period", "finance.write", "sales.read",
        "inventory.read",
    }  # fmt: skip
    assert BUILTIN_ROLES["project_manager"] == {"projects.read", "projects.write"}
    assert BUILTIN_ROLES["employee"] == {"projects.read", "hr.self_service"}
    auditor = BUILTIN_ROLES["auditor"]
    assert "admin.audit" in auditor and "hr.sensitive.read" not in auditor
    # Self-service (one's own HR records) is the employee's, HR's and admin's only.
    self_service = {role for role, granted in BUILTIN_ROLES.items() if "hr.self_service" in granted}
    assert self_service == {"admin", "hr", "employee"}
    assert all(p.endswith(".read") or p == "admin.audit" for p in auditor)
    assert {"inventory.read", "sales.read", "finance.read", "hr.read", "projects.read"} <= auditor


def test_custom_roles_and_unknown_names() -> None:
    custom = {"stock_viewer": ["inventory.read"]}
    assert permissions_for_roles(["stock_viewer"], custom) == {"inventory.read"}
    assert permissions_for_roles(["warehouse", "employee"]) == {
        "inventory.read",
        "inventory.write",
        "projects.read",
        "hr.self_service",
    }
    assert permissions_for_roles(["deleted_role"], custom) == frozenset()
    with pytest.raises(ValueError, match="unknown permission"):
        validate_permissions(["inventory.read", "inventory.delete_everything"])


def test_every_command_needs_a_known_permission() -> None:
    assert REGISTRY
    for spec in REGISTRY.values():
        assert spec.permission in ALL_PERMISSIONS, spec.name
        assert all(p in ALL_PERMISSIONS for p in spec.alternatives), spec.name
        module = spec.name.split(".")[0]
        assert spec.name == f"{module}.{spec.name.split('.', 1)[1]}"
        assert spec.summary and spec.args_model is not None

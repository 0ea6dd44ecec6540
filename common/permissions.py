"""Permission catalogue and built-in roles: the one source of truth for both sides.

The catalogue is the modules' (:mod:`common.modules`); the built-in roles are defined here by
prefix, so a new module's permissions go to ``admin`` (and its ``.read`` to ``auditor``) at once.

The server decides with these; the desktop uses them only to shape its interface.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from common.modules import permission_catalogue

# Every permission the product knows, with what it allows (shown in the admin interface): each
# module declares its own (``common/modules/<key>/__init__.py``).
PERMISSIONS: Mapping[str, str] = permission_catalogue()

ALL_PERMISSIONS: frozenset[str] = frozenset(PERMISSIONS)


def _with_prefix(*prefixes: str) -> frozenset[str]:
    return frozenset(p for p in ALL_PERMISSIONS if p.startswith(prefixes))


_READS = frozenset(p for p in ALL_PERMISSIONS if p.endswith(".read") and p != "hr.sensitive.read")

BUILTIN_ROLES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        # admin may grant hr.sensitive.read and payroll.run (audited) but does not hold them.
        "admin": ALL_PERMISSIONS - {"hr.sensitive.read", "payroll.run"},
        "accountant": _with_prefix("finance.") | {"sales.read", "inventory.read"},
        "sales": _with_prefix("sales.") | {"inventory.read"},
        "warehouse": _with_prefix("inventory."),
        "hr": _with_prefix("hr.") | {"payroll.run"},
        "project_manager": _with_prefix("projects."),
        "employee": frozenset({"projects.read", "hr.self_service"}),
        "auditor": _READS | {"admin.audit"},
    }
)

BUILTIN_ROLE_DESCRIPTIONS: Mapping[str, str] = MappingProxyType(
    {
        "admin": "Everything except sensitive HR data and running payroll",
        "accountant": "Finance, with read access to sales and inventory",
        "sales": "Sales and customers, with read access to inventory",
        "warehouse": "Inventory and purchasing",
        "hr": "HR, sensitive HR data and payroll",
        "project_manager": "Projects, tasks and timesheets",
        "employee": "Reads projects and their own records",
        "auditor": "Reads everything except sensitive fields, and the audit trail",
    }
)


def validate_permissions(permissions: Iterable[str]) -> frozenset[str]:
    """Return the permissions as a set; raise ``ValueError`` naming any unknown one."""
    wanted = frozenset(permissions)
    unknown = sorted(wanted - ALL_PERMISSIONS)
    if unknown:
        raise ValueError(f"unknown permission(s): {', '.join(unknown)}")
    return wanted


def permissions_for_roles(
    roles: Iterable[str], custom_roles: Mapping[str, Iterable[str]] | None = None
) -> frozenset[str]:
    """Union of the permissions of ``roles``; custom roles of the organization are looked up too.

    Unknown role names grant nothing (a deleted custom role must stop working at once).
    """
    granted: set[str] = set()
    for role in roles:
        if role in BUILTIN_ROLES:
            granted |= BUILTIN_ROLES[role]
        elif custom_roles and role in custom_roles:
            granted |= ALL_PERMISSIONS & frozenset(custom_roles[role])
    return frozenset(granted)


def module_of(permission: str) -> str:
    """The module a permission belongs to: ``hr.sensitive.read`` → ``hr``."""
    return permission.split(".", 1)[0]

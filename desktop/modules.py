"""Which modules and screens the navigation offers, by permission (no Qt here).

The permissions come from the session (the login's membership); the catalogue is
``common.permissions``. This only shapes the interface: the server decides what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.permissions import ALL_PERMISSIONS


@dataclass(frozen=True)
class PageSpec:
    key: str
    title: str
    # Further permission the page needs beyond the module's (e.g. writing); None: just reading.
    needs: str | None = None


@dataclass(frozen=True)
class ModuleSpec:
    key: str
    title: str
    # Any one of these opens the module.
    permissions: tuple[str, ...]
    pages: tuple[PageSpec, ...]


MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        "inventory",
        "Inventory & purchasing",
        ("inventory.read",),
        (
            PageSpec("products", "Products"),
            PageSpec("stock", "Stock on hand"),
            PageSpec("stock_moves", "Stock moves"),
            PageSpec("low_stock", "Low stock"),
            PageSpec("warehouses", "Warehouses"),
            PageSpec("suppliers", "Suppliers"),
            PageSpec("purchase_orders", "Purchase orders"),
        ),
    ),
    ModuleSpec("sales", "Sales & customers", ("sales.read",), (PageSpec("sales.overview", "Overview"),)),
    ModuleSpec(
        "finance", "Finance & accounting", ("finance.read",), (PageSpec("finance.overview", "Overview"),)
    ),
    ModuleSpec("hr", "HR & payroll", ("hr.read",), (PageSpec("hr.overview", "Overview"),)),
    ModuleSpec(
        "projects", "Projects & tasks", ("projects.read",), (PageSpec("projects.overview", "Overview"),)
    ),
    ModuleSpec(
        "privacy", "Privacy requests", ("privacy.manage",), (PageSpec("privacy.overview", "Overview"),)
    ),
)

assert all(p in ALL_PERMISSIONS for m in MODULES for p in m.permissions), "unknown permission in MODULES"


def visible_modules(permissions: frozenset[str]) -> list[ModuleSpec]:
    """The modules this user may open, each with the pages they may see, in menu order."""
    shown = []
    for module in MODULES:
        if not any(p in permissions for p in module.permissions):
            continue
        pages = tuple(p for p in module.pages if p.needs is None or p.needs in permissions)
        if pages:
            shown.append(ModuleSpec(module.key, module.title, module.permissions, pages))
    return shown

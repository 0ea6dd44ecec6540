"""Which modules and screens the navigation offers, by permission (no Qt here).

The modules are ``common.modules``' specs; the pages are registered by the screens themselves,
beside their code, with :func:`page`: a page names its module, its title, the permission that
opens it (the module's when none) and the command that writes it. What the navigation offers,
the main window's pages and whether a user may write on a page all derive from that: "may write"
is holding ``REGISTRY[command].permission``. A module with no screen yet shows an overview of
its records (``<key>.overview``).

The permissions come from the session (the login's membership). This only shapes the interface:
the server decides what is allowed.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from common.commands import REGISTRY
from common.modules import ModuleSpec as CommonModule
from common.modules import module as common_module
from common.modules import modules as common_modules
from common.permissions import ALL_PERMISSIONS

OVERVIEW = "overview"
SCREENS_PACKAGE = "desktop.ui"
FactoryT = TypeVar("FactoryT", bound=Callable[..., Any])


@dataclass(frozen=True)
class PageSpec:
    """A page of the navigation.

    ``opens``: the permission that shows it (``None``: any that opens its module).
    ``writes``: the command that writes on it; the page is writable for users holding that
    command's permission (``None``: a page nobody writes on).
    ``factory``: builds the page from the window's context (``None``: the module overview).
    ``position``: place among the module's pages (lowest first).
    ``lands``: how strongly users whose work is in this module land on the page when they sign
    in (0: never; see :func:`landing_page`).
    """

    key: str
    title: str
    module: str
    opens: str | None = None
    writes: str | None = None
    factory: Callable[..., Any] | None = None
    position: int = 1000
    lands: int = 0

    @property
    def write_permission(self) -> str | None:
        """The permission that writes on this page: that of the command it declares (or the one
        opening the page, when the command lets it in too: a self-service page)."""
        if self.writes is None:
            return None
        spec = REGISTRY[self.writes]
        return self.opens if self.opens in spec.alternatives else spec.permission


@dataclass(frozen=True)
class ModuleNav:
    """A module as the navigation shows it: its heading and the pages under it."""

    key: str
    title: str
    # Any one of these opens the module.
    permissions: tuple[str, ...]
    pages: tuple[PageSpec, ...]


PAGES: dict[str, PageSpec] = {}


def register_page(spec: PageSpec) -> PageSpec:
    """Add a page; its module, permission and command must exist."""
    common_module(spec.module)  # KeyError for an unknown module
    if spec.opens is not None and spec.opens not in ALL_PERMISSIONS:
        raise ValueError(f"page {spec.key!r}: unknown permission {spec.opens!r}")
    if spec.writes is not None and spec.writes not in REGISTRY:
        raise ValueError(f"page {spec.key!r}: unknown command {spec.writes!r}")
    known = PAGES.get(spec.key)
    if known is not None and known.factory is not spec.factory:
        raise ValueError(f"page {spec.key!r} is registered twice")
    PAGES[spec.key] = spec
    return spec


def page(
    module: str,
    key: str,
    title: str,
    *,
    opens: str | None = None,
    writes: str | None = None,
    position: int = 1000,
    lands: int = 0,
) -> Callable[[FactoryT], FactoryT]:
    """Register the decorated screen (a class taking the page's context) as a page."""

    def register(factory: FactoryT) -> FactoryT:
        register_page(PageSpec(key, title, module, opens, writes, factory, position, lands))
        return factory

    return register


def load_screens(package: str = SCREENS_PACKAGE) -> None:
    """Import every screen module of ``package`` so that their pages are registered."""
    found = importlib.import_module(package)
    for info in pkgutil.iter_modules(found.__path__):
        importlib.import_module(f"{package}.{info.name}")


def _pages_of(spec: CommonModule) -> tuple[PageSpec, ...]:
    pages = sorted((p for p in PAGES.values() if p.module == spec.key), key=lambda p: (p.position, p.key))
    if pages:
        return tuple(pages)
    return (PageSpec(f"{spec.key}.{OVERVIEW}", "Overview", spec.key),)


def navigation_modules() -> list[ModuleNav]:
    """Every module the desktop shows, with all its pages, in menu order."""
    return [
        ModuleNav(spec.key, spec.title, spec.open_permissions, _pages_of(spec))
        for spec in common_modules()
        if spec.navigation
    ]


def visible_modules(permissions: frozenset[str]) -> list[ModuleNav]:
    """The modules this user may open, each with the pages they may see, in menu order.

    A page naming the permission that opens it shows to its holders even when they cannot
    open the rest of its module (an employee's own page in HR)."""
    shown = []
    for module in navigation_modules():
        opens_module = any(p in permissions for p in module.permissions)
        pages = tuple(p for p in module.pages if (p.opens in permissions if p.opens else opens_module))
        if pages:
            shown.append(ModuleNav(module.key, module.title, module.permissions, pages))
    return shown


def landing_page(permissions: frozenset[str]) -> str | None:
    """The page this user lands on, from the pages they may write on (where their work is): one
    who writes in a single module lands on its page with the highest ``lands`` (the first in menu
    order on a tie); ``None`` — the dashboard, which sums everything up — for one who writes in
    several (an administrator), only reads, or whose module has no such page."""
    writable = [
        spec
        for module in visible_modules(permissions)
        for spec in module.pages
        if spec.write_permission is not None and spec.write_permission in permissions
    ]
    if len({spec.module for spec in writable}) != 1:
        return None
    best: PageSpec | None = None
    for spec in writable:
        if spec.lands > 0 and (best is None or spec.lands > best.lands):
            best = spec
    return best.key if best is not None else None


def page_spec(key: str) -> PageSpec:
    """The registered page ``key``, or the overview of the module ``<module>.overview`` names."""
    if key in PAGES:
        return PAGES[key]
    module, _, rest = key.partition(".")
    if rest == OVERVIEW:
        return PageSpec(key, "Overview", common_module(module).key)
    raise KeyError(key)

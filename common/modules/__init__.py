"""The modules of the ERP, each declared once by a :class:`ModuleSpec`.

A module's spec says everything the core needs to know about it: its key and title, its
permissions (with what each allows), the Python modules that declare its entities and register
its commands, its reports and its demo-data builders. The core reads the specs and nothing else:

- the permission catalogue (``common.permissions.PERMISSIONS``) is every spec's permissions, in
  module order; the server's ``GET /api/v1/permissions`` and so the console's role editor show it;
- the schema registry (``common.schema.ENTITIES``) imports every spec's ``schema`` modules;
- the command registry (``common.commands.REGISTRY``) imports every spec's ``commands`` modules;
- the report registry (``common.reports.REPORTS``) is every spec's ``reports``;
- ``ops-server demo`` runs every spec's ``demo`` builders;
- the desktop's navigation shows every module with ``navigation`` set, with the pages its screens
  register (``desktop.modules.page``), or an overview of its records when it has none yet.

The built-in modules are the packages of this one (``common/modules/<key>/__init__.py`` holds the
spec as ``SPEC``, ``demo.py`` beside it the demo data), found by :func:`discover`. A module from
elsewhere calls :func:`register` before anything reads the registries (before importing
``common.permissions``, ``common.schema`` or ``common.commands``).

References to code are ``"package.module"`` or ``"package.module:attribute"`` strings, imported
when a registry is built: a spec is plain data, so reading one imports nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from common.modules.demo import DemoBuilder


@dataclass(frozen=True)
class Report:
    """A report of a module: the permission that reads it and the function that makes it.

    ``maker`` is ``"package.module:function"``; the function takes ``(session, org_id, params)``,
    and also the caller's permissions when ``takes_permissions`` (reports that mask rows).
    """

    permission: str
    maker: str
    takes_permissions: bool = False


@dataclass(frozen=True)
class DemoData:
    """A demo-data builder (``"package.module:function"``) and where it runs among all modules'.

    The builders of all modules share one random stream per organization, so their order is part
    of the demo data: ``order`` keeps it stable when modules are added.
    """

    order: int
    builder: str


@dataclass(frozen=True)
class ModuleSpec:
    """One module of the ERP, declared once.

    ``permissions``: every permission of the module, name → what it allows (names start with
    the key, or another prefix of the module's, e.g. ``payroll.run`` in ``hr``).
    ``opens``: any one of these shows the module in the desktop's navigation (default: the
    first permission). ``navigation``: whether the desktop shows the module at all (``admin``
    lives in the console).
    ``schema`` / ``commands``: the Python modules declaring the module's entities (their
    ``EntityInfo.module`` is this key) and registering its commands.
    """

    key: str
    title: str
    permissions: Mapping[str, str]
    opens: tuple[str, ...] = ()
    navigation: bool = True
    schema: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    reports: Mapping[str, Report] = field(default_factory=dict)
    demo: tuple[DemoData, ...] = ()
    # Place in the menu and in the permission catalogue (lowest first; ties by key).
    position: int = 1000

    @property
    def open_permissions(self) -> tuple[str, ...]:
        return self.opens or tuple(self.permissions)[:1]


_SPECS: dict[str, ModuleSpec] = {}
_frozen = False


def register(spec: ModuleSpec) -> ModuleSpec:
    """Add a module. Only before the registries are built (see the module's docstring)."""
    if _frozen:
        raise RuntimeError(
            f"module {spec.key!r} registered too late: register modules before importing "
            "common.permissions, common.schema or common.commands"
        )
    if spec.key in _SPECS and _SPECS[spec.key] is not spec:
        raise ValueError(f"module {spec.key!r} is declared twice")
    _SPECS[spec.key] = spec
    return spec


def discover() -> None:
    """Register the built-in modules: every package of ``common.modules`` with a ``SPEC``."""
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg:
            found = importlib.import_module(f"{__name__}.{info.name}")
            spec = getattr(found, "SPEC", None)
            if isinstance(spec, ModuleSpec) and spec.key not in _SPECS:
                register(spec)


def modules() -> tuple[ModuleSpec, ...]:
    """Every module in ``position`` order; the first call freezes the set."""
    global _frozen
    if not _frozen:
        discover()
        _frozen = True
    return tuple(sorted(_SPECS.values(), key=lambda spec: (spec.position, spec.key)))


def module(key: str) -> ModuleSpec:
    """The module called ``key``; ``KeyError`` when there is none."""
    for spec in modules():
        if spec.key == key:
            return spec
    raise KeyError(key)


def resolve(reference: str) -> Any:
    """The object a ``"package.module:attribute"`` reference names (the module for no ``:``)."""
    name, _, attribute = reference.partition(":")
    found = importlib.import_module(name)
    return getattr(found, attribute) if attribute else found


def import_all(kind: str) -> Iterator[str]:
    """Import every module's ``schema`` or ``commands`` Python modules; yields their names."""
    for spec in modules():
        for name in getattr(spec, kind):
            importlib.import_module(name)
            yield name


def permission_catalogue() -> Mapping[str, str]:
    """Every permission of every module, name → what it allows, in module order."""
    catalogue: dict[str, str] = {}
    for spec in modules():
        for name, description in spec.permissions.items():
            if name in catalogue:
                raise ValueError(f"permission {name!r} is declared by two modules")
            catalogue[name] = description
    return MappingProxyType(catalogue)


def reports() -> Mapping[str, tuple[str, Report]]:
    """Every report, name → (module key, its declaration)."""
    found: dict[str, tuple[str, Report]] = {}
    for spec in modules():
        for name, report in spec.reports.items():
            found[name] = (spec.key, report)
    return found


def demo_builders() -> list[DemoBuilder]:
    """Every module's demo-data builders, in their declared order."""
    declared = sorted((d.order, d.builder) for spec in modules() for d in spec.demo)
    built: list[Callable[..., Any]] = [resolve(builder) for _order, builder in declared]
    return built

"""Every command of the product, registered on import. ``REGISTRY`` maps name → spec.

The commands are those of every module's ``commands`` modules (:mod:`common.modules`); the
built-in ones are also imported by name below, for convenience and type checkers.
"""

from common.commands import (
    bills,
    books,
    credit_notes,
    finance,
    hr,
    inventory,
    invoicing,
    leave,
    notifications,
    pay_components,
    payroll,
    privacy,
    project_time,
    projects,
    sales,
    year_end,
)
from common.commands.framework import (
    REGISTRY,
    ChangeRecorder,
    CommandContext,
    CommandError,
    CommandOutcome,
    CommandSpec,
    DocumentNumbering,
    MemberDirectory,
    execute,
)
from common.ids import DERIVED_ID_SCHEMES, DERIVED_IDS, LEGACY_DERIVED_IDS
from common.modules import import_all

COMMAND_MODULES = tuple(import_all("commands"))

__all__ = [
    "COMMAND_MODULES",
    "DERIVED_IDS",
    "DERIVED_ID_SCHEMES",
    "LEGACY_DERIVED_IDS",
    "REGISTRY",
    "ChangeRecorder",
    "CommandContext",
    "CommandError",
    "CommandOutcome",
    "CommandSpec",
    "DocumentNumbering",
    "MemberDirectory",
    "bills",
    "books",
    "credit_notes",
    "execute",
    "finance",
    "hr",
    "inventory",
    "invoicing",
    "leave",
    "notifications",
    "pay_components",
    "payroll",
    "privacy",
    "project_time",
    "projects",
    "sales",
    "year_end",
]

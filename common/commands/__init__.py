"""Every command of the product, registered on import. ``REGISTRY`` maps name → spec."""

from common.commands import finance, hr, inventory, invoicing, payroll, privacy, projects, sales
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

__all__ = [
    "REGISTRY",
    "ChangeRecorder",
    "CommandContext",
    "CommandError",
    "CommandOutcome",
    "CommandSpec",
    "DocumentNumbering",
    "MemberDirectory",
    "execute",
    "finance",
    "hr",
    "inventory",
    "invoicing",
    "payroll",
    "privacy",
    "projects",
    "sales",
]

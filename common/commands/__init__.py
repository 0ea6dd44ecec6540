"""Every command of the product, registered on import. ``REGISTRY`` maps name → spec."""

from common.commands import hr, inventory, sales
from common.commands.framework import (
    REGISTRY,
    ChangeRecorder,
    CommandContext,
    CommandError,
    CommandOutcome,
    CommandSpec,
    DocumentNumbering,
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
    "execute",
    "hr",
    "inventory",
    "sales",
]

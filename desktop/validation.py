"""Form validation with the commands' own args models: one source of truth (no Qt here).

A form builds the args it would send and asks :func:`problems` what is wrong with them, field by
field, in words a user understands. The same models refuse the command when it is applied, and
the server refuses it again: the form only says it sooner.
"""

from __future__ import annotations

from common.commands import CommandError
from common.validation import friendly, problems

__all__ = ["friendly", "problems", "refusal_field"]


def refusal_field(error: CommandError) -> tuple[str, str]:
    """Which field a refused command is about and the phrase to show there.

    ``invalid`` errors start their message with the field (``sku: 'A-1' is already used …``).
    """
    field = error.field or ""
    message = error.message
    for candidate in (field, field.removeprefix("changes."), field.removeprefix("base.")):
        if candidate and message.startswith(f"{candidate}:"):
            message = message[len(candidate) + 1 :].strip()
            break
    if error.code == "conflict":
        return "", f"Someone changed this on the server meanwhile: {message}"
    for prefix in ("changes.", "base."):
        field = field.removeprefix(prefix)
    return field, message

"""Saving an edited draft document (a quotation, a purchase order, an invoice): the header's
changed fields by per-field compare-and-set, then its lines when they changed, in one local
transaction off the UI thread. The dialogs differ only in the command names and header keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from common.commands import CommandError
from desktop.ui.context import UiContext
from desktop.ui.forms import FormDialog


def header_changes(
    args: dict[str, Any], original: dict[str, Any], header_keys: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(changes, base)`` of an update command: the header fields that differ from ``original``."""
    changes = {k: args.get(k) for k in header_keys if args.get(k) != original.get(k)}
    return changes, {k: original.get(k) for k in changes}


def save_draft(
    dialog: FormDialog,
    ctx: UiContext,
    draft_id: str,
    args: dict[str, Any],
    original: dict[str, Any],
    *,
    update: str,
    set_lines: str,
    header_keys: Sequence[str],
) -> None:
    """Apply ``update`` (``{id, changes, base}``) for the changed header fields and ``set_lines``
    (``{id, lines}``) when the lines changed; a refusal is shown by the dialog, naming the field."""
    session = ctx.session
    changes, base = header_changes(args, original, header_keys)
    lines_changed = args["lines"] != original["lines"]

    def work() -> None:
        with session.store.write_session() as db:
            if changes:
                session.apply(update, {"id": draft_id, "changes": changes, "base": base}, session=db)
            if lines_changed:
                session.apply(set_lines, {"id": draft_id, "lines": args["lines"]}, session=db)

    def failed(exc: BaseException) -> None:
        if isinstance(exc, CommandError):
            dialog.refused(exc)
        else:
            dialog.failed(exc)

    def done(_result: Any) -> None:
        ctx.data_changed.emit()
        dialog.saved()

    ctx.run(dialog, work, on_success=done, on_failure=failed, busy_text="Saving…")

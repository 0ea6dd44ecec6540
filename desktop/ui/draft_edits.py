"""Saving a document dialog: a new document by its create command, an edited draft (a
quotation, a purchase order, an invoice) by its header's changed fields (per-field
compare-and-set) and then its lines when they changed — several commands applied in one local
transaction off the UI thread (all or none), a refusal shown by the dialog naming the field."""

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


def apply_together(
    dialog: FormDialog, ctx: UiContext, commands: Sequence[tuple[str, dict[str, Any]]], busy_text: str
) -> None:
    """Apply ``commands`` (name, args) in one local transaction, then close ``dialog``."""
    session = ctx.session

    def work() -> None:
        with session.store.write_session() as db:
            for name, args in commands:
                session.apply(name, args, session=db)

    def failed(exc: BaseException) -> None:
        if isinstance(exc, CommandError):
            dialog.refused(exc)
        else:
            dialog.failed(exc)

    def done(_result: Any) -> None:
        ctx.data_changed.emit()
        dialog.saved()

    ctx.run(dialog, work, on_success=done, on_failure=failed, busy_text=busy_text)


def save_draft(
    dialog: FormDialog,
    ctx: UiContext,
    draft_id: str,
    args: dict[str, Any],
    original: dict[str, Any] | None,
    *,
    create: str,
    update: str,
    set_lines: str,
    header_keys: Sequence[str],
) -> None:
    """A new document (``original`` None) by ``create``; an edited draft by ``update``
    (``{id, changes, base}``) for the changed header fields and ``set_lines`` (``{id, lines}``)
    when the lines changed."""
    if original is None:
        ctx.apply(
            dialog, create, args, on_done=dialog.saved, on_refused=dialog.refused, on_error=dialog.failed
        )
        return
    changes, base = header_changes(args, original, header_keys)
    commands: list[tuple[str, dict[str, Any]]] = []
    if changes:
        commands.append((update, {"id": draft_id, "changes": changes, "base": base}))
    if args["lines"] != original["lines"]:
        commands.append((set_lines, {"id": draft_id, "lines": args["lines"]}))
    apply_together(dialog, ctx, commands, "Saving…")

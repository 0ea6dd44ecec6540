"""A command applied on a client's copy of the data: the client's side of the command layer.

The desktop applies a command optimistically and queues it for the server in one transaction:
:func:`apply_and_queue` runs it with an :class:`UndoRecorder` (the before-image of each row it
touches, kept in the outbox entry, so a command the server refuses can be undone exactly) and
:class:`DraftNumbering` (``DRAFT-<device>-<n>``; the server gives the legal number), then writes
the outbox entry. The server's side is ``sync_server.writes`` (versions, change log, audit).

No files, keys or Qt here: the desktop's ``LocalStore`` opens the encrypted database and calls
this, and the domain tests (``tests/common``) call it on a store of their own, so every command
is tried through both sides without the desktop.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from common.commands import DERIVED_IDS, CommandContext, CommandOutcome, execute
from common.commands.rowaccess import plain_insert, session_connection
from common.ids import new_id
from common.numbering import provisional_number
from common.schema import OutboxEntry, SyncState
from common.schema.base import table_of
from common.schema.types import utcnow
from common.wire import row_to_wire

# Every outbox entry is inserted through one statement compiled once (``plain_insert``).
_OUTBOX = table_of(OutboxEntry)
_OUTBOX_COLUMNS = (
    "id",
    "name",
    "args",
    "created_at",
    "status",
    "undo",
    "attempts",
    "acknowledged",
    "derived_ids",
)
DRAFT_COUNTER = "draft_counter"


class UndoRecorder:
    """Client side of :class:`common.commands.ChangeRecorder`: remember before-images."""

    def __init__(self) -> None:
        self.undo: list[dict[str, Any]] = []
        self._seen: set[tuple[str, str]] = set()

    def version_for_write(self, entity: str, entity_id: str, current: int | None) -> int:
        # Local writes keep the server version they were based on; the server stamps a new one.
        return current or 0

    def record_write(
        self, entity: str, entity_id: str, before: dict[str, Any] | None, after: dict[str, Any]
    ) -> None:
        if (entity, entity_id) in self._seen:
            return  # the first before-image is the one to restore
        self._seen.add((entity, entity_id))
        self.undo.append(
            {"entity": entity, "id": entity_id, "before": row_to_wire(before) if before else None}
        )


def device_tag(device_id: str) -> str:
    """The short device tag of provisional document numbers."""
    return device_id.replace("-", "")[-6:].upper()


class DraftNumbering:
    """Client numbering: ``DRAFT-<device>-<n>``, counted in ``sync_state`` in the caller's
    transaction; the server gives the final number."""

    def __init__(self, session: Session, device_id: str) -> None:
        self.session = session
        self.tag = device_tag(device_id)

    def next_number(self, kind: str) -> str:
        found = self.session.execute(select(SyncState.value).where(SyncState.key == DRAFT_COUNTER)).scalar()
        value = int(found or 0) + 1
        self.session.execute(delete(SyncState).where(SyncState.key == DRAFT_COUNTER))
        self.session.execute(insert(SyncState).values(key=DRAFT_COUNTER, value=str(value)))
        return provisional_number(self.tag, value)


def client_context(
    session: Session,
    *,
    org_id: str,
    device_id: str,
    actor_id: str,
    permissions: frozenset[str],
    command_id: str | None = None,
    derived_ids: int = DERIVED_IDS,
) -> tuple[CommandContext, UndoRecorder]:
    """The context a command runs in on a client, and the recorder of its before-images.
    ``derived_ids``: the scheme of the ids the command derives (the server must be told it)."""
    recorder = UndoRecorder()
    ctx = CommandContext(
        session=session,
        org_id=org_id,
        actor_id=actor_id,
        permissions=permissions,
        command_id=command_id or new_id(),
        recorder=recorder,
        numbering=DraftNumbering(session, device_id),
        device_id=device_id,
        derived_ids=derived_ids,
    )
    return ctx, recorder


def apply_and_queue(
    session: Session,
    name: str,
    args: dict[str, Any],
    *,
    org_id: str,
    device_id: str,
    actor_id: str,
    permissions: frozenset[str],
    command_id: str | None = None,
    now: datetime | None = None,
    derived_ids: int = DERIVED_IDS,
) -> tuple[str, CommandOutcome]:
    """Apply ``name`` in the caller's write transaction and queue it for the server.

    Raises :class:`common.commands.CommandError` when it is refused; the caller's transaction
    must then roll back (nothing of the command is kept, no outbox entry is written). The entry
    records ``derived_ids``, the scheme of the ids the command derived, so that the push tells
    the server to derive the same (an entry queued by older code has none: scheme 1).
    """
    ctx, recorder = client_context(
        session,
        org_id=org_id,
        device_id=device_id,
        actor_id=actor_id,
        permissions=permissions,
        command_id=command_id,
        derived_ids=derived_ids,
    )
    if now is not None:
        ctx.now = now
    outcome = execute(ctx, name, args)
    # On the DB-API cursor: through the ORM this insert cost as much as the command.
    connection, dbapi = session_connection(session)
    plain_insert(_OUTBOX, _OUTBOX_COLUMNS, connection.dialect).run(
        dbapi,
        {
            "id": ctx.command_id,
            "name": name,
            "args": args,
            "created_at": utcnow(),
            "status": "pending",
            "undo": recorder.undo,
            "attempts": 0,
            "acknowledged": False,
            "derived_ids": derived_ids,
        },
    )
    return ctx.command_id, outcome

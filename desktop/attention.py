"""Commands the server rejected or found in conflict, and the two ways to resolve them.

Nothing is silently discarded (DESIGN §10): a rejected or conflicting outbox entry stays listed
until the user decides.

* **Keep the server's**: undo the command's local effect and drop the entry. A row is put back
  only while it still holds this computer's unconfirmed state; a row the server has sent since
  (its version moved on, or a created row the server now has) already shows the server's values
  and is left alone, so undoing never overwrites newer server data with an older image. For a
  conflict, the server's current values of the conflicting fields are shown at once.
* **Re-apply mine on the server's values** (conflicts of ``update_*`` commands): one transaction
  sets the conflicting fields to the server's values, applies a new update whose ``base`` is those
  values and whose ``changes`` are the user's, and drops the old entry.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from common.commands import CommandError
from common.commands.framework import REGISTRY
from common.schema import ENTITIES, OutboxEntry
from common.schema.base import table_of
from common.wire import row_to_wire
from desktop.rows import WRITERS
from desktop.session import UserSession, clear_unsynced_if_empty

ATTENTION_STATUSES = ("rejected", "conflict")


@dataclass(frozen=True)
class AttentionItem:
    """One outbox entry waiting for the user, with what is needed to show and resolve it."""

    id: str
    name: str
    summary: str
    status: str
    code: str | None
    message: str
    args: dict[str, Any]
    server_values: dict[str, Any] | None
    created_at: Any

    @property
    def can_reapply(self) -> bool:
        """Re-applying needs an update with field changes and the server's current values."""
        return (
            self.status == "conflict"
            and self.server_values is not None
            and isinstance(self.args.get("changes"), dict)
            and bool(self.args.get("changes"))
            and ".update_" in self.name
        )

    def changed_fields(self) -> list[dict[str, Any]]:
        """Per changed field: mine, the value I started from, and the server's now."""
        changes = self.args.get("changes") or {}
        base = self.args.get("base") or {}
        server = self.server_values or {}
        return [
            {"field": key, "mine": value, "base": base.get(key), "server": server.get(key)}
            for key, value in changes.items()
        ]


def describe(name: str) -> str:
    spec = REGISTRY.get(name)
    return spec.summary.rstrip(".") if spec is not None else name


def attention_items(session: UserSession) -> list[AttentionItem]:
    """Rejected and conflicting entries, oldest first."""
    return [
        AttentionItem(
            id=row["id"],
            name=row["name"],
            summary=describe(row["name"]),
            status=row["status"],
            code=row["code"],
            message=row["message"] or row["code"] or "refused by the server",
            args=dict(row["args"] or {}),
            server_values=row["server_values"],
            created_at=row["created_at"],
        )
        for row in session.store.outbox(*ATTENTION_STATUSES)
    ]


def attention_count(session: UserSession) -> int:
    return len(session.store.outbox(*ATTENTION_STATUSES))


class ResolutionError(Exception):
    """The entry cannot be resolved that way; the message says why."""


def _load_entry(db: Session, entry_id: str) -> dict[str, Any]:
    row = (
        db.execute(select(*OutboxEntry.__table__.columns).where(OutboxEntry.id == entry_id))
        .mappings()
        .first()
    )
    if row is None:
        raise ResolutionError("that entry is no longer waiting (it was resolved already)")
    if row["status"] not in ATTENTION_STATUSES:
        raise ResolutionError("that entry is still waiting to be sent; only rejected ones can be resolved")
    return dict(row)


def _current_version(db: Session, org_id: str, entity: str, entity_id: str) -> int | None:
    model = ENTITIES[entity]
    return db.execute(select(model.version).where(model.org_id == org_id, model.id == entity_id)).scalar()


def keep_server(session: UserSession, entry_id: str) -> None:
    """Undo the entry's local effect where the server has not replaced it, and drop the entry."""
    store = session.store
    with store.write_session() as db:
        entry = _load_entry(db, entry_id)
        still_local = []
        for image in entry.get("undo") or []:
            current = _current_version(db, store.profile.org_id, image["entity"], image["id"])
            if current is None:
                continue  # already gone
            before = image["before"]
            unconfirmed = current == 0 if before is None else current == int(before.get("version") or 0)
            if unconfirmed:
                still_local.append(image)
        store.undo_entry(db, {**entry, "undo": still_local})
        changes = (entry.get("args") or {}).get("changes")
        target = (entry.get("args") or {}).get("id")
        restored = any(image["id"] == target for image in still_local)
        if (
            restored
            and entry["status"] == "conflict"
            and entry.get("server_values")
            and isinstance(changes, dict)
        ):
            # Show the server's values at once rather than the older ones the undo put back
            # (only on a row the server has not sent since: a pulled row is newer still).
            with contextlib.suppress(ResolutionError):
                values = {k: v for k, v in entry["server_values"].items() if k in changes}
                _show_server_values(db, store.profile.org_id, entry, values)
        db.execute(delete(OutboxEntry).where(OutboxEntry.id == entry_id))
    clear_unsynced_if_empty(store)


def reapply_mine(session: UserSession, entry_id: str) -> str:
    """Apply the entry's changes again on top of the server's values; returns the new entry id.

    Raises :class:`common.commands.CommandError` when the change no longer validates (the old
    entry then stays listed), :class:`ResolutionError` when the entry is not such a conflict.
    """
    store = session.store
    with store.write_session() as db:
        entry = _load_entry(db, entry_id)
        item = AttentionItem(
            id=entry["id"],
            name=entry["name"],
            summary=describe(entry["name"]),
            status=entry["status"],
            code=entry["code"],
            message=entry["message"] or "",
            args=dict(entry["args"] or {}),
            server_values=entry["server_values"],
            created_at=entry["created_at"],
        )
        if not item.can_reapply:
            raise ResolutionError("only a conflicting change of fields can be re-applied")
        changes = dict(item.args["changes"])
        server_values = item.server_values or {}
        missing = sorted(set(changes) - set(server_values))
        if missing:
            raise ResolutionError(f"the server did not send its value of {', '.join(missing)}")
        base = {key: server_values[key] for key in changes}
        _show_server_values(db, store.profile.org_id, entry, base)
        new_id, _ = session.apply(
            entry["name"], {"id": item.args["id"], "changes": changes, "base": base}, session=db
        )
        db.execute(delete(OutboxEntry).where(OutboxEntry.id == entry_id))
    return new_id


def _target_entity(entry: dict[str, Any]) -> str:
    """``inventory.update_product`` → ``product`` (the naming pattern of DESIGN §4)."""
    entity = entry["name"].partition(".update_")[2]
    if entity in ENTITIES:
        return entity
    target_id = entry["args"]["id"]
    for image in entry.get("undo") or []:
        if image["id"] == target_id:
            return str(image["entity"])
    raise ResolutionError("the entry does not say which record it changed")


def _show_server_values(db: Session, org_id: str, entry: dict[str, Any], values: dict[str, Any]) -> None:
    """Put the server's values of the conflicting fields into the local row (as a pull would),
    so the new command's compare-and-set starts from them."""
    entity = _target_entity(entry)
    model = ENTITIES[entity]
    target_id = entry["args"]["id"]
    row = (
        db.execute(select(*table_of(model).columns).where(model.org_id == org_id, model.id == target_id))
        .mappings()
        .first()
    )
    if row is None:
        raise ResolutionError("the record is no longer on this computer")
    WRITERS[entity].upsert(db.connection(), [{**row_to_wire(dict(row)), **values}])


__all__ = [
    "ATTENTION_STATUSES",
    "AttentionItem",
    "CommandError",
    "ResolutionError",
    "attention_count",
    "attention_items",
    "keep_server",
    "reapply_mine",
]

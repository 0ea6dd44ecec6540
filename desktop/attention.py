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
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from common.commands import CommandError
from common.commands.framework import REGISTRY
from common.schema import ENTITIES, OutboxEntry
from common.schema.base import table_of
from common.wire import row_to_wire
from desktop.formatting import timestamp
from desktop.local_store import undo_images
from desktop.rows import WRITERS
from desktop.session import UserSession, clear_unsynced_if_empty
from desktop.words import (
    command_entity,
    command_title,
    entity_title,
    field_kind,
    field_label,
    load_row,
    record_title,
    value_text,
)

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
    """The command in a clerk's words (``Change product``), never its technical summary."""
    return command_title(name) if name in REGISTRY else name


@dataclass(frozen=True)
class FieldView:
    """One changed field as shown: its label and formatted values."""

    key: str
    label: str
    mine: str
    base: str
    theirs: str
    conflicting: bool


@dataclass(frozen=True)
class ItemView:
    """What the panel says about one entry, in the user's words."""

    title: str  # "Change product: Hard hat — AC-0010"
    reason: str  # "Conflict: Sale price was changed on the server after you read it."
    changed_by: str  # "Changed on the server by Maria Rossi, 03/12/2026 14:02", or ""
    fields: tuple[FieldView, ...]
    per_field: bool  # the fields can be chosen one by one (keep theirs / use mine)
    # Who made the server's change (a user id), when their name is not known yet.
    unnamed_user: str | None = None


def view_of(session: UserSession, item: AttentionItem, members: Mapping[str, str] | None = None) -> ItemView:
    """Name the record, label the fields, format the values (money in its currency, not cents).

    ``members``: user id → name of members, as the server told them (who made the clashing change);
    without the name the panel says "another user" and ``unnamed_user`` holds the id to ask for.
    """
    entity = command_entity(item.name)
    target = item.args.get("id")
    row = None
    if entity is not None and isinstance(target, str):
        with session.store.read_session() as db:
            row = load_row(db, session.org_id, entity, target)
    record = record_title(row) or record_title(item.args)
    title = f"{describe(item.name)}: {record}" if record else describe(item.name)
    currency = (row or {}).get("currency") or item.args.get("currency")
    base_values = item.args.get("base") or {}
    server = item.server_values or {}

    def shown(key: str, value: Any) -> str:
        return value_text(field_kind(entity, key), value, currency)

    fields: list[FieldView] = []
    if item.changed_fields():
        for change in item.changed_fields():
            key = change["field"]
            conflicting = (
                item.status == "conflict" and key in server and server.get(key) != base_values.get(key)
            )
            fields.append(
                FieldView(
                    key,
                    field_label(key),
                    shown(key, change["mine"]),
                    shown(key, change["base"]),
                    shown(key, server.get(key)) if key in server else "",
                    conflicting,
                )
            )
    else:
        for key, value in item.args.items():
            if key in ("id", "changes", "base") or isinstance(value, dict | list):
                continue
            fields.append(FieldView(key, field_label(key), shown(key, value), "", "", False))
    if item.status == "conflict":
        clashing = [f.label for f in fields if f.conflicting] or [f.label for f in fields]
        names = (
            ", ".join(clashing[:-1]) + (" and " if len(clashing) > 1 else "") + clashing[-1]
            if clashing
            else ""
        )
        verb = "were" if len(clashing) > 1 else "was"
        what = entity_title(entity) if entity else "record"
        reason = (
            f"Conflict: {names} {verb} changed on the server after you read this {what}. "
            "Choose per field which value to keep."
        )
    else:
        reason = f"Refused by the server: {item.message}"
    changed_by = ""
    unnamed: str | None = None
    if item.status == "conflict" and row is not None and row.get("version"):
        who = row.get("updated_by")
        known = (members or {}).get(who) if isinstance(who, str) else None
        if who == session.user.id:
            person = "you, on another computer"
        elif known:
            person = known
        else:
            person = "another user"
            unnamed = who if isinstance(who, str) else None
        changed_by = f"Changed on the server by {person}, {timestamp(row.get('updated_at'))}"
    return ItemView(title, reason, changed_by, tuple(fields), item.can_reapply, unnamed)


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
        for image in undo_images(entry):
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


def resolve_fields(session: UserSession, entry_id: str, use_mine: Collection[str]) -> str | None:
    """Per field: the fields in ``use_mine`` get the user's value, every other one keeps the
    server's ("Keep theirs"). Returns the new entry's id, None when every field kept theirs."""
    if not use_mine:
        keep_server(session, entry_id)
        return None
    return reapply_mine(session, entry_id, fields=use_mine)


def reapply_mine(session: UserSession, entry_id: str, *, fields: Collection[str] | None = None) -> str:
    """Apply the entry's changes again on top of the server's values; returns the new entry id.

    ``fields``: only these of the changes (the others keep the server's value); default all.

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
        if fields is not None:
            unknown = sorted(set(fields) - set(changes))
            if unknown:
                raise ResolutionError(f"the change does not touch {', '.join(unknown)}")
            changes = {key: value for key, value in changes.items() if key in fields}
            base = {key: base[key] for key in changes}
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

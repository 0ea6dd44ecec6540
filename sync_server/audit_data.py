"""``ops-server audit verify --data``: does the store still hold what the audit chain says?

The chain is replayed into one image per row: every applied command's audit event holds, for each
row it wrote, the new values of the fields it changed (``after``; all of them when it created the
row, tombstone flag included), so the last image of a row is what the row must hold now. The
images are compared with the current rows of every audited table:

- every synced entity table (``common.schema.ENTITIES``): each field the chain recorded, and the
  row's ``updated_at``/``updated_by`` against the time and actor of its last event;
- ``membership`` (user and roles) and ``role`` (name, description, permissions), from the
  administrative events.

Reported, by entity, id and field: a field whose stored value differs from its image (a salary
multiplied by ten in the table), a row with no audit history (inserted behind the server), a row
the chain says exists but the store lacks (deleted behind the server; tombstones dropped by
``ops-server prune`` are expected to be gone), a membership or role present though the chain
removed it.

Not detected: fields no event ever recorded (``version``; columns added by a later migration and
filled by it, such as ``journal_line.entry_date``, on rows written before it); tables no command
writes (devices, refresh tokens, invitations, processed mutations, counters); a change made
together with a matching forged event — that is what the chain check (run first) is for;
values sealed under an erased subject's key (they read ``[erased]``); rows
written by migrations (revision 0006 filled ``employee_directory`` without events: a store
upgraded across it reports those rows as having no history).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from common.schema import ENTITIES, AuditEvent, Membership, Role
from common.schema.base import table_of
from common.wire import to_wire
from sync_server.audit import audit_key, held_rows, holders_of, nested_images
from sync_server.subject_keys import ERASED, SubjectKeys

_ADMIN_FIELDS: dict[str, tuple[str, ...]] = {
    "membership": ("user_id", "roles"),
    "role": ("name", "description", "permissions"),
}
_GONE = None  # the image of a row the chain removed (membership, role)
_BATCH = 5000


@dataclass(frozen=True)
class DataProblem:
    entity: str
    entity_id: str
    field: str | None  # None: the row as a whole
    problem: str

    def __str__(self) -> str:
        where = f"{self.entity} {self.entity_id}" + (f" {self.field}" if self.field else "")
        return f"{where}: {self.problem}"


@dataclass
class _Image:
    values: dict[str, Any] | None  # None: removed by the chain
    at: Any = None
    actor: str | None = None


def audited_tables() -> dict[str, Table]:
    tables = {name: table_of(model) for name, model in ENTITIES.items()}
    tables["membership"] = table_of(Membership)
    tables["role"] = table_of(Role)
    return tables


def _replay(session: Session, org_id: str, entity: str, keys: SubjectKeys) -> dict[str, _Image]:
    images: dict[str, _Image] = {}
    after_seq = 0
    # A row audited inside other rows' events (journal lines in their entry's, a document's
    # journal entry and its lines in the document's) is replayed from those too: they created
    # it, events of its own (older ones) too.
    entities = (entity, *sorted(holders_of(entity)))
    held = list(held_rows(entity))
    while True:
        rows = session.execute(
            select(
                AuditEvent.seq,
                AuditEvent.entity,
                AuditEvent.entity_id,
                AuditEvent.at,
                AuditEvent.actor,
                AuditEvent.after,
            )
            .where(AuditEvent.org_id == org_id, AuditEvent.entity.in_(entities), AuditEvent.seq > after_seq)
            .order_by(AuditEvent.seq)
            .limit(_BATCH)
        ).all()
        if not rows:
            return images
        for seq, event_entity, event_entity_id, at, actor, sealed in rows:
            after_seq = seq
            after = None if sealed is None else {k: keys.open(v) for k, v in sealed.items()}
            if event_entity != entity:  # a holder's event: the rows it created (full images)
                for child_entity, child_id, child in nested_images(event_entity, event_entity_id, after):
                    if child_entity == entity:
                        images[child_id] = _Image(child, at, actor)
                continue
            if after is not None:
                for key in held:  # its children's images are not fields of the row
                    after.pop(key, None)
            entity_id = event_entity_id
            if entity_id is None:
                continue
            image = images.get(entity_id)
            if after is None:
                images[entity_id] = _Image(_GONE, at, actor)
            elif image is None or image.values is None:
                images[entity_id] = _Image(dict(after), at, actor)
            else:
                image.values.update(after)
                image.at, image.actor = at, actor


def _rows(session: Session, table: Table, org_id: str) -> Iterator[dict[str, Any]]:
    after = ""
    while True:
        batch = (
            session.execute(
                select(table)
                .where(table.c.org_id == org_id, table.c.id > after)
                .order_by(table.c.id)
                .limit(_BATCH)
            )
            .mappings()
            .all()
        )
        if not batch:
            return
        yield from (dict(row) for row in batch)
        after = batch[-1]["id"]


def _same(stored: Any, recorded: Any) -> bool:
    return bool(to_wire(stored) == recorded)


def _compare(entity: str, row: dict[str, Any], image: _Image) -> Iterator[DataProblem]:
    assert image.values is not None
    fields = _ADMIN_FIELDS.get(entity)
    recorded = image.values if fields is None else {k: image.values[k] for k in fields if k in image.values}
    for name, value in recorded.items():
        # A value sealed under an erased subject's key reads ``[erased]``: nothing to compare.
        if name in row and value != ERASED and not _same(row[name], value):
            yield DataProblem(
                entity, row["id"], name, f"stored {to_wire(row[name])!r}, the audit trail says {value!r}"
            )
    if fields is None:  # synced rows carry the stamps of their last write
        if not _same(row["updated_at"], to_wire(image.at)):
            yield DataProblem(
                entity,
                row["id"],
                "updated_at",
                f"stored {to_wire(row['updated_at'])!r}, last audited write at {to_wire(image.at)!r}",
            )
        if row["updated_by"] != image.actor:
            yield DataProblem(
                entity,
                row["id"],
                "updated_by",
                f"stored {row['updated_by']!r}, last audited writer {image.actor!r}",
            )


def verify_data(session: Session, org_id: str) -> tuple[int, list[DataProblem]]:
    """Compare the organization's audited rows with its replayed chain: (rows checked, problems)."""
    problems: list[DataProblem] = []
    checked = 0
    keys = SubjectKeys(session, org_id, audit_key(session))
    for entity, table in audited_tables().items():
        images = _replay(session, org_id, entity, keys)
        seen: set[str] = set()
        for row in _rows(session, table, org_id):
            checked += 1
            seen.add(row["id"])
            image = images.get(row["id"])
            if image is None:
                problems.append(
                    DataProblem(
                        entity, row["id"], None, "the row has no audit history (written behind the server)"
                    )
                )
            elif image.values is None:
                problems.append(
                    DataProblem(entity, row["id"], None, "the audit trail removed this row, yet it is stored")
                )
            else:
                problems.extend(_compare(entity, row, image))
        for entity_id, image in images.items():
            if entity_id in seen or image.values is None or image.values.get("deleted") is True:
                continue  # removed as the chain says, or a tombstone dropped by ops-server prune
            problems.append(
                DataProblem(entity, entity_id, None, "the audit trail has this row, the store does not")
            )
    return checked, problems

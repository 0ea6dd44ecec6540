"""The audit trail: one hash chain per organization (DESIGN §6).

``hash = sha256(prev_hash + canonical JSON of the event)``; the canonical JSON is the event's
fields except the two hashes, with sorted keys and no whitespace. Each event has a random 128-bit
``salt`` among its fields: the hash covers values a reader may not see (a masked salary), and
without the salt a known hash would confirm a guess at them. Salts and hashes never leave the
server (the audit API omits them); ``ops-server audit verify`` checks them on the server. Sequence numbers are gapless
per organization; the last number and hash live in the organization's ``audit`` counter row,
which the writer locks. The store refuses UPDATE and DELETE on ``audit_event`` (migration 0002
and, on PostgreSQL, the grants of the application role).

Events never hold a password or a token: callers pass only ids, names and changed fields.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from common.schema import AuditEvent, OrgSequence
from common.schema.types import utcnow
from common.wire import to_wire

GENESIS_HASH = "0" * 64
AUDIT_SEQUENCE = "audit"
_EVENT_FIELDS = ("org_id", "seq", "at", "actor", "device", "action", "entity", "entity_id", "before", "after")
SALT_BYTES = 16


@dataclass
class PendingEvent:
    """An audit event not yet given its place in the chain."""

    action: str
    actor: str | None = None
    device: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    at: datetime | None = None


def _json_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return to_wire(value)


def canonical_json(event: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed: the event's fields and its salt, sorted keys, compact.

    Events from before salts existed have none and hash without the key, as they always did.
    """
    body = {name: _json_value(event.get(name)) for name in _EVENT_FIELDS}
    if event.get("salt") is not None:
        body["salt"] = event["salt"]
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def chain_hash(prev_hash: str, event: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(event)).hexdigest()


def ensure_counter(session: Session, org_id: str) -> None:
    """Create the organization's audit counter row (at organization creation)."""
    session.execute(
        insert(OrgSequence).values(org_id=org_id, name=AUDIT_SEQUENCE, value=0, extra=GENESIS_HASH)
    )


def lock_chain_head(session: Session, org_id: str) -> tuple[int, str]:
    """Lock the organization's audit counter and return ``(last seq, last hash)``.

    Creates the counter on first use (the system chain has no organization row).
    """
    stmt = select(OrgSequence.value, OrgSequence.extra).where(
        OrgSequence.org_id == org_id, OrgSequence.name == AUDIT_SEQUENCE
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = session.execute(stmt).first()
    if row is None:
        ensure_counter(session, org_id)
        return 0, GENESIS_HASH
    return int(row.value), row.extra or GENESIS_HASH


def append_events(
    session: Session, org_id: str, events: list[PendingEvent], *, head: tuple[int, str] | None = None
) -> int:
    """Chain and insert ``events`` for ``org_id`` in the caller's transaction. Returns the last seq.

    ``head`` is the already locked chain head, when the caller holds it.
    """
    if not events:
        return head[0] if head else 0
    seq, prev = head if head is not None else lock_chain_head(session, org_id)
    now = utcnow()
    rows = []
    for event in events:
        seq += 1
        row = {
            "org_id": org_id,
            "seq": seq,
            "at": event.at or now,
            "actor": event.actor,
            "device": event.device,
            "action": event.action,
            "entity": event.entity,
            "entity_id": event.entity_id,
            "before": _json_value(event.before) if event.before is not None else None,
            "after": _json_value(event.after) if event.after is not None else None,
            "salt": secrets.token_hex(SALT_BYTES),
        }
        row["prev_hash"] = prev
        row["hash"] = prev = chain_hash(prev, row)
        rows.append(row)
    session.execute(insert(AuditEvent), rows)
    session.execute(
        update(OrgSequence)
        .where(OrgSequence.org_id == org_id, OrgSequence.name == AUDIT_SEQUENCE)
        .values(value=seq, extra=prev)
    )
    return seq


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


def iter_events(session: Session, org_id: str, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every event of the organization's chain, in sequence order."""
    after = 0
    columns = [getattr(AuditEvent, c.key) for c in AuditEvent.__table__.columns]
    while True:
        rows = (
            session.execute(
                select(*columns)
                .where(AuditEvent.org_id == org_id, AuditEvent.seq > after)
                .order_by(AuditEvent.seq)
                .limit(batch)
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield dict(row)
        after = rows[-1]["seq"]


def verify_chain(session: Session, org_id: str) -> tuple[int, ChainProblem | None]:
    """Check the organization's chain. Returns ``(events checked, first problem or None)``.

    Finds edited events (hash mismatch), removed or reordered events (sequence gap or a
    ``prev_hash`` that is not the previous hash) and a truncated tail (counter ahead of the rows).
    """
    expected_seq, prev, count = 1, GENESIS_HASH, 0
    for event in iter_events(session, org_id):
        count += 1
        if event["seq"] != expected_seq:
            return count, ChainProblem(expected_seq, f"event {expected_seq} is missing")
        if event["prev_hash"] != prev:
            return count, ChainProblem(event["seq"], "prev_hash does not match the previous event's hash")
        if chain_hash(prev, event) != event["hash"]:
            return count, ChainProblem(event["seq"], "the event's contents do not match its hash")
        prev = event["hash"]
        expected_seq += 1
    head = session.execute(
        select(OrgSequence.value, OrgSequence.extra).where(
            OrgSequence.org_id == org_id, OrgSequence.name == AUDIT_SEQUENCE
        )
    ).first()
    if head is not None and (int(head.value) != expected_seq - 1 or (head.extra or GENESIS_HASH) != prev):
        return count, ChainProblem(expected_seq, f"events after {expected_seq - 1} were removed")
    return count, None

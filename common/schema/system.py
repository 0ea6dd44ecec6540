"""Bookkeeping tables: audit trail, change log, counters, processed mutations, auth state,
and the client's outbox and sync state. All live in the one metadata; each side uses its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped

from common.schema.base import ID_LENGTH, Base, business, personal, public, sensitive
from common.schema.types import utcnow


class AuditEvent(Base):
    """One link of an organization's hash chain: ``hash = sha256(prev_hash + canonical JSON)``.

    ``salt`` is 128 random bits, part of the hashed event, never shown through the API: without
    it a published hash would let anyone confirm a guess at a masked value (a salary).
    Append-only: both stores refuse UPDATE and DELETE on this table.
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_entity", "org_id", "entity", "entity_id"),)

    org_id: Mapped[str] = public(String(ID_LENGTH), primary_key=True)
    seq: Mapped[int] = public(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = business()
    actor: Mapped[str | None] = business(String(ID_LENGTH))
    device: Mapped[str | None] = business(String(ID_LENGTH))
    action: Mapped[str] = business(String(64))
    entity: Mapped[str | None] = business(String(64))
    entity_id: Mapped[str | None] = business(String(ID_LENGTH))
    before: Mapped[dict[str, Any] | None] = personal(JSON)
    after: Mapped[dict[str, Any] | None] = personal(JSON)
    prev_hash: Mapped[str] = public(String(64))
    hash: Mapped[str] = public(String(64))
    salt: Mapped[str | None] = sensitive(String(32))  # None only on events from before 0004


class ChangeLog(Base):
    """Server: one row per write, in commit order per organization; pulls read it by ``seq``."""

    __tablename__ = "change_log"

    org_id: Mapped[str] = public(String(ID_LENGTH), primary_key=True)
    seq: Mapped[int] = public(BigInteger, primary_key=True, autoincrement=False)
    entity: Mapped[str] = public(String(64))
    entity_id: Mapped[str] = public(String(ID_LENGTH))
    at: Mapped[datetime] = business(default=utcnow)


class OrgSequence(Base):
    """Server: per-organization counters (``change``, ``audit``, ``invoice``…).

    Locked in the write transaction, which serializes writes per organization so that no
    transaction can commit a lower change sequence after a pull has passed it.
    """

    __tablename__ = "org_sequence"

    org_id: Mapped[str] = public(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = public(String(32), primary_key=True)
    value: Mapped[int] = public(BigInteger, default=0)
    extra: Mapped[str | None] = public(String(64))
    # ``audit``: HMAC of (org, value, extra) under the server's audit key, which is not in the
    # store: a chain cut short and its head rewritten to match does not verify.
    mac: Mapped[str | None] = public(String(64))


class ProcessedMutation(Base):
    """Server: the stored result of every pushed command, so a retry answers ``duplicate``."""

    __tablename__ = "processed_mutation"

    org_id: Mapped[str] = public(String(ID_LENGTH), primary_key=True)
    id: Mapped[str] = public(String(ID_LENGTH), primary_key=True)
    user_id: Mapped[str] = business(String(ID_LENGTH))
    device_id: Mapped[str | None] = business(String(ID_LENGTH))
    name: Mapped[str] = business(String(64))
    status: Mapped[str] = business(String(16))
    result: Mapped[dict[str, Any]] = business(JSON)
    processed_at: Mapped[datetime] = business(default=utcnow)


class RefreshToken(Base):
    """Server: a refresh token, stored hashed. Tokens of one sign-in form a family."""

    __tablename__ = "refresh_token"
    __table_args__ = (Index("ix_refresh_family", "family_id"),)

    id: Mapped[str] = public(String(ID_LENGTH), primary_key=True)
    token_hash: Mapped[str] = sensitive(String(64), unique=True)
    family_id: Mapped[str] = business(String(ID_LENGTH))
    user_id: Mapped[str] = business(String(ID_LENGTH))
    device_id: Mapped[str | None] = business(String(ID_LENGTH))
    issued_at: Mapped[datetime] = business(default=utcnow)
    expires_at: Mapped[datetime] = business()
    used_at: Mapped[datetime | None] = business()
    revoked_at: Mapped[datetime | None] = business()
    # When the person typed their password for this family (kept through rotations): an
    # organization's sign-out refuses families signed in before it, whatever their age.
    signed_in_at: Mapped[datetime | None] = business()
    device_name: Mapped[str | None] = business(String(200))


class RateLimitBucket(Base):
    """Server: failed-attempt counters per account and per address, shared by all workers."""

    __tablename__ = "rate_limit_bucket"

    key: Mapped[str] = sensitive(String(128), primary_key=True)
    window_start: Mapped[datetime] = business()
    count: Mapped[int] = business(Integer, default=0)


class SecurityLogEntry(Base):
    """Server: refused requests, one row per (organization, user, endpoint, reason) with a count.

    Repeated refusals update the row instead of adding audit events (bounded growth); the first
    one of a row is also audited. ``ops-server prune`` drops rows not seen for its retention.
    """

    __tablename__ = "security_log"

    org_id: Mapped[str] = public(String(ID_LENGTH), primary_key=True)
    user_id: Mapped[str] = business(String(ID_LENGTH), primary_key=True)
    action: Mapped[str] = business(String(64), primary_key=True)
    reason: Mapped[str] = business(String(32), primary_key=True)
    count: Mapped[int] = business(BigInteger, default=0)
    first_seen: Mapped[datetime] = business()
    last_seen: Mapped[datetime] = business()
    last_target: Mapped[str | None] = business(String(200))


class OutboxEntry(Base):
    """Client: a command applied locally and waiting to be pushed, or rejected and waiting for
    the user. ``undo`` holds the before-images of the rows it touched, to put them back.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status", "status", "seq"),)

    seq: Mapped[int] = public(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = public(String(ID_LENGTH), unique=True)
    name: Mapped[str] = business(String(64))
    args: Mapped[dict[str, Any]] = personal(JSON)
    created_at: Mapped[datetime] = business(default=utcnow)
    status: Mapped[str] = business(String(16), default="pending")  # pending|rejected|conflict
    code: Mapped[str | None] = business(String(64))
    message: Mapped[str | None] = business(String(2000))
    server_values: Mapped[dict[str, Any] | None] = personal(JSON)
    undo: Mapped[list[Any] | None] = personal(JSON)
    attempts: Mapped[int] = business(Integer, default=0)
    acknowledged: Mapped[bool] = business(Boolean, default=False)
    # How the command derived the ids of rows it created (``CommandContext.derived_ids``), sent
    # with the push; NULL for entries queued before revision 0013: scheme 1.
    derived_ids: Mapped[int | None] = public(Integer)


class SyncState(Base):
    """Client: key/value state of the sync engine (cursor, last sync time, schema version)."""

    __tablename__ = "sync_state"

    key: Mapped[str] = public(String(64), primary_key=True)
    value: Mapped[str | None] = business(String(4000))

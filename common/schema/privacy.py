"""Privacy rights and notifications: communication preferences, data subject requests, the
per-subject keys of the audit trail, the retention schedule and the published policy versions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped

from common.schema.base import (
    ID_LENGTH,
    Base,
    EntityInfo,
    SyncedEntity,
    business,
    personal,
    public,
    sensitive,
)


class CommunicationPreference(SyncedEntity, Base):
    """A person's opt-out of a channel/purpose. Sales must honour it, so sales reads it."""

    __tablename__ = "communication_preference"
    __entity__ = EntityInfo(module="privacy", read="privacy.manage", also_read=("sales.read",))
    __table_args__ = (UniqueConstraint("org_id", "subject_type", "subject_id", "channel", "purpose"),)

    subject_type: Mapped[str] = business(String(16))  # customer | employee | supplier
    subject_id: Mapped[str] = business(String(ID_LENGTH))
    channel: Mapped[str] = business(String(16))  # email | phone | sms | post
    purpose: Mapped[str] = business(String(32))  # marketing | newsletter | surveys
    opted_out: Mapped[bool] = personal(Boolean, default=True)
    changed_at: Mapped[datetime] = business()


class DataSubjectRequest(SyncedEntity, Base):
    """Kinds: access, export, correction, erasure, opt_out. States: open → completed | rejected."""

    __tablename__ = "data_subject_request"
    __entity__ = EntityInfo(module="privacy", read="privacy.manage")

    subject_type: Mapped[str] = business(String(16))
    subject_id: Mapped[str] = business(String(ID_LENGTH))
    kind: Mapped[str] = business(String(16))
    status: Mapped[str] = business(String(16), default="open")
    requested_at: Mapped[datetime] = business()
    completed_at: Mapped[datetime | None] = business()
    details: Mapped[str | None] = personal(String(2000))
    outcome: Mapped[dict[str, Any] | None] = business(JSON)
    # The law's answer time: 30 days from the request (an open request past it is overdue).
    due_at: Mapped[datetime | None] = business()
    # How the requester's identity was checked (signed in as themselves, ID seen at the desk…).
    verification: Mapped[str | None] = business(String(500))
    # Who opened it: the subject's own user account (self-service) or a privacy staff member.
    opened_by: Mapped[str | None] = business(String(ID_LENGTH))


class Notification(SyncedEntity, Base):
    """A message to one user; only its recipient reads it."""

    __tablename__ = "notification"
    __entity__ = EntityInfo(module="notifications", read=None, owner="user_id")
    __table_args__ = (Index("ix_notification_user", "org_id", "user_id"),)

    user_id: Mapped[str] = business(String(ID_LENGTH), ForeignKey("app_user.id"))
    kind: Mapped[str] = business(String(32))
    title: Mapped[str] = business(String(200))
    body: Mapped[str | None] = business(String(2000))
    entity: Mapped[str | None] = business(String(64))
    entity_id: Mapped[str | None] = business(String(ID_LENGTH))
    read_at: Mapped[datetime | None] = business()


class SubjectKey(Base):
    """Server: the key that encrypts one data subject's personal values in the audit trail.

    ``wrapped_key`` is a random 256-bit key sealed under a key derived from the server's audit
    key; erasing the subject sets it to NULL (crypto-shredding): the audit events keep their
    ciphertext, so the hash chain still verifies, and nobody can read those values again.
    """

    __tablename__ = "subject_key"

    org_id: Mapped[str] = public(String(ID_LENGTH), ForeignKey("organization.id"), primary_key=True)
    subject_type: Mapped[str] = public(String(16), primary_key=True)
    subject_id: Mapped[str] = public(String(ID_LENGTH), primary_key=True)
    wrapped_key: Mapped[bytes | None] = sensitive(LargeBinary(128))
    created_at: Mapped[datetime] = business()
    erased_at: Mapped[datetime | None] = business()


class RetentionRule(Base):
    """Server: how long one organization keeps one type of data, and what happens after."""

    __tablename__ = "retention_rule"

    org_id: Mapped[str] = public(String(ID_LENGTH), ForeignKey("organization.id"), primary_key=True)
    data_type: Mapped[str] = public(String(40), primary_key=True)
    period_days: Mapped[int] = business(Integer)
    action: Mapped[str] = business(String(16))  # anonymize | delete
    legal_basis: Mapped[str] = business(String(500))
    updated_at: Mapped[datetime] = business()
    updated_by: Mapped[str | None] = business(String(ID_LENGTH))


class PolicyVersion(Base):
    """Server, global: one published version of the privacy policy."""

    __tablename__ = "policy_version"

    version: Mapped[int] = public(Integer, primary_key=True, autoincrement=False)
    effective_date: Mapped[date] = public(Date)
    summary: Mapped[str] = public(String(2000))
    text: Mapped[str] = public(Text)
    published_at: Mapped[datetime] = public()


class PolicyAcknowledgement(Base):
    """Server, global: a user read a policy version (shown at their next sign-in)."""

    __tablename__ = "policy_acknowledgement"

    user_id: Mapped[str] = business(String(ID_LENGTH), ForeignKey("app_user.id"), primary_key=True)
    version: Mapped[int] = business(Integer, primary_key=True, autoincrement=False)
    acknowledged_at: Mapped[datetime] = business()

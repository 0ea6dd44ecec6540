"""Privacy rights and notifications: communication preferences, data subject requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped

from common.schema.base import ID_LENGTH, Base, EntityInfo, SyncedEntity, business, personal


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

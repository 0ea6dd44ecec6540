"""Retention of in-app notifications (the ``notifications`` rule of ``common.retention``).

A notification last written (sent, or marked read) longer ago than the organization's period is
deleted through the command ``notifications.delete_notifications``: the row becomes a tombstone
without its text, the change log carries the deletion to every workstation, and the prune of the
change log drops the tombstone once its own retention has passed.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.retention import schedule_of
from common.schema import Notification
from sync_server.writes import apply_system_command

_NAMESPACE = uuid.UUID("3b1f6c2e-8d4a-4f0e-9a57-1c2d3e4f5a6b")
# The most ids the command takes at once.
BATCH = 200


def due_notifications(session: Session, org_id: str, now: datetime) -> list[str]:
    """Ids of the organization's notifications past the ``notifications`` period."""
    period = schedule_of(session, org_id)["notifications"]
    cutoff = now - timedelta(days=period.period_days)
    rows = session.execute(
        select(Notification.id)
        .where(
            Notification.org_id == org_id,
            Notification.deleted.is_(False),
            Notification.updated_at < cutoff,
        )
        .order_by(Notification.id)
    ).scalars()
    return list(rows)


def delete_notifications(session: Session, org_id: str, ids: list[str], now: datetime) -> None:
    """Delete them, a batch per command (each its own change-log rows and audit event)."""
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        command_id = str(uuid.uuid5(_NAMESPACE, f"{org_id}|{now.date()}|{batch[0]}|{len(batch)}"))
        apply_system_command(
            session, org_id, "notifications.delete_notifications", {"ids": batch}, command_id, now=now
        )

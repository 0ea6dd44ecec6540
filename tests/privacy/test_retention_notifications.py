"""Retention of notifications: in the schedule with its default (1 year, delete, its legal basis);
the retention run, with the clock moved past the period, deletes a notification on the server and
on a workstation at its next sync, and records it; a day before, or in a dry run, nothing goes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from common.retention import DEFAULTS
from common.schema import AuditEvent, Notification
from sync_server.notifications import notify
from sync_server.retention_run import run_retention
from tests.privacy.conftest import PrivacyServer, make_client, new_subject_name


def test_notifications_are_deleted_a_year_after_they_were_sent_and_every_copy_follows(
    privacy_server: PrivacyServer, tmp_path: Path
) -> None:
    server = privacy_server
    admin = server.a.email("admin")
    schedule = server.call("GET", admin, f"/orgs/{server.a.id}/privacy/retention").json()["schedule"]
    [rule] = [r for r in schedule if r["data_type"] == "notifications"]
    assert (rule["period_days"], rule["action"]) == (365, "delete")
    assert "data minimisation" in rule["legal_basis"] and rule["minimum_days"] == 30

    user_id = server.a.users["warehouse"]
    title = f"Low stock for {new_subject_name()}"
    notify(server.services.store, None, None, server.a.id, [user_id], "stock.low", title, "Order more.")
    with server.services.store.session(server.a.id) as db:
        notification_id, sent = db.execute(
            select(Notification.id, Notification.updated_at).where(Notification.title == title)
        ).one()
    client = make_client(server, server.a.email("warehouse"), server.a, tmp_path / "desk")
    client.sync()
    assert [r["title"] for r in client.rows("notification") if not r["deleted"]].count(title) == 1

    period = DEFAULTS["notifications"].period_days
    early = run_retention(server.services.store, now=sent + timedelta(days=period - 1))
    assert notification_id not in [n for r in early for n in r.notifications]
    later = sent + timedelta(days=period + 1)
    dry = run_retention(server.services.store, now=later, dry_run=True)
    assert notification_id in [n for r in dry for n in r.notifications]
    with server.services.store.session(server.a.id) as db:
        assert (
            db.execute(select(Notification.deleted).where(Notification.id == notification_id)).scalar()
            is False
        )

    reports = run_retention(server.services.store, now=later)
    assert notification_id in [n for r in reports for n in r.notifications]
    with server.services.store.session(server.a.id) as db:
        row = (
            db.execute(select(Notification.__table__).where(Notification.id == notification_id))
            .mappings()
            .one()
        )
        runs = db.execute(
            select(AuditEvent.after).where(AuditEvent.action == "privacy.retention_run")
        ).scalars()
        assert any((r or {}).get("notifications", 0) >= 1 for r in runs)
    assert (row["deleted"], row["title"], row["body"]) == (True, "[deleted]", None)
    listed = server.call("GET", server.a.email("warehouse"), f"/orgs/{server.a.id}/notifications").json()
    assert notification_id not in [n["id"] for n in listed["notifications"]]

    client.sync()
    assert title not in [r["title"] for r in client.rows("notification")]
    assert server.call("GET", admin, f"/orgs/{server.a.id}/audit/verify").json()["intact"] is True
    client.session.close()

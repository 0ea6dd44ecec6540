"""The retention run: apply each organization's retention schedule (``common.retention``).

``ops-server retention run [--dry-run]`` and a daily run inside the server call
:func:`run_retention`. Per organization, it anonymizes (through the command
``privacy.apply_retention``, so the change log carries it to every workstation and the subject's
audit key is destroyed) employees whose record's retention ended and customers with no activity
for the ``customer_contacts`` period; it drops the change log past its period (the prune of
``sync_server.retention``) and deletes notifications past the ``notifications`` period
(``sync_server.retention_notifications``). Across the server it deletes sign-in sessions past the
``sign_in_history`` period. Each organization's run is recorded in its audit trail
(``privacy.retention_run``) with what it did; ``--dry-run`` only reports.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from common.retention import schedule_of
from common.schema import Customer, Employee, Invoice, Organization, Payment, RefreshToken, SalesOrder
from common.schema.types import utcnow
from sync_server.audit import PendingEvent, append_events
from sync_server.retention import RETENTION_DAYS, prune_organization
from sync_server.retention_notifications import delete_notifications, due_notifications
from sync_server.store import Store
from sync_server.writes import SYSTEM_ACTOR, apply_system_command

log = logging.getLogger(__name__)
ERASED = "[erased]"
_NAMESPACE = uuid.UUID("6f0b8f9e-3c57-4d4e-9f55-6b1c1e0d2a71")


@dataclass
class RetentionReport:
    org_id: str
    employees: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    notifications: list[str] = field(default_factory=list)
    change_log_rows: int = 0

    def lines(self) -> list[str]:
        return [
            f"{self.org_id}: employee_records: {len(self.employees)} anonymized",
            f"{self.org_id}: customer_contacts: {len(self.customers)} anonymized",
            f"{self.org_id}: notifications: {len(self.notifications)} deleted",
            f"{self.org_id}: change_log: {self.change_log_rows} rows dropped",
        ]


def _due_employees(session: Session, org_id: str, now: datetime) -> list[str]:
    period = schedule_of(session, org_id)["employee_records"]
    cutoff = (now - timedelta(days=period.period_days)).date()
    rows = session.execute(
        select(Employee.id).where(
            Employee.org_id == org_id,
            Employee.termination_date.is_not(None),
            Employee.termination_date <= cutoff,
            Employee.name != ERASED,
        )
    ).scalars()
    return list(rows)


def _due_customers(session: Session, org_id: str, now: datetime) -> list[str]:
    period = schedule_of(session, org_id)["customer_contacts"]
    cutoff = now - timedelta(days=period.period_days)
    last = {
        customer_id: updated
        for customer_id, updated in session.execute(
            select(Customer.id, Customer.updated_at).where(
                Customer.org_id == org_id, Customer.erased.is_(False), Customer.deleted.is_(False)
            )
        )
    }
    for model in (SalesOrder, Invoice):
        for customer_id, updated in session.execute(
            select(model.customer_id, func.max(model.updated_at))
            .where(model.org_id == org_id)
            .group_by(model.customer_id)
        ):
            if customer_id in last and updated is not None and updated > last[customer_id]:
                last[customer_id] = updated
    for customer_id, updated in session.execute(
        select(Invoice.customer_id, func.max(Payment.updated_at))
        .join(Invoice, (Invoice.org_id == Payment.org_id) & (Invoice.id == Payment.invoice_id))
        .where(Payment.org_id == org_id)
        .group_by(Invoice.customer_id)
    ):
        if customer_id in last and updated is not None and updated > last[customer_id]:
            last[customer_id] = updated
    return sorted(cid for cid, updated in last.items() if updated < cutoff)


def run_organization(store: Store, org_id: str, *, now: datetime, dry_run: bool) -> RetentionReport:
    report = RetentionReport(org_id)
    with store.session(org_id, write=not dry_run) as session:
        report.employees = _due_employees(session, org_id, now)
        report.customers = _due_customers(session, org_id, now)
        report.notifications = due_notifications(session, org_id, now)
        if dry_run:
            return report
        for subject_type, ids in (("employee", report.employees), ("customer", report.customers)):
            for subject_id in ids:
                command_id = str(uuid.uuid5(_NAMESPACE, f"{org_id}|{subject_type}|{subject_id}|{now.date()}"))
                apply_system_command(
                    session,
                    org_id,
                    "privacy.apply_retention",
                    {"subject_type": subject_type, "subject_id": subject_id},
                    command_id,
                    now=now,
                )
        delete_notifications(session, org_id, report.notifications, now)
        schedule = schedule_of(session, org_id)
        pruned = prune_organization(
            session, org_id, now=now, keep_days=max(schedule["change_log"].period_days, RETENTION_DAYS)
        )
        report.change_log_rows = pruned.change_log_rows
        append_events(
            session,
            org_id,
            [
                PendingEvent(
                    action="privacy.retention_run",
                    actor=SYSTEM_ACTOR,
                    after={
                        "employee_records": len(report.employees),
                        "customer_contacts": len(report.customers),
                        "notifications": len(report.notifications),
                        "change_log": report.change_log_rows,
                    },
                )
            ],
        )
    return report


def drop_old_sign_ins(store: Store, *, now: datetime, dry_run: bool) -> int:
    """Delete sign-in sessions ended (expired or revoked) more than a year ago (the default
    ``sign_in_history`` period; sessions are global, so the shortest rule is the server's)."""
    from common.retention import DEFAULTS

    cutoff = now - timedelta(days=DEFAULTS["sign_in_history"].period_days)
    with store.admin_session() as session:
        condition = RefreshToken.expires_at < cutoff
        if dry_run:
            return len(session.execute(select(RefreshToken.id).where(condition)).all())
        return int(session.connection().execute(delete(RefreshToken).where(condition)).rowcount or 0)


def run_retention(
    store: Store, *, now: datetime | None = None, dry_run: bool = False
) -> list[RetentionReport]:
    """Apply every organization's schedule; each organization in its own write transaction."""
    now = now or utcnow()
    with store.admin_session() as session:
        org_ids = list(session.execute(select(Organization.id).order_by(Organization.id)).scalars())
    reports = [run_organization(store, org_id, now=now, dry_run=dry_run) for org_id in org_ids]
    drop_old_sign_ins(store, now=now, dry_run=dry_run)
    return reports


class DailyRetention:
    """Runs :func:`run_retention` once a day in a daemon thread of the serving process."""

    def __init__(self, store: Store, interval_s: float = 24 * 3600) -> None:
        self.store = store
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ops-retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                for report in run_retention(self.store):
                    log.info("retention run: %s", "; ".join(report.lines()))
            except Exception:  # a failed run is logged and retried the next day
                log.exception("the daily retention run failed")

"""The legal retention schedule: data type → period → anonymize or delete → legal basis.

Each organization may lengthen a period (never shorten it below the statutory minimum) through
``PUT /api/v1/orgs/{org}/privacy/retention``; the defaults below apply until it does. The server's
retention run (``ops-server retention run``, daily inside the server) and erasure requests read
the schedule through :func:`schedule_of`, so both agree on what is still held and until when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.schema import RetentionRule

Action = Literal["anonymize", "delete"]
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class RetentionPeriod:
    data_type: str
    period_days: int
    action: Action
    legal_basis: str
    # The shortest period the law allows; an organization may keep longer, never shorter.
    minimum_days: int
    description: str

    def until(self, start: date | datetime) -> date:
        day = start.date() if isinstance(start, datetime) else start
        return day + timedelta(days=self.period_days)


def _years(n: int) -> int:
    return n * DAYS_PER_YEAR + n // 4  # leap days


DEFAULT_SCHEDULE: tuple[RetentionPeriod, ...] = (
    RetentionPeriod(
        "invoices",
        _years(10),
        "anonymize",
        "commercial and tax law: invoices are kept 10 years",
        _years(10),
        "invoices, credit notes and payments, from their date",
    ),
    RetentionPeriod(
        "ledger",
        _years(10),
        "anonymize",
        "accounting law: books are kept 10 years",
        _years(10),
        "journal entries and lines, from their date",
    ),
    RetentionPeriod(
        "payroll",
        _years(10),
        "anonymize",
        "tax and social security law: payroll kept 10 years",
        _years(10),
        "payroll runs and payslips, from the end of their period",
    ),
    RetentionPeriod(
        "employee_records",
        _years(6),
        "anonymize",
        "employment law: personnel records kept 6 years after employment ends",
        _years(6),
        "an employee's record, from the termination date",
    ),
    RetentionPeriod(
        "customer_contacts",
        _years(3),
        "anonymize",
        "legitimate interest: limitation period of claims, 3 years after the last activity",
        _years(1),
        "a customer's contact details, from their last order, invoice or payment",
    ),
    RetentionPeriod(
        "sign_in_history",
        _years(1),
        "delete",
        "security: sign-in records kept 1 year",
        30,
        "sessions (devices, sign-in times), from the end of the session",
    ),
    RetentionPeriod(
        "notifications",
        _years(1),
        "delete",
        "data minimisation: in-app notifications are only useful for a while; kept 1 year",
        30,
        "in-app notifications, from when they were sent or last read",
    ),
    RetentionPeriod(
        "change_log",
        90,
        "delete",
        "sync: offline workstations catch up for 90 days",
        90,
        "the server's change log and tombstones",
    ),
)
DEFAULTS = {period.data_type: period for period in DEFAULT_SCHEDULE}


def schedule_of(session: Session, org_id: str) -> dict[str, RetentionPeriod]:
    """The organization's schedule: its own rules where it set them, the defaults elsewhere."""
    schedule = dict(DEFAULTS)
    rows = session.execute(select(RetentionRule).where(RetentionRule.org_id == org_id)).scalars()
    for rule in rows:
        default = DEFAULTS.get(rule.data_type)
        if default is None:
            continue
        schedule[rule.data_type] = RetentionPeriod(
            rule.data_type,
            max(rule.period_days, default.minimum_days),
            "delete" if rule.action == "delete" else "anonymize",
            rule.legal_basis,
            default.minimum_days,
            default.description,
        )
    return schedule

"""Versions of the privacy policy: kept by the server with their effective date, published to
every user, acknowledged by each user at their next sign-in.

The text the product first published ships as version 1 (``policy_texts/privacy-policy-v1.txt``)
and is stored on first use. ``ops-server policy publish FILE`` stores the next version and
notifies every member of every organization (``legal.policy_change``, an essential notification:
in the app, and by e-mail when ``OPS_SMTP_URL`` is set). The console asks ``GET /api/v1/me/policy``
after sign-in and shows an unacknowledged version with its summary until the user acknowledges it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.schema import Membership, PolicyAcknowledgement, PolicyVersion
from common.schema.types import utcnow
from sync_server.mail import Mailer
from sync_server.notifications import notify
from sync_server.store import Store

V1_EFFECTIVE = date(2025, 12, 14)
V1_SUMMARY = "The privacy policy as first published."


@dataclass(frozen=True)
class Policy:
    version: int
    effective_date: date
    summary: str
    text: str


def _v1_text() -> str:
    return resources.files("sync_server").joinpath("policy_texts/privacy-policy-v1.txt").read_text("utf-8")


def current_policy(session: Session) -> Policy:
    """The newest published version (version 1 is stored on first use)."""
    row = session.execute(select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(1)).scalar()
    if row is None:
        row = PolicyVersion(
            version=1, effective_date=V1_EFFECTIVE, summary=V1_SUMMARY, text=_v1_text(), published_at=utcnow()
        )
        session.add(row)
        session.flush()
    return Policy(row.version, row.effective_date, row.summary, row.text)


def acknowledged(session: Session, user_id: str, version: int) -> bool:
    found = session.execute(
        select(PolicyAcknowledgement.version).where(
            PolicyAcknowledgement.user_id == user_id, PolicyAcknowledgement.version == version
        )
    ).first()
    return found is not None


def acknowledge(session: Session, user_id: str, version: int) -> None:
    if not acknowledged(session, user_id, version):
        session.add(PolicyAcknowledgement(user_id=user_id, version=version, acknowledged_at=utcnow()))


def publish(
    store: Store,
    text: str,
    *,
    summary: str,
    effective: date,
    mailer: Mailer | None = None,
    public_url: str | None = None,
) -> tuple[int, int]:
    """Store ``text`` as the next version and notify every member; returns (version, notified)."""
    if not text.strip():
        raise ValueError("the policy text is empty")
    with store.admin_session() as session:
        current_policy(session)
        version = int(session.execute(select(func.max(PolicyVersion.version))).scalar() or 0) + 1
        session.add(
            PolicyVersion(
                version=version, effective_date=effective, summary=summary, text=text, published_at=utcnow()
            )
        )
        members = session.execute(select(Membership.org_id, Membership.user_id)).all()
    by_org: dict[str, list[str]] = {}
    for org_id, user_id in members:
        by_org.setdefault(org_id, []).append(user_id)
    notified = 0
    for org_id, user_ids in sorted(by_org.items()):
        delivery = notify(
            store,
            mailer,
            public_url,
            org_id,
            sorted(user_ids),
            "legal.policy_change",
            f"Privacy policy version {version}",
            f"Effective {effective.isoformat()}. {summary}\nRead it in the app; you will be asked to "
            "acknowledge it at your next sign-in.",
        )
        notified += len(delivery.notified)
    return version, notified

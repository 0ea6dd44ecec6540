"""The security log: refused requests, counted instead of audited one by one.

Each refusal updates one row per (organization, user, endpoint, reason) — ``count``,
``first_seen``, ``last_seen``, the last path — so a user (or a stolen token) repeating a refused
request cannot grow the store without bound. The first refusal of a row is also appended to the
audit chain (DESIGN §6: denied access is audited): a refusal for lack of a permission, or after
the organization signed the member out, in that organization's chain; a request for an
organization the caller is not a member of, or one over the request limit, in the system chain
(the organization in the URL may not exist, and must not be able to grow anyone's chain).

Rows not seen for ``OPS_SECURITY_LOG_DAYS`` (90 by default) are dropped by ``ops-server
prune``; a row dropped and seen again is audited again.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from common.schema import Organization, SecurityLogEntry
from common.schema.base import table_of
from common.schema.types import utcnow
from sync_server.audit import PendingEvent, append_events
from sync_server.store import SYSTEM_ORG_ID, Store

# Reasons whose refusals belong to the organization in the URL (the caller is its member).
ORG_REASONS = frozenset({"forbidden", "signed_out"})
_TABLE = table_of(SecurityLogEntry)


def record_refusal(
    store: Store,
    *,
    org_id: str | None,
    user_id: str,
    device_id: str | None,
    action: str,
    reason: str,
    target: str,
) -> int:
    """Count one refused request in its own transaction; returns the row's count."""
    chain = org_id if org_id is not None and reason in ORG_REASONS else SYSTEM_ORG_ID
    now = utcnow()
    make = pg_insert if store.is_postgres else sqlite_insert
    new = make(_TABLE).values(
        org_id=chain,
        user_id=user_id,
        action=action[:64],
        reason=reason[:32],
        count=1,
        first_seen=now,
        last_seen=now,
        last_target=target[:200],
    )
    upsert = new.on_conflict_do_update(
        index_elements=[_TABLE.c.org_id, _TABLE.c.user_id, _TABLE.c.action, _TABLE.c.reason],
        set_={"count": _TABLE.c["count"] + 1, "last_seen": now, "last_target": new.excluded.last_target},
    ).returning(_TABLE.c["count"])
    with store.session(chain, user_id=user_id, write=True) as session:
        count = int(session.execute(upsert).scalar_one())
        if count == 1:
            event = PendingEvent(
                action="auth.access_denied",
                actor=user_id,
                device=device_id,
                entity="organization",
                entity_id=org_id,
                after={"reason": reason, "endpoint": action, "path": target[:200]},
            )
            append_events(session, chain, [event])
    return count


def prune_security_log(store: Store, keep_days: int) -> int:
    """Drop rows last seen more than ``keep_days`` ago, in every chain; returns how many."""
    cutoff = utcnow() - timedelta(days=keep_days)
    with store.admin_session() as session:
        org_ids = list(session.execute(select(Organization.id)).scalars())
    dropped = 0
    for org_id in [SYSTEM_ORG_ID, *org_ids]:
        with store.session(org_id, write=True) as session:
            result = session.execute(
                delete(SecurityLogEntry).where(
                    SecurityLogEntry.org_id == org_id, SecurityLogEntry.last_seen < cutoff
                )
            )
            dropped += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return dropped

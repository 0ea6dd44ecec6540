"""Failed sign-in counters in the database (``rate_limit_bucket``), shared by every worker.

Fixed windows per key: ``acct:<sha256 of the e-mail>`` (the address itself is never stored) and
``addr:<client address>``. Once a key reaches its limit, sign-ins answer 429 with Retry-After
until its window ends, without checking the password.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from common.schema import RateLimitBucket
from common.schema.base import table_of
from sync_server.config import RateLimits


def account_key(email: str) -> str:
    return "acct:" + hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def address_key(address: str) -> str:
    return "addr:" + address[:100]


def _limit(key: str, limits: RateLimits) -> int:
    return limits.per_account if key.startswith("acct:") else limits.per_address


def retry_after(session: Session, keys: list[str], limits: RateLimits, now: datetime) -> int | None:
    """Seconds until the caller may try again, or ``None`` when no key is over its limit."""
    window = timedelta(seconds=limits.window_seconds)
    rows = session.execute(
        select(RateLimitBucket.key, RateLimitBucket.window_start, RateLimitBucket.count).where(
            RateLimitBucket.key.in_(keys)
        )
    ).all()
    wait = None
    for key, start, count in rows:
        if now - start < window and count >= _limit(key, limits):
            seconds = max(1, int((start + window - now).total_seconds()) + 1)
            wait = max(wait or 0, seconds)
    return wait


def record_failure(session: Session, keys: list[str], limits: RateLimits, now: datetime) -> None:
    """Count one failed attempt against every key (a new window starts when the old one ended)."""
    window_floor = now - timedelta(seconds=limits.window_seconds)
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    table = table_of(RateLimitBucket)
    for key in keys:
        stmt = make(table).values(key=key, window_start=now, count=1)
        expired = table.c.window_start <= window_floor
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": case((expired, 1), else_=table.c["count"] + 1),
                "window_start": case((expired, stmt.excluded.window_start), else_=table.c.window_start),
            },
        )
        session.execute(stmt)


def reset(session: Session, key: str) -> None:
    session.execute(delete(RateLimitBucket).where(RateLimitBucket.key == key))

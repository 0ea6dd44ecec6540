"""Sign-in attempt counters in the database (``rate_limit_bucket``), shared by every worker.

Fixed windows per key: ``acct:<sha256 of the e-mail>`` (the address itself is never stored) and
``addr:<client address>`` (IPv6: its /64 network). An attempt is reserved before its password is checked: one atomic
upsert per key that increments and returns the count (a row lock on PostgreSQL, the write lock
on SQLite), committed before the slow Argon2 check. Parallel attempts therefore cannot all read
"under the limit": beyond the limit an attempt answers 429 with Retry-After until its window
ends, without a password check. A successful attempt clears its account's bucket and gives its
address's reservation back, so only failures use up the limits.
"""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime, timedelta

from sqlalchemy import case, delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from common.schema import RateLimitBucket
from common.schema.base import table_of
from sync_server.config import RateLimits


def account_key(email: str) -> str:
    return "acct:" + hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def address_key(address: str) -> str:
    """The bucket of a client address: an IPv4 address, or the /64 network of an IPv6 one.

    One host is routinely given a whole IPv6 /64 (SLAAC, privacy addresses), so counting single
    IPv6 addresses would let it change address for every guess. An IPv4-mapped IPv6 address
    counts as its IPv4 address.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "addr:" + address[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"addr:{ip.ipv4_mapped}"
        return f"addr:{ipaddress.IPv6Network((int(ip), 64), strict=False)}"
    return f"addr:{ip}"


def _limit(key: str, limits: RateLimits) -> int:
    return limits.per_account if key.startswith("acct:") else limits.per_address


def _wait(start: datetime, window: timedelta, now: datetime) -> int:
    return max(1, int((start + window - now).total_seconds()) + 1)


def reserve(session: Session, keys: list[str], limits: RateLimits, now: datetime) -> int | None:
    """Count one attempt against every key, atomically; the caller commits before checking.

    Returns the seconds to wait when a key is over its limit (the attempt must then be refused
    without a password check), else ``None``.
    """
    window = timedelta(seconds=limits.window_seconds)
    window_floor = now - window
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    table = table_of(RateLimitBucket)
    wait = None
    for key in sorted(keys):  # one lock order for every caller
        new = make(table).values(key=key, window_start=now, count=1)
        expired = table.c.window_start <= window_floor
        upsert = new.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": case((expired, 1), else_=table.c["count"] + 1),
                "window_start": case((expired, new.excluded.window_start), else_=table.c.window_start),
            },
        ).returning(table.c.window_start, table.c["count"])
        start, count = session.execute(upsert).one()
        if count > _limit(key, limits):
            wait = max(wait or 0, _wait(start, window, now))
    return wait


def succeeded(session: Session, account: str, address: str) -> None:
    """A correct password: clear the account's failures, give the address its attempt back."""
    session.execute(delete(RateLimitBucket).where(RateLimitBucket.key == account))
    session.execute(
        update(RateLimitBucket)
        .where(RateLimitBucket.key == address, RateLimitBucket.count > 0)
        .values(count=RateLimitBucket.count - 1)
    )

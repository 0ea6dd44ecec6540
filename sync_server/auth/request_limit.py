"""A per-user request limit on authenticated endpoints, in memory (no store write per request).

A token bucket per user: ``burst`` requests at once, refilled at ``per_minute``. The defaults
(DEFAULT_PER_MINUTE, DEFAULT_BURST) are far above what a person's devices send: a desktop syncs
every two minutes (a push and a pull, a few requests), and an initial download of a million rows
is about 500 pull pages, within the burst. What it stops is one account hammering the server
(a script in a loop, a stolen token), which then gets 429 with ``Retry-After``.

The buckets live in each server process: with several worker processes a user may send up to
that many times the limit. Checking costs a dictionary lookup under a lock.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

DEFAULT_PER_MINUTE = 1500
DEFAULT_BURST = 3000
_MAX_USERS = 100_000  # buckets kept before full (idle) ones are forgotten


@dataclass
class _Bucket:
    tokens: float
    at: float
    limited: bool = False  # refused since it last had room (the first refusal is logged)


@dataclass(frozen=True)
class Refusal:
    retry_after: int  # whole seconds until one request fits
    first: bool  # the first refusal since the user last had room


class RequestLimiter:
    """``take(user_id)``: ``None`` when the request may go on, else a :class:`Refusal`."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.enabled = per_minute > 0 and burst > 0
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, user_id: str, now: float | None = None) -> Refusal | None:
        if not self.enabled:
            return None
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(user_id)
            if bucket is None:
                if len(self._buckets) >= _MAX_USERS:
                    self._forget_idle(now)
                bucket = self._buckets[user_id] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                bucket.limited = False
                return None
            first = not bucket.limited
            bucket.limited = True
            return Refusal(max(1, math.ceil((1.0 - bucket.tokens) / self.rate)), first)

    def _forget_idle(self, now: float) -> None:
        """Drop the buckets that have refilled (their users are as good as new)."""
        full = [
            user for user, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= self.burst
        ]
        for user in full:
            del self._buckets[user]

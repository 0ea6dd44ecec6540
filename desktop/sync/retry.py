"""Retrying a sync call when the server is unreachable or failing: exponential backoff with jitter.

Bounded in attempts and in total waiting, so a sync with no network ends with a clear "offline"
answer within seconds instead of hanging. Waiting goes through a :class:`threading.Event`, so a
sync being cancelled (the window closing) stops waiting at once.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from desktop.api_client import OfflineError, RateLimitedError, ServerError

T = TypeVar("T")

# Worth another try: no connection, a time-out, a 5xx, a rate limit.
RETRYABLE = (OfflineError, ServerError, RateLimitedError)


class SyncCancelled(Exception):
    """The sync was asked to stop; what was committed so far stays."""


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all; the n-th wait is ``base * factor**n`` (at most ``cap``), each
    shortened by up to ``jitter`` of itself at random, all waits together at most ``budget``."""

    attempts: int = 4
    base_s: float = 0.5
    factor: float = 2.0
    cap_s: float = 8.0
    jitter: float = 0.5
    budget_s: float = 20.0

    def delay(self, retry: int, rng: random.Random) -> float:
        raw = min(self.cap_s, self.base_s * self.factor**retry)
        return raw * (1 - self.jitter * rng.random())


class Retrier:
    """Runs calls under a :class:`RetryPolicy`; ``cancel()`` interrupts a wait."""

    def __init__(self, policy: RetryPolicy, *, rng: random.Random | None = None) -> None:
        self.policy = policy
        self.rng = rng or random.Random()
        self._cancel = threading.Event()
        self.retries = 0

    def cancel(self) -> None:
        self._cancel.set()

    def reset(self) -> None:
        self._cancel.clear()

    def check(self) -> None:
        if self._cancel.is_set():
            raise SyncCancelled("sync stopped")

    def call(self, fn: Callable[[], T], on_retry: Callable[[Exception, float], None] | None = None) -> T:
        waited = 0.0
        for attempt in range(self.policy.attempts):
            self.check()
            try:
                return fn()
            except RETRYABLE as exc:
                if attempt + 1 >= self.policy.attempts:
                    raise
                if isinstance(exc, ServerError) and (exc.status or 0) < 500:
                    raise  # an answer this client cannot read: trying again will not help
                delay = self.policy.delay(attempt, self.rng)
                if isinstance(exc, RateLimitedError) and exc.retry_after:
                    delay = max(delay, float(exc.retry_after))
                if waited + delay > self.policy.budget_s:
                    raise
                waited += delay
                self.retries += 1
                if on_retry is not None:
                    on_retry(exc, delay)
                if self._cancel.wait(delay):
                    raise SyncCancelled("sync stopped") from exc
        raise AssertionError("unreachable")  # pragma: no cover

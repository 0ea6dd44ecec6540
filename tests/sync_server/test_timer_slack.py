"""Giving way (``time.sleep(0)`` in a held-writes batch) costs the thread's timer slack: the server
shortens it once ready to serve, for the threads it starts from then on."""

from __future__ import annotations

import ctypes
import sys
import threading

import pytest

from sync_server.writes import TIMER_SLACK_NS, shorten_timer_slack

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux thread setting")


def _slack() -> int:
    """This thread's timer slack (``prctl(PR_GET_TIMERSLACK)``)."""
    return int(ctypes.CDLL(None).prctl(30, 0, 0, 0, 0))


def test_the_serving_threads_get_the_short_timer_slack() -> None:
    seen: dict[str, int] = {}

    def serving_thread() -> None:
        seen["serving"] = _slack()

    def ready_to_serve() -> None:
        seen["before"] = _slack()
        assert shorten_timer_slack()
        seen["after"] = _slack()
        started = threading.Thread(target=serving_thread)
        started.start()
        started.join()

    # In a thread of its own: the test process's own threads keep their slack.
    setup = threading.Thread(target=ready_to_serve)
    setup.start()
    setup.join()
    assert seen["before"] > TIMER_SLACK_NS  # Linux's default, 50 µs
    assert seen == {"before": seen["before"], "after": TIMER_SLACK_NS, "serving": TIMER_SLACK_NS}

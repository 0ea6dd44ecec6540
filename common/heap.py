"""Start-up's objects out of the cyclic garbage collector's sight.

A full collection walks every object the collector tracks. A process that has loaded its modules,
mappers, compiled statements and screens holds some 150,000–200,000 of them, and a full
collection over those took 50–90 ms on the desktop with a 1M-product store open (bench_desktop,
stop 25: one landed inside a filter keystroke, 116–137 ms against ~25 ms without it). Frozen
(``gc.freeze``) once start-up is over, they are never walked again; later collections walk only
what was made since. Objects frozen here stay for the process's life, as start-up's objects do
anyway. The server does it once ready to serve (``sync_server.writes.settle_heap``), the desktop
once the main window is up (``desktop.app``).

Work that makes many objects which live until it ends (a download's pages, a pushed batch's rows,
change-log rows and audit events) pauses the collector meanwhile (:func:`collector_paused`).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def settle_heap() -> None:
    """Collect what start-up left as garbage, then freeze every object that remains.

    Called again (the desktop once the window of another organization is up), what the call
    before froze is looked at again first: a frozen object is never collected, so the objects
    of a window closed since, held in reference cycles, would otherwise stay for good."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


_pause_lock = threading.Lock()
_paused_by = 0  # bursts running in collector_paused
_collector_was_enabled = True  # as the first of them found it
# Bursts that keep overlapping (a busy server's pushes) would keep the collector paused for good:
# a burst that ends while others run collects the young generations once this many objects were
# allocated (net) since the last collection, so cycles left by finished bursts are still freed.
COLLECT_WHILE_PAUSED_AFTER = 500_000


def bursts_paused() -> int:
    """How many bursts hold the cycle collector paused now (:func:`collector_paused`): a test
    waits for none before judging the collector (an earlier test's download on Qt's pool, or a
    live server's push, may still be running in the same process)."""
    with _pause_lock:
        return _paused_by


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a burst of work runs; as it was found afterwards.

    A burst that keeps what it makes until it ends (a downloaded page's rows; a pushed batch's
    rows, change-log rows and audit events) sets off collection after collection, each walking
    objects that are all still alive, and a full one holds the interpreter lock for as long as it
    walks: on the desktop that froze the interface (bench/bench_sync_ui.py); on the server it was
    8-17 ms of a 1,000-command push of posted invoices (bench/README.md, stop 29). Reference
    counting still frees everything the moment it is dropped; only cycles wait for the next
    collection.

    Process-wide, as the collector is: overlapping bursts (server threads) share one pause,
    counted under a lock; the first to start pauses the collector, the last to end puts it back
    as the first found it. (Each looking and restoring for itself, a burst that started during
    another's and ended after it left the collector off for good: reproduced in review.)
    """
    global _paused_by, _collector_was_enabled
    with _pause_lock:
        if _paused_by == 0:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
        _paused_by += 1
    try:
        yield
    finally:
        with _pause_lock:
            _paused_by -= 1
            if _paused_by == 0:
                if _collector_was_enabled:
                    gc.enable()
            elif _collector_was_enabled and gc.get_count()[0] >= COLLECT_WHILE_PAUSED_AFTER:
                gc.collect(1)

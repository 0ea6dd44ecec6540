"""The one way to run work off the GUI thread (like Anki's ``QueryOp``/``CollectionOp``).

``run_op(parent, work, on_success=..., on_failure=..., busy=...)`` runs ``work(progress)`` on the
global thread pool. Its result, error and progress reports come back through queued signals, so
every callback runs on the GUI thread; ``work`` itself must never touch a widget. Unlocking the
store (Argon2, a few tenths of a second), HTTP calls and local writes all go through here, so the
interface never freezes on disk or network.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import shiboken6

from desktop.qt import QObject, QThreadPool, Signal

log = logging.getLogger(__name__)

# Progress reports are throttled so a long job never floods the GUI thread's event queue.
PROGRESS_INTERVAL_S = 0.05


@dataclass(frozen=True)
class Progress:
    """One progress report: ``done`` of ``total`` (``None`` when unknown), and what is happening."""

    done: int
    total: int | None
    text: str


ProgressCallback = Callable[[int, int | None, str], None]


class BusyIndicator(Protocol):
    """Something that shows the user that work is going on (status bar, dialog)."""

    def begin_busy(self, text: str) -> None: ...

    def end_busy(self) -> None: ...

    def show_progress(self, progress: Progress) -> None: ...


class _Relay(QObject):
    """Lives on the GUI thread; signals emitted from the worker are delivered queued."""

    succeeded = Signal(object)
    failed = Signal(object)
    progressed = Signal(object)


# Operations whose result has not reached the GUI thread yet.
_ACTIVE: set[_Job] = set()


def active_count() -> int:
    """How many operations are started and not yet delivered (tests wait for zero)."""
    return len(_ACTIVE)


class _Job:
    """The worker side of one operation: runs ``work`` and reports through the relay.

    It is handed to ``QThreadPool.start`` as a plain callable, so Qt and PySide own the runnable
    wrapping it; a Python ``QRunnable`` subclass would be freed by its last Python reference while
    its ``run`` is still on the worker's stack.
    """

    def __init__(self, work: Callable[[ProgressCallback], Any], relay: _Relay) -> None:
        self.work = work
        self.relay = relay
        self._last_progress = 0.0

    def _progress(self, done: int, total: int | None, text: str) -> None:
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_INTERVAL_S and done != total:
            return
        self._last_progress = now
        self._emit(self.relay.progressed, Progress(done, total, text))

    def _emit(self, signal: Any, value: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the receiving window is gone; nothing to tell
            signal.emit(value)

    def __call__(self) -> None:
        try:
            result = self.work(self._progress)
        except BaseException as exc:
            self._emit(self.relay.failed, exc)
        else:
            self._emit(self.relay.succeeded, result)


def run_op(
    parent: QObject | None,
    work: Callable[[ProgressCallback], Any],
    *,
    on_success: Callable[[Any], None] | None = None,
    on_failure: Callable[[BaseException], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    busy: BusyIndicator | None = None,
    busy_text: str = "Working…",
) -> None:
    """Run ``work(progress)`` off the GUI thread; callbacks run on the GUI thread.

    Exactly one of ``on_success``/``on_failure`` is called. Without ``on_failure`` an error is
    logged (by type only: messages may carry user data).
    """
    # The relay has no parent: it must outlive a window closed mid-operation, because the worker
    # still emits through it; callbacks are skipped when the window that asked is gone.
    relay = _Relay()
    op = _Job(work, relay)
    _ACTIVE.add(op)

    def alive() -> bool:
        return parent is None or shiboken6.isValid(parent)

    def finish() -> bool:
        _ACTIVE.discard(op)
        relay.deleteLater()
        if not alive():
            return False
        if busy is not None:
            busy.end_busy()
        return True

    def succeeded(result: Any) -> None:
        if finish() and on_success is not None:
            on_success(result)

    def failed(exc: BaseException) -> None:
        if not finish():
            return
        if on_failure is not None:
            on_failure(exc)
        else:
            log.error("background operation failed: %s", type(exc).__name__)

    def progressed(progress: Progress) -> None:
        if not alive():
            return
        if busy is not None:
            busy.show_progress(progress)
        if on_progress is not None:
            on_progress(progress)

    relay.succeeded.connect(succeeded)
    relay.failed.connect(failed)
    relay.progressed.connect(progressed)
    if busy is not None:
        busy.begin_busy(busy_text)
    QThreadPool.globalInstance().start(op)

"""Sync in the interface: Sync now (F5), the status bar's sync state, the busy indicator.

The sync engine itself has no Qt (``desktop/sync``). It plugs in through one function,
``desktop.sync.sync_function_for(session) -> Callable[[progress], report]``: the controller runs
that callable off the GUI thread, shows its progress, and afterwards recounts pending and
rejected entries and tells every screen that data changed. Until the engine is present, Sync now
checks the connection and refreshes the user's memberships (``GET /me``), nothing more.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from desktop.api_client import ApiError, InvalidCredentialsError, Me, OfflineError, SessionEndedError
from desktop.attention import attention_count
from desktop.background import Progress, ProgressCallback, run_op
from desktop.qt import QHBoxLayout, QLabel, QObject, QProgressBar, QTimer, QWidget, Signal
from desktop.session import MEMBERSHIPS_KEY, UserSession, clear_unsynced_if_empty
from desktop.sync_status import SyncSnapshot, status_text
from desktop.ui.context import UiContext

log = logging.getLogger(__name__)

SyncFunction = Callable[[ProgressCallback], Any]
# While the server cannot be reached, it is tried again this often (a sync that finds it back
# signs in again by itself when needed, then sends what waits).
RECONNECT_PROBE_MS = 30_000


def sync_function_for(session: UserSession) -> SyncFunction | None:
    """The sync engine's entry point for this session, when the engine is installed."""
    try:
        module = importlib.import_module("desktop.sync")
    except ImportError:
        return None
    factory = getattr(module, "sync_function_for", None)
    return factory(session) if callable(factory) else None


class BusyWidget(QWidget):
    """Status-bar busy indicator: a thin progress bar and what is happening."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.text = QLabel("")
        self.text.setObjectName("muted")
        self.bar = QProgressBar()
        self.bar.setFixedWidth(140)
        self.bar.setFixedHeight(10)
        self.bar.setTextVisible(False)
        layout.addWidget(self.text)
        layout.addWidget(self.bar)
        self._depth = 0
        self.hide()

    def begin_busy(self, text: str) -> None:
        self._depth += 1
        self.text.setText(text)
        self.bar.setRange(0, 0)
        self.show()

    def end_busy(self) -> None:
        self._depth = max(0, self._depth - 1)
        if self._depth == 0:
            self.hide()

    def show_progress(self, progress: Progress) -> None:
        self.text.setText(progress.text)
        if progress.total:
            self.bar.setRange(0, progress.total)
            self.bar.setValue(min(progress.done, progress.total))
        else:
            self.bar.setRange(0, 0)

    @property
    def busy(self) -> bool:
        return self._depth > 0


class SyncController(QObject):
    """Runs sync off the GUI thread and keeps the sync facts the status bar shows."""

    changed = Signal()
    finished = Signal(object)
    message = Signal(str)
    # The server refused the password this session was opened with: ask for the current one.
    password_needed = Signal(str)

    def __init__(self, ctx: UiContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session = ctx.session
        # A remembered session has not tried the server yet: unknown until the first contact.
        self.online: bool | None = None if self.session.remembered else self.session.online
        self.syncing = False
        self.last_error: str | None = None
        self.sync_function: SyncFunction | None = sync_function_for(self.session)
        ctx.data_changed.connect(self.changed.emit)
        self.reconnect_timer = QTimer(self)
        self.reconnect_timer.setInterval(RECONNECT_PROBE_MS)
        self.reconnect_timer.timeout.connect(self._probe)
        if self.online is False:
            self.reconnect_timer.start()

    def _probe(self) -> None:
        if self.online is not True and not self.syncing:
            self.sync_now()

    def snapshot(self) -> SyncSnapshot:
        store = self.session.store
        return SyncSnapshot(
            online=self.online,
            syncing=self.syncing,
            pending=store.pending_count(),
            attention=attention_count(self.session),
            last_sync_at=self.session.last_sync_at(),
        )

    def status_text(self) -> str:
        return status_text(self.snapshot(), datetime.now(UTC))

    def sync_now(self) -> None:
        self._start(None)

    def sync_with_password(self, password: str) -> None:
        """Sign in again with ``password`` (the server refused the old one), then sync."""
        self._start(password)

    def _start(self, password: str | None) -> None:
        if self.syncing:
            return
        self.syncing = True
        self.last_error = None
        self.changed.emit()
        run_op(
            self,
            lambda progress: self._work(progress, password),
            on_success=self._done,
            on_failure=self._failed,
            busy=self.ctx.busy,
            busy_text="Syncing…" if self.sync_function else "Checking the connection…",
        )

    def _work(self, progress: ProgressCallback, password: str | None) -> Any:
        """One sync; when the server no longer knows this session, sign in again first (once).

        ``password``: the user's current one, typed after the server refused the old one.
        """
        work = self.sync_function or self._check_connection
        if password is not None:
            progress(0, None, "Signing in to the server…")
            self.session.reconnect(password)
            return work(progress)
        try:
            return work(progress)
        except SessionEndedError:
            if not self.session.can_reconnect:
                raise
        progress(0, None, "Signing in to the server again…")
        self.session.reconnect()
        return work(progress)

    def _check_connection(self, progress: ProgressCallback) -> Me:
        progress(0, None, "Contacting the server…")
        me = self.session.api.me()
        self.session.store.set_state(MEMBERSHIPS_KEY, json.dumps([m.to_json() for m in me.memberships]))
        return me

    def _done(self, result: Any) -> None:
        self.syncing = False
        self.online = True
        self.reconnect_timer.stop()
        clear_unsynced_if_empty(self.session.store)
        self.ctx.data_changed.emit()
        self.finished.emit(result)
        self.changed.emit()

    def _failed(self, exc: BaseException) -> None:
        self.syncing = False
        if isinstance(exc, OfflineError):
            self.online = False
            self.last_error = exc.message
            self.reconnect_timer.start()
        elif isinstance(exc, InvalidCredentialsError):
            self.online = True
            self.reconnect_timer.stop()
            self.last_error = (
                "The server did not accept the password you signed in with (was it changed "
                "elsewhere?). Enter your current password to sync."
            )
            self.changed.emit()
            self.password_needed.emit(self.last_error)
            return
        elif isinstance(exc, SessionEndedError):
            self.last_error = f"{exc.message}. Sign out and sign in again to sync."
        elif isinstance(exc, ApiError):
            self.last_error = exc.message
        else:
            log.error("sync failed: %s", type(exc).__name__)
            self.last_error = f"Sync failed: {exc}"
        self.message.emit(self.last_error)
        self.changed.emit()

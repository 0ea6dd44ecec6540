"""What every screen of a signed-in window shares: the session, background work, change news."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common.commands import CommandError, CommandOutcome
from desktop.background import BusyIndicator, Progress, run_op
from desktop.modules import PageSpec
from desktop.qt import QObject, Signal
from desktop.session import UserSession


class NullBusy:
    def begin_busy(self, text: str) -> None:
        pass

    def end_busy(self) -> None:
        pass

    def show_progress(self, progress: Progress) -> None:
        pass


class ChangeNews(QObject):
    """The one signal every screen of a window listens to."""

    data_changed = Signal()


class UiContext:
    """Shared by the screens of one main window.

    ``data_changed`` fires after every local change (a command applied, an entry resolved, a
    sync finished), so every list refreshes and the status bar recounts.

    Each page gets its own view (:meth:`for_page`) sharing the window's session, busy indicator
    and signal: ``writable`` there says whether this user may write on that page, from the
    command the page declares (``REGISTRY[command].permission``).
    """

    def __init__(
        self,
        session: UserSession,
        busy: BusyIndicator | None = None,
        parent: QObject | None = None,
        *,
        news: ChangeNews | None = None,
        page: PageSpec | None = None,
    ) -> None:
        self.session = session
        self.busy: BusyIndicator = busy or NullBusy()
        self.news = news if news is not None else ChangeNews(parent)
        self.data_changed = self.news.data_changed
        self.page = page
        self._window: UiContext | None = None
        self._open_history: Callable[..., Any] | None = None

    @property
    def open_history(self) -> Callable[..., Any] | None:
        return self._window.open_history if self._window is not None else self._open_history

    @open_history.setter
    def open_history(self, value: Callable[..., Any] | None) -> None:
        self._open_history = value

    def for_page(self, page: PageSpec) -> UiContext:
        """The context of one page of this window."""
        view = UiContext(self.session, self.busy, news=self.news, page=page)
        view._window = self._window or self
        return view

    def run(
        self,
        owner: QObject,
        work: Callable[[], Any],
        *,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        busy_text: str = "Working…",
    ) -> None:
        """Run ``work()`` off the GUI thread with the window's busy indicator."""
        run_op(
            owner,
            lambda _progress: work(),
            on_success=on_success,
            on_failure=on_failure,
            busy=self.busy,
            busy_text=busy_text,
        )

    def apply(
        self,
        owner: QObject,
        name: str,
        args: dict[str, Any],
        *,
        on_done: Callable[[CommandOutcome], None] | None = None,
        on_refused: Callable[[CommandError], Any] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        busy_text: str = "Saving…",
    ) -> None:
        """Apply a command in the background; ``on_refused`` gets the named problem."""

        def done(result: tuple[str, CommandOutcome]) -> None:
            self.data_changed.emit()
            if on_done is not None:
                on_done(result[1])

        def failed(exc: BaseException) -> None:
            if isinstance(exc, CommandError) and on_refused is not None:
                on_refused(exc)
            elif on_error is not None:
                on_error(exc)
            elif on_refused is not None:
                on_refused(CommandError("error", f"could not save: {exc}"))

        self.run(
            owner,
            lambda: self.session.apply(name, args),
            on_success=done,
            on_failure=failed,
            busy_text=busy_text,
        )

    def can(self, permission: str) -> bool:
        return self.session.can(permission)

    @property
    def writable(self) -> bool:
        """True when this user may write on the page: they hold its command's permission."""
        permission = self.page.write_permission if self.page is not None else None
        return permission is not None and self.session.can(permission)

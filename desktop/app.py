"""``ops-desktop [--server URL]``: the desktop application's entry point.

The :class:`DesktopApp` moves between the sign-in window and the main window: it opens a
remembered session straight away ("remember me"), shows the main window after a sign-in, and
goes back to the sign-in window after signing out or to switch organization.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from common.heap import settle_heap
from desktop import selfcheck
from desktop.background import run_op
from desktop.profiles import data_root
from desktop.qt import QApplication, QObject, QTimer
from desktop.session import UserSession
from desktop.signin import open_remembered, sign_out
from desktop.ui.main_window import MainWindow
from desktop.ui.signin import DemoInfo, SignInDialog
from desktop.ui.theme import apply_theme
from desktop.version import PRODUCT_NAME, app_version

log = logging.getLogger(__name__)


def display_problem(command: str = "ops-desktop") -> str | None:
    """Why no window can be shown here (``None`` when one can), with what to do about it."""
    if sys.platform.startswith("linux") and not any(
        os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    ):
        return (
            "There is no display to show the application on (neither DISPLAY nor WAYLAND_DISPLAY is set).\n"
            f"Run it from a desktop session, or under a virtual display:  xvfb-run -a {command}\n"
            "(or set QT_QPA_PLATFORM=offscreen to run it without showing anything)."
        )
    return None


# Sync in the background this often while the app is open (and once right after sign-in).
AUTO_SYNC_MINUTES = 2.0


class DesktopApp(QObject):
    """The application's windows over its lifetime."""

    def __init__(
        self,
        *,
        root: Path | None = None,
        server_url: str = "",
        demo: DemoInfo | None = None,
        ca_bundle: str | None = None,
        auto_sign_in: str | None = None,
        auto_sync_minutes: float = AUTO_SYNC_MINUTES,
    ) -> None:
        super().__init__()
        self.auto_sign_in = auto_sign_in if demo is not None else None
        self.auto_sync_minutes = auto_sync_minutes
        self.root = root or data_root()
        self.server_url = server_url
        self.demo = demo
        self.ca_bundle = ca_bundle
        self.session: UserSession | None = None
        self.window: MainWindow | None = None
        self.sign_in_dialog: SignInDialog | None = None

    def start(self) -> None:
        remembered = open_remembered(self.root, server_url=self.server_url or None, ca_bundle=self.ca_bundle)
        if remembered is not None:
            remembered.demo = self.demo is not None
            self.show_main(remembered)
            return
        dialog = self.show_sign_in()
        if self.auto_sign_in:
            # make run: the demo opens signed in (the sign-in screen still lists the demo accounts).
            dialog.fill_demo(self.auto_sign_in)
            dialog.sign_in()

    def show_sign_in(
        self, *, email: str = "", org_id: str | None = None, notice: str | None = None
    ) -> SignInDialog:
        dialog = SignInDialog(
            self.root,
            server_url=self.server_url,
            email=email,
            org_id=org_id,
            demo=self.demo,
            ca_bundle=self.ca_bundle,
            notice=notice,
        )
        dialog.signed_in.connect(self.show_main)
        dialog.rejected.connect(self._sign_in_cancelled)
        self.sign_in_dialog = dialog
        dialog.show()
        return dialog

    def _sign_in_cancelled(self) -> None:
        if self.window is None:
            QApplication.quit()

    def show_main(self, session: UserSession) -> MainWindow:
        self.session = session
        self.server_url = session.server_url
        window = MainWindow(session)
        window.sign_out_requested.connect(self.sign_out)
        window.switch_requested.connect(self.switch_organization)
        self.window = window
        window.show()
        # Start-up's objects (modules, mappers, the first screen) out of the collector's sight:
        # a full collection walking them all stalled the interface for up to ~90 ms (common.heap).
        QTimer.singleShot(0, settle_heap)
        if self.auto_sync_minutes > 0:
            # Sync right away (a first sign-in fetches the organization's data), then regularly.
            # After an offline sign-in the sync controller keeps trying the server and signs in
            # again by itself when it answers.
            if session.online:
                window.sync.sync_now()
            window.start_auto_sync(int(self.auto_sync_minutes * 60_000))
        return window

    def _close_window(self) -> None:
        if self.window is not None:
            window, self.window = self.window, None
            window.leaving_confirmed = True  # signing out or switching: already asked where needed
            window.close()
            window.deleteLater()

    def sign_out(self) -> None:
        session = self.session
        if session is None:
            return
        self.session = None
        email = session.user.email
        window = self.window
        if window is not None:
            window.setEnabled(False)

        # The sign-in window opens before the main window closes: closing the last window quits.
        def done(note: str | None) -> None:
            self.show_sign_in(email=email, notice=note or "You are signed out.")
            self._close_window()

        def failed(exc: BaseException) -> None:
            self.show_sign_in(email=email, notice=f"Signed out; {exc}")
            self._close_window()

        run_op(None, lambda _p: sign_out(session), on_success=done, on_failure=failed)

    def switch_organization(self, org_id: str) -> None:
        session = self.session
        if session is None:
            return
        self.session = None
        email = session.user.email
        self.show_sign_in(
            email=email, org_id=org_id, notice="Enter your password to open the other organization."
        )
        self._close_window()
        session.close()

    def shutdown(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ops-desktop", description="Operations Management desktop application"
    )
    parser.add_argument(
        "--server", default=os.environ.get("OPS_SERVER_URL", ""), help="the sync server's address"
    )
    parser.add_argument("--ca-bundle", default=None, help="CA bundle to trust (also OPS_CA_BUNDLE)")
    parser.add_argument(
        "--data-dir", default=None, help="where local data is kept (also OPS_DESKTOP_DATA_DIR)"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {app_version()}")
    parser.add_argument(
        "--self-check",
        action="store_true",
        help="check that this installation's parts load (Qt, SQLCipher, certificates, keyring) and exit",
    )
    # The self-check's child process (Qt ends a process whose platform cannot start).
    parser.add_argument(selfcheck.GUI_PROBE_FLAG, metavar="DIR", default=None, help=argparse.SUPPRESS)
    return parser


def run(
    *,
    server_url: str = "",
    demo: DemoInfo | None = None,
    ca_bundle: str | None = None,
    root: Path | None = None,
    auto_sign_in: str | None = None,
) -> int:
    """Show the application until its last window closes; returns the exit code."""
    problem = display_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(PRODUCT_NAME)
    app.setApplicationVersion(app_version())
    app.setOrganizationName("OpsManagement")
    apply_theme(app)
    desktop = DesktopApp(
        root=root, server_url=server_url, demo=demo, ca_bundle=ca_bundle, auto_sign_in=auto_sign_in
    )
    _quit_on_signals(app)
    desktop.start()
    try:
        return app.exec()
    finally:
        desktop.shutdown()


def _quit_on_signals(app: QApplication) -> None:
    """Ctrl+C or a termination request closes the app normally (so the demo server is stopped).

    Python handles signals only while Python code runs; a light timer lets it in regularly.
    """
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: app.quit())
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(250)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    if args.self_check or args.self_check_gui:
        logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per check, no more
    if args.self_check_gui:
        return selfcheck.gui_probe(Path(args.self_check_gui))
    if args.self_check:
        return selfcheck.run_self_check(server_url=args.server, ca_bundle=args.ca_bundle)
    root = Path(args.data_dir) if args.data_dir else None
    return run(server_url=args.server, ca_bundle=args.ca_bundle, root=root)


if __name__ == "__main__":
    sys.exit(main())

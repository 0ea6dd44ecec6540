"""What the session asks the user: the current password when the server refused the one given
at an offline sign-in, and a word before signing out or quitting with changes not yet sent.

Both are window-modal but non-blocking (``open()``): nothing waits on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop.attention import attention_count
from desktop.formatting import count
from desktop.qt import QDialog, QDialogButtonBox, QLineEdit, QMessageBox, QVBoxLayout, QWidget
from desktop.session import UserSession
from desktop.ui import theme
from desktop.ui.sync_controller import SyncController
from desktop.ui.widgets import label


class PasswordPrompt(QDialog):
    """ "Enter your current password": signs in again in place and syncs (no sign-out)."""

    def __init__(self, parent: QWidget, sync: SyncController, reason: str) -> None:
        super().__init__(parent)
        self.sync = sync
        self.setWindowTitle("Sign in to the server again")
        self.setModal(True)
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN)
        layout.addWidget(label(reason, None, wrap=True))
        layout.addWidget(
            label(
                f"Signed in as {sync.session.user.email}. Your changes stay on this computer until then.",
                "muted",
                wrap=True,
            )
        )
        self.password = QLineEdit()
        self.password.setObjectName("field_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Current password")
        layout.addWidget(self.password)
        buttons = QDialogButtonBox()
        self.ok_button = buttons.addButton("Sign in and sync", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setObjectName("primary")
        self.ok_button.setDefault(True)
        buttons.addButton("Later", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def submit(self) -> None:
        password = self.password.text()
        if not password:
            self.password.setFocus()
            return
        self.password.clear()
        self.accept()
        self.sync.sync_with_password(password)


def attach_password_prompt(window: QWidget, sync: SyncController) -> None:
    """Ask for the current password whenever the server refuses the session's one."""

    def ask(reason: str) -> None:
        previous = getattr(window, "password_prompt", None)
        if isinstance(previous, PasswordPrompt) and previous.isVisible():
            return
        prompt = PasswordPrompt(window, sync, reason)
        window.password_prompt = prompt  # type: ignore[attr-defined]
        prompt.open()

    sync.password_needed.connect(ask)


def unsent_summary(session: UserSession) -> str | None:
    """How many changes the server has not seen, and what happens to them; None when none."""
    pending = session.store.pending_count()
    attention = attention_count(session)
    if not pending and not attention:
        return None
    parts = []
    if pending:
        parts.append(
            f"{count(pending)} change{'s have' if pending != 1 else ' has'} not been sent to the server yet"
        )
    if attention:
        parts.append(
            f"{count(attention)} change{'s were' if attention != 1 else ' was'} refused by the server and "
            f"wait{'s' if attention == 1 else ''} in Needs attention"
        )
    text = " and ".join(parts)
    return (
        f"{text[0].upper()}{text[1:]}. They stay safely on this computer and are sent the next time you "
        "sign in here with this account while the server can be reached. Nothing is lost."
    )


def ask_before_leaving(
    parent: QWidget, session: UserSession, verb: str, proceed: Callable[[], None]
) -> QMessageBox | None:
    """Say how many changes are unsent before ``verb`` ("Sign out", "Quit"); ``proceed`` on yes.

    Returns the open message box (None when nothing is unsent and ``proceed`` already ran).
    """
    summary = unsent_summary(session)
    if summary is None:
        proceed()
        return None
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(f"{verb} with unsent changes?")
    box.setText(summary)
    go = box.addButton(verb, QMessageBox.ButtonRole.AcceptRole)
    stay = box.addButton("Stay", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(stay)
    box.setEscapeButton(stay)
    box.buttonClicked.connect(lambda clicked: proceed() if clicked is go else None)
    box.open()
    return box

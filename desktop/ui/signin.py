"""The sign-in window: server, e-mail, password; then, if needed, which organization or the
previous password. Every step runs off the GUI thread (Argon2 and HTTP take a moment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop import keychain
from desktop.api_client import ApiError
from desktop.background import run_op
from desktop.invitation import AcceptInvitation, Invitation
from desktop.qt import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QStackedWidget,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.session import UserSession
from desktop.signin import (
    ChooseOrganization,
    Credentials,
    PreviousPasswordNeeded,
    SignIn,
    SignInError,
    known_sign_ins,
)
from desktop.ui import theme
from desktop.ui.invitation import InvitationPage
from desktop.ui.widgets import Notice, button, label, set_invalid

ORG_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class DemoInfo:
    """Shown on the sign-in screen in demo mode only."""

    password: str
    accounts: tuple[tuple[str, str], ...] = field(
        default=(
            ("admin@acme.test", "Admin"),
            ("warehouse@acme.test", "Warehouse"),
            ("sales@acme.test", "Sales"),
            ("hr@acme.test", "HR"),
        )
    )


class SignInDialog(QDialog):
    signed_in = Signal(object)

    def __init__(
        self,
        root: Path,
        *,
        server_url: str = "",
        email: str = "",
        org_id: str | None = None,
        demo: DemoInfo | None = None,
        ca_bundle: str | None = None,
        notice: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.root = root
        self.demo = demo
        self.org_id = org_id
        self.ca_bundle = ca_bundle
        self.attempt: SignIn | None = None
        self.session: UserSession | None = None
        self.busy_running = False
        self.setWindowTitle("Sign in — Operations")
        self.setMinimumWidth(480)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(
            theme.PAGE_MARGIN * 2, theme.PAGE_MARGIN * 2, theme.PAGE_MARGIN * 2, theme.PAGE_MARGIN
        )
        outer.setSpacing(theme.SPACING * 2)
        outer.addWidget(label("Operations", "brand"))
        self.subtitle = label("Sign in to your organization", "muted")
        outer.addWidget(self.subtitle)
        self.notice = Notice()
        self.notice.show_text(notice)
        outer.addWidget(self.notice)
        self.pages = QStackedWidget()
        outer.addWidget(self.pages)
        self._build_credentials(server_url, email)
        self._build_organizations()
        self._build_previous_password()
        self._build_invitation()
        self.error = label("", "formError", wrap=True)
        self.error.hide()
        outer.addWidget(self.error)
        busy_row = QHBoxLayout()
        self.busy_text = label("", "muted")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setFixedHeight(8)
        self.busy_bar.setTextVisible(False)
        busy_row.addWidget(self.busy_text)
        busy_row.addWidget(self.busy_bar, 1)
        self.busy_box = QWidget()
        self.busy_box.setLayout(busy_row)
        self.busy_box.hide()
        outer.addWidget(self.busy_box)
        if server_url and email:
            self.password.setFocus()
        elif server_url:
            self.email.setFocus()

    # -- pages ---------------------------------------------------------------------------------
    def _build_credentials(self, server_url: str, email: str) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.SPACING * 2)
        if self.demo is not None:
            layout.addWidget(self._demo_box(self.demo))
        form = QFormLayout()
        form.setVerticalSpacing(theme.SPACING)
        self.server = QLineEdit(server_url)
        self.server.setPlaceholderText("https://ops.example.com")
        self.server.setMaxLength(500)
        self.email = QLineEdit(email)
        self.email.setPlaceholderText("you@example.com")
        self.email.setMaxLength(254)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setMaxLength(1000)
        self.field_errors: dict[str, QLabel] = {}
        for key, text, widget in (
            ("server_url", "Server", self.server),
            ("email", "E-mail", self.email),
            ("password", "Password", self.password),
        ):
            cell = QVBoxLayout()
            cell.setSpacing(2)
            cell.addWidget(widget)
            error = label("", "fieldError", wrap=True)
            error.hide()
            self.field_errors[key] = error
            cell.addWidget(error)
            form.addRow(text, cell)
        layout.addLayout(form)
        self.remember = QCheckBox("Remember me on this computer")
        layout.addWidget(self.remember)
        if not keychain.keyring_available():
            self.remember.setEnabled(False)
            layout.addWidget(label(keychain.NO_KEYRING_MESSAGE, "muted", wrap=True))
        self.offline_hint = label("", "muted", wrap=True)
        layout.addWidget(self.offline_hint)
        row = QHBoxLayout()
        self.invitation_button = button("Accept an invitation…")
        self.invitation_button.clicked.connect(self.open_invitation)
        row.addWidget(self.invitation_button)
        row.addStretch(1)
        self.sign_in_button = button("Sign in", primary=True)
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.sign_in)
        row.addWidget(self.sign_in_button)
        layout.addLayout(row)
        self.email.editingFinished.connect(self._update_offline_hint)
        self.server.editingFinished.connect(self._update_offline_hint)
        self.password.returnPressed.connect(self.sign_in)
        self.pages.addWidget(page)
        self.credentials_page = page
        self._update_offline_hint()

    def _demo_box(self, demo: DemoInfo) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.SPACING)
        first = demo.accounts[0][0] if demo.accounts else ""
        text = label(
            f"<b>Demo mode.</b> Sign in as <b>{first}</b> with the password <b>{demo.password}</b>. "
            "Every demo user has that password; pick a role to try it:",
            "demoBox",
            wrap=True,
        )
        text.setObjectName("demoBox")
        layout.addWidget(text)
        row = QHBoxLayout()
        for email, role in demo.accounts:
            choice = button(role, tooltip=email)
            choice.clicked.connect(lambda _=False, e=email: self.fill_demo(e))
            row.addWidget(choice)
        row.addStretch(1)
        layout.addLayout(row)
        self.demo_label = text
        return box

    def fill_demo(self, email: str) -> None:
        assert self.demo is not None
        self.email.setText(email)
        self.password.setText(self.demo.password)
        self.password.setFocus()

    def _build_organizations(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.SPACING * 2)
        self.org_intro = label(
            "You belong to several organizations. Which one do you want to open?", wrap=True
        )
        layout.addWidget(self.org_intro)
        self.org_list = QListWidget()
        self.org_list.itemActivated.connect(lambda _item: self.choose_org())
        layout.addWidget(self.org_list)
        row = QHBoxLayout()
        back = button("Back")
        back.clicked.connect(self.back)
        self.org_button = button("Open", primary=True)
        self.org_button.clicked.connect(self.choose_org)
        row.addWidget(back)
        row.addStretch(1)
        row.addWidget(self.org_button)
        layout.addLayout(row)
        self.pages.addWidget(page)
        self.org_page = page

    def _build_previous_password(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.SPACING * 2)
        self.previous_intro = label("", wrap=True)
        layout.addWidget(self.previous_intro)
        form = QFormLayout()
        self.previous_password = QLineEdit()
        self.previous_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.previous_password.setMaxLength(1000)
        self.previous_password.returnPressed.connect(self.unlock_previous)
        form.addRow("Previous password", self.previous_password)
        layout.addLayout(form)
        self.fresh_text = label("", "muted", wrap=True)
        layout.addWidget(self.fresh_text)
        row = QHBoxLayout()
        back = button("Back")
        back.clicked.connect(self.back)
        self.fresh_button = button("Start fresh")
        self.fresh_button.clicked.connect(self.start_fresh)
        self.unlock_button = button("Unlock", primary=True)
        self.unlock_button.clicked.connect(self.unlock_previous)
        row.addWidget(back)
        row.addStretch(1)
        row.addWidget(self.fresh_button)
        row.addWidget(self.unlock_button)
        layout.addLayout(row)
        self.pages.addWidget(page)
        self.previous_page = page

    def _build_invitation(self) -> None:
        self.invitation_page = InvitationPage()
        self.invitation_page.check_button.clicked.connect(self.check_invitation)
        self.invitation_page.link.returnPressed.connect(self.check_invitation)
        self.invitation_page.join_button.clicked.connect(self.join_invitation)
        self.invitation_page.back_button.clicked.connect(self.back)
        self.pages.addWidget(self.invitation_page)
        self.accepting: AcceptInvitation | None = None

    # -- steps ---------------------------------------------------------------------------------
    def open_invitation(self) -> None:
        self.accepting = AcceptInvitation(
            self.root, ca_bundle=self.ca_bundle, remember=self.remember.isChecked()
        )
        self.invitation_page.show_invitation(None)
        self.pages.setCurrentWidget(self.invitation_page)
        self.show_error(None)
        self.invitation_page.link.setFocus()

    def check_invitation(self) -> None:
        if self.accepting is None or self.busy_running:
            return
        accepting, text, server = self.accepting, self.invitation_page.link.text(), self.server.text().strip()
        self._run(lambda: accepting.check(text, server), "Checking the invitation…")

    def join_invitation(self) -> None:
        if self.accepting is None or self.busy_running:
            return
        page, accepting = self.invitation_page, self.accepting
        password, name, repeat, new = (
            page.password.text(),
            page.name.text(),
            page.repeat.text(),
            page.is_new_account,
        )
        self._run(lambda: accepting.join(password, new_account=new, name=name, repeat=repeat), "Joining…")

    def credentials(self) -> Credentials:
        return Credentials(
            server_url=self.server.text().strip(),
            email=self.email.text().strip(),
            password=self.password.text(),
            org_id=self.org_id,
            remember=self.remember.isChecked(),
            ca_bundle=self.ca_bundle,
            demo=self.demo is not None,
        )

    def sign_in(self) -> None:
        if self.busy_running:
            return
        self.attempt = SignIn(self.root, self.credentials())
        attempt = self.attempt
        self._run(attempt.start, "Signing in…")

    def choose_org(self) -> None:
        item = self.org_list.currentItem()
        if item is None or self.attempt is None:
            return
        attempt, org_id = self.attempt, str(item.data(ORG_ROLE))
        self._run(lambda: attempt.choose(org_id), "Opening…")

    def unlock_previous(self) -> None:
        if self.attempt is None:
            return
        attempt, previous = self.attempt, self.previous_password.text()
        self._run(lambda: attempt.with_previous_password(previous), "Unlocking…")

    def start_fresh(self) -> None:
        if self.attempt is None:
            return
        attempt = self.attempt
        self._run(attempt.start_fresh, "Setting the old copy aside…")

    def back(self) -> None:
        self.pages.setCurrentWidget(self.credentials_page)
        self.show_error(None)

    def _run(self, work: Any, text: str) -> None:
        self.show_error(None)
        self._set_busy(True, text)
        run_op(self, lambda _progress: work(), on_success=self._answer, on_failure=self._failed)

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self.busy_running = busy
        self.busy_text.setText(text)
        self.busy_box.setVisible(busy)
        for widget in (
            self.sign_in_button,
            self.org_button,
            self.unlock_button,
            self.fresh_button,
            self.invitation_page.check_button,
            self.invitation_page.join_button,
        ):
            widget.setEnabled(not busy)

    def _answer(self, result: Any) -> None:
        self._set_busy(False)
        if isinstance(result, Invitation):
            self.invitation_page.show_invitation(result)
            self.server.setText(result.server_url)
            self.email.setText(result.email)
            return
        if (
            isinstance(result, UserSession | ChooseOrganization)
            and self.pages.currentWidget() is self.invitation_page
        ):
            # Joined: the rest is an ordinary sign-in with that address (e.g. picking the organization).
            self.invitation_page.clear_secrets()
            if self.accepting is not None and self.accepting.attempt is not None:
                self.attempt = self.accepting.attempt
        if isinstance(result, UserSession):
            self.session = result
            self.password.clear()
            self.previous_password.clear()
            self.signed_in.emit(result)
            self.accept()
        elif isinstance(result, ChooseOrganization):
            self.org_list.clear()
            for membership in result.options:
                item = QListWidgetItem(membership.org_name or membership.org_id)
                item.setData(ORG_ROLE, membership.org_id)
                self.org_list.addItem(item)
            self.org_list.setCurrentRow(0)
            self.org_intro.setText(
                "The server cannot be reached. Which organization's data on this computer do you want to open?"
                if result.offline
                else "You belong to several organizations. Which one do you want to open?"
            )
            self.pages.setCurrentWidget(self.org_page)
            self.org_list.setFocus()
        elif isinstance(result, PreviousPasswordNeeded):
            self.previous_intro.setText(
                f"Your password was changed on the server, but this computer's copy of {result.org_name} is "
                "still locked with your previous password. Enter the previous password once; the copy is "
                "then locked with your new one."
            )
            self.fresh_button.setVisible(result.can_start_fresh)
            self.fresh_text.setText(
                "Forgot it? Start fresh sets this computer's copy aside and downloads the data again "
                "(it holds no unsynced changes)."
                if result.can_start_fresh
                else "This computer's copy holds changes that were never synced, so it can only be opened "
                "with the previous password."
            )
            self.pages.setCurrentWidget(self.previous_page)
            self.previous_password.setFocus()

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, SignInError):
            self.show_error(exc.message, exc.field)
        elif isinstance(exc, ApiError):
            self.show_error(exc.message)
        else:
            self.show_error(f"Sign-in failed: {exc}")

    def show_error(self, message: str | None, field_key: str | None = None) -> None:
        if self.pages.currentWidget() is self.invitation_page:
            self.invitation_page.mark(field_key)
            self.error.setText(message or "")
            self.error.setVisible(bool(message))
            if field_key in ("password", "repeat"):
                self.invitation_page.clear_secrets()
            return
        for key, error in self.field_errors.items():
            shown = message is not None and key == field_key
            error.setText(message if shown and message else "")
            error.setVisible(shown)
            set_invalid(
                {"server_url": self.server, "email": self.email, "password": self.password}[key], shown
            )
        general = message if message is not None and field_key not in self.field_errors else None
        if field_key == "previous_password" and message:
            general = message
        self.error.setText(general or "")
        self.error.setVisible(bool(general))
        if field_key == "password":
            self.password.setFocus()
            self.password.selectAll()

    def _update_offline_hint(self) -> None:
        orgs = known_sign_ins(self.root, self.server.text(), self.email.text()) if self.email.text() else []
        if orgs:
            names = ", ".join(o["org_name"] or o["org_id"] for o in orgs)
            self.offline_hint.setText(
                f"Data on this computer: {names}. You can sign in offline with your password."
            )
        else:
            self.offline_hint.setText("")
        self.offline_hint.setVisible(bool(orgs))

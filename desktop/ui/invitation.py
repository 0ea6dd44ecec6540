"""The sign-in window's invitation page: paste the link, check it, then join with the password of
the account one has, or a new account's name and password (typed twice). The steps are
:class:`desktop.invitation.AcceptInvitation`'s; the dialog runs them off the GUI thread."""

from __future__ import annotations

from desktop.invitation import Invitation
from desktop.qt import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QRadioButton, QVBoxLayout, QWidget
from desktop.ui import theme
from desktop.ui.widgets import button, label, set_invalid


def _password_field() -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setMaxLength(1000)
    return field


class InvitationPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.SPACING * 2)
        layout.addWidget(
            label("Paste the invitation link you were given (or its code), then check it.", wrap=True)
        )
        self.link = QLineEdit()
        self.link.setPlaceholderText("https://ops.example.com/console/#invitation=…")
        self.link.setMaxLength(600)
        check_row = QHBoxLayout()
        check_row.addWidget(self.link, 1)
        self.check_button = button("Check")
        check_row.addWidget(self.check_button)
        layout.addLayout(check_row)
        self.summary = label("", wrap=True)
        layout.addWidget(self.summary)
        self.answers = QWidget()
        answers = QVBoxLayout(self.answers)
        answers.setContentsMargins(0, 0, 0, 0)
        self.existing = QRadioButton("I already have an account with this address")
        self.new_account = QRadioButton("I am new here: create my account")
        self.existing.setChecked(True)
        answers.addWidget(self.existing)
        answers.addWidget(self.new_account)
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setMaxLength(200)
        self.password = _password_field()
        self.repeat = _password_field()
        self.name_label, self.password_label, self.repeat_label = (
            QLabel("Your name"),
            QLabel("Password"),
            QLabel("Repeat the password"),
        )
        form.addRow(self.name_label, self.name)
        form.addRow(self.password_label, self.password)
        form.addRow(self.repeat_label, self.repeat)
        answers.addLayout(form)
        layout.addWidget(self.answers)
        row = QHBoxLayout()
        self.back_button = button("Back")
        self.join_button = button("Join", primary=True)
        row.addWidget(self.back_button)
        row.addStretch(1)
        row.addWidget(self.join_button)
        layout.addLayout(row)
        self.existing.toggled.connect(self._kind_changed)
        self.show_invitation(None)

    @property
    def is_new_account(self) -> bool:
        return self.new_account.isChecked()

    def _kind_changed(self) -> None:
        new = self.is_new_account
        for widget in (self.name_label, self.name, self.repeat_label, self.repeat):
            widget.setVisible(new)
        self.password_label.setText("Choose a password" if new else "Your password")

    def show_invitation(self, invitation: Invitation | None) -> None:
        self.answers.setVisible(invitation is not None)
        self.join_button.setEnabled(invitation is not None)
        self.summary.setText(
            f"You are invited to join <b>{_escape(invitation.org_name)}</b> as <b>{_escape(invitation.email)}</b>."
            if invitation is not None
            else ""
        )
        self._kind_changed()
        if invitation is not None:
            self.password.setFocus()

    def mark(self, field: str | None) -> None:
        widgets = {
            "invitation": self.link,
            "name": self.name,
            "password": self.password,
            "repeat": self.repeat,
        }
        for key, widget in widgets.items():
            set_invalid(widget, key == field)
        if field in widgets:
            widgets[field].setFocus()

    def clear_secrets(self) -> None:
        self.password.clear()
        self.repeat.clear()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

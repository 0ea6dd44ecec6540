"""My data: what the organizations hold about the signed-in person, a copy of it, their requests
and their e-mail preference. Every signed-in user has it (the user menu and the navigation).

Everything here is the server's (``/api/v1/me/…``): nothing of it is in the local copy, so the page
says so when the server cannot be reached. Every call runs off the GUI thread.
"""

from __future__ import annotations

from pathlib import Path

from desktop import privacy_client
from desktop.formatting import count, day, status, timestamp
from desktop.privacy_client import KIND_NAMES, REQUEST_KINDS, HeldSummary, PrivacyRequest, outcome_text
from desktop.qt import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.privacy_common import DownloadBar, PageNotice, SmallTable, card, problem_text
from desktop.ui.widgets import PageHeader, button, label
from desktop.words import entity_title

MY_DATA_KEY = "my_data"
DETAILS_LIMIT = 2000


def say(widget: QLabel, text: str) -> None:
    """Show a line of text (an empty line takes no room)."""
    widget.setText(text)
    widget.setVisible(bool(text))


class NewRequestDialog(QDialog):
    """Ask an organization for access, a copy, a correction, erasure or an opt-out."""

    def __init__(self, page: MyDataPage) -> None:
        super().__init__(page)
        self.page = page
        self.setWindowTitle("New request about my data")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN)
        layout.addWidget(
            label(
                "The organization must answer within 30 days. Your identity is verified by your "
                "sign-in; you are told when it is answered.",
                "muted",
                wrap=True,
            )
        )
        form = QFormLayout()
        self.org = QComboBox()
        self.org.setObjectName("field_org")
        session = page.ctx.session
        for membership in session.memberships:
            self.org.addItem(membership.org_name or membership.org_id, membership.org_id)
        self.org.setCurrentIndex(max(0, self.org.findData(session.org_id)))
        self.kind = QComboBox()
        self.kind.setObjectName("field_kind")
        for key, text in REQUEST_KINDS.items():
            self.kind.addItem(text, key)
        self.details = QPlainTextEdit()
        self.details.setObjectName("field_details")
        self.details.setPlaceholderText("What should be corrected, erased or stopped (optional)")
        self.details.setFixedHeight(90)
        form.addRow("Organization", self.org)
        form.addRow("Request", self.kind)
        form.addRow("Details", self.details)
        layout.addLayout(form)
        self.error = label("", "formError", wrap=True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.send_button = buttons.addButton("Send request", QDialogButtonBox.ButtonRole.AcceptRole)
        self.send_button.setObjectName("primary")
        buttons.addButton("Cancel", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def choose(self, kind: str, details: str = "", org_id: str | None = None) -> None:
        self.kind.setCurrentIndex(self.kind.findData(kind))
        self.details.setPlainText(details)
        if org_id is not None:
            self.org.setCurrentIndex(self.org.findData(org_id))

    def submit(self) -> None:
        details = self.details.toPlainText().strip()
        if len(details) > DETAILS_LIMIT:
            self.show_error(
                f"Details: at most {count(DETAILS_LIMIT)} characters ({count(len(details))} given)"
            )
            return
        org_id, kind = str(self.org.currentData()), str(self.kind.currentData())
        self.send_button.setEnabled(False)
        api = self.page.ctx.session.api
        self.page.ctx.run(
            self,
            lambda: privacy_client.open_my_request(api, org_id, kind, details or None),
            on_success=self.sent,
            on_failure=lambda exc: self.show_error(problem_text(exc, "Sending the request")),
            busy_text="Sending your request…",
        )

    def sent(self, request: PrivacyRequest) -> None:
        self.accept()
        self.page.request_sent(request)

    def show_error(self, text: str) -> None:
        self.send_button.setEnabled(True)
        self.error.setText(text)
        self.error.show()


class MyDataPage(QWidget):
    """The signed-in person's own data and rights."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.requests: list[PrivacyRequest] = []
        self.summary: HeldSummary | None = None
        self.loaded = False
        self.loading = 0
        self.dialog: NewRequestDialog | None = None
        self._build()

    def _build(self) -> None:
        # Header and notice stay above the scrolled sections (a scroll area sizes its content by
        # its size hint, which would cut a wrapped notice short).
        outer = QVBoxLayout(self)
        outer.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, 0)
        outer.setSpacing(2 * theme.SPACING)
        session = self.ctx.session
        header = PageHeader(
            "My data",
            f"What the organizations you belong to hold about you ({session.user.email}), "
            "and your rights under the privacy policy: access, a copy, correction, erasure, opt-out.",
        )
        self.refresh_button = button("Refresh", tooltip="Ask the server again")
        self.refresh_button.clicked.connect(self.reload)
        header.add_action(self.refresh_button)
        outer.addWidget(header)
        self.notice = PageNotice()
        outer.addWidget(self.notice)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        outer.addWidget(scroll, 1)
        body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, theme.PAGE_MARGIN)
        layout.setSpacing(2 * theme.SPACING)

        held, held_layout = card(
            "What is held about you",
            "Every record about you in every organization, your account, sign-in history and the "
            "audit events about you. Showing or saving it is recorded in each organization's audit trail.",
        )
        row = QHBoxLayout()
        self.show_button = button("Show what is held", tooltip="Fetch the list from the server")
        self.show_button.clicked.connect(self.show_held)
        self.save_button = button("Save a copy…", primary=True, tooltip="Download your data as a ZIP file")
        self.save_button.clicked.connect(lambda: self.save_copy())
        row.addWidget(self.show_button)
        row.addWidget(self.save_button)
        row.addStretch(1)
        held_layout.addLayout(row)
        self.download = DownloadBar()
        held_layout.addWidget(self.download)
        self.held_text = label("", "muted", wrap=True)
        self.held_text.hide()
        held_layout.addWidget(self.held_text)
        self.held_table = SmallTable(("Organization", "Kind of record", "Records about you"), "heldTable")
        self.held_table.hide()
        held_layout.addWidget(self.held_table)
        layout.addWidget(held)

        asked, asked_layout = card(
            "Your requests", "Each is answered within 30 days; you get a notification when it is."
        )
        row = QHBoxLayout()
        self.new_button = button(
            "New request…", tooltip="Ask for access, a copy, a correction, erasure or an opt-out"
        )
        self.new_button.clicked.connect(lambda: self.new_request())
        row.addWidget(self.new_button)
        row.addStretch(1)
        asked_layout.addLayout(row)
        self.requests_table = SmallTable(
            ("Organization", "Request", "Status", "Asked", "Due", "Outcome"), "myRequestsTable"
        )
        self.requests_table.hide()  # until the server answered
        asked_layout.addWidget(self.requests_table)
        self.requests_empty = label("You have not made any request.", "muted")
        self.requests_empty.hide()
        asked_layout.addWidget(self.requests_empty)
        layout.addWidget(asked)

        mail, mail_layout = card(
            "E-mail",
            "Security messages (a new device, a password change), policy changes and answers to your "
            "requests are always sent.",
        )
        self.opt_out = QCheckBox("Do not send me other e-mail (low stock, overdue invoices, weekly digest)")
        self.opt_out.setObjectName("emailOptOut")
        self.opt_out.setEnabled(False)
        self.opt_out.toggled.connect(self.set_opt_out)
        mail_layout.addWidget(self.opt_out)
        self.mail_text = label("", "muted", wrap=True)
        self.mail_text.hide()
        mail_layout.addWidget(self.mail_text)
        layout.addWidget(mail)
        layout.addStretch(1)

    # -- loading -------------------------------------------------------------------------------
    def activate(self) -> None:
        if not self.loaded and not self.loading:
            self.reload()

    def reload(self) -> None:
        api = self.ctx.session.api
        self.loading += 1
        self.refresh_button.setEnabled(False)

        def work() -> tuple[list[PrivacyRequest], bool]:
            return privacy_client.my_requests(api), privacy_client.email_opt_out(api)

        self.ctx.run(
            self, work, on_success=self._loaded, on_failure=self._load_failed, busy_text="Asking the server…"
        )

    def _loaded(self, result: tuple[list[PrivacyRequest], bool]) -> None:
        self.loading -= 1
        self.loaded = True
        self.refresh_button.setEnabled(True)
        self.notice.show_text(None)
        self.requests, opted_out = result
        self.show_requests()
        self.opt_out.blockSignals(True)
        self.opt_out.setChecked(opted_out)
        self.opt_out.blockSignals(False)
        self.opt_out.setEnabled(True)

    def _load_failed(self, exc: BaseException) -> None:
        self.loading -= 1
        self.refresh_button.setEnabled(True)
        self.notice.show_text(problem_text(exc, "My data"))

    def org_name(self, org_id: str) -> str:
        for membership in self.ctx.session.memberships:
            if membership.org_id == org_id:
                return membership.org_name or org_id
        return org_id

    def show_requests(self) -> None:
        rows = []
        for r in self.requests:
            state = "Overdue" if r.overdue else status(r.status)
            rows.append(
                [
                    self.org_name(r.org_id),
                    KIND_NAMES.get(r.kind, r.kind),
                    state,
                    timestamp(r.requested_at),
                    day(r.due_at) if r.status == "open" else day(r.completed_at),
                    outcome_text(r.status, r.outcome),
                ]
            )
        self.requests_table.fill(rows, self.requests)
        self.requests_table.setVisible(bool(rows))
        self.requests_empty.setVisible(not rows)

    # -- what is held --------------------------------------------------------------------------
    def show_held(self) -> None:
        api = self.ctx.session.api
        self.show_button.setEnabled(False)
        say(self.held_text, "Asking the server what is held about you…")

        def work() -> HeldSummary:
            return privacy_client.summarize_export(api.download("/me/data-export"))

        self.ctx.run(
            self, work, on_success=self._held, on_failure=self._held_failed, busy_text="Fetching your data…"
        )

    def _held(self, summary: HeldSummary) -> None:
        self.summary = summary
        self.show_button.setEnabled(True)
        account = summary.account
        say(
            self.held_text,
            f"Your account: {account.get('name') or ''} <{account.get('email') or ''}>, "
            f"{count(summary.sign_ins)} sign-in session{'s' if summary.sign_ins != 1 else ''} on record.",
        )
        rows = []
        for org in summary.organizations:
            for entity, n in sorted(org.records.items()):
                rows.append([org.org_name, entity_title(entity).capitalize(), count(n)])
            rows.append([org.org_name, "Audit events about you", count(org.audit_events)])
        self.held_table.fill(rows)
        self.held_table.show()

    def _held_failed(self, exc: BaseException) -> None:
        self.show_button.setEnabled(True)
        say(self.held_text, problem_text(exc, "Showing what is held"))

    def save_copy(self, target: Path | None = None) -> DownloadBar | None:
        """Download the ZIP of everything held about you to ``target`` (asked when not given)."""
        if target is None:
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Save a copy of my data", str(Path.home() / "my-data.zip"), "ZIP files (*.zip)"
            )
            if not chosen:
                return None
            target = Path(chosen)
        api = self.ctx.session.api
        self.download.start(
            target,
            lambda progress, cancelled: privacy_client.download_my_data(api, target, progress, cancelled),
        )
        return self.download

    # -- requests ------------------------------------------------------------------------------
    def new_request(self) -> NewRequestDialog:
        self.dialog = NewRequestDialog(self)
        self.dialog.open()
        return self.dialog

    def request_sent(self, request: PrivacyRequest) -> None:
        self.requests.insert(0, request)
        self.show_requests()

    # -- e-mail --------------------------------------------------------------------------------
    def set_opt_out(self, opted_out: bool) -> None:
        api = self.ctx.session.api
        self.opt_out.setEnabled(False)

        def done(value: bool) -> None:
            self.opt_out.setEnabled(True)
            say(
                self.mail_text,
                "Only essential e-mail is sent to you now."
                if value
                else "You get every kind of e-mail again.",
            )

        def failed(exc: BaseException) -> None:
            self.opt_out.blockSignals(True)
            self.opt_out.setChecked(not opted_out)
            self.opt_out.blockSignals(False)
            self.opt_out.setEnabled(True)
            say(self.mail_text, problem_text(exc, "Changing your e-mail preference"))

        self.ctx.run(
            self,
            lambda: privacy_client.set_email_opt_out(api, opted_out),
            on_success=done,
            on_failure=failed,
            busy_text="Saving your preference…",
        )

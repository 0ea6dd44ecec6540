"""The privacy team's queue (``privacy.manage``): data subject requests with their due dates,
overdue ones flagged; open one to record how the requester's identity was verified, complete or
reject it with its outcome, and download the subject's data as a ZIP.

The queue is the local copy of the requests (it works offline; the commands sync like any
other), the ZIP is built by the server (``GET /api/v1/orgs/{org}/privacy/requests/{id}/export``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.commands.fields import text_limit
from common.commands.privacy import RecordVerificationArgs, RejectDataSubjectRequestArgs, is_overdue
from common.ids import new_id
from common.schema import Customer, DataSubjectRequest, Employee, Supplier
from common.schema.types import utcnow
from desktop import privacy_client
from desktop.formatting import day, status, timestamp
from desktop.lists import Column, ListSource, live, search_terms
from desktop.modules import page
from desktop.privacy_client import KIND_NAMES, outcome_text
from desktop.qt import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.list_page import ListPage
from desktop.ui.privacy_common import DownloadBar
from desktop.ui.widgets import PageHeader, button, label

COLUMNS = (
    Column("kind_name", "Request", width=120, sortable=False),
    Column("subject", "Subject", width=340, sortable=False),
    Column("state", "Status", width=110, sortable=False),
    Column("requested_at", "Asked", kind="datetime", width=150),
    Column("due_at", "Due", kind="date", width=110),
    Column("verification", "Identity verified", stretch=True),
)
SUBJECT_TABLES: dict[str, Any] = {"customer": Customer, "supplier": Supplier, "employee": Employee}
SUBJECT_WORDS = {"customer": "Customer", "supplier": "Supplier", "employee": "Employee", "user": "Member"}


def _decorate(org_id: str, members: dict[str, str]) -> Any:
    def decorate(db: Session, rows: list[dict[str, Any]]) -> None:
        now = utcnow()
        names: dict[tuple[str, str], str] = {}
        for subject_type, model in SUBJECT_TABLES.items():
            ids = [r["subject_id"] for r in rows if r["subject_type"] == subject_type]
            if ids:
                found = db.execute(
                    select(model.id, model.name).where(model.org_id == org_id, model.id.in_(ids))
                )
                names.update({(subject_type, i): n for i, n in found})
        for row in rows:
            key = (row["subject_type"], row["subject_id"])
            word = SUBJECT_WORDS.get(row["subject_type"], row["subject_type"])
            if row["subject_type"] == "user" and row["subject_id"] in members:
                names[key] = members[row["subject_id"]]
            # A UUIDv7 starts with its time: the random tail tells unknown subjects apart.
            row["subject"] = f"{word}: {names[key]}" if key in names else f"{word} …{row['subject_id'][-8:]}"
            row["kind_name"] = KIND_NAMES.get(row["kind"], row["kind"])
            row["overdue"] = is_overdue(row, now)
            row["state"] = "Overdue" if row["overdue"] else status(row["status"])
            row["flagged"] = row["overdue"]

    return decorate


def request_source(ctx: UiContext, members: dict[str, str]) -> ListSource:
    t = DataSubjectRequest.__table__.c
    org_id = ctx.session.org_id

    def build() -> Any:
        return select(
            t.id,
            t.kind,
            t.status,
            t.subject_type,
            t.subject_id,
            t.requested_at,
            t.due_at,
            t.completed_at,
            t.verification,
            t.details,
            t.outcome,
        ).where(live(DataSubjectRequest, org_id))

    return ListSource(
        ctx.session.store,
        COLUMNS,
        build,
        search_keys=("kind", "status", "verification", "details"),
        default_sort="requested_at",
        default_descending=True,
        decorate=_decorate(org_id, members),
    )


class RequestDialog(QDialog):
    """One request: what was asked, by whom, when it is due; the team's actions on it."""

    def __init__(self, queue: PrivacyRequestsPage, row: dict[str, Any]) -> None:
        super().__init__(queue)
        self.queue = queue
        self.row = row
        self.setWindowTitle(f"{row['kind_name']} request")
        self.setMinimumWidth(600)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN)
        layout.setSpacing(theme.SPACING)
        facts = QFormLayout()
        facts.addRow("Subject", label(row["subject"]))
        facts.addRow("Status", label(row["state"], "badge" if row["overdue"] else None))
        facts.addRow("Asked", label(timestamp(row["requested_at"])))
        if row["status"] == "open":
            facts.addRow("Due", label(day(row["due_at"])))
        else:
            facts.addRow("Answered", label(timestamp(row["completed_at"])))
        facts.addRow("Details", label(row.get("details") or "—", wrap=True))
        outcome = outcome_text(row["status"], row.get("outcome") or {})
        if outcome:
            facts.addRow("Outcome", label(outcome, wrap=True))
        layout.addLayout(facts)
        writable = queue.ctx.writable
        is_open = row["status"] == "open"
        self.verification = QLineEdit(row.get("verification") or "")
        self.verification.setObjectName("field_verification")
        self.verification.setMaxLength(text_limit(RecordVerificationArgs, "verification"))
        self.verification.setPlaceholderText("How the identity was checked, e.g. ID card seen at the desk")
        self.verification.setReadOnly(not (writable and is_open))
        self.verify_button = button("Record", tooltip="Record how the requester's identity was verified")
        self.verify_button.clicked.connect(self.record_verification)
        self.verify_button.setVisible(writable and is_open)
        verify_row = QHBoxLayout()
        verify_row.addWidget(self.verification, 1)
        verify_row.addWidget(self.verify_button)
        layout.addWidget(label("Identity verification", None))
        layout.addLayout(verify_row)
        self.note = QPlainTextEdit()
        self.note.setObjectName("field_note")
        self.note.setPlaceholderText("What was done (completing) or why not (rejecting: required)")
        self.note.setFixedHeight(80)
        self.note.setVisible(writable and is_open)
        layout.addWidget(self.note)
        self.error = label("", "formError", wrap=True)
        self.error.hide()
        layout.addWidget(self.error)
        self.download = DownloadBar()
        layout.addWidget(self.download)
        buttons = QHBoxLayout()
        self.download_button = button(
            "Download data…", tooltip="The subject's data as a ZIP (from the server)"
        )
        self.download_button.clicked.connect(lambda: self.download_copy())
        buttons.addWidget(self.download_button)
        buttons.addStretch(1)
        self.reject_button = button("Reject…", danger=True)
        self.reject_button.clicked.connect(self.reject_request)
        self.complete_button = button("Complete", primary=True)
        if row["kind"] == "erasure":
            self.complete_button.setToolTip(
                "Erases the subject's personal data free of legal holds, in every copy"
            )
        self.complete_button.clicked.connect(self.complete_request)
        for widget in (self.reject_button, self.complete_button):
            widget.setVisible(writable and is_open)
            buttons.addWidget(widget)
        for widget in (self.verify_button, self.download_button, self.reject_button, self.complete_button):
            widget.setAutoDefault(False)  # Enter never completes (or erases) by accident
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        buttons.addWidget(close)
        layout.addLayout(buttons)

    def _apply(self, name: str, args: dict[str, Any], then_close: bool) -> None:
        self.error.hide()

        def refused(exc: Any) -> None:
            self.error.setText(exc.message)
            self.error.show()

        self.queue.ctx.apply(
            self,
            name,
            args,
            on_done=lambda _outcome: self.accept() if then_close else None,
            on_refused=refused,
        )

    def record_verification(self) -> None:
        text = self.verification.text().strip()
        if not text:
            self.error.setText("Identity verification: say how the identity was checked")
            self.error.show()
            return
        self._apply(
            "privacy.record_request_verification",
            {"id": self.row["id"], "verification": text},
            then_close=False,
        )

    def complete_request(self) -> None:
        note = self.note.toPlainText().strip()
        args: dict[str, Any] = {"id": self.row["id"]}
        if note:
            args["note"] = note
        self._apply("privacy.complete_data_subject_request", args, then_close=True)

    def reject_request(self) -> None:
        reason = self.note.toPlainText().strip()
        limit = text_limit(RejectDataSubjectRequestArgs, "reason")
        if not reason:
            self.error.setText("Reason: say why the request is rejected (it is sent to the person)")
            self.error.show()
            self.note.setFocus()
            return
        if len(reason) > limit:
            self.error.setText(f"Reason: at most {limit} characters")
            self.error.show()
            return
        self._apply("privacy.reject_data_subject_request", {"id": self.row["id"], "reason": reason}, True)

    def download_copy(self, target: Path | None = None) -> DownloadBar | None:
        if target is None:
            suggested = str(Path.home() / f"data-{self.row['id'][:8]}.zip")
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Save the subject's data", suggested, "ZIP files (*.zip)"
            )
            if not chosen:
                return None
            target = Path(chosen)
        session = self.queue.ctx.session
        request_id = self.row["id"]
        self.download.start(
            target,
            lambda progress, cancelled: privacy_client.download_request_export(
                session.api, session.org_id, request_id, target, progress, cancelled
            ),
        )
        return self.download


def subject_choices(
    ctx: UiContext, subject_type: str, text: str = "", limit: int = 50
) -> list[tuple[str, str]]:
    """(id, name) of the customers, suppliers or employees in this copy whose name holds ``text``."""
    model = SUBJECT_TABLES[subject_type]
    stmt = select(model.id, model.name).where(live(model, ctx.session.org_id))
    for term in search_terms(text):
        stmt = stmt.where(model.name.like(f"%{term}%"))
    with ctx.session.store.read_session() as db:
        return [(str(i), str(n)) for i, n in db.execute(stmt.order_by(model.name).limit(limit))]


class NewSubjectRequestDialog(QDialog):
    """The team records a request made by someone outside (a customer, a supplier's contact, an
    employee without an account), with how their identity was verified."""

    def __init__(self, queue: PrivacyRequestsPage) -> None:
        super().__init__(queue)
        self.queue = queue
        self.setWindowTitle("Record a request")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN)
        form = QFormLayout()
        self.subject_type = QComboBox()
        self.subject_type.setObjectName("field_subject_type")
        for key in SUBJECT_TABLES:
            self.subject_type.addItem(SUBJECT_WORDS[key], key)
        self.search = QLineEdit()
        self.search.setObjectName("field_search")
        self.search.setPlaceholderText("Part of the name")
        self.search.setMaxLength(100)
        self.subject = QComboBox()
        self.subject.setObjectName("field_subject_id")
        self.kind = QComboBox()
        self.kind.setObjectName("field_kind")
        for key, text in KIND_NAMES.items():
            self.kind.addItem(text, key)
        self.verification = QLineEdit()
        self.verification.setObjectName("field_verification")
        self.verification.setMaxLength(text_limit(RecordVerificationArgs, "verification"))
        self.verification.setPlaceholderText("e.g. ID card seen at the desk")
        self.details = QPlainTextEdit()
        self.details.setObjectName("field_details")
        self.details.setFixedHeight(70)
        form.addRow("Who", self.subject_type)
        form.addRow("Find", self.search)
        form.addRow("Subject", self.subject)
        form.addRow("Request", self.kind)
        form.addRow("Identity verified", self.verification)
        form.addRow("Details", self.details)
        layout.addLayout(form)
        self.error = label("", "formError", wrap=True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.save_button = buttons.addButton("Record request", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("primary")
        buttons.addButton("Cancel", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.subject_type.currentIndexChanged.connect(lambda _i: self.find_subjects())
        self.search.textChanged.connect(lambda _t: self.find_subjects())
        self.find_subjects()

    def find_subjects(self) -> None:
        subject_type = str(self.subject_type.currentData())
        choices = subject_choices(self.queue.ctx, subject_type, self.search.text())
        self.subject.clear()
        for subject_id, name in choices:
            self.subject.addItem(name, subject_id)
        if not choices:
            self.subject.addItem(f"No {SUBJECT_WORDS[subject_type].lower()} matches", None)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def submit(self) -> None:
        subject_id = self.subject.currentData()
        verification = self.verification.text().strip()
        if not subject_id:
            self.show_error("Subject: choose who the request is about")
            return
        if not verification:
            self.show_error("Identity verified: say how the requester's identity was checked")
            return
        args: dict[str, Any] = {
            "id": new_id(),
            "subject_type": str(self.subject_type.currentData()),
            "subject_id": str(subject_id),
            "kind": str(self.kind.currentData()),
            "verification": verification,
        }
        details = self.details.toPlainText().strip()
        if details:
            args["details"] = details
        self.queue.ctx.apply(
            self,
            "privacy.open_data_subject_request",
            args,
            on_done=lambda _outcome: self.accept(),
            on_refused=lambda exc: self.show_error(exc.message),
        )


@page("privacy", "privacy.requests", "Requests", writes="privacy.complete_data_subject_request", position=10)
class PrivacyRequestsPage(ListPage):
    title = "Privacy requests"
    subtitle = (
        "Requests for access, a copy, correction, erasure or opt-out. The law gives 30 days to answer; "
        "overdue ones are flagged."
    )
    noun = "request"
    search_placeholder = "Search by kind, status or verification  (Ctrl+F)"
    empty_title = "No requests"
    empty_hint = "Requests people make about their data (in My data, or to your team) appear here."

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        # Members' names come from the server (a workstation has no list of members).
        self.members: dict[str, str] = {}
        super().__init__(ctx, parent)

    def make_source(self) -> ListSource:
        return request_source(self.ctx, self.members)

    def activate(self) -> None:
        super().activate()
        self.fetch_member_names()

    def fetch_member_names(self) -> None:
        session = self.ctx.session

        def work() -> dict[str, str]:
            found = privacy_client.org_requests(session.api, session.org_id)
            return {r.subject_id: r.subject_name for r in found if r.subject_name}

        def fetched(names: dict[str, str]) -> None:
            if any(self.members.get(k) != v for k, v in names.items()):
                self.members.update(names)
                self.model.reload(keep_loaded=True)

        # Offline, members show by their id until the server answers.
        self.ctx.run(
            self, work, on_success=fetched, on_failure=lambda _exc: None, busy_text="Asking the server…"
        )

    @property
    def can_create(self) -> bool:
        return self.ctx.writable

    def new_item(self) -> NewSubjectRequestDialog | None:
        """Ctrl+N: record a request made by a customer, a supplier's contact or an employee."""
        if not self.ctx.writable:
            return None
        self.new_dialog = NewSubjectRequestDialog(self)
        self.new_dialog.open()
        return self.new_dialog

    def add_actions(self, header: PageHeader) -> None:
        self.new_button = button("New request…", tooltip="Record a request made to your team (Ctrl+N)")
        self.new_button.clicked.connect(self.new_item)
        self.new_button.setVisible(self.ctx.writable)
        header.add_action(self.new_button)
        self.open_button = button(
            "Open…", primary=True, tooltip="Verify, answer or download the selected request"
        )
        self.open_button.clicked.connect(self.open_current)
        self.open_button.setEnabled(False)
        header.add_action(self.open_button)

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        self.open_button.setEnabled(row is not None)

    def open_row(self, row: dict[str, Any]) -> RequestDialog:
        self.dialog = RequestDialog(self, row)
        self.dialog.open()
        return self.dialog

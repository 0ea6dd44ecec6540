"""The notification centre: the signed-in user's notifications (security, policy changes, answers
to their requests, low stock…), unread ones first in mind, with the unread count in the window.

Notifications are synced rows only their recipient pulls, so the list works offline. Marking
them read asks the server (``POST /api/v1/orgs/{org}/notifications/read``), which writes it as a
command on the recipient's behalf; the next sync brings it to every workstation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.schema import Notification
from desktop import privacy_client
from desktop.lists import Column, ListSource, live
from desktop.qt import QVBoxLayout, QWidget
from desktop.session import UserSession
from desktop.ui.context import UiContext
from desktop.ui.list_page import ListPage
from desktop.ui.privacy_common import PageNotice, problem_text
from desktop.ui.widgets import PageHeader, button

NOTIFICATIONS_KEY = "notifications"
KIND_WORDS = {
    "security.new_device": "Security",
    "security.password_changed": "Security",
    "invitation": "Invitation",
    "legal.policy_change": "Policy change",
    "privacy.request_status": "Your request",
    "stock.low": "Low stock",
    "invoice.overdue": "Overdue invoice",
    "digest.weekly": "Weekly digest",
}
COLUMNS = (
    # Sorted by the id (UUIDv7: time-ordered), shown as the time it holds.
    Column("when", "When", kind="datetime", width=150),
    Column("state", "", width=70, sortable=False),
    Column("kind_name", "About", width=130, sortable=False),
    Column("title", "Title", width=320),
    Column("body", "Message", stretch=True),
)


def sent_at(notification_id: str) -> datetime | None:
    """When a notification was written: the time in its UUIDv7 id (a read mark changes
    ``updated_at``, never the id)."""
    if len(notification_id) != 36 or notification_id[14] != "7":
        return None
    try:
        millis = int(notification_id[:8] + notification_id[9:13], 16)
    except ValueError:
        return None
    return datetime.fromtimestamp(millis / 1000, UTC)


def _mine(session: UserSession) -> Any:
    t = Notification.__table__.c
    return (live(Notification, session.org_id), t.user_id == session.user.id)


def unread_count(session: UserSession) -> int:
    """How many of the user's notifications in this organization are unread (local copy)."""
    t = Notification.__table__.c
    with session.store.read_session() as db:
        found = db.execute(select(func.count()).where(*_mine(session), t.read_at.is_(None))).scalar()
    return int(found or 0)


def _decorate(db: Session, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        row["when"] = sent_at(row["id"])
        row["kind_name"] = KIND_WORDS.get(row["kind"], row["kind"])
        row["state"] = "Unread" if row["read_at"] is None else ""


def notification_source(session: UserSession) -> ListSource:
    t = Notification.__table__.c

    def build() -> Any:
        return select(t.id, t.id.label("when"), t.kind, t.title, t.body, t.read_at).where(*_mine(session))

    return ListSource(
        session.store,
        COLUMNS,
        build,
        search_keys=("title", "body"),
        default_sort="when",
        default_descending=True,
        decorate=_decorate,
    )


class NotificationsPage(ListPage):
    title = "Notifications"
    subtitle = "Messages for you in this organization: security, policy changes, answers to your requests."
    noun = "notification"
    search_placeholder = "Search notifications  (Ctrl+F)"
    empty_title = "No notifications"
    empty_hint = "Security messages, policy changes and answers to your requests appear here."

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        # Set by the window: a sync brings the read marks back from the server.
        self.after_marking: Callable[[], None] | None = None
        super().__init__(ctx, parent)
        self.notice = PageNotice()
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(1, self.notice)

    def make_source(self) -> ListSource:
        return notification_source(self.ctx.session)

    def add_actions(self, header: PageHeader) -> None:
        self.read_button = button("Mark read", tooltip="Mark the selected notification read")
        self.read_button.clicked.connect(lambda: self.mark_read(selected_only=True))
        self.read_button.setEnabled(False)
        self.all_button = button("Mark all read")
        self.all_button.clicked.connect(lambda: self.mark_read(selected_only=False))
        header.add_action(self.read_button)
        header.add_action(self.all_button)

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        self.read_button.setEnabled(row is not None and row.get("read_at") is None)
        self.all_button.setEnabled(any(r.get("read_at") is None for r in self.model.rows))

    def open_row(self, row: dict[str, Any]) -> Any:
        if row.get("read_at") is None:
            self.mark_ids([row["id"]])
        return None

    def unread_ids(self) -> list[str]:
        t = Notification.__table__.c
        session = self.ctx.session
        with session.store.read_session() as db:
            rows = db.execute(
                select(t.id).where(*_mine(session), t.read_at.is_(None)).order_by(t.id.desc()).limit(200)
            ).scalars()
            return list(rows)

    def mark_read(self, *, selected_only: bool) -> None:
        if selected_only:
            row = self.current_row()
            ids = [row["id"]] if row is not None and row.get("read_at") is None else []
        else:
            ids = self.unread_ids()
        if ids:
            self.mark_ids(ids)

    def mark_ids(self, ids: list[str]) -> None:
        session = self.ctx.session
        self.read_button.setEnabled(False)
        self.all_button.setEnabled(False)

        def done(_marked: int) -> None:
            self.notice.show_text(None)
            if self.after_marking is not None:
                self.after_marking()

        def failed(exc: BaseException) -> None:
            self.selection_changed(self.current_row())
            self.notice.show_text(problem_text(exc, "Marking notifications read"))

        self.ctx.run(
            self,
            lambda: privacy_client.mark_notifications_read(session.api, session.org_id, ids),
            on_success=done,
            on_failure=failed,
            busy_text="Marking read…",
        )

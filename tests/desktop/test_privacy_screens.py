"""Privacy on the desktop against a real server over HTTP (issue 16): My data (what is held, a copy
saved as a ZIP, a request opened and its status, the e-mail opt-out; offline it says it needs the
server), the privacy team's queue (overdue flagged, identity verification recorded, completed and
rejected with their outcome, the subject's ZIP), the notification centre (unread count, mark
read) and the policy prompt (published → shown at the next sign-in → acknowledgement recorded)."""

from __future__ import annotations

import json
import os
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from common.ids import new_id
from common.schema import AppUser, DataSubjectRequest, Notification, PolicyAcknowledgement
from common.schema.types import utcnow
from desktop import background
from desktop.qt import QApplication, QDialog
from desktop.session import UserSession
from desktop.ui.main_window import MainWindow
from desktop.ui.notifications import NOTIFICATIONS_KEY, NotificationsPage
from desktop.ui.privacy_my_data import MY_DATA_KEY, MyDataPage
from desktop.ui.privacy_requests import PrivacyRequestsPage, RequestDialog
from desktop.ui.privacy_tools import PolicyDialog, privacy_tools_of
from desktop.ui.theme import apply_theme
from sync_server import policy
from sync_server.writes import apply_system_command
from tests.desktop.conftest import LiveServer
from tests.desktop.test_sync_ui import open_window, sign_in

ACME = "Acme Trading"


def settle(qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: background.active_count() == 0, timeout=30_000)


def synced(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.sync.syncing, timeout=30_000)
    window.sync.sync_now()
    qtbot.waitUntil(lambda: not window.sync.syncing and background.active_count() == 0, timeout=30_000)
    assert window.sync.last_error is None, window.sync.last_error


def user_id(live_server: LiveServer, email: str) -> str:
    with live_server.services.store.session() as db:
        return str(db.execute(select(AppUser.id).where(AppUser.email == email)).scalar_one())


def my_data(qtbot: QtBot, window: MainWindow) -> MyDataPage:
    page = window.open_page(MY_DATA_KEY)
    assert isinstance(page, MyDataPage)
    qtbot.waitUntil(lambda: page.loaded or page.notice.isVisible(), timeout=30_000)
    return page


def server_request(live_server: LiveServer, request_id: str) -> dict[str, Any]:
    org_id = live_server.orgs[ACME]
    with live_server.services.store.session(org_id) as db:
        row = db.execute(select(DataSubjectRequest.__table__).where(DataSubjectRequest.id == request_id))
        return dict(row.mappings().one())


def test_my_data_shows_what_is_held_saves_a_copy_opens_a_request_and_sets_the_opt_out(
    qtbot: QtBot, live_server: LiveServer, data_root: Path, tmp_path: Path
) -> None:
    session = sign_in(data_root, live_server.url, "warehouse@acme.test", live_server.password)
    window = open_window(qtbot, session)
    page = my_data(qtbot, window)
    assert page.loaded and not page.notice.isVisible()
    assert page.requests_empty.isVisible() and not page.opt_out.isChecked()

    page.show_button.click()
    qtbot.waitUntil(lambda: page.held_table.isVisible(), timeout=30_000)
    held = [[page.held_table.cell_text(r, c) for c in range(3)] for r in range(page.held_table.rowCount())]
    assert ["Acme Trading", "Audit events about you"] in [row[:2] for row in held]
    assert "warehouse@acme.test" in page.held_text.text()

    target = tmp_path / "chosen" / "my copy.zip"
    target.parent.mkdir()
    with qtbot.waitSignal(page.download.finished, timeout=30_000):
        page.save_copy(target)
    assert not target.with_name("my copy.zip.part").exists()
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        data = json.loads(archive.read("data.json"))
    assert "README.txt" in names and "data.json" in names
    assert data["subject"] == {"type": "user", "id": session.user.id}
    assert data["account"]["email"] == "warehouse@acme.test" and "password_hash" not in data["account"]
    assert [o["org_name"] for o in data["organizations"]] == [ACME]
    assert page.download.text.text().startswith("Saved ")

    dialog = page.new_request()
    dialog.choose("erasure", "Please delete my private phone number")
    dialog.send_button.click()
    qtbot.waitUntil(lambda: page.requests_table.rowCount() == 1, timeout=30_000)
    row = [page.requests_table.cell_text(0, c) for c in range(5)]
    assert row[:3] == [ACME, "Erasure", "Open"]
    [request] = page.requests
    assert request.requested_at is not None and request.due_at is not None
    assert request.due_at - request.requested_at == timedelta(days=30)
    assert row[4] == request.due_at.date().isoformat()
    stored = server_request(live_server, request.id)
    assert (stored["kind"], stored["status"], stored["subject_id"]) == ("erasure", "open", session.user.id)
    assert stored["details"] == "Please delete my private phone number"
    assert "signed in as the subject" in stored["verification"]

    page.opt_out.click()
    qtbot.waitUntil(lambda: page.opt_out.isEnabled() and bool(page.mail_text.text()), timeout=30_000)
    with live_server.services.store.session() as db:
        opted = db.execute(select(AppUser.email_opt_out).where(AppUser.id == session.user.id)).scalar()
    assert opted is True and page.opt_out.isChecked()

    # A second visit reads everything back from the server.
    page.reload()
    qtbot.waitUntil(lambda: page.loading == 0, timeout=30_000)
    assert page.opt_out.isChecked() and page.requests_table.rowCount() == 1
    window.leaving_confirmed = True


def test_my_data_offline_says_it_needs_the_server_and_a_cancelled_copy_leaves_nothing(
    qtbot: QtBot, live_server: LiveServer, data_root: Path, tmp_path: Path
) -> None:
    session = sign_in(data_root, live_server.url, "hr@acme.test", live_server.password)
    window = open_window(qtbot, session)
    settle(qtbot)
    page = window.pages[MY_DATA_KEY]
    assert isinstance(page, MyDataPage)
    target = tmp_path / "copy.zip"
    bar = page.save_copy(target)
    assert bar is not None
    bar.cancel()  # at once: the worker is still waiting for the server's first bytes
    qtbot.waitUntil(lambda: not bar.running, timeout=30_000)
    assert bar.text.text() == "The download was cancelled; nothing was kept."
    assert not target.exists() and not target.with_name("copy.zip.part").exists()

    live_server.stop()
    page = my_data(qtbot, window)
    qtbot.waitUntil(lambda: page.notice.isVisible(), timeout=30_000)
    assert "My data needs the server" in page.notice.text()
    assert not page.opt_out.isEnabled()
    window.leaving_confirmed = True


def _open_request_on_server(
    live_server: LiveServer, subject_user: str, kind: str, *, days_ago: int = 0, details: str | None = None
) -> str:
    """A member's own request, opened on the server (``days_ago``: as if made that long ago)."""
    org_id = live_server.orgs[ACME]
    request_id = new_id()
    subject = user_id(live_server, subject_user)
    with live_server.services.store.session(org_id, write=True) as db:
        apply_system_command(
            db,
            org_id,
            "privacy.open_data_subject_request",
            {
                "id": request_id,
                "subject_type": "user",
                "subject_id": subject,
                "kind": kind,
                "details": details,
            },
            new_id(),
            now=utcnow() - timedelta(days=days_ago),
            actor=subject,
        )
    return request_id


def queue_rows(page: PrivacyRequestsPage) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in page.model.rows}


def test_the_privacy_queue_flags_overdue_records_verification_answers_and_downloads(
    qtbot: QtBot, live_server: LiveServer, data_root: Path, tmp_path: Path
) -> None:
    late = _open_request_on_server(live_server, "warehouse@acme.test", "export", days_ago=40)
    fresh = _open_request_on_server(live_server, "warehouse@acme.test", "erasure", details="old phone")
    wrong = _open_request_on_server(live_server, "hr@acme.test", "correction", details="typo in my name")
    session = sign_in(data_root, live_server.url, "admin@acme.test", live_server.password)
    window = open_window(qtbot, session)
    synced(qtbot, window)
    page = window.open_page("privacy.requests")
    assert isinstance(page, PrivacyRequestsPage)
    qtbot.waitUntil(lambda: len(page.model.rows) == 3, timeout=30_000)
    rows = queue_rows(page)
    assert rows[late]["state"] == "Overdue" and rows[late]["overdue"]
    assert rows[fresh]["state"] == "Open" and not rows[fresh]["overdue"]
    assert rows[late]["flagged"] and not rows[fresh]["flagged"]
    assert rows[fresh]["kind_name"] == "Erasure"
    # Members by name: the server tells the team who asks.
    qtbot.waitUntil(
        lambda: queue_rows(page)[fresh]["subject"] == "Member: warehouse <warehouse@acme.test>",
        timeout=30_000,
    )

    # Open the erasure: record how the identity was checked, then complete it with a note.
    page.select_id(fresh)
    page.open_current()
    dialog = page.dialog
    assert isinstance(dialog, RequestDialog) and dialog.complete_button.isVisible()
    dialog.verification.setText("Called back on the number on file")
    dialog.verify_button.click()
    qtbot.waitUntil(lambda: queue_rows(page)[fresh]["verification"] is not None, timeout=30_000)
    dialog.note.setPlainText("Phone number removed")
    dialog.complete_button.click()
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=30_000)

    # A rejection needs its reason.
    page.select_id(wrong)
    page.open_current()
    rejecting = page.dialog
    rejecting.reject_button.click()
    assert rejecting.error.isVisible() and rejecting.error.text().startswith("Reason:")
    rejecting.note.setPlainText("The name is spelled as on the passport you showed")
    rejecting.reject_button.click()
    qtbot.waitUntil(lambda: rejecting.result() == QDialog.DialogCode.Accepted, timeout=30_000)

    synced(qtbot, window)
    done = server_request(live_server, fresh)
    assert done["status"] == "completed" and done["outcome"]["note"] == "Phone number removed"
    assert done["verification"] == "Called back on the number on file"
    refused = server_request(live_server, wrong)
    assert refused["status"] == "rejected" and "passport" in refused["outcome"]["reason"]
    assert queue_rows(page)[fresh]["state"] == "Completed"
    # The person who asked is told (an essential notification: in the app, by e-mail when mailed).
    with live_server.services.store.session(live_server.orgs[ACME]) as db:
        told = db.execute(
            select(Notification.title).where(
                Notification.user_id == user_id(live_server, "warehouse@acme.test")
            )
        ).scalars()
        assert "Your erasure request was completed" in list(told)

    # The overdue copy request: the subject's ZIP from the server.
    page.select_id(late)
    page.open_current()
    copying = page.dialog
    target = tmp_path / "subject.zip"
    with qtbot.waitSignal(copying.download.finished, timeout=30_000):
        copying.download_copy(target)
    with zipfile.ZipFile(target) as archive:
        data = json.loads(archive.read("data.json"))
        assert "README.txt" in archive.namelist()
    assert data["subject"] == {"type": "user", "id": user_id(live_server, "warehouse@acme.test")}
    assert [o["org_name"] for o in data["organizations"]] == [ACME]
    copying.reject()
    window.leaving_confirmed = True


def test_the_queue_is_offered_to_privacy_staff_only(
    qtbot: QtBot, live_server: LiveServer, data_root: Path
) -> None:
    session = sign_in(data_root, live_server.url, "warehouse@acme.test", live_server.password)
    window = open_window(qtbot, session)
    keys = window.page_keys()
    assert "privacy.requests" not in keys
    assert {MY_DATA_KEY, NOTIFICATIONS_KEY} <= set(keys)
    # Reached from the user menu and from the toolbar's notifications button too.
    [action] = [a for a in window.user_menu.actions() if a.objectName() == "myDataAction"]
    action.trigger()
    assert window.current_page() is window.pages[MY_DATA_KEY]
    privacy_tools_of(window).bell.click()
    assert window.current_page() is window.pages[NOTIFICATIONS_KEY]
    settle(qtbot)
    window.leaving_confirmed = True


def test_the_notification_centre_counts_unread_and_marks_read_on_the_server(
    qtbot: QtBot, qapp: QApplication, live_server: LiveServer, data_root: Path, artifacts: Path
) -> None:
    from sync_server.notifications import notify
    from tests.desktop.test_screenshots import clipped_texts

    org_id = live_server.orgs[ACME]
    me = user_id(live_server, "hr@acme.test")
    store = live_server.services.store
    notify(store, None, None, org_id, [me], "stock.low", "Desk lamps are low", "Four left in Main.")
    notify(
        store,
        None,
        None,
        org_id,
        [me],
        "privacy.request_status",
        "Your access request was completed",
        "See My data.",
    )
    notify(
        store, None, None, org_id, [user_id(live_server, "admin@acme.test")], "stock.low", "Not for hr", ""
    )
    session = sign_in(data_root, live_server.url, "hr@acme.test", live_server.password)
    window = open_window(qtbot, session)
    synced(qtbot, window)
    tools = privacy_tools_of(window)
    assert tools.bell.text() == "Notifications (2)" and tools.notifications_item.text() == "Notifications (2)"
    page = window.open_page(NOTIFICATIONS_KEY)
    assert isinstance(page, NotificationsPage)
    qtbot.waitUntil(lambda: len(page.model.rows) == 2, timeout=30_000)
    titles = [r["title"] for r in page.model.rows]
    assert set(titles) == {"Desk lamps are low", "Your access request was completed"}  # only hr's own
    assert all(r["state"] == "Unread" and r["when"] is not None for r in page.model.rows)
    apply_theme(qapp)
    window.resize(1280, 800)
    settle(qtbot)
    qtbot.wait(50)
    assert window.grab().save(str(artifacts / "1280x800-notifications-unread.png"))
    assert clipped_texts(window) == []

    page.select_id(page.model.rows[0]["id"])
    page.read_button.click()
    qtbot.waitUntil(lambda: tools.bell.text() == "Notifications (1)", timeout=30_000)
    page.all_button.click()
    qtbot.waitUntil(lambda: tools.bell.text() == "Notifications", timeout=30_000)
    settle(qtbot)
    assert tools.notifications_item.text() == "Notifications"
    with store.session(org_id) as db:
        read = db.execute(select(Notification.read_at).where(Notification.user_id == me)).scalars().all()
    assert len(read) == 2 and all(r is not None for r in read)
    window.leaving_confirmed = True


def test_a_published_policy_is_shown_at_the_next_sign_in_and_the_acknowledgement_recorded(
    qtbot: QtBot, live_server: LiveServer, data_root: Path
) -> None:
    store = live_server.services.store
    version, notified = policy.publish(
        store,
        "Privacy policy, version 2.\n\nWe now keep notifications one year.",
        summary="Notifications are kept one year, then deleted.",
        effective=date(2027, 1, 1),
    )
    assert version == 2 and notified >= 1
    session = sign_in(data_root, live_server.url, "warehouse@acme.test", live_server.password)
    window = open_window(qtbot, session)
    watcher = privacy_tools_of(window).policy
    qtbot.waitUntil(lambda: watcher.dialog is not None and watcher.dialog.isVisible(), timeout=30_000)
    dialog = watcher.dialog
    assert isinstance(dialog, PolicyDialog)
    assert dialog.summary.text() == "Notifications are kept one year, then deleted."
    assert "version 2" in dialog.windowTitle()
    dialog.read_button.click()
    qtbot.waitUntil(lambda: dialog.text.isVisible(), timeout=30_000)
    assert "notifications one year" in dialog.text.toPlainText()
    dialog.ack_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=30_000)
    me = session.user.id
    with store.session(user_id=me) as db:
        acknowledged = db.execute(
            select(PolicyAcknowledgement.version).where(PolicyAcknowledgement.user_id == me)
        ).scalars()
        assert 2 in list(acknowledged)
    window.leaving_confirmed = True
    window.close()

    # The next sign-in asks nothing: the server has the acknowledgement.
    again = sign_in(data_root, live_server.url, "warehouse@acme.test", live_server.password)
    window = open_window(qtbot, again)
    watcher = privacy_tools_of(window).policy
    qtbot.waitUntil(lambda: watcher.checked, timeout=30_000)
    assert watcher.dialog is None
    window.leaving_confirmed = True


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    root = os.environ.get("OPS_TEST_ARTIFACTS")
    directory = Path(root) / "screenshots" if root else tmp_path / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {directory}")
    return directory


def test_screenshots_of_my_data_and_the_queue(
    qtbot: QtBot, qapp: QApplication, live_server: LiveServer, data_root: Path, artifacts: Path
) -> None:
    from tests.desktop.test_screenshots import clipped_texts

    apply_theme(qapp)
    _open_request_on_server(live_server, "admin@acme.test", "export", days_ago=35)
    _open_request_on_server(live_server, "warehouse@acme.test", "erasure", details="my private phone")
    _open_request_on_server(live_server, "hr@acme.test", "correction", details="typo in my name")
    _open_request_on_server(live_server, "hr@acme.test", "opt_out", days_ago=3)
    session: UserSession = sign_in(data_root, live_server.url, "admin@acme.test", live_server.password)
    window = open_window(qtbot, session)
    window.resize(1280, 800)
    synced(qtbot, window)
    page = my_data(qtbot, window)
    page.show_button.click()
    qtbot.waitUntil(lambda: page.held_table.isVisible(), timeout=30_000)
    settle(qtbot)
    qtbot.wait(50)
    assert window.grab().save(str(artifacts / "1280x800-my_data.png"))
    problems = {"my_data": clipped_texts(window)}
    queue = window.open_page("privacy.requests")
    assert isinstance(queue, PrivacyRequestsPage)
    qtbot.waitUntil(lambda: len(queue.model.rows) == 4, timeout=30_000)
    settle(qtbot)
    qtbot.wait(50)
    assert window.grab().save(str(artifacts / "1280x800-privacy_requests.png"))
    problems["privacy.requests"] = clipped_texts(window)
    queue.select_id(queue.model.rows[0]["id"])
    queue.open_current()
    dialog = queue.dialog
    qtbot.waitExposed(dialog)
    assert dialog.grab().save(str(artifacts / "privacy_request_dialog.png"))
    problems["request dialog"] = clipped_texts(dialog)
    dialog.reject()
    recording = queue.new_item()
    assert recording is not None
    qtbot.waitExposed(recording)
    assert recording.grab().save(str(artifacts / "privacy_new_request_dialog.png"))
    problems["new request dialog"] = clipped_texts(recording)
    recording.reject()
    window.leaving_confirmed = True
    assert all(found == [] for found in problems.values()), problems


def test_an_offline_session_shows_the_new_policy_when_it_reaches_the_server_again(
    qtbot: QtBot, live_server: LiveServer, data_root: Path
) -> None:
    from desktop.signin import sign_out
    from tests.e2e.proxy import DroppingProxy

    with DroppingProxy(live_server.http.port) as network:
        sign_out(sign_in(data_root, network.url, "hr@acme.test", live_server.password))
        network.offline = True
        session = sign_in(data_root, network.url, "hr@acme.test", live_server.password)
        assert not session.online
        try:
            window = open_window(qtbot, session)
            watcher = privacy_tools_of(window).policy
            settle(qtbot)
            assert not watcher.checked and watcher.dialog is None  # nothing asked while offline
            version, _ = policy.publish(
                live_server.services.store,
                "Privacy policy, version 2.",
                summary="Sign-in history is kept one year.",
                effective=date(2027, 2, 1),
            )
            network.offline = False
            window.sync.reconnect_timer.setInterval(20)  # the next try comes at once
            qtbot.waitUntil(lambda: watcher.dialog is not None and watcher.dialog.isVisible(), timeout=30_000)
            assert watcher.dialog.policy.version == version
            assert watcher.dialog.summary.text() == "Sign-in history is kept one year."
            watcher.dialog.ack_button.click()
            qtbot.waitUntil(lambda: watcher.acknowledged is not None, timeout=30_000)
            with live_server.services.store.session(user_id=session.user.id) as db:
                found = db.execute(
                    select(PolicyAcknowledgement.version).where(
                        PolicyAcknowledgement.user_id == session.user.id
                    )
                ).scalars()
                assert version in list(found)
            window.leaving_confirmed = True
        finally:
            session.close()


def test_the_team_records_a_customers_request_with_how_the_identity_was_verified(
    qtbot: QtBot, live_server: LiveServer, data_root: Path
) -> None:
    from tests.desktop.test_sync_ui import command, server_push

    org_id = live_server.orgs[ACME]
    customer_id = new_id()
    server_push(
        live_server,
        "admin@acme.test",
        org_id,
        command(
            "sales.create_customer",
            id=customer_id,
            name="Grace Hopper",
            email="grace@example.test",
            currency="EUR",
        ),
    )
    session = sign_in(data_root, live_server.url, "admin@acme.test", live_server.password)
    window = open_window(qtbot, session)
    synced(qtbot, window)
    page = window.open_page("privacy.requests")
    assert isinstance(page, PrivacyRequestsPage) and page.new_button.isVisible()
    dialog = page.new_item()
    assert dialog is not None
    dialog.search.setText("hopper")
    assert dialog.subject.currentText() == "Grace Hopper"
    dialog.kind.setCurrentIndex(dialog.kind.findData("access"))
    dialog.save_button.click()
    assert dialog.error.text().startswith("Identity verified:")  # refused without it
    dialog.verification.setText("Passport seen at the front desk")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=30_000)
    qtbot.waitUntil(lambda: len(page.model.rows) == 1, timeout=30_000)
    [row] = page.model.rows
    assert row["subject"] == "Customer: Grace Hopper" and row["state"] == "Open"
    synced(qtbot, window)
    stored = server_request(live_server, row["id"])
    assert (stored["subject_type"], stored["subject_id"], stored["kind"]) == (
        "customer",
        customer_id,
        "access",
    )
    assert stored["verification"] == "Passport seen at the front desk"
    assert stored["opened_by"] == session.user.id
    window.leaving_confirmed = True

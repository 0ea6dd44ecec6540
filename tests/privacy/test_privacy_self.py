"""What a member sets about themselves, over HTTP: the e-mail opt-out (read, changed, audited,
honoured by the next non-essential mail), marking their own notifications read (another's is not
found), and the privacy team's verification of a requester's identity (only on open requests);
the queue names member subjects."""

from __future__ import annotations

from sqlalchemy import select

from common.ids import new_id
from common.schema import SCHEMA_VERSION, AppUser, AuditEvent, Notification
from sync_server.notifications import notify
from tests.privacy.conftest import PrivacyServer


def test_the_email_opt_out_is_read_changed_and_audited(privacy_server: PrivacyServer) -> None:
    server = privacy_server
    email = server.a.email("accountant")
    assert server.call("GET", email, "/me/email-preferences").json() == {"email_opt_out": False}
    answer = server.call("PUT", email, "/me/email-preferences", json={"email_opt_out": True})
    assert answer.status_code == 200 and answer.json() == {"email_opt_out": True}
    assert server.call("GET", email, "/me/email-preferences").json() == {"email_opt_out": True}
    user_id = server.a.users["accountant"]
    store = server.services.store
    delivery = notify(store, None, None, server.a.id, [user_id], "stock.low", "Low", "Low stock.")
    assert delivery.notified == [user_id]  # in the app whatever the preference
    with store.session(server.a.id) as db:
        events = db.execute(
            select(AuditEvent.after).where(
                AuditEvent.action == "privacy.email_preferences", AuditEvent.entity_id == user_id
            )
        ).scalars()
        assert {"email_opt_out": True} in list(events)
    bad = server.call("PUT", email, "/me/email-preferences", json={"email_opt_out": "maybe"})
    assert bad.status_code == 400
    server.call("PUT", email, "/me/email-preferences", json={"email_opt_out": False})
    with store.session(user_id=user_id) as db:
        assert db.execute(select(AppUser.email_opt_out).where(AppUser.id == user_id)).scalar() is False


def test_members_mark_their_own_notifications_read_and_no_one_elses(privacy_server: PrivacyServer) -> None:
    server = privacy_server
    store = server.services.store
    mine, theirs = server.a.users["project_manager"], server.a.users["auditor"]
    notify(store, None, None, server.a.id, [mine, theirs], "digest.weekly", "Your week", "Nothing new.")
    with store.session(server.a.id) as db:
        rows = dict(
            db.execute(
                select(Notification.user_id, Notification.id).where(
                    Notification.title == "Your week", Notification.user_id.in_([mine, theirs])
                )
            ).all()
        )
    email = server.a.email("project_manager")
    path = f"/orgs/{server.a.id}/notifications/read"
    other = server.call("POST", email, path, json={"ids": [rows[theirs]]})
    assert other.status_code == 404
    assert server.call("POST", email, path, json={"ids": [new_id()]}).status_code == 404
    assert server.call("POST", email, path, json={"ids": []}).status_code == 400
    done = server.call("POST", email, path, json={"ids": [rows[mine], rows[mine]]})
    assert done.status_code == 200 and done.json() == {"marked": 1}
    listed = {
        n["id"]: n
        for n in server.call("GET", email, f"/orgs/{server.a.id}/notifications").json()["notifications"]
    }
    assert listed[rows[mine]]["read_at"] is not None
    with store.session(server.a.id) as db:
        read = dict(
            db.execute(
                select(Notification.id, Notification.read_at).where(Notification.id.in_(rows.values()))
            ).all()
        )
    assert read[rows[theirs]] is None
    # In another organization the same id is not found either.
    assert server.call("POST", server.b.email("project_manager"), f"/orgs/{server.b.id}/notifications/read",
                       json={"ids": [rows[mine]]}).status_code == 404  # fmt: skip


def test_the_team_records_verification_on_open_requests_only_and_sees_who_asks(
    privacy_server: PrivacyServer,
) -> None:
    server = privacy_server
    admin = server.a.email("admin")
    opened = server.call(
        "POST",
        server.a.email("sales"),
        "/me/privacy/requests",
        json={"org_id": server.a.id, "kind": "access"},
    )
    assert opened.status_code == 201
    request_id = opened.json()["id"]
    server.push(
        admin, server.a, "privacy.record_request_verification", id=request_id, verification="Called back"
    )
    queue = server.call("GET", admin, f"/orgs/{server.a.id}/privacy/requests").json()["requests"]
    [item] = [r for r in queue if r["id"] == request_id]
    assert item["verification"] == "Called back"
    assert item["subject_name"] is not None and "sales@acme.test" in item["subject_name"]
    server.push(admin, server.a, "privacy.complete_data_subject_request", id=request_id)
    body = {
        "client_id": "privacy-tests",
        "schema_version": SCHEMA_VERSION,
        "mutations": [
            {"id": new_id(), "name": "privacy.record_request_verification", "args": {"id": request_id, "verification": "Late"}}
        ],
    }  # fmt: skip
    [result] = server.call("POST", admin, f"/orgs/{server.a.id}/sync/push", json=body).json()["results"]
    assert result["status"] == "rejected" and result["code"] == "invalid_state"
    warehouse = server.a.email("warehouse")
    body["mutations"][0]["id"] = new_id()  # type: ignore[index]
    [refused] = server.call("POST", warehouse, f"/orgs/{server.a.id}/sync/push", json=body).json()["results"]
    assert refused["code"] == "forbidden"

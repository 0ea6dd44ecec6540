"""Data subject requests opened by the subject themselves and by privacy staff: due in 30 days,
identity verification recorded, in the staff's queue, every step audited; the retention schedule
editable within statutory minimums; another organization refused throughout."""

from __future__ import annotations

from datetime import datetime, timedelta

from common.ids import new_id
from common.schema import SCHEMA_VERSION
from tests.privacy.conftest import PrivacyServer


def test_a_member_opens_a_request_about_themselves_and_staff_see_it_in_their_queue(
    privacy_server: PrivacyServer,
) -> None:
    server = privacy_server
    me, admin = server.a.email("employee"), server.a.email("admin")
    answer = server.call(
        "POST",
        me,
        "/me/privacy/requests",
        json={"org_id": server.a.id, "kind": "access", "details": "All of it"},
    )
    assert answer.status_code == 201, answer.text
    request = answer.json()
    assert (request["subject_type"], request["subject_id"]) == ("user", server.a.users["employee"])
    assert request["verification"].startswith("signed in as the subject")
    assert request["opened_by"] == server.a.users["employee"] and request["overdue"] is False
    due = datetime.fromisoformat(request["due_at"]) - datetime.fromisoformat(request["requested_at"])
    assert due == timedelta(days=30)
    mine = server.call("GET", me, "/me/privacy/requests").json()["requests"]
    assert request["id"] in [r["id"] for r in mine]
    queue = server.call("GET", admin, f"/orgs/{server.a.id}/privacy/requests", params={"status": "open"})
    assert request["id"] in [r["id"] for r in queue.json()["requests"]]
    # Completing it is audited, like opening it.
    server.push(
        admin, server.a, "privacy.complete_data_subject_request", id=request["id"], note="Sent the copy"
    )
    events = server.call(
        "GET",
        admin,
        f"/orgs/{server.a.id}/audit",
        params={"entity": "data_subject_request", "entity_id": request["id"]},
    ).json()["events"]
    assert [e["action"] for e in events] == [
        "privacy.complete_data_subject_request",
        "privacy.open_data_subject_request",
    ]
    assert events[-1]["actor"] == server.a.users["employee"]
    # The person who asked is told, in the app (and by e-mail when the server mails).
    notes = server.call("GET", me, f"/orgs/{server.a.id}/notifications").json()["notifications"]
    assert "Your access request was completed" in [n["title"] for n in notes]
    # The copy for that request is the member's data.
    export = server.call("GET", admin, f"/orgs/{server.a.id}/privacy/requests/{request['id']}/export")
    assert export.status_code == 200 and export.headers["Content-Type"] == "application/zip"


def test_another_organization_cannot_see_or_open_requests_here(privacy_server: PrivacyServer) -> None:
    server = privacy_server
    outsider = server.b.email("admin")
    assert server.call("GET", outsider, f"/orgs/{server.a.id}/privacy/requests").status_code in (403, 404)
    answer = server.call(
        "POST", outsider, "/me/privacy/requests", json={"org_id": server.a.id, "kind": "erasure"}
    )
    assert answer.status_code == 404
    theirs = server.call("GET", outsider, f"/orgs/{server.b.id}/privacy/requests").json()["requests"]
    assert all(r["org_id"] == server.b.id for r in theirs)
    # Another organization's subject id is unknown here: opening a request about it is refused.
    customer_id = new_id()
    server.push(
        server.a.email("sales"), server.a, "sales.create_customer", id=customer_id, name="Al", currency="EUR"
    )
    body = {
        "client_id": "attacker",
        "schema_version": SCHEMA_VERSION,
        "mutations": [
            {
                "id": new_id(),
                "name": "privacy.open_data_subject_request",
                "args": {
                    "id": new_id(),
                    "subject_type": "customer",
                    "subject_id": customer_id,
                    "kind": "erasure",
                },
            }
        ],
    }
    [result] = server.call("POST", outsider, f"/orgs/{server.b.id}/sync/push", json=body).json()["results"]
    assert result["status"] == "rejected" and result["code"] == "invalid"


def test_the_retention_schedule_is_editable_within_statutory_minimums(privacy_server: PrivacyServer) -> None:
    server = privacy_server
    admin, path = server.a.email("admin"), f"/orgs/{server.a.id}/privacy/retention"
    schedule = {r["data_type"]: r for r in server.call("GET", admin, path).json()["schedule"]}
    assert schedule["invoices"]["period_days"] >= 3650 and schedule["change_log"]["period_days"] == 90
    assert {"payroll", "employee_records", "customer_contacts", "sign_in_history"} <= set(schedule)
    too_short = {"data_type": "invoices", "period_days": 365, "action": "anonymize", "legal_basis": "none"}
    answer = server.call("PUT", admin, path, json=too_short)
    assert answer.status_code == 400 and "at least" in answer.json()["error"]["message"]
    longer = {
        "data_type": "customer_contacts",
        "period_days": 1500,
        "action": "anonymize",
        "legal_basis": "claims",
    }
    answer = server.call("PUT", admin, path, json=longer)
    assert answer.status_code == 200
    assert {r["data_type"]: r for r in answer.json()["schedule"]}["customer_contacts"]["period_days"] == 1500
    assert server.call("PUT", server.a.email("sales"), path, json=longer).status_code == 403
    assert server.call("GET", server.b.email("admin"), path).status_code in (403, 404)
    events = server.call(
        "GET", admin, f"/orgs/{server.a.id}/audit", params={"action": "privacy.update_retention"}
    ).json()["events"]
    assert events and events[0]["after"] == {"period_days": 1500, "action": "anonymize"}

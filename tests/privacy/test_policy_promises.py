"""One test per promise of the published privacy policy (privacy-policy.txt), each named after
its sentence, over real HTTP on both stores. The deeper scenarios live beside this file
(erasure, export, retention, notifications, requests, policy versions); these check that each
sentence holds as a user would meet it."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import UTC, datetime

import requests
from sqlalchemy import select

from common.ids import new_id
from common.schema import AppUser
from sync_server import admin_ops
from sync_server.notifications import notify, unsubscribe_token
from sync_server.policy import publish
from tests.privacy.conftest import PASSWORD, PrivacyServer


def _member(server: PrivacyServer, role: str = "employee") -> tuple[str, str]:
    email = f"m-{uuid.uuid4().hex[:10]}@acme.test"
    user_id = admin_ops.create_user(
        server.services.store, server.services.passwords, email, "Mo Member", PASSWORD
    )
    admin_ops.grant(server.services.store, email, server.a.id, role)
    return email, user_id


def _my_zip(server: PrivacyServer, email: str) -> tuple[dict, zipfile.ZipFile]:  # type: ignore[type-arg]
    answer = server.call("GET", email, "/me/data-export")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    return json.loads(archive.read("data.json")), archive


def _open(server: PrivacyServer, email: str, kind: str) -> dict:  # type: ignore[type-arg]
    answer = server.call("POST", email, "/me/privacy/requests", json={"org_id": server.a.id, "kind": kind})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_you_have_the_right_to_access_your_personal_information(privacy_server: PrivacyServer) -> None:
    server = privacy_server
    email, user_id = _member(server)
    request = _open(server, email, "access")
    assert request["status"] == "open" and request["due_at"]
    data, _ = _my_zip(server, email)
    assert (data["account"]["id"], data["account"]["email"], data["account"]["name"]) == (
        user_id,
        email,
        "Mo Member",
    )
    assert data["organizations"][0]["records"]["membership"][0]["roles"] == ["employee"]


def test_you_have_the_right_to_correct_inaccurate_or_incomplete_information(
    privacy_server: PrivacyServer,
) -> None:
    server = privacy_server
    sales, admin = server.a.email("sales"), server.a.email("admin")
    customer_id = new_id()
    server.push(sales, server.a, "sales.create_customer", id=customer_id, name="Jon Smyth", currency="EUR")
    request_id = new_id()
    server.push(
        admin,
        server.a,
        "privacy.open_data_subject_request",
        id=request_id,
        subject_type="customer",
        subject_id=customer_id,
        kind="correction",
        details="My name is John Smith",
    )
    server.push(
        sales,
        server.a,
        "sales.update_customer",
        id=customer_id,
        changes={"name": "John Smith"},
        base={"name": "Jon Smyth"},
    )
    server.push(
        admin, server.a, "privacy.complete_data_subject_request", id=request_id, note="Name corrected"
    )
    export = server.call("GET", admin, f"/orgs/{server.a.id}/privacy/requests/{request_id}/export")
    data = json.loads(zipfile.ZipFile(io.BytesIO(export.content)).read("data.json"))
    assert data["organizations"][0]["records"]["customer"][0]["name"] == "John Smith"


def test_you_have_the_right_to_request_deletion_of_your_information_subject_to_legal_and_business_requirements(
    privacy_server: PrivacyServer,
) -> None:
    server = privacy_server
    admin, hr = server.a.email("admin"), server.a.email("hr")
    employee_id = new_id()
    server.push(
        hr, server.a, "hr.create_employee", id=employee_id, name="Still Employed", home_address="Home"
    )
    request_id = new_id()
    server.push(
        admin,
        server.a,
        "privacy.open_data_subject_request",
        id=request_id,
        subject_type="employee",
        subject_id=employee_id,
        kind="erasure",
    )
    result = server.push(admin, server.a, "privacy.complete_data_subject_request", id=request_id)
    assert result["status"] == "applied"
    queue = server.call("GET", admin, f"/orgs/{server.a.id}/privacy/requests").json()["requests"]
    [done] = [r for r in queue if r["id"] == request_id]
    assert done["outcome"]["complete"] is False  # a legal requirement holds the record …
    assert "employment" in done["outcome"]["kept"][0]["reason"]  # … and the subject is told why


def test_you_have_the_right_to_opt_out_of_certain_communications(privacy_server: PrivacyServer) -> None:
    server = privacy_server
    email, user_id = _member(server)
    token = unsubscribe_token(server.services.store, user_id)
    answer = requests.post(f"{server.url}/api/v1/unsubscribe", params={"token": token}, timeout=30)
    assert answer.json() == {"unsubscribed": True}
    with server.services.store.admin_session() as db:
        assert db.execute(select(AppUser.email_opt_out).where(AppUser.id == user_id)).scalar() is True
    del email


def test_you_have_the_right_to_request_a_copy_of_your_data(privacy_server: PrivacyServer) -> None:
    server = privacy_server
    email, _ = _member(server)
    data, archive = _my_zip(server, email)
    assert {"data.json", "README.txt", "membership.csv", "app_user.csv", "sign_in_history.csv"} <= set(
        archive.namelist()
    )
    assert "email: the email (your personal data)" in archive.read("README.txt").decode()
    assert data["sign_in_history"]


def test_retention_periods_may_vary_based_on_the_type_of_data_and_applicable_legal_requirements(
    privacy_server: PrivacyServer,
) -> None:
    server = privacy_server
    schedule = server.call("GET", server.a.email("admin"), f"/orgs/{server.a.id}/privacy/retention").json()[
        "schedule"
    ]
    periods = {r["data_type"]: r["period_days"] for r in schedule}
    assert len(set(periods.values())) >= 4
    assert all(r["legal_basis"] for r in schedule)


def test_we_will_notify_you_of_any_changes_to_this_privacy_policy(privacy_server: PrivacyServer) -> None:
    server = privacy_server
    email, _ = _member(server)
    version, notified = publish(
        server.services.store, "Policy text\n", summary="Changed", effective=datetime.now(UTC).date()
    )
    assert notified >= 1
    assert server.call("GET", email, "/me/policy").json() | {"summary": "x"} == {
        "version": version,
        "effective_date": datetime.now(UTC).date().isoformat(),
        "summary": "x",
        "acknowledged": False,
    }
    notes = server.call("GET", email, f"/orgs/{server.a.id}/notifications").json()["notifications"]
    assert any(n["kind"] == "legal.policy_change" for n in notes)


def test_we_send_important_notifications_and_updates(privacy_server: PrivacyServer) -> None:
    server = privacy_server
    email, user_id = _member(server)
    notify(
        server.services.store,
        None,
        None,
        server.a.id,
        [user_id],
        "privacy.request_status",
        "Done",
        "Your copy",
    )
    notes = server.call("GET", email, f"/orgs/{server.a.id}/notifications").json()["notifications"]
    assert [n["title"] for n in notes if n["kind"] == "privacy.request_status"] == ["Done"]


def test_no_organization_can_access_another_organizations_data(privacy_server: PrivacyServer) -> None:
    server = privacy_server
    request_id = new_id()
    customer_id = new_id()
    server.push(
        server.a.email("sales"), server.a, "sales.create_customer", id=customer_id, name="Iso", currency="EUR"
    )
    server.push(
        server.a.email("admin"),
        server.a,
        "privacy.open_data_subject_request",
        id=request_id,
        subject_type="customer",
        subject_id=customer_id,
        kind="access",
    )
    outsider = server.b.email("admin")
    assert (
        server.call("GET", outsider, f"/orgs/{server.b.id}/privacy/requests/{request_id}/export").status_code
        == 404
    )
    assert server.call(
        "GET", outsider, f"/orgs/{server.a.id}/privacy/requests/{request_id}/export"
    ).status_code in (403, 404)
    data, _ = _my_zip(server, outsider)
    assert "Iso" not in json.dumps(data)


def test_audit_trails_comprehensive_logging_and_audit_tracking(privacy_server: PrivacyServer) -> None:
    server = privacy_server
    admin = server.a.email("admin")
    email, user_id = _member(server)
    request = _open(server, email, "export")
    server.call("GET", admin, f"/orgs/{server.a.id}/privacy/requests/{request['id']}/export")
    events = server.call(
        "GET",
        admin,
        f"/orgs/{server.a.id}/audit",
        params={"entity": "data_subject_request", "entity_id": request["id"]},
    ).json()["events"]
    assert [e["action"] for e in events] == ["privacy.export", "privacy.open_data_subject_request"]
    assert events[-1]["actor"] == user_id
    assert server.call("GET", admin, f"/orgs/{server.a.id}/audit/verify").json()["intact"] is True

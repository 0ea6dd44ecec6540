"""What a user may read is all that reaches their computer: checked on the raw HTTP answers and
in the local database, before and after a role change."""

from __future__ import annotations

from typing import Any

import orjson
import requests

from common.access import readable_columns
from common.classification import Classification, classification_of
from common.ids import new_id
from common.schema import ENTITIES
from common.schema.base import table_of
from tests.e2e.conftest import Client, ClientFactory, Server
from tests.e2e.scenario import create_customer, create_product

PUBLIC_EMPLOYEE = {
    c.name for c in table_of(ENTITIES["employee"]).columns if classification_of(c) is Classification.PUBLIC
} - {"org_id"}
HIDDEN_EMPLOYEE = {c.name for c in table_of(ENTITIES["employee"]).columns} - PUBLIC_EMPLOYEE - {"org_id"}


def capture_pulls(client: Client) -> list[dict[str, Any]]:
    """Every pull answer the client receives, parsed from the raw bytes."""
    bodies: list[dict[str, Any]] = []

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if "/sync/pull" in response.url and response.status_code == 200:
            assert b"salary" not in response.content or client.session.can("hr.sensitive.read")
            bodies.append(orjson.loads(response.content))

    client.session.api.http.hooks["response"].append(hook)
    return bodies


def staff(hr: Client) -> dict[str, str]:
    department = new_id()
    hr.apply("hr.create_department", id=department, code="OPS", name="Operations")
    ids = {}
    for name, salary in (("Ada Lovelace", 520000), ("Alan Turing", 610000)):
        ids[name] = new_id()
        hr.apply(
            "hr.create_employee",
            id=ids[name],
            name=name,
            job_title="Engineer",
            department_id=department,
            work_email=f"{name.split()[0].lower()}@acme.test",
            personal_email=f"{name.split()[0].lower()}@home.example",
            home_address="1 Private Road",
            national_id="ID-123456",
            bank_account="FI21 1234 5600 0007 85",
            salary=salary,
            salary_currency="EUR",
            hire_date="2020-01-01",
        )
    hr.apply(
        "hr.request_leave",
        id=new_id(),
        employee_id=ids["Ada Lovelace"],
        kind="annual",
        start_date="2026-07-01",
        end_date="2026-07-10",
    )
    return ids


def test_a_warehouse_pull_holds_only_public_directory_columns(clients: ClientFactory) -> None:
    hr = clients("hr@acme.test")
    office = clients("admin@acme.test")
    employees = staff(hr)
    create_product(office, "CHAIR")
    create_customer(office)
    hr.sync()
    office.sync()

    depot = clients("warehouse@acme.test")
    answers = capture_pulls(depot)
    depot.sync()

    changes = [change for body in answers for change in body["changes"]]
    assert changes, "the warehouse got nothing"
    entities = {c["entity"] for c in changes}
    assert entities == {"product", "department", "employee"}
    for change in changes:
        allowed = readable_columns(change["entity"], depot.session.permissions) - {"org_id"}
        assert set(change["data"]) <= allowed, change["entity"]
        if change["entity"] == "employee":
            assert set(change["data"]) == PUBLIC_EMPLOYEE
    raw = orjson.dumps(answers)
    for secret in (b"salary", b"520000", b"ID-123456", b"Private Road", b"home.example", b"FI21"):
        assert secret not in raw

    local = {row["id"]: row for row in depot.rows("employee")}
    assert local.keys() == set(employees.values())
    for row in local.values():
        assert all(row[column] in (None, "", 0) for column in HIDDEN_EMPLOYEE - {"version", "updated_at"})
        assert row["salary"] is None and row["national_id"] is None and row["personal_email"] is None
    for entity in ("customer", "leave_request", "payslip", "invoice", "account"):
        assert depot.rows(entity) == []


def test_after_a_role_change_the_client_resyncs_and_loses_what_it_may_no_longer_read(
    clients: ClientFactory, server: Server
) -> None:
    hr = clients("hr@acme.test")
    office = clients("admin@acme.test")
    staff(hr)
    create_product(office, "CHAIR")
    hr.sync()
    office.sync()
    assert {r["salary"] for r in hr.rows("employee")} == {520000, 610000}
    assert len(hr.rows("leave_request")) == 1
    assert hr.rows("product") == []  # hr does not read inventory

    # An administrator makes the HR user a warehouse worker; meanwhile they work offline.
    answer = requests.put(
        f"{server.url}/api/v1/orgs/{server.a.id}/members/{server.a.users['hr']}/roles",
        json={"roles": ["warehouse"]},
        headers={"Authorization": f"Bearer {office.session.api._access_token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    offline_change = new_id()
    hr.apply("hr.create_department", id=offline_change, code="NEW", name="Made offline")

    report = hr.sync()
    assert report.resynced
    (refused,) = hr.outbox()  # kept for the user through the fresh download
    assert (refused["status"], refused["code"]) == ("rejected", "forbidden")
    assert offline_change not in {d["id"] for d in hr.rows("department")}
    assert "inventory.read" in hr.session.permissions and "hr.read" not in hr.session.permissions
    assert {r["salary"] for r in hr.rows("employee")} == {None}
    assert hr.rows("leave_request") == []
    assert [p["sku"] for p in hr.rows("product")] == ["CHAIR"]
    # The next sync goes on incrementally from the fresh copy.
    again = hr.sync()
    assert not again.resynced and again.pulled == 0

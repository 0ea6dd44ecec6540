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
from common.wire import blocks_to_changes
from sync_server.demo import demo_id, seed_demo
from tests.e2e.conftest import PASSWORD, Client, ClientFactory, OrgInfo, Server
from tests.e2e.scenario import create_customer, create_product

PUBLIC_DIRECTORY = {
    c.name
    for c in table_of(ENTITIES["employee_directory"]).columns
    if classification_of(c) is Classification.PUBLIC
} - {"org_id"}
SENSITIVE_COLUMNS = {"salary", "salary_currency", "bank_account", "national_id", "user_id"}
HR_RECORDS = ("employee", "leave_request", "payslip", "payslip_line", "timesheet_entry")


def capture_pulls(client: Client) -> list[dict[str, Any]]:
    """Every pull answer the client receives, parsed from the raw bytes (in the ``changes``
    layout: a ``blocks`` answer, the desktop's, is read back into it); none may hold a
    sensitive column unless the client holds hr.sensitive.read."""
    bodies: list[dict[str, Any]] = []

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if "/sync/pull" in response.url and response.status_code == 200:
            body = orjson.loads(response.content)
            if "blocks" in body:
                body["changes"] = blocks_to_changes(body.pop("blocks"))
            sensitive_sent = SENSITIVE_COLUMNS & _columns_sent([body])
            assert not sensitive_sent or client.session.can("hr.sensitive.read"), sensitive_sent
            bodies.append(body)

    client.session.api.http.hooks["response"].append(hook)
    return bodies


def _columns_sent(answers: list[dict[str, Any]]) -> set[str]:
    return {column for body in answers for change in body["changes"] for column in change.get("data", {})}


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


def test_a_warehouse_pull_holds_no_employee_record_only_the_public_directory(clients: ClientFactory) -> None:
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
    assert {c["entity"] for c in changes} == {"product", "department", "employee_directory"}
    for change in changes:
        allowed = readable_columns(change["entity"], depot.session.permissions) - {"org_id"}
        assert set(change["data"]) <= allowed, change["entity"]
        if change["entity"] == "employee_directory":
            assert set(change["data"]) == PUBLIC_DIRECTORY
    assert not SENSITIVE_COLUMNS & _columns_sent(answers)
    raw = orjson.dumps(answers)
    for secret in (b"salary", b"520000", b"ID-123456", b"Private Road", b"home.example", b"FI21"):
        assert secret not in raw

    directory = {row["id"]: row for row in depot.rows("employee_directory")}
    assert directory.keys() == set(employees.values())
    assert {row["name"] for row in directory.values()} == set(employees)
    for entity in (*HR_RECORDS, "customer", "invoice", "account"):
        assert depot.rows(entity) == [], entity


def test_the_demo_warehouse_user_pulls_no_employee_rows_and_no_salary_fields(
    clients: ClientFactory, server: Server
) -> None:
    """The issue's own words, on the demo data, where every demo user has an employee record."""
    seed_demo(server.services, PASSWORD)
    acme = OrgInfo(id=demo_id("acme", "org"), name="Acme Trading")
    depot = clients("warehouse@acme.test", acme)
    answers = capture_pulls(depot)
    depot.sync()
    entities = {c["entity"] for body in answers for c in body["changes"]}
    assert "employee_directory" in entities and "product" in entities
    assert not set(HR_RECORDS) & entities
    assert not SENSITIVE_COLUMNS & _columns_sent(answers)
    assert demo_id("acme", "employee", "warehouse") in {row["id"] for row in depot.rows("employee_directory")}
    for entity in HR_RECORDS:
        assert depot.rows(entity) == [], entity

    # The demo employee reads their own records (masked), and nobody else's.
    me = clients("employee@acme.test", acme)
    mine = capture_pulls(me)
    me.sync()
    own_id = demo_id("acme", "employee", "employee")
    assert [row["id"] for row in me.rows("employee")] == [own_id]
    assert me.rows("employee")[0]["salary"] is None and me.rows("employee")[0]["bank_account"] is None
    for entity in ("leave_request", "payslip", "timesheet_entry"):
        rows = me.rows(entity)
        assert rows and {row["employee_id"] for row in rows} == {own_id}, entity
    assert {row["gross"] for row in me.rows("payslip")} == {0}  # the placeholder: never sent
    assert not SENSITIVE_COLUMNS & _columns_sent(mine)
    assert {"gross", "net", "amount"}.isdisjoint(_columns_sent(mine))


def _set_roles(server: Server, admin: Client, role: str, roles: list[str]) -> None:
    answer = requests.put(
        f"{server.url}/api/v1/orgs/{server.a.id}/members/{server.a.users[role]}/roles",
        json={"roles": roles},
        headers={"Authorization": f"Bearer {admin.session.api._access_token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


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
    _set_roles(server, office, "hr", ["warehouse"])
    offline_change = new_id()
    hr.apply("hr.create_department", id=offline_change, code="NEW", name="Made offline")

    report = hr.sync()
    assert report.resynced
    (refused,) = hr.outbox()  # kept for the user through the fresh download
    assert (refused["status"], refused["code"]) == ("rejected", "forbidden")
    assert offline_change not in {d["id"] for d in hr.rows("department")}
    assert "inventory.read" in hr.session.permissions and "hr.read" not in hr.session.permissions
    assert hr.rows("employee") == [] and hr.rows("leave_request") == []
    assert {r["name"] for r in hr.rows("employee_directory")} == {"Ada Lovelace", "Alan Turing"}
    assert [p["sku"] for p in hr.rows("product")] == ["CHAIR"]
    # The next sync goes on incrementally from the fresh copy.
    again = hr.sync()
    assert not again.resynced and again.pulled == 0


def test_an_employee_made_a_warehouse_worker_loses_their_own_hr_records(
    clients: ClientFactory, server: Server
) -> None:
    hr = clients("hr@acme.test")
    office = clients("admin@acme.test")
    ids = staff(hr)
    own = ids["Ada Lovelace"]
    hr.apply(
        "hr.update_employee", id=own, changes={"user_id": server.a.users["employee"]}, base={"user_id": None}
    )
    hr.sync()
    me = clients("employee@acme.test")
    me.sync()
    (record,) = me.rows("employee")
    assert record["id"] == own and record["home_address"] == "1 Private Road"
    assert (record["salary"], record["bank_account"], record["national_id"]) == (None, None, None)
    assert [leave["employee_id"] for leave in me.rows("leave_request")] == [own]
    assert len(me.rows("employee_directory")) == 2

    _set_roles(server, office, "employee", ["warehouse"])
    report = me.sync()
    assert report.resynced
    for entity in HR_RECORDS:
        assert me.rows(entity) == [], entity
    assert len(me.rows("employee_directory")) == 2  # colleagues stay visible to every member

"""``common.access``: the read rules the server masks pulls and audit events with (DESIGN §3, §6)."""

from __future__ import annotations

from common.access import OwnerIds, access_fingerprint, entity_access, readable_columns, readable_entities
from common.permissions import BUILTIN_ROLES

EMPLOYEE_ROW = {
    "org_id": "o",
    "id": "e1",
    "version": 3,
    "deleted": False,
    "name": "Dana",
    "job_title": "Welder",
    "work_email": "dana@acme.test",
    "user_id": "u-dana",
    "home_address": "1 Main St",
    "salary": 420000,
    "bank_account": "DE001",
}


def test_sensitive_fields_need_hr_sensitive_read() -> None:
    for role in ("admin", "auditor"):
        columns = readable_columns("employee", BUILTIN_ROLES[role])
        assert {"name", "home_address", "birth_date"} <= columns
        assert not {"salary", "bank_account", "national_id", "salary_currency"} & columns
    assert {"salary", "bank_account", "national_id"} <= readable_columns("employee", BUILTIN_ROLES["hr"])


def test_every_member_sees_the_public_directory_only() -> None:
    warehouse = BUILTIN_ROLES["warehouse"]
    # The employee record itself is HR's (and its owner's): no column of it, not even public ones.
    assert entity_access("employee", warehouse).mask(EMPLOYEE_ROW, OwnerIds(user_id="u-dana")) is None
    assert not entity_access("employee", warehouse).readable
    directory = entity_access("employee_directory", warehouse)
    entry = {**EMPLOYEE_ROW, "department_id": "d1", "work_phone": "+1 555", "updated_by": "u-hr"}
    for field in ("user_id", "home_address", "salary", "bank_account"):
        del entry[field]
    assert directory.mask(entry, OwnerIds(user_id="u-someone-else")) == {
        "org_id": "o",
        "id": "e1",
        "version": 3,
        "deleted": False,
        "name": "Dana",
        "job_title": "Welder",
        "department_id": "d1",
        "work_email": "dana@acme.test",
        "work_phone": "+1 555",
    }
    assert readable_columns("employee_directory", frozenset()) == {
        "org_id", "id", "version", "deleted", "name", "job_title", "department_id", "work_email", "work_phone",
    }  # fmt: skip
    assert readable_columns("department", frozenset()) >= {"code", "name"}
    assert readable_columns("customer", warehouse) == frozenset()


def test_owners_never_read_their_own_sensitive_fields_without_the_right() -> None:
    access = entity_access("employee", BUILTIN_ROLES["employee"])
    assert access.columns == frozenset()  # nobody else's record
    mine = access.mask(EMPLOYEE_ROW, OwnerIds(user_id="u-dana"))
    assert mine is not None and mine["home_address"] == "1 Main St" and mine["name"] == "Dana"
    assert not {"salary", "bank_account", "user_id"} & set(mine)
    assert access.mask(EMPLOYEE_ROW, OwnerIds(user_id="u-other")) is None
    payslip = entity_access("payslip", BUILTIN_ROLES["employee"])
    row = {"id": "p1", "employee_id": "e1", "period_start": "2030-01-01", "gross": 500000, "net": 400000}
    dana = OwnerIds(user_id="u-dana", employee_ids=frozenset({"e1"}))
    assert payslip.mask(row, dana) == {"id": "p1", "employee_id": "e1", "period_start": "2030-01-01"}
    assert payslip.mask(row, OwnerIds(user_id="u-other", employee_ids=frozenset({"e2"}))) is None
    # With hr.sensitive.read the owner reads the sensitive fields of their own rows as well.
    sensitive = BUILTIN_ROLES["employee"] | {"hr.sensitive.read"}
    assert entity_access("payslip", sensitive).mask(row, dana) == row
    assert entity_access("employee", sensitive).mask(EMPLOYEE_ROW, OwnerIds(user_id="u-dana")) == EMPLOYEE_ROW
    assert entity_access("employee", sensitive).mask(EMPLOYEE_ROW, OwnerIds(user_id="u-other")) is None


def test_self_service_records_need_hr_self_service() -> None:
    """A warehouse login linked to an employee record reads none of that person's HR records;
    the owner rule of notifications, which are not self-service, holds for every member."""
    dana = OwnerIds(user_id="u-dana", employee_ids=frozenset({"e1"}))
    for entity in ("employee", "leave_request", "payslip", "payslip_line", "timesheet_entry"):
        access = entity_access(entity, BUILTIN_ROLES["warehouse"])
        assert not access.readable, entity
        assert access.mask({**EMPLOYEE_ROW, "employee_id": "e1"}, dana) is None, entity
        assert entity_access(entity, BUILTIN_ROLES["employee"]).owner_column is not None, entity
    for role in ("warehouse", "sales", "accountant", "project_manager", "auditor"):
        assert "hr.self_service" not in BUILTIN_ROLES[role], role
    notification = entity_access("notification", BUILTIN_ROLES["warehouse"])
    row = {"id": "n1", "user_id": "u-dana", "title": "Hello"}
    assert notification.mask(row, dana) == row
    assert notification.mask(row, OwnerIds(user_id="u-other")) is None


def test_readable_entities_follow_the_roles() -> None:
    warehouse = readable_entities(BUILTIN_ROLES["warehouse"])
    assert {"product", "stock_move", "supplier", "purchase_order"} <= set(warehouse)
    assert {"department", "employee_directory", "notification"} <= set(warehouse)
    assert not {"invoice", "journal_entry", "employee", "leave_request", "payslip"} & set(warehouse)
    employee = readable_entities(BUILTIN_ROLES["employee"])
    assert {"project", "task", "employee", "employee_directory", "department", "notification"} <= set(
        employee
    )
    assert {"leave_request", "payslip", "payslip_line", "timesheet_entry"} <= set(employee)
    assert "customer" not in employee
    # Sales must honour opt-outs, so it reads communication preferences.
    assert "communication_preference" in readable_entities(BUILTIN_ROLES["sales"])


def test_the_fingerprint_changes_with_what_the_caller_may_read() -> None:
    base = access_fingerprint(BUILTIN_ROLES["sales"], OwnerIds(user_id="u"))
    assert base == access_fingerprint(set(BUILTIN_ROLES["sales"]), OwnerIds(user_id="u"))
    assert base != access_fingerprint(BUILTIN_ROLES["sales"] | {"hr.read"}, OwnerIds(user_id="u"))
    assert base != access_fingerprint(
        BUILTIN_ROLES["sales"], OwnerIds(user_id="u", employee_ids=frozenset({"e"}))
    )

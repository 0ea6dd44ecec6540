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
    access = entity_access("employee", BUILTIN_ROLES["warehouse"])
    seen = access.mask(EMPLOYEE_ROW, OwnerIds(user_id="u-someone-else"))
    assert seen == {
        "org_id": "o",
        "id": "e1",
        "version": 3,
        "deleted": False,
        "name": "Dana",
        "job_title": "Welder",
        "work_email": "dana@acme.test",
    }
    assert readable_columns("department", frozenset()) >= {"code", "name"}
    assert readable_columns("customer", BUILTIN_ROLES["warehouse"]) == frozenset()


def test_owners_read_their_own_rows_in_full() -> None:
    access = entity_access("employee", BUILTIN_ROLES["employee"])
    mine = access.mask(EMPLOYEE_ROW, OwnerIds(user_id="u-dana"))
    assert mine is not None and mine["salary"] == 420000 and mine["home_address"] == "1 Main St"
    payslip = entity_access("payslip", BUILTIN_ROLES["employee"])
    row = {"id": "p1", "employee_id": "e1", "gross": 500000, "net": 400000}
    assert payslip.mask(row, OwnerIds(user_id="u-dana", employee_ids=frozenset({"e1"}))) == row
    assert payslip.mask(row, OwnerIds(user_id="u-other", employee_ids=frozenset({"e2"}))) is None


def test_readable_entities_follow_the_roles() -> None:
    warehouse = readable_entities(BUILTIN_ROLES["warehouse"])
    assert {"product", "stock_move", "supplier", "purchase_order"} <= set(warehouse)
    assert "invoice" not in warehouse and "journal_entry" not in warehouse
    employee = readable_entities(BUILTIN_ROLES["employee"])
    assert {"project", "task", "employee", "department", "notification"} <= set(employee)
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

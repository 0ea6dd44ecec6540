"""HR commands (departments, employees, leave, payroll) through a real encrypted store."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from common.ids import new_id
from common.schema import (
    Department,
    Employee,
    EmployeeDirectory,
    LeaveRequest,
    PayrollRun,
    Payslip,
    PayslipLine,
)
from tests.common.business import Business, role
from tests.common.sides import SIDES, open_side, other_side

HR = role("hr")
EMPLOYEE = role("employee")
WAREHOUSE = role("warehouse")


def _staff(biz: Business, **extra: Any) -> tuple[str, str]:
    """An employee linked to a user of their own; returns (employee id, user id)."""
    user_id = new_id()
    return biz.employee(user_id=user_id, **extra), user_id


def _leave(biz: Business, employee_id: str, start: str, end: str, **kwargs: Any) -> str:
    leave_id = new_id()
    args = {
        "id": leave_id,
        "employee_id": employee_id,
        "kind": "annual",
        "start_date": start,
        "end_date": end,
    }
    biz.apply("hr.request_leave", args, **kwargs)
    return leave_id


# -- departments and employees ---------------------------------------------------------------


def test_departments_are_created_renamed_and_never_circular(business: Business) -> None:
    top = business.department(name="Operations")
    child = business.department(parent_id=top)
    business.apply(
        "hr.update_department",
        {"id": child, "changes": {"name": "Logistics"}, "base": {"name": "Sales"}},
        permissions=HR,
    )
    assert (business.row(Department, child)["name"], business.row(Department, child)["parent_id"]) == (
        "Logistics",
        top,
    )
    business.invalid(
        "hr.update_department",
        {"id": top, "changes": {"parent_id": child}, "base": {"parent_id": None}},
        "changes.parent_id",
    )
    taken = business.row(Department, top)["code"]
    business.invalid(
        "hr.update_department",
        {"id": child, "changes": {"code": taken}, "base": {"code": "x"}},
        "changes.code",
    )
    business.invalid("hr.create_department", {"id": new_id(), "code": taken, "name": "Again"}, "code")
    error = business.refused(
        "hr.update_department", {"id": child, "changes": {"name": "Ops"}, "base": {"name": "Sales"}}
    )
    assert error.code == "conflict" and error.server_values == {"name": "Logistics"}
    error = business.refused(
        "hr.update_department",
        {"id": child, "changes": {"name": "Ops"}, "base": {"name": "Logistics"}},
        permissions=role("admin") - {"hr.write"},
    )
    assert error.code == "forbidden"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"code": "c" * 33}, "code"),
        ({"name": ""}, "name"),
        ({"parent_id": "not-a-uuid"}, "parent_id"),
        ({"parent_id": "unknown"}, "parent_id"),
    ],
)
def test_each_invalid_department_argument_is_named(
    business: Business, override: dict[str, Any], field: str
) -> None:
    args = {"id": new_id(), "code": f"D{new_id()[-8:]}", "name": "Sales", **override}
    if args.get("parent_id") == "unknown":
        args["parent_id"] = new_id()
    business.invalid("hr.create_department", args, field)


def test_employee_records_and_their_sensitive_fields(business: Business) -> None:
    employee_id, _ = _staff(business, salary=420_000, salary_currency="EUR", job_title="Engineer")
    employee = business.row(Employee, employee_id)
    assert (employee["status"], employee["salary"], employee["job_title"]) == ("active", 420_000, "Engineer")
    admin = role("admin")  # may manage HR records but not see pay
    error = business.refused(
        "hr.create_employee",
        {"id": new_id(), "name": "X", "salary": 1, "salary_currency": "EUR"},
        permissions=admin,
    )
    assert (error.code, error.field) == ("forbidden", "salary")
    error = business.refused(
        "hr.update_employee",
        {"id": employee_id, "changes": {"bank_account": "DE89"}, "base": {"bank_account": None}},
        permissions=admin,
    )
    assert (error.code, error.field) == ("forbidden", "changes.bank_account")
    business.apply(
        "hr.update_employee",
        {"id": employee_id, "changes": {"job_title": "Lead"}, "base": {"job_title": "Engineer"}},
        permissions=admin,
    )
    error = business.refused(
        "hr.update_employee",
        {"id": employee_id, "changes": {"job_title": "CTO"}, "base": {"job_title": "Engineer"}},
    )
    assert error.code == "conflict" and error.server_values == {"job_title": "Lead"}


def _entry(biz: Business, employee_id: str) -> dict[str, Any]:
    """The employee's directory row, tombstone included."""
    return biz.row(EmployeeDirectory, employee_id)


def _public(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["name"], row["job_title"], row["department_id"], row["work_email"], row["work_phone"])


def test_the_directory_row_is_born_and_changed_with_the_employee(business: Business) -> None:
    department = business.department(name="Operations")
    employee_id = business.employee(
        name="Ada Lovelace",
        job_title="Engineer",
        department_id=department,
        work_email="ada@acme.test",
        work_phone="+44 1",
        home_address="1 Private Road",
        salary=500_000,
        salary_currency="EUR",
    )
    entry = _entry(business, employee_id)
    assert _public(entry) == ("Ada Lovelace", "Engineer", department, "ada@acme.test", "+44 1")
    assert entry["deleted"] is False and entry["updated_by"] == business.actor_id
    moved = business.department(name="Research")
    business.apply(
        "hr.update_employee",
        {
            "id": employee_id,
            "changes": {"job_title": "Lead", "department_id": moved, "work_phone": None},
            "base": {"job_title": "Engineer", "department_id": department, "work_phone": "+44 1"},
        },
        permissions=HR,
    )
    assert _public(_entry(business, employee_id)) == ("Ada Lovelace", "Lead", moved, "ada@acme.test", None)
    # A change of no public field leaves the directory row as it was.
    before = _entry(business, employee_id)
    business.apply(
        "hr.update_employee",
        {
            "id": employee_id,
            "changes": {"home_address": "2 Other St"},
            "base": {"home_address": "1 Private Road"},
        },
        permissions=HR,
    )
    assert _entry(business, employee_id) == before


def test_a_leaver_leaves_the_directory_and_a_rehire_comes_back(business: Business) -> None:
    employee_id = business.employee(name="Bo", job_title="Driver")
    business.apply(
        "hr.update_employee",
        {"id": employee_id, "changes": {"status": "on_leave"}, "base": {"status": "active"}},
    )
    assert _entry(business, employee_id)["deleted"] is False  # on leave, still a colleague
    business.apply(
        "hr.update_employee",
        {
            "id": employee_id,
            "changes": {"status": "terminated", "termination_date": "2030-06-30"},
            "base": {"status": "on_leave", "termination_date": None},
        },
    )
    assert _entry(business, employee_id)["deleted"] is True
    assert business.rows(EmployeeDirectory, EmployeeDirectory.id == employee_id) == []
    assert business.row(Employee, employee_id)["deleted"] is False  # the record itself stays with HR
    # Renamed while gone, then hired again: the row comes back with the current fields.
    business.apply(
        "hr.update_employee",
        {"id": employee_id, "changes": {"name": "Bo Berg"}, "base": {"name": "Bo"}},
    )
    assert _entry(business, employee_id)["deleted"] is True
    business.apply(
        "hr.update_employee",
        {"id": employee_id, "changes": {"status": "active"}, "base": {"status": "terminated"}},
    )
    entry = _entry(business, employee_id)
    assert (entry["deleted"], entry["name"], entry["job_title"]) == (False, "Bo Berg", "Driver")


def test_only_fields_the_caller_reads_can_be_compared_and_set(business: Business) -> None:
    """hr.write without hr.read reads the public directory only: it may change only that."""
    employee_id = business.employee(home_address="1 Main St", job_title="Buyer")
    writer = frozenset({"hr.write"})
    error = business.refused(
        "hr.update_employee",
        {"id": employee_id, "changes": {"home_address": "x"}, "base": {"home_address": "1 Main St"}},
        permissions=writer,
    )
    assert (error.code, error.field, error.server_values) == ("forbidden", "changes.home_address", None)
    error = business.refused(
        "hr.update_employee",
        {"id": employee_id, "changes": {"job_title": "Lead"}, "base": {"job_title": "?"}},
        permissions=writer,
    )
    assert (error.code, error.server_values) == ("conflict", {"job_title": "Buyer"})


def test_linking_a_record_to_a_user_needs_sensitive_rights(business: Business) -> None:
    """Whoever the link names reads the record's pay: linking is as much as reading it."""
    employee_id = business.employee(salary=100, salary_currency="EUR")
    admin = role("admin")
    error = business.refused(
        "hr.update_employee",
        {"id": employee_id, "changes": {"user_id": new_id()}, "base": {"user_id": None}},
        permissions=admin,
    )
    assert (error.code, error.field) == ("forbidden", "changes.user_id")
    error = business.refused(
        "hr.create_employee", {"id": new_id(), "name": "Me", "user_id": new_id()}, permissions=admin
    )
    assert (error.code, error.field) == ("forbidden", "user_id")
    # With the right, the workstation applies it: who is a member only the server knows.
    business.apply(
        "hr.update_employee",
        {"id": employee_id, "changes": {"user_id": new_id()}, "base": {"user_id": None}},
        permissions=HR,
    )


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"name": "n" * 201}, "name"),
        ({"work_email": "nope"}, "work_email"),
        ({"home_address": "a" * 501}, "home_address"),
        ({"national_id": "n" * 51}, "national_id"),
        ({"salary": 1000}, "salary_currency"),
        ({"department_id": "unknown"}, "department_id"),
        ({"birth_date": "1990-02-30"}, "birth_date"),
        ({"user_id": "taken"}, "user_id"),
    ],
)
def test_each_invalid_employee_argument_is_named(
    business: Business, args: dict[str, Any], field: str
) -> None:
    values = {"id": new_id(), "name": "Grace", **args}
    if values.get("department_id") == "unknown":
        values["department_id"] = new_id()
    if values.get("user_id") == "taken":
        values["user_id"] = _staff(business)[1]
    business.invalid("hr.create_employee", values, field)


def test_employee_status_must_be_a_known_one(business: Business) -> None:
    employee_id = business.employee()
    business.invalid(
        "hr.update_employee",
        {"id": employee_id, "changes": {"status": "retired"}, "base": {"status": "active"}},
        "changes.status",
    )
    business.apply(
        "hr.update_employee",
        {"id": employee_id, "changes": {"status": "on_leave"}, "base": {"status": "active"}},
    )
    assert business.row(Employee, employee_id)["status"] == "on_leave"


# -- leave -----------------------------------------------------------------------------------


def test_employees_request_and_cancel_their_own_leave(business: Business) -> None:
    employee_id, user_id = _staff(business)
    leave_id = _leave(
        business, employee_id, "2030-07-01", "2030-07-14", permissions=EMPLOYEE, actor_id=user_id
    )
    leave = business.row(LeaveRequest, leave_id)
    assert (leave["status"], leave["kind"], leave["end_date"]) == ("requested", "annual", date(2030, 7, 14))
    business.apply("hr.approve_leave", {"id": leave_id}, permissions=HR)
    assert business.row(LeaveRequest, leave_id)["status"] == "approved"
    business.apply("hr.cancel_leave", {"id": leave_id}, permissions=EMPLOYEE, actor_id=user_id)
    assert business.row(LeaveRequest, leave_id)["status"] == "cancelled"


def test_self_service_is_only_for_ones_own_record(business: Business) -> None:
    mine, me = _staff(business)
    theirs, _ = _staff(business)
    error = business.refused(
        "hr.request_leave",
        {
            "id": new_id(),
            "employee_id": theirs,
            "kind": "sick",
            "start_date": "2030-01-01",
            "end_date": "2030-01-02",
        },
        permissions=EMPLOYEE,
        actor_id=me,
    )
    assert (error.code, error.field) == ("forbidden", "employee_id")
    their_leave = _leave(business, theirs, "2030-02-01", "2030-02-02", permissions=HR)
    assert (
        business.refused("hr.cancel_leave", {"id": their_leave}, permissions=EMPLOYEE, actor_id=me).code
        == "forbidden"
    )
    assert (
        business.refused("hr.approve_leave", {"id": their_leave}, permissions=EMPLOYEE, actor_id=me).code
        == "forbidden"
    )
    # Someone holding no permission at all (no membership roles) cannot even self-serve.
    error = business.refused(
        "hr.request_leave",
        {
            "id": new_id(),
            "employee_id": mine,
            "kind": "sick",
            "start_date": "2030-01-01",
            "end_date": "2030-01-02",
        },
        permissions=frozenset(),
        actor_id=me,
    )
    assert error.code == "forbidden"


def test_self_service_needs_the_self_service_permission(business: Business) -> None:
    """A warehouse login linked to an employee record does not act for it; an employee does."""
    mine, me = _staff(business)
    args = {"employee_id": mine, "kind": "annual", "start_date": "2030-05-04", "end_date": "2030-05-05"}
    error = business.refused("hr.request_leave", {"id": new_id(), **args}, permissions=WAREHOUSE, actor_id=me)
    assert error.code == "forbidden"
    assert error.message == "hr.request_leave needs the permission hr.write or hr.self_service"
    assert error.details == {"permission": "hr.write", "alternatives": ["hr.self_service"]}
    leave_id = _leave(business, mine, "2030-05-04", "2030-05-05", permissions=EMPLOYEE, actor_id=me)
    error = business.refused("hr.cancel_leave", {"id": leave_id}, permissions=WAREHOUSE, actor_id=me)
    assert error.code == "forbidden" and "hr.self_service" in error.message
    business.apply("hr.cancel_leave", {"id": leave_id}, permissions=WAREHOUSE | EMPLOYEE, actor_id=me)
    assert business.row(LeaveRequest, leave_id)["status"] == "cancelled"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"kind": "sabbatical"}, "kind"),
        ({"start_date": "2030-03-10", "end_date": "2030-03-09"}, "end_date"),
        ({"note": "n" * 501}, "note"),
        ({"employee_id": "unknown"}, "employee_id"),
        ({"start_date": "soon"}, "start_date"),
        ({"days": 3}, "days"),
    ],
)
def test_each_invalid_leave_argument_is_named(
    business: Business, override: dict[str, Any], field: str
) -> None:
    args = {
        "id": new_id(),
        "employee_id": business.employee(),
        "kind": "annual",
        "start_date": "2030-03-10",
        "end_date": "2030-03-12",
        **override,
    }
    if args["employee_id"] == "unknown":
        args["employee_id"] = new_id()
    business.invalid("hr.request_leave", args, field, permissions=HR)


def test_overlapping_leave_and_leave_of_a_leaver_are_refused(business: Business) -> None:
    employee_id = business.employee()
    first = _leave(business, employee_id, "2030-08-01", "2030-08-10")
    business.invalid(
        "hr.request_leave",
        {
            "id": new_id(),
            "employee_id": employee_id,
            "kind": "annual",
            "start_date": "2030-08-10",
            "end_date": "2030-08-12",
        },
        "start_date",
    )
    business.apply("hr.reject_leave", {"id": first}, permissions=HR)
    _leave(business, employee_id, "2030-08-10", "2030-08-12")  # a rejected request no longer blocks the dates
    business.apply(
        "hr.update_employee",
        {"id": employee_id, "changes": {"status": "terminated"}, "base": {"status": "active"}},
    )
    business.invalid(
        "hr.request_leave",
        {
            "id": new_id(),
            "employee_id": employee_id,
            "kind": "annual",
            "start_date": "2031-01-01",
            "end_date": "2031-01-02",
        },
        "employee_id",
    )


def test_leave_life_cycle_is_enforced(business: Business) -> None:
    employee_id = business.employee()
    rejected = _leave(business, employee_id, "2032-01-01", "2032-01-01")
    business.apply("hr.reject_leave", {"id": rejected})
    for name in ("hr.approve_leave", "hr.reject_leave", "hr.cancel_leave"):
        assert business.refused(name, {"id": rejected}).code == "invalid_state"
    approved = _leave(business, employee_id, "2032-02-01", "2032-02-01")
    business.apply("hr.approve_leave", {"id": approved})
    assert business.refused("hr.reject_leave", {"id": approved}).code == "invalid_state"
    assert business.refused("hr.approve_leave", {"id": approved}).code == "invalid_state"
    business.invalid("hr.approve_leave", {"id": new_id()}, "id")


# -- payroll ---------------------------------------------------------------------------------


def _run(
    biz: Business, start: str, end: str, rate: str = "20", currency: str = "EUR", **kwargs: Any
) -> tuple[str, Any]:
    run_id = new_id()
    args = {
        "id": run_id,
        "period_start": start,
        "period_end": end,
        "currency": currency,
        "withholding_rate": rate,
    }
    if currency != "EUR":  # the ledger's currency
        args["exchange_rate"] = "0.9"
    return run_id, biz.apply("hr.run_payroll", args, **kwargs)


@pytest.mark.parametrize("side", SIDES)
def test_payroll_issues_a_payslip_per_paid_employee(
    tmp_path: Path, server_store_template: Path, side: str
) -> None:
    biz = Business(open_side(side, tmp_path / "pay", server_store_template), new_id()).set_up_books()
    try:
        ada = biz.employee(name="Ada", salary=333_333, salary_currency="EUR")
        bob = biz.employee(name="Bob", salary=250_000, salary_currency="EUR", hire_date="2025-01-15")
        biz.employee(name="Cy")  # no salary
        gone = biz.employee(name="Dee", salary=100_000, salary_currency="EUR")
        biz.apply(
            "hr.update_employee",
            {
                "id": gone,
                "changes": {"status": "terminated", "termination_date": "2024-12-31"},
                "base": {"status": "active", "termination_date": None},
            },
        )
        biz.employee(
            name="Eve", salary=100_000, salary_currency="EUR", hire_date="2025-02-01"
        )  # not yet hired
        leaver = biz.employee(name="Gil", salary=200_000, salary_currency="EUR")
        ended = {"status": "terminated", "termination_date": "2025-01-15"}
        biz.apply(
            "hr.update_employee",
            {"id": leaver, "changes": ended, "base": {"status": "active", "termination_date": None}},
        )
        undated = biz.employee(name="Hal", salary=100_000, salary_currency="EUR")
        biz.apply(
            "hr.update_employee",
            {"id": undated, "changes": {"status": "terminated"}, "base": {"status": "active"}},
        )
        dollar = biz.employee(name="Fay", salary=500_000, salary_currency="USD")
        run_id, outcome = _run(biz, "2025-01-01", "2025-01-31", rate="22.5", permissions=HR)
        assert [(w["code"], w["employee_ids"]) for w in outcome.warnings] == [("other_currency", [dollar])]
        run = biz.row(PayrollRun, run_id)
        # January 2025 has 23 working days. Bob, hired on Wednesday the 15th, is paid 13 of them:
        # 2,500.00 × 13 / 23 = 1,413.0434… → 1,413.04; Gil, leaving on the 15th, 11 of them:
        # 2,000.00 × 11 / 23 = 956.5217… → 956.52; Ada the full 3,333.33. Total 5,702.89.
        assert (run["status"], run["total_gross"], run["currency"]) == ("draft", 570_289, "EUR")
        slips = {s["employee_id"]: s for s in biz.rows(Payslip, Payslip.payroll_run_id == run_id)}
        assert set(slips) == {ada, bob, leaver}  # the leaver is paid for the month they worked in
        # 22.5 % of 3,333.33 = 749.999925 → 750.00; of 1,413.04 = 317.934 → 317.93
        assert (slips[ada]["gross"], slips[ada]["deductions"], slips[ada]["net"]) == (
            333_333,
            75_000,
            258_333,
        )
        assert (slips[bob]["gross"], slips[bob]["deductions"], slips[bob]["net"]) == (
            141_304,
            31_793,
            109_511,
        )
        assert (slips[bob]["paid_days"], slips[bob]["period_days"]) == (13, 23)
        lines = sorted(
            biz.rows(PayslipLine, PayslipLine.payslip_id == slips[ada]["id"]), key=lambda r: r["line_no"]
        )
        assert [(line["kind"], line["amount"]) for line in lines] == [
            ("salary", 333_333),
            ("gross", 333_333),
            ("deduction", -75_000),
            ("net", 258_333),
        ]
        assert lines[2]["description"] == "Withholding tax 22.5 %"
        # The same period is not paid twice; the USD staff get their own run.
        biz.invalid(
            "hr.run_payroll",
            {
                "id": new_id(),
                "period_start": "2025-01-31",
                "period_end": "2025-02-27",
                "currency": "EUR",
                "withholding_rate": "20",
            },
            "period_start",
        )
        usd_run, _ = _run(biz, "2025-01-01", "2025-01-31", currency="USD")
        assert [s["employee_id"] for s in biz.rows(Payslip, Payslip.payroll_run_id == usd_run)] == [dollar]
        biz.invalid(
            "hr.run_payroll",
            {
                "id": new_id(),
                "period_start": "2025-01-01",
                "period_end": "2025-01-31",
                "currency": "JPY",
                "withholding_rate": "20",
            },
            "currency",
        )
    finally:
        biz.store.close()


def test_payroll_derives_the_same_payslip_ids_on_every_side(
    business: Business, tmp_path: Path, server_store_template: Path
) -> None:
    other = Business(
        open_side(other_side(business.side), tmp_path / "other", server_store_template, business.org_id),
        business.actor_id,
    ).set_up_books()
    try:
        employee_id = new_id()
        args = {"id": employee_id, "name": "Same", "salary": 1000, "salary_currency": "CHF"}
        business.apply("hr.create_employee", args)
        other.apply("hr.create_employee", args)
        command_id, run_id = new_id(), new_id()
        run = {
            "id": run_id,
            "period_start": "2026-05-01",
            "period_end": "2026-05-31",
            "currency": "CHF",
            "withholding_rate": "10",
            "exchange_rate": "1.05",
        }
        for side in (business, other):
            side.apply("hr.run_payroll", run, command_id=command_id)
        ids = [
            sorted(r["id"] for r in side.rows(PayslipLine, PayslipLine.employee_id == employee_id))
            for side in (business, other)
        ]
        assert ids[0] == ids[1] and len(ids[0]) == 4
    finally:
        other.store.close()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"withholding_rate": "101"}, "withholding_rate"),
        ({"withholding_rate": 20.5}, "withholding_rate"),
        ({"period_end": "2027-12-31"}, "period_end"),
        ({"currency": "eur!"}, "currency"),
        ({"bonus": 5}, "bonus"),
    ],
)
def test_each_invalid_payroll_argument_is_named(
    business: Business, override: dict[str, Any], field: str
) -> None:
    args = {
        "id": new_id(),
        "period_start": "2028-01-01",
        "period_end": "2028-01-31",
        "currency": "EUR",
        "withholding_rate": "20",
        **override,
    }
    business.invalid("hr.run_payroll", args, field)


def test_payroll_needs_payroll_run_which_admin_lacks(business: Business) -> None:
    args = {
        "id": new_id(),
        "period_start": "2029-01-01",
        "period_end": "2029-01-31",
        "currency": "EUR",
        "withholding_rate": "20",
    }
    error = business.refused("hr.run_payroll", args, permissions=role("admin"))
    assert error.code == "forbidden" and "payroll.run" in error.message

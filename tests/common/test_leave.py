"""Leave types, yearly balances in working days, and who is away: through a real encrypted store."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from common.commands.leave import leave_balances, who_is_away
from common.ids import new_id
from common.schema import LeaveRequest
from tests.common.business import Business, role

HR = role("hr")
EMPLOYEE = role("employee")


def _type(biz: Business, code: str, kind: str, entitlement: str | None = None, **extra: Any) -> str:
    type_id = new_id()
    args = {"id": type_id, "code": code, "name": f"{code.title()} leave", "kind": kind, **extra}
    if entitlement is not None:
        args["yearly_entitlement"] = entitlement
    biz.apply("hr.create_leave_type", args, permissions=HR)
    return type_id


def _request(biz: Business, employee: str, user: str, type_id: str, start: str, end: str) -> str:
    leave_id = new_id()
    biz.apply(
        "hr.request_leave",
        {
            "id": leave_id,
            "employee_id": employee,
            "leave_type_id": type_id,
            "start_date": start,
            "end_date": end,
        },
        permissions=EMPLOYEE,
        actor_id=user,
    )
    return leave_id


def _balance(biz: Business, employee: str, year: int, code: str) -> tuple[Any, ...]:
    with biz.session() as session:
        (found,) = [b for b in leave_balances(session, biz.org_id, employee, year) if b.code == code]
    return found.entitlement, found.taken, found.pending, found.remaining


def test_balances_count_working_days_and_refuse_what_exceeds_them(business: Business) -> None:
    suffix = new_id()[-6:]
    annual, unpaid = f"AN{suffix}", f"UN{suffix}"
    annual_id = _type(business, annual, "annual", "5")
    unpaid_id = _type(business, unpaid, "unpaid")
    user = new_id()
    ada = business.employee(name="Ada Away", user_id=user)
    # Monday 6 to Wednesday 8 March 2028: 3 working days, approved.
    first = _request(business, ada, user, annual_id, "2028-03-06", "2028-03-08")
    business.apply("hr.approve_leave", {"id": first}, permissions=HR)
    # Three more would make 6 of 5.
    error = business.invalid(
        "hr.request_leave",
        {"id": new_id(), "employee_id": ada, "leave_type_id": annual_id, "start_date": "2028-03-13",
         "end_date": "2028-03-15"},
        "end_date",
        permissions=EMPLOYEE,
        actor_id=user,
    )  # fmt: skip
    assert (
        f"3 working days of {annual.title()} leave in 2028 exceed the balance: 2 of 5 days left"
        in error.message
    )
    # Monday 13 and Tuesday 14: the last two, pending.
    pending = _request(business, ada, user, annual_id, "2028-03-13", "2028-03-14")
    assert _balance(business, ada, 2028, annual) == (Decimal(5), 3, 2, Decimal(0))
    business.apply("hr.cancel_leave", {"id": pending}, permissions=EMPLOYEE, actor_id=user)
    assert _balance(business, ada, 2028, annual) == (Decimal(5), 3, 0, Decimal(2))
    # Thursday 28 December 2028 to Tuesday 2 January 2029: 2 working days in each year.
    _request(business, ada, user, annual_id, "2028-12-28", "2029-01-02")
    assert _balance(business, ada, 2028, annual)[2:] == (2, Decimal(0))
    assert _balance(business, ada, 2029, annual)[2:] == (2, Decimal(3))
    # An unpaid type is not limited, and its requests are unpaid leave for payroll.
    unpaid_leave = _request(business, ada, user, unpaid_id, "2028-04-03", "2028-04-28")
    assert business.row(LeaveRequest, unpaid_leave)["kind"] == "unpaid"
    assert (
        _balance(business, ada, 2028, unpaid)[0] is None and _balance(business, ada, 2028, unpaid)[3] is None
    )


def test_leave_type_rules_name_the_field(business: Business) -> None:
    sick = _type(business, f"SI{new_id()[-6:]}", "sick")
    employee = business.employee(name="Sam Sick")
    base = {"id": new_id(), "employee_id": employee, "start_date": "2028-05-01", "end_date": "2028-05-01"}
    business.invalid("hr.request_leave", {**base, "leave_type_id": sick, "kind": "annual"}, "kind")
    business.invalid("hr.request_leave", base, "leave_type_id")
    business.invalid("hr.request_leave", {**base, "leave_type_id": new_id()}, "leave_type_id")
    business.apply(
        "hr.update_leave_type",
        {"id": sick, "changes": {"active": False}, "base": {"active": True}},
        permissions=HR,
    )
    business.invalid("hr.request_leave", {**base, "leave_type_id": sick}, "leave_type_id")
    business.invalid(
        "hr.create_leave_type", {"id": new_id(), "code": "X", "name": "X", "kind": "holiday"}, "kind"
    )
    error = business.refused(
        "hr.create_leave_type",
        {"id": new_id(), "code": "Y", "name": "Y", "kind": "sick"},
        permissions=EMPLOYEE,
    )
    assert error.code == "forbidden"


def test_who_is_away_shows_approved_leave_of_listed_employees(business: Business) -> None:
    away = _type(business, f"AW{new_id()[-6:]}", "annual")
    bea, cid, dan = (business.employee(name=n) for n in ("Bea Busy", "Cid Calm", "Dan Done"))
    leaves = {}
    for name, employee, start, end in (
        ("bea", bea, "2030-07-01", "2030-07-05"),
        ("cid", cid, "2030-06-28", "2030-07-02"),
        ("dan", dan, "2030-07-10", "2030-07-10"),
    ):
        leaves[name] = new_id()
        business.apply(
            "hr.request_leave",
            {
                "id": leaves[name],
                "employee_id": employee,
                "leave_type_id": away,
                "start_date": start,
                "end_date": end,
            },
        )
    business.apply("hr.approve_leave", {"id": leaves["bea"]})
    business.apply("hr.approve_leave", {"id": leaves["cid"]})
    business.apply("hr.approve_leave", {"id": leaves["dan"]})
    business.apply(
        "hr.update_employee",
        {"id": dan, "changes": {"status": "terminated"}, "base": {"status": "active"}},
    )
    with business.session() as session:
        july = who_is_away(session, business.org_id, date(2030, 7, 1), date(2030, 7, 31))
        third = who_is_away(session, business.org_id, date(2030, 7, 3), date(2030, 7, 3))
    assert [(a.name, a.start_date.isoformat()) for a in july] == [
        ("Cid Calm", "2030-06-28"),
        ("Bea Busy", "2030-07-01"),
    ]
    assert [a.name for a in third] == ["Bea Busy"]

"""The HR and payroll form builders (no Qt): what a form sends, and what it refuses naming the field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from common.commands.leave import Absence
from common.hr_forms import (
    away_by_day,
    build_department,
    build_employee,
    build_employee_update,
    build_leave_request,
    build_leave_type,
    build_pay_component,
    build_payroll_run,
    build_rehire,
    build_termination,
    month_weeks,
    proration_text,
    run_actions,
)
from common.ids import new_id

E1, D1, T1, L1, C1, C2, C3, R1 = (new_id() for _ in range(8))


def parse_quantity(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError("is not a number") from None


def parse_money(text: str, currency: str) -> int:
    amount = parse_quantity(text)
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("has too many decimals")
    return int(amount * 100)


def test_an_employee_form_without_the_sensitive_right_never_sends_pay_details() -> None:
    raw = {"name": " Ben Berg ", "hire_date": "2027-04-15", "salary": "3300.00", "bank_account": "FI21"}
    built = build_employee(E1, raw, parse_money, sensitive=False)
    assert built.problems == {}
    assert built.args["name"] == "Ben Berg" and built.args["hire_date"] == "2027-04-15"
    assert not {"salary", "salary_currency", "bank_account", "national_id"} & set(built.args)
    paid = build_employee(E1, {**raw, "salary_currency": "EUR"}, parse_money, sensitive=True)
    assert paid.problems == {} and (paid.args["salary"], paid.args["bank_account"]) == (330_000, "FI21")


def test_an_employee_form_names_its_problems() -> None:
    built = build_employee(
        E1, {"name": "", "salary": "12.345", "work_email": "nope"}, parse_money, sensitive=True
    )
    assert built.problems == {
        "name": "is required",
        "salary": "has too many decimals",
        "salary_currency": "is required with a salary",
        "work_email": "is not an e-mail address",
    }


def test_an_edit_sends_only_what_changed_with_the_old_values() -> None:
    row = {
        "id": E1,
        "name": "Cara Castro",
        "job_title": None,
        "department_id": None,
        "hire_date": date(2019, 6, 1),
        "salary": 500_000,
        "salary_currency": "EUR",
    }
    raw = {"name": "Cara Castro", "hire_date": "2019-06-01", "salary": "5000.00", "salary_currency": "EUR"}
    unchanged = build_employee_update(row, raw, parse_money, sensitive=True)
    assert unchanged.args["changes"] == {} and unchanged.problems == {
        "": "Nothing to save yet: no field was changed."
    }
    changed = build_employee_update(
        row, {**raw, "job_title": "Controller", "salary": "5100.00"}, parse_money, sensitive=True
    )
    assert changed.command == "hr.update_employee" and changed.problems == {}
    assert changed.args["changes"] == {"job_title": "Controller", "salary": 510_000}
    assert changed.args["base"] == {"job_title": None, "salary": 500_000}
    # Without the right, a salary typed somehow is not even compared.
    blind = build_employee_update(
        row, {**raw, "salary": "1.00", "job_title": "X"}, parse_money, sensitive=False
    )
    assert blind.args["changes"] == {"job_title": "X"}


def test_termination_is_a_status_and_a_last_day_not_before_the_hire() -> None:
    row = {
        "id": E1,
        "name": "Ben",
        "status": "active",
        "hire_date": date(2027, 4, 15),
        "termination_date": None,
    }
    early = build_termination(row, {"termination_date": "2027-04-14"})
    assert early.problems == {"termination_date": "must not be before the hire date (2027-04-15)"}
    built = build_termination(row, {"termination_date": "2027-06-30"})
    assert built.problems == {}
    assert built.args == {
        "id": E1,
        "changes": {"status": "terminated", "termination_date": "2027-06-30"},
        "base": {"status": "active", "termination_date": None},
    }
    gone = build_termination({**row, "status": "terminated"}, {"termination_date": "2027-06-30"})
    assert gone.problems[""] == "Ben has already left."


def test_departments_and_leave_types() -> None:
    assert build_department(D1, {"code": "OPS", "name": "Operations", "parent_id": D1}).problems == {
        "parent_id": "cannot be the department itself"
    }
    assert build_department(D1, {"code": "bad code", "name": "x"}).problems["code"].startswith("may only")
    leave_type = build_leave_type(
        T1,
        {"code": "ANNUAL", "name": "Annual", "kind": "annual", "yearly_entitlement": "25"},
        parse_quantity,
    )
    assert leave_type.problems == {} and leave_type.args["yearly_entitlement"] == "25"
    unlimited = build_leave_type(T1, {"code": "UNPAID", "name": "Unpaid", "kind": "unpaid"}, parse_quantity)
    assert unlimited.args["yearly_entitlement"] is None and unlimited.problems == {}
    bad = build_leave_type(
        T1, {"code": "X", "name": "X", "kind": "annual", "yearly_entitlement": "-1"}, parse_quantity
    )
    assert bad.problems == {"yearly_entitlement": "must not be negative"}


def test_a_leave_request_counts_working_days_and_refuses_nonsense() -> None:
    raw = {"employee_id": E1, "leave_type_id": T1, "start_date": "2027-04-22", "end_date": "2027-04-26"}
    built = build_leave_request(L1, raw)
    assert built.problems == {} and built.extra["working_days"] == 3  # Thu, Fri, Mon
    backwards = build_leave_request(L1, {**raw, "end_date": "2027-04-21"})
    assert backwards.problems == {"end_date": "must not be before the first day"}
    weekend = build_leave_request(L1, {**raw, "start_date": "2027-04-24", "end_date": "2027-04-25"})
    assert weekend.problems == {"end_date": "the leave has no working day (Monday to Friday)"}
    assert build_leave_request(L1, {}).problems == {
        "employee_id": "is required",
        "leave_type_id": "is required",
        "start_date": "is required",
        "end_date": "is required",
    }


def test_pay_components_percent_or_fixed_with_a_cap() -> None:
    percent = build_pay_component(
        C1,
        {
            "code": "SOCSEC",
            "name": "Social security",
            "kind": "employer_contribution",
            "method": "percent",
            "rate": "20",
            "cap": "850.00",
            "currency": "EUR",
            "amount": "5",
        },
        parse_money,
        parse_quantity,
    )
    assert percent.problems == {}
    assert (percent.args["rate"], percent.args["cap"], percent.args["amount"], percent.args["currency"]) == (
        "20",
        85_000,
        None,
        None,
    )
    fixed = build_pay_component(
        C2,
        {
            "code": "UNION",
            "name": "Union",
            "kind": "deduction",
            "method": "fixed",
            "amount": "15.00",
            "currency": "EUR",
        },
        parse_money,
        parse_quantity,
    )
    assert fixed.problems == {} and (fixed.args["amount"], fixed.args["rate"]) == (1_500, None)
    assert build_pay_component(
        C3,
        {"code": "X", "name": "X", "kind": "deduction", "method": "percent", "rate": "101"},
        parse_money,
        parse_quantity,
    ).problems == {"rate": "must be a percentage between 0 and 100"}
    assert build_pay_component(
        C3, {"code": "X", "name": "X", "kind": "deduction", "method": "fixed"}, parse_money, parse_quantity
    ).problems == {
        "amount": "is required for a fixed amount",
        "currency": "is required with a fixed amount",
    }


def test_a_payroll_run_needs_an_ordered_period() -> None:
    raw = {
        "period_start": "2027-04-01",
        "period_end": "2027-04-30",
        "currency": "EUR",
        "withholding_rate": "20",
    }
    built = build_payroll_run(R1, raw, parse_quantity)
    assert built.problems == {} and built.args["withholding_rate"] == "20"
    assert build_payroll_run(R1, {**raw, "period_end": "2027-03-31"}, parse_quantity).problems == {
        "period_end": "must not be before the first day"
    }
    assert build_payroll_run(R1, {**raw, "withholding_rate": "x"}, parse_quantity).problems == {
        "withholding_rate": "is not a number"
    }


def test_the_month_calendar_and_who_is_away_on_working_days() -> None:
    weeks = month_weeks(2027, 4)  # 1 April 2027 is a Thursday
    assert len(weeks) == 5 and weeks[0][:3] == [None, None, None] and weeks[0][3] == date(2027, 4, 1)
    assert weeks[-1][4] == date(2027, 4, 30) and weeks[-1][5:] == [None, None]
    away = away_by_day(
        [
            Absence("c", "Cara", date(2027, 4, 22), date(2027, 4, 26)),
            Absence("a", "Alice", date(2027, 3, 29), date(2027, 4, 2)),
        ],
        date(2027, 4, 1),
        date(2027, 4, 30),
    )
    assert away == {
        date(2027, 4, 1): ["Alice"],
        date(2027, 4, 2): ["Alice"],
        date(2027, 4, 22): ["Cara"],
        date(2027, 4, 23): ["Cara"],
        date(2027, 4, 26): ["Cara"],
    }


def test_run_actions_follow_the_life_cycle_and_a_posted_run_is_not_posted_again() -> None:
    assert proration_text(12, 22) == "12 of 22 days" and proration_text(None, 22) == ""
    draft = run_actions({"status": "draft", "reverses_run_id": None})
    assert (draft.approve, draft.post, draft.discard, draft.pay) == (True, False, True, False)
    approved = run_actions({"status": "approved", "reverses_run_id": None})
    assert approved.post and not approved.approve
    posted = run_actions({"status": "posted", "reverses_run_id": None})
    assert not posted.post and posted.pay and posted.reverse and posted.documents
    reversing = run_actions({"status": "posted", "reverses_run_id": R1})
    assert not (reversing.post or reversing.pay or reversing.reverse or reversing.documents)
    assert run_actions(None) == run_actions({"status": "reversed"})


def test_a_leaver_is_rehired_after_their_last_day() -> None:
    row = {
        "id": E1,
        "name": "Ben",
        "status": "terminated",
        "hire_date": date(2027, 4, 15),
        "termination_date": date(2027, 6, 30),
    }
    assert build_rehire(row, {"hire_date": "2027-06-30"}).problems == {
        "hire_date": "must be after their last day (2027-06-30)"
    }
    built = build_rehire(row, {"hire_date": "2027-09-01"})
    assert built.problems == {}
    assert built.args["changes"] == {"status": "active", "hire_date": "2027-09-01", "termination_date": None}
    assert built.args["base"] == {
        "status": "terminated",
        "hire_date": "2027-04-15",
        "termination_date": "2027-06-30",
    }
    assert (
        build_rehire({**row, "status": "active"}, {"hire_date": "2027-09-01"}).problems[""]
        == "Ben has not left."
    )

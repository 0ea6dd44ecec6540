"""The project and self-service form builders, and the week grid's plan, over a real encrypted store."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from common.commands.projects import TASK_TRANSITIONS
from common.ids import new_id
from common.project_forms import (
    build_contact_details,
    build_invoice_time,
    build_leave_request,
    build_project,
    build_task,
    move_task,
    own_employee,
    plan_week,
    status_path,
    week_lines,
)
from common.schema import TimesheetEntry
from tests.common.business import Business

MONDAY = date(2030, 6, 3)
P1, T1 = new_id(), new_id()


def parse_quantity(text: str) -> Decimal:
    """The de_DE way: ``7,5`` is seven and a half (the desktop's parser reads the real locale)."""
    if "." in text:
        raise ValueError("is ambiguous here")
    try:
        return Decimal(text.replace(",", "."))
    except ArithmeticError:
        raise ValueError("is not a number") from None


def parse_money(text: str, currency: str) -> int:
    return int(parse_quantity(text) * 100)


def test_a_project_form_becomes_create_args_in_minor_units() -> None:
    built = build_project(
        P1,
        {"code": "P-7", "name": "Fit-out", "currency": "EUR", "budget": "25000", "hourly_rate": "95,50",
         "budget_hours": "250,5", "start_date": "2030-01-01", "end_date": ""},
        parse_quantity,
        parse_money,
    )  # fmt: skip
    assert built.problems == {}
    assert built.args["budget"] == 2_500_000 and built.args["hourly_rate"] == 9550
    assert built.args["budget_hours"] == "250.5" and built.args["end_date"] is None


def test_a_project_form_names_each_problem() -> None:
    built = build_project(
        P1,
        {"code": "P 7", "name": "", "currency": "", "hourly_rate": "95", "budget_hours": "1.5",
         "start_date": "2030-02-01", "end_date": "2030-01-01"},
        parse_quantity,
        parse_money,
    )  # fmt: skip
    assert built.problems["hourly_rate"] == "needs a currency (pick one)"
    assert built.problems["budget_hours"] == "is ambiguous here"
    assert built.problems["name"] == "is required"
    assert "code" in built.problems and built.problems["end_date"] == "must not be before start_date"


def test_task_form_and_board_moves_follow_the_life_cycle() -> None:
    assert build_task(T1, None, {"title": "Survey"}, parse_quantity).problems == {
        "project_id": "pick a project"
    }
    assert build_task(T1, P1, {"title": "Survey", "estimate_hours": "4"}, parse_quantity).problems == {}
    assert status_path(TASK_TRANSITIONS, "todo", "done") == ["in_progress", "done"]
    assert move_task({"id": "t1", "status": "done"}, "todo") == [
        {"id": "t1", "changes": {"status": "in_progress"}, "base": {"status": "done"}},
        {"id": "t1", "changes": {"status": "todo"}, "base": {"status": "in_progress"}},
    ]
    assert move_task({"id": "t1", "status": "todo"}, "todo") == []
    with pytest.raises(ValueError):
        status_path(TASK_TRANSITIONS, "todo", "archived")


def test_billing_refused_early_without_customer_or_rate() -> None:
    project = {"id": "p1", "code": "P-7", "customer_id": None, "hourly_rate": 9500}
    assert "no customer" in build_invoice_time("i1", project, "2030-06-30").problems["project_id"]
    project = {**project, "customer_id": "c1", "hourly_rate": None}
    assert "no hourly rate" in build_invoice_time("i1", project, "2030-06-30").problems["project_id"]
    built = build_invoice_time("i1", {**project, "hourly_rate": 9500}, "2030-06-30")
    assert built.problems == {} and built.args == {
        "id": "i1",
        "project_id": "p1",
        "through_date": "2030-06-30",
    }


def test_leave_and_contact_forms() -> None:
    built = build_leave_request(new_id(), P1, {"start_date": "2030-06-10", "end_date": "2030-06-07"})
    assert built.problems == {
        "leave_type_id": "pick a kind of leave",
        "end_date": "must not be before the first day",
    }
    employee = {"id": "e1", "work_phone": "+49 30 1", "personal_email": None, "personal_phone": None,
                "home_address": None}  # fmt: skip
    built = build_contact_details(employee, {**employee, "personal_email": "not-mail"})
    assert built.problems == {"personal_email": "is not an e-mail address"}
    built = build_contact_details(employee, {**employee, "home_address": "  Main St 1 "})
    assert built.args == {
        "id": "e1",
        "changes": {"home_address": "Main St 1"},
        "base": {"home_address": None},
    }
    assert build_contact_details(employee, employee).problems == {
        "": "Nothing to save yet: no field was changed."
    }


def _ids() -> object:
    return new_id


def test_the_week_plan_logs_more_and_reverses_then_relogs_fewer(business: Business) -> None:
    employee = business.employee()
    project = business.project()
    business.apply(
        "projects.log_time",
        {
            "id": new_id(),
            "employee_id": employee,
            "project_id": project,
            "work_date": "2030-06-04",
            "hours": "8",
        },
    )
    with business.store.read_session() as db:
        lines = week_lines(db, business.org_id, employee, MONDAY)
    assert [line.hours(1) for line in lines] == [Decimal(8)]
    plan = plan_week(employee, MONDAY, lines, {(0, 0): "7,5", (0, 1): "6"}, parse_quantity, _ids())  # type: ignore[arg-type]
    assert plan.problems == {}
    names = [name for name, _args in plan.commands]
    assert names == ["projects.log_time", "projects.reverse_time_entry", "projects.log_time"]
    assert plan.commands[0][1]["hours"] == "7.5" and plan.commands[2][1]["hours"] == "6"
    for name, args in plan.commands:
        business.apply(name, args)
    with business.store.read_session() as db:
        lines = week_lines(db, business.org_id, employee, MONDAY)
    assert [lines[0].hours(d) for d in range(3)] == [Decimal("7.5"), Decimal(6), Decimal(0)]
    assert lines[0].total == Decimal("13.5")
    assert len(business.rows(TimesheetEntry)) == 4  # 8, its reversal −8, 6, 7.5: nothing edited


def test_the_week_plan_refuses_bad_cells_naming_the_day(business: Business) -> None:
    employee = business.employee()
    project, other = business.project(), business.project()
    business.apply(
        "projects.log_time",
        {
            "id": new_id(),
            "employee_id": employee,
            "project_id": project,
            "work_date": "2030-06-05",
            "hours": "20",
        },
    )
    with business.store.read_session() as db:
        lines = week_lines(db, business.org_id, employee, MONDAY)
    from common.project_forms import WeekLine

    lines.append(WeekLine(other, None))
    plan = plan_week(
        employee, MONDAY, lines, {(0, 0): "1.5", (1, 2): "6", (0, 3): "-2"}, parse_quantity, _ids()
    )  # type: ignore[arg-type]
    assert plan.problems == {
        (0, 0): "Mon 3: is ambiguous here",
        (1, 2): "Wed 5: 26 hours in one day; a day has 24",
        (0, 3): "Thu 6: must not be negative (type fewer hours instead)",
    }
    assert plan.commands == []


def test_own_employee_by_link_or_the_only_record(business: Business) -> None:
    me = new_id()
    mine = business.employee(user_id=me)
    business.employee()
    with business.store.read_session() as db:
        found = own_employee(db, business.org_id, me, frozenset({"hr.read"}))
        assert found is not None and found["id"] == mine
        assert own_employee(db, business.org_id, new_id(), frozenset({"hr.read"})) is None
        assert own_employee(db, business.org_id, new_id(), frozenset({"hr.self_service"})) is None

"""Projects commands (projects, tasks, timesheets) through a real encrypted store."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from common.ids import new_id
from common.schema import Project, Task, TimesheetEntry
from tests.common.business import Business, role

PM = role("project_manager")
EMPLOYEE = role("employee")


def _task(biz: Business, project_id: str, **extra: Any) -> str:
    task_id = new_id()
    biz.apply(
        "projects.create_task",
        {"id": task_id, "project_id": project_id, "title": "Design", **extra},
        permissions=PM,
    )
    return task_id


def _set(biz: Business, command: str, entity_id: str, field: str, old: Any, new: Any, **kwargs: Any) -> None:
    biz.apply(command, {"id": entity_id, "changes": {field: new}, "base": {field: old}}, **kwargs)


def _log(
    biz: Business, employee_id: str, project_id: str, hours: str, day: str = "2030-04-01", **kwargs: Any
) -> str:
    entry_id = new_id()
    args = {
        "id": entry_id,
        "employee_id": employee_id,
        "project_id": project_id,
        "work_date": day,
        "hours": hours,
    }
    biz.apply("projects.log_time", {**args, **kwargs.pop("extra", {})}, **kwargs)
    return entry_id


# -- projects --------------------------------------------------------------------------------


def test_create_project_and_move_it_through_its_life_cycle(business: Business) -> None:
    manager, customer = business.employee(), business.customer()
    project_id = new_id()
    business.apply(
        "projects.create_project",
        {"id": project_id, "code": f"WEB-{project_id[-6:]}", "name": "New website", "customer_id": customer,
         "manager_employee_id": manager, "start_date": "2030-01-01", "end_date": "2030-06-30", "budget": 5_000_000, "currency": "EUR"},
        permissions=PM,
    )  # fmt: skip
    project = business.row(Project, project_id)
    assert (project["status"], project["budget"], project["customer_id"]) == ("planned", 5_000_000, customer)
    error = business.refused(
        "projects.update_project",
        {"id": project_id, "changes": {"status": "completed"}, "base": {"status": "planned"}},
    )
    assert error.code == "invalid_state" and "planned" in error.message
    _set(business, "projects.update_project", project_id, "status", "planned", "active", permissions=PM)
    _set(business, "projects.update_project", project_id, "status", "active", "completed", permissions=PM)
    assert business.row(Project, project_id)["status"] == "completed"
    error = business.refused(
        "projects.update_project",
        {"id": project_id, "changes": {"status": "cancelled"}, "base": {"status": "completed"}},
    )
    assert error.code == "invalid_state"


def test_project_update_conflicts_and_checks(business: Business) -> None:
    project_id = business.project(start_date="2030-01-01")
    _set(business, "projects.update_project", project_id, "name", "Website", "Web shop")
    error = business.refused(
        "projects.update_project",
        {"id": project_id, "changes": {"name": "Shop"}, "base": {"name": "Website"}},
    )
    assert error.code == "conflict" and error.server_values == {"name": "Web shop"}
    # A stale status is a conflict too, not a life-cycle error.
    error = business.refused(
        "projects.update_project",
        {"id": project_id, "changes": {"status": "active"}, "base": {"status": "active"}},
    )
    assert error.code == "conflict"
    business.invalid(
        "projects.update_project",
        {"id": project_id, "changes": {"end_date": "2029-12-31"}, "base": {"end_date": None}},
        "changes.end_date",
    )
    business.invalid(
        "projects.update_project",
        {"id": project_id, "changes": {"budget": 100}, "base": {"budget": None}},
        "changes.currency",
    )
    business.invalid(
        "projects.update_project",
        {"id": project_id, "changes": {"status": "paused"}, "base": {"status": "planned"}},
        "changes.status",
    )
    business.invalid(
        "projects.update_project",
        {"id": project_id, "changes": {"customer_id": new_id()}, "base": {"customer_id": None}},
        "changes.customer_id",
    )
    assert (
        business.refused(
            "projects.update_project", {"id": new_id(), "changes": {"name": "x"}, "base": {"name": "y"}}
        ).code
        == "not_found"
    )
    error = business.refused(
        "projects.update_project",
        {"id": project_id, "changes": {"name": "x"}, "base": {"name": "Web shop"}},
        permissions=EMPLOYEE,
    )
    assert error.code == "forbidden"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"code": "has space"}, "code"),
        ({"code": "c" * 33}, "code"),
        ({"name": "n" * 201}, "name"),
        ({"budget": 100}, "currency"),
        ({"budget": -1, "currency": "EUR"}, "budget"),
        ({"start_date": "2030-02-01", "end_date": "2030-01-31"}, "end_date"),
        ({"customer_id": "unknown"}, "customer_id"),
        ({"manager_employee_id": "unknown"}, "manager_employee_id"),
    ],
)
def test_each_invalid_project_argument_is_named(
    business: Business, override: dict[str, Any], field: str
) -> None:
    args = {"id": new_id(), "code": f"P{new_id()[-8:]}", "name": "Website", **override}
    for key in ("customer_id", "manager_employee_id"):
        if args.get(key) == "unknown":
            args[key] = new_id()
    business.invalid("projects.create_project", args, field)


def test_project_codes_are_unique(business: Business) -> None:
    project_id = business.project()
    code = business.row(Project, project_id)["code"]
    business.invalid("projects.create_project", {"id": new_id(), "code": code, "name": "Again"}, "code")


# -- tasks -----------------------------------------------------------------------------------


def test_task_moves_todo_in_progress_done(business: Business) -> None:
    project_id = business.project()
    assignee = business.employee()
    task_id = _task(
        business, project_id, assignee_employee_id=assignee, estimate_hours="7.5", due_date="2030-05-01"
    )
    task = business.row(Task, task_id)
    assert (task["status"], task["estimate_hours"], task["assignee_employee_id"]) == (
        "todo",
        Decimal("7.5"),
        assignee,
    )
    error = business.refused(
        "projects.update_task", {"id": task_id, "changes": {"status": "done"}, "base": {"status": "todo"}}
    )
    assert error.code == "invalid_state" and "todo" in error.message
    _set(business, "projects.update_task", task_id, "status", "todo", "in_progress", permissions=PM)
    _set(business, "projects.update_task", task_id, "status", "in_progress", "done", permissions=PM)
    assert business.row(Task, task_id)["status"] == "done"
    assert (
        business.refused(
            "projects.update_task", {"id": task_id, "changes": {"status": "todo"}, "base": {"status": "done"}}
        ).code
        == "invalid_state"
    )


def test_task_update_conflicts_and_validation(business: Business) -> None:
    task_id = _task(business, business.project())
    _set(business, "projects.update_task", task_id, "title", "Design", "Design review")
    error = business.refused(
        "projects.update_task", {"id": task_id, "changes": {"title": "Build"}, "base": {"title": "Design"}}
    )
    assert error.code == "conflict" and error.server_values == {"title": "Design review"}
    business.invalid(
        "projects.update_task",
        {"id": task_id, "changes": {"status": "blocked"}, "base": {"status": "todo"}},
        "changes.status",
    )
    business.invalid(
        "projects.update_task",
        {"id": task_id, "changes": {"title": "t" * 201}, "base": {"title": "Design review"}},
        "changes.title",
    )
    business.invalid(
        "projects.update_task",
        {
            "id": task_id,
            "changes": {"assignee_employee_id": new_id()},
            "base": {"assignee_employee_id": None},
        },
        "changes.assignee_employee_id",
    )


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"title": ""}, "title"),
        ({"description": "d" * 4001}, "description"),
        ({"estimate_hours": "-1"}, "estimate_hours"),
        ({"estimate_hours": 1.5}, "estimate_hours"),
        ({"project_id": "unknown"}, "project_id"),
        ({"assignee_employee_id": "unknown"}, "assignee_employee_id"),
    ],
)
def test_each_invalid_task_argument_is_named(
    business: Business, override: dict[str, Any], field: str
) -> None:
    args = {"id": new_id(), "project_id": business.project(), "title": "Design", **override}
    for key in ("project_id", "assignee_employee_id"):
        if args.get(key) == "unknown":
            args[key] = new_id()
    business.invalid("projects.create_task", args, field)


def test_no_new_tasks_or_time_on_a_cancelled_project(business: Business) -> None:
    project_id = business.project()
    _set(business, "projects.update_project", project_id, "status", "planned", "cancelled")
    error = business.refused(
        "projects.create_task", {"id": new_id(), "project_id": project_id, "title": "Late"}
    )
    assert error.code == "invalid_state"
    error = business.refused(
        "projects.log_time",
        {
            "id": new_id(),
            "employee_id": business.employee(),
            "project_id": project_id,
            "work_date": "2030-01-01",
            "hours": "1",
        },
    )
    assert error.code == "invalid_state"


# -- timesheets ------------------------------------------------------------------------------


def test_employees_log_their_own_time_and_managers_anyones(business: Business) -> None:
    user_id = new_id()
    # The colleague is linked to a user of their own: a workstation refuses acting for them. (An
    # unlinked record is the server's to refuse: a workstation without hr.read never holds one.)
    me, colleague = business.employee(user_id=user_id), business.employee(user_id=new_id())
    project_id = business.project()
    task_id = _task(business, project_id)
    mine = _log(
        business,
        me,
        project_id,
        "2.25",
        extra={"task_id": task_id, "note": "Wireframes", "billable": False},
        permissions=EMPLOYEE,
        actor_id=user_id,
    )
    entry = business.row(TimesheetEntry, mine)
    assert (entry["hours"], entry["task_id"], entry["note"], entry["billable"]) == (
        Decimal("2.25"),
        task_id,
        "Wireframes",
        False,
    )
    _log(business, colleague, project_id, "8", permissions=PM)
    error = business.refused(
        "projects.log_time",
        {
            "id": new_id(),
            "employee_id": colleague,
            "project_id": project_id,
            "work_date": "2030-04-02",
            "hours": "1",
        },
        permissions=EMPLOYEE,
        actor_id=user_id,
    )
    assert (error.code, error.field) == ("forbidden", "employee_id")
    # Logging one's own time is self-service: a warehouse login linked to a record may not.
    error = business.refused(
        "projects.log_time",
        {
            "id": new_id(),
            "employee_id": me,
            "project_id": project_id,
            "work_date": "2030-04-02",
            "hours": "1",
        },
        permissions=role("warehouse"),
        actor_id=user_id,
    )
    assert error.code == "forbidden" and "hr.self_service" in error.message


def test_a_day_has_twenty_four_hours(business: Business) -> None:
    employee_id, project_id = business.employee(), business.project()
    _log(business, employee_id, project_id, "20", day="2030-09-09")
    error = business.invalid(
        "projects.log_time",
        {
            "id": new_id(),
            "employee_id": employee_id,
            "project_id": project_id,
            "work_date": "2030-09-09",
            "hours": "4.5",
        },
        "hours",
    )
    assert "20 hours" in error.message
    _log(business, employee_id, project_id, "4", day="2030-09-09")


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"hours": "0"}, "hours"),
        ({"hours": "-1"}, "hours"),
        ({"hours": "25"}, "hours"),
        ({"hours": 1.5}, "hours"),
        ({"work_date": "2030-04-31"}, "work_date"),
        ({"note": "n" * 501}, "note"),
        ({"task_id": "other project"}, "task_id"),
        ({"project_id": "unknown"}, "project_id"),
        ({"billable": "sometimes"}, "billable"),
    ],
)
def test_each_invalid_time_entry_argument_is_named(
    business: Business, override: dict[str, Any], field: str
) -> None:
    project_id = business.project()
    args = {
        "id": new_id(),
        "employee_id": business.employee(),
        "project_id": project_id,
        "work_date": "2030-04-01",
        "hours": "1",
        **override,
    }
    if args.get("task_id") == "other project":
        args["task_id"] = _task(business, business.project())
    if args.get("project_id") == "unknown":
        args["project_id"] = new_id()
    business.invalid("projects.log_time", args, field)


def test_a_time_entry_is_corrected_by_one_reversal(business: Business) -> None:
    user_id = new_id()
    me, project_id = business.employee(user_id=user_id), business.project()
    entry_id = _log(business, me, project_id, "3", day="2030-10-01", permissions=EMPLOYEE, actor_id=user_id)
    reversal_id = new_id()
    business.apply(
        "projects.reverse_time_entry",
        {"id": reversal_id, "entry_id": entry_id, "note": "wrong project"},
        permissions=EMPLOYEE,
        actor_id=user_id,
    )
    reversal = business.row(TimesheetEntry, reversal_id)
    assert (reversal["hours"], reversal["reverses_entry_id"], reversal["work_date"]) == (
        Decimal(-3),
        entry_id,
        business.row(TimesheetEntry, entry_id)["work_date"],
    )
    assert business.row(TimesheetEntry, entry_id)["hours"] == Decimal(3)  # the original is never edited
    business.invalid("projects.reverse_time_entry", {"id": new_id(), "entry_id": entry_id}, "entry_id")
    business.invalid("projects.reverse_time_entry", {"id": new_id(), "entry_id": reversal_id}, "entry_id")
    business.invalid("projects.reverse_time_entry", {"id": new_id(), "entry_id": new_id()}, "entry_id")
    # The day is free again: a full day can now be logged.
    _log(business, me, project_id, "24", day="2030-10-01", permissions=PM)


def test_only_ones_own_time_is_reversed_by_self_service(business: Business) -> None:
    colleague, project_id = business.employee(user_id=new_id()), business.project()
    entry_id = _log(business, colleague, project_id, "1", day="2030-11-01", permissions=PM)
    stranger = new_id()
    business.employee(user_id=stranger)
    error = business.refused(
        "projects.reverse_time_entry",
        {"id": new_id(), "entry_id": entry_id},
        permissions=EMPLOYEE,
        actor_id=stranger,
    )
    assert (error.code, error.field) == ("forbidden", "entry_id")
    business.apply("projects.reverse_time_entry", {"id": new_id(), "entry_id": entry_id}, permissions=PM)

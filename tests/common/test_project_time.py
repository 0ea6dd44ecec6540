"""A project's week of time, its budget against actual, and billable time billed once: through a
real encrypted store. The project bills 90.00 an hour."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from common.commands.project_time import budget_vs_actual, week_grid
from common.ids import new_id
from common.schema import Invoice, InvoiceLine, Project, TimesheetEntry
from tests.common.business import Business, role

PM, SALES, EMPLOYEE = role("project_manager"), role("sales"), role("employee")
MONDAY = date(2031, 6, 2)


def _log(
    biz: Business,
    employee: str,
    user: str,
    project: str,
    task: str | None,
    day: int,
    hours: str,
    **extra: Any,
) -> str:
    entry = new_id()
    args = {
        "id": entry,
        "employee_id": employee,
        "project_id": project,
        "work_date": f"2031-06-{day:02d}",
        "hours": hours,
    }
    if task is not None:
        args["task_id"] = task
    biz.apply("projects.log_time", {**args, **extra}, permissions=EMPLOYEE, actor_id=user)
    return entry


def _bill(biz: Business, project: str, through: str, **kwargs: Any) -> tuple[str, Any]:
    invoice = new_id()
    outcome = biz.apply(
        "projects.invoice_time", {"id": invoice, "project_id": project, "through_date": through}, **kwargs
    )
    return invoice, outcome


def test_a_week_of_time_against_the_budget_billed_once(business: Business) -> None:
    biz = business
    customer = biz.customer(name="Client Oy", currency="EUR")
    project = biz.project(
        customer_id=customer, currency="EUR", hourly_rate=9_000, budget_hours="40", budget=400_000
    )
    design, build = (
        biz._create("projects.create_task", {"project_id": project, "title": title})
        for title in ("Design", "Build")
    )
    user = new_id()
    employee = biz.employee(name="Tim Timesheet", user_id=user)
    _log(biz, employee, user, project, design, 2, "3")
    wrong = _log(biz, employee, user, project, design, 3, "4.5")
    biz.apply(
        "projects.reverse_time_entry",
        {"id": new_id(), "entry_id": wrong},
        permissions=EMPLOYEE,
        actor_id=user,
    )
    _log(biz, employee, user, project, design, 3, "4")
    build_entry = _log(biz, employee, user, project, build, 4, "8")
    _log(biz, employee, user, project, build, 5, "2", billable=False)
    _log(biz, employee, user, project, None, 6, "1.5")

    with biz.session() as session:
        grid = {
            row.task_id: (row.hours, row.total) for row in week_grid(session, biz.org_id, employee, MONDAY)
        }
        status = budget_vs_actual(session, biz.org_id, project)
    d = Decimal
    assert grid == {
        design: ([d(3), d(4), d(0), d(0), d(0), d(0), d(0)], d(7)),  # Tuesday: 4.5 − 4.5 + 4
        build: ([d(0), d(0), d(8), d(2), d(0), d(0), d(0)], d(10)),
        None: ([d(0), d(0), d(0), d(0), d("1.5"), d(0), d(0)], d("1.5")),
    }
    # Actual 18.5 h (16.5 billable) of 40; 18.5 × 90.00 = 1,665.00 of 4,000.00.
    assert (status.actual_hours, status.billable_hours, status.billed_hours) == (d("18.5"), d("16.5"), d(0))
    assert (status.remaining_hours, status.actual_amount, status.remaining_amount) == (
        d("21.5"),
        166_500,
        233_500,
    )

    # Billable time through Thursday: Design 7 h (630.00) and Build 8 h (720.00); the 2 h of
    # Thursday are not billable, Friday's 1.5 h come later.
    first, outcome = _bill(biz, project, "2031-06-05")
    invoice = biz.row(Invoice, first)
    assert (invoice["status"], invoice["customer_id"], invoice["subtotal"]) == ("draft", customer, 135_000)
    lines = {
        line["description"]: (line["quantity"], line["unit_price"], line["line_total"])
        for line in biz.rows(InvoiceLine, InvoiceLine.invoice_id == first)
    }
    code = biz.row(Project, project)["code"]
    assert lines == {
        f"{code} Design: 7 h": (d(7), 9_000, 63_000),
        f"{code} Build: 8 h": (d(8), 9_000, 72_000),
    }
    assert outcome.data["billed_entries"] == 5
    # Never billed twice.
    biz.invalid(
        "projects.invoice_time",
        {"id": new_id(), "project_id": project, "through_date": "2031-06-05"},
        "through_date",
    )
    second, _ = _bill(biz, project, "2031-06-08")
    assert [line["description"] for line in biz.rows(InvoiceLine, InvoiceLine.invoice_id == second)] == [
        f"{code} General: 1.5 h"
    ]
    with biz.session() as session:
        assert budget_vs_actual(session, biz.org_id, project).billed_hours == d("16.5")

    # Time already billed and then reversed is left out, with a warning: a credit note corrects it.
    reversal = new_id()
    biz.apply(
        "projects.reverse_time_entry",
        {"id": reversal, "entry_id": build_entry},
        permissions=EMPLOYEE,
        actor_id=user,
    )
    _log(biz, employee, user, project, build, 9, "2")
    third, outcome = _bill(biz, project, "2031-06-30")
    assert [(w["code"], w["entry_ids"]) for w in outcome.warnings] == [
        ("reversal_of_billed_time", [reversal])
    ]
    assert [line["quantity"] for line in biz.rows(InvoiceLine, InvoiceLine.invoice_id == third)] == [d(2)]
    assert biz.row(TimesheetEntry, reversal)["invoice_line_id"] is None


def test_billing_time_needs_sales_and_project_rights_a_customer_and_a_rate(business: Business) -> None:
    biz = business
    customer = biz.customer(name="Rate Oy", currency="EUR")
    no_customer = biz.project(currency="EUR", hourly_rate=1_000)
    no_rate = biz.project(customer_id=customer)
    args = {"id": new_id(), "through_date": "2031-12-31"}
    biz.invalid("projects.invoice_time", {**args, "project_id": no_customer}, "project_id")
    biz.invalid("projects.invoice_time", {**args, "project_id": no_rate}, "project_id")
    assert (
        biz.refused("projects.invoice_time", {**args, "project_id": no_rate}, permissions=PM).code
        == "forbidden"
    )
    error = biz.refused("projects.invoice_time", {**args, "project_id": no_rate}, permissions=SALES)
    assert error.code == "forbidden" and "projects.read" in error.message
    biz.invalid(
        "projects.create_project", {"id": new_id(), "code": "R1", "name": "R", "hourly_rate": 100}, "currency"
    )

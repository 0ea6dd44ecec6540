"""1280×800 screenshots of the HR and payroll screens and forms with a month's data (through the
real commands): nothing clipped or elided. The PNGs are kept under ``$OPS_TEST_ARTIFACTS`` when
set (else the test's temporary directory) to look at."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from common.ids import new_id
from desktop.session import UserSession
from desktop.ui.hr_calendar import LeaveCalendarPage
from desktop.ui.hr_employees import EmployeesPage
from desktop.ui.hr_leave import LeavePage
from desktop.ui.payroll_runs import PayrollRunsPage
from tests.desktop.seed import offline_session
from tests.desktop.test_hr_screens import _set_up_month, choose, department, hr_window, set_date, settle


@pytest.fixture
def hr_session(data_root: Path) -> Iterator[UserSession]:
    session = offline_session(data_root, roles=("hr",), email="hr@acme.test")
    yield session
    session.close()


SCREENS = (
    "employees",
    "leave",
    "leave_calendar",
    "leave_types",
    "departments",
    "payroll_runs",
    "pay_components",
)


def test_screenshots_of_the_hr_screens(
    qtbot: QtBot, qapp: Any, hr_session: UserSession, tmp_path: Path
) -> None:
    """1280×800 with a month's data: nothing clipped or elided (the PNGs are kept to look at)."""
    from desktop.ui.theme import apply_theme
    from tests.desktop.test_screenshots import clipped_texts

    apply_theme(qapp)
    ids = _set_up_month(hr_session)
    ops = department(hr_session, "OPS", "Operations")
    for name, title in (("Alice Aalto", "Warehouse lead"), ("Cara Castro", "Bookkeeper")):
        hr_session.apply(
            "hr.update_employee",
            {
                "id": ids[name],
                "changes": {"job_title": title, "department_id": ops},
                "base": {"job_title": None, "department_id": None},
            },
        )
    sales = department(hr_session, "SALES", "Sales")
    for name, title, salary, hired in (
        ("Dmitri Novak", "Account manager", 420_000, "2021-03-01"),
        ("Eva Lindqvist", "Sales assistant", 310_000, "2027-04-19"),
        ("Farid Haddad", "Forklift driver", 290_000, "2018-09-01"),
        ("Grace O'Neill", "Inside sales", 335_000, "2024-02-12"),
    ):
        ids[name] = new_id()
        hr_session.apply(
            "hr.create_employee",
            {"id": ids[name], "name": name, "job_title": title, "department_id": sales, "salary": salary,
             "salary_currency": "EUR", "hire_date": hired},
        )  # fmt: skip
    types = {}
    for code, name, kind, days in (
        ("ANNUAL", "Annual leave", "annual", "25"),
        ("UNPAID", "Unpaid leave", "unpaid", None),
    ):
        types[code] = new_id()
        hr_session.apply(
            "hr.create_leave_type",
            {"id": types[code], "code": code, "name": name, "kind": kind, "yearly_entitlement": days},
        )
    for name, code, start, end, approve in (
        ("Alice Aalto", "ANNUAL", "2027-04-12", "2027-04-16", True),
        ("Cara Castro", "UNPAID", "2027-04-22", "2027-04-26", True),
        ("Dmitri Novak", "ANNUAL", "2027-04-14", "2027-04-23", True),
        ("Farid Haddad", "ANNUAL", "2027-04-26", "2027-04-30", True),
        ("Grace O'Neill", "ANNUAL", "2027-05-03", "2027-05-07", False),
    ):
        leave_id = new_id()
        hr_session.apply(
            "hr.request_leave",
            {
                "id": leave_id,
                "employee_id": ids[name],
                "leave_type_id": types[code],
                "start_date": start,
                "end_date": end,
            },
        )
        if approve:
            hr_session.apply("hr.approve_leave", {"id": leave_id})
    run_id = new_id()
    hr_session.apply(
        "hr.run_payroll",
        {
            "id": run_id,
            "period_start": "2027-04-01",
            "period_end": "2027-04-30",
            "currency": "EUR",
            "withholding_rate": "20",
        },
    )
    win = hr_window(qtbot, hr_session)
    directory = Path(os.environ.get("OPS_TEST_ARTIFACTS", tmp_path)) / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    problems = {}
    for key in SCREENS:
        page = win.open_page(key)
        if isinstance(page, PayrollRunsPage):
            page.select_id(run_id)
        if isinstance(page, LeaveCalendarPage):
            page.show_month(2027, 4)
        if isinstance(page, LeavePage):
            page.table.selectRow(0)
        settle(qtbot)
        qtbot.wait(50)
        assert win.grab().save(str(directory / f"hr-1280x800-{key}.png"))
        found = clipped_texts(win)
        if isinstance(page, LeaveCalendarPage):
            # A day lists one name a line: the check measures a cell as one line, so each line
            # is measured here instead.
            found = [f for f in found if not f.startswith("cell elided")]
            metrics, width = page.grid.fontMetrics(), page.grid.columnWidth(0)
            found += [
                f"calendar line elided: {line!r}"
                for row in range(page.grid.rowCount())
                for column in range(7)
                for line in (page.grid.item(row, column).text() or "").split("\n")
                if metrics.horizontalAdvance(line) + 12 > width
            ]
        if found:
            problems[key] = found
    runs = win.open_page("payroll_runs")
    assert isinstance(runs, PayrollRunsPage)
    slip = runs.open_payslip(next(r for r in runs.slips.rows if r["employee"] == "Cara Castro"))
    assert slip is not None
    qtbot.waitUntil(slip.isActiveWindow)
    assert slip.grab().save(str(directory / "hr-payslip.png"))
    found = clipped_texts(slip)
    if found:
        problems["payslip"] = found
    slip.reject()
    employees = win.open_page("employees")
    assert isinstance(employees, EmployeesPage)
    alice = next(r for r in employees.model.rows if r["name"] == "Alice Aalto")
    form = employees.edit(alice)
    qtbot.waitUntil(form.isActiveWindow)
    assert form.grab().save(str(directory / "hr-employee-form.png"))
    found = clipped_texts(form)
    if found:
        problems["employee form"] = found
    form.discard_confirmed = True
    form.reject()
    leave = win.open_page("leave")
    assert isinstance(leave, LeavePage)
    asking = leave.new_item()
    assert asking is not None
    qtbot.waitUntil(asking.isActiveWindow)
    choose(asking, "employee_id", "Grace")
    choose(asking, "leave_type_id", "Annual")
    set_date(asking, "start_date", "2027-06-07")
    set_date(asking, "end_date", "2027-06-11")
    assert asking.grab().save(str(directory / "hr-leave-request.png"))
    found = clipped_texts(asking)
    if found:
        problems["leave request"] = found
    asking.discard_confirmed = True
    asking.reject()
    win.leaving_confirmed = True
    print(f"\nscreenshots: {directory}")
    assert problems == {}

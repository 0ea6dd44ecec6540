"""An employee's week over real HTTP with real encrypted clients: HR pays November, the employee
logs a week of time and requests leave while offline, syncs, and downloads their payslip; a
warehouse computer meanwhile holds nothing of HR or pay.

November 2026 has 21 working days and Emma works them all: 4,000.00 gross; pension 7.15 % =
286.00; withholding tax 20 % = 800.00; net 2,914.00.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from common.commands.leave import leave_balances
from common.commands.project_time import week_grid
from common.ids import new_id
from desktop.api_client import NotFoundError
from tests.e2e.conftest import ClientFactory, Server

PAY_AND_HR = (
    "employee",
    "leave_request",
    "leave_type",
    "payslip",
    "payslip_line",
    "payroll_run",
    "pay_component",
)


def test_an_employees_week(server: Server, clients: ClientFactory) -> None:
    org = server.a
    hr, pm = clients(org.email("hr")), clients(org.email("project_manager"))
    emma, other = new_id(), new_id()
    leave_type, run, project = new_id(), new_id(), new_id()
    hr.apply("hr.create_leave_type", id=leave_type, code="ANNUAL", name="Annual leave", kind="annual",
             yearly_entitlement="25")  # fmt: skip
    hr.apply("hr.create_pay_component", id=new_id(), code="PENSION", name="Pension", kind="deduction",
             method="percent", rate="7.15")  # fmt: skip
    for employee_id, name, user_id in (
        (emma, "Emma Employee", org.users["employee"]),
        (other, "Otto Other", None),
    ):
        hr.apply("hr.create_employee", id=employee_id, name=name, user_id=user_id, hire_date="2020-01-01",
                 salary=400_000, salary_currency="EUR", bank_account="DE89370400440532013000")  # fmt: skip
    hr.apply("hr.run_payroll", id=run, period_start="2026-11-01", period_end="2026-11-30", currency="EUR",
             withholding_rate="20")  # fmt: skip
    hr.apply("hr.approve_payroll_run", id=run)
    hr.apply("hr.post_payroll_run", id=run)
    report = hr.sync()
    assert (report.rejected, report.pending_left) == (0, 0)
    pm.apply("projects.create_project", id=project, code="WEB", name="Website")
    assert pm.sync().rejected == 0

    employee = clients(org.email("employee"))
    employee.sync()
    # Offline: a week of time and a leave request wait in the outbox.
    monday = date(2026, 12, 7)
    for day, hours in enumerate(("8", "7.5", "8", "6", "4")):
        employee.apply("projects.log_time", id=new_id(), employee_id=emma, project_id=project,
                       work_date=date(2026, 12, 7 + day).isoformat(), hours=hours)  # fmt: skip
    leave = new_id()
    employee.apply("hr.request_leave", id=leave, employee_id=emma, leave_type_id=leave_type,
                   start_date="2026-12-21", end_date="2026-12-23")  # fmt: skip
    with employee.store.read_session() as db:
        (row,) = week_grid(db, org.id, emma, monday)
        (balance,) = leave_balances(db, org.id, emma, 2026)
    assert row.total == Decimal("33.5") and (balance.pending, balance.remaining) == (3, 22)
    assert len(employee.outbox("pending")) == 6
    report = employee.sync()
    assert (report.pushed, report.rejected, report.pending_left) == (6, 0, 0)
    # HR sees the request and approves it; the employee's copy follows.
    hr.sync()
    assert [r["status"] for r in hr.rows("leave_request") if r["id"] == leave] == ["requested"]
    hr.apply("hr.approve_leave", id=leave)
    hr.sync()
    employee.sync()
    assert [r["status"] for r in employee.rows("leave_request")] == ["approved"]

    # The payslip is on the employee's computer without its amounts; the PDF comes from the server.
    (payslip,) = employee.rows("payslip")
    # The amounts never reach this computer (the local columns hold their default, 0).
    assert payslip["employee_id"] == emma and (payslip["gross"], payslip["net"]) == (0, 0)
    body = employee.session.api.payslip_pdf(org.id, payslip["id"])
    text = " ".join(PdfReader(io.BytesIO(body)).pages[0].extract_text().split())
    for expected in ("Emma Employee", "Working days paid 21 of 21", "Pension 7.15 % -286.00 EUR",
                     "Withholding tax 20 % -800.00 EUR", "Net pay 2,914.00 EUR"):  # fmt: skip
        assert expected in text, (expected, text)
    others = [r["id"] for r in hr.rows("payslip") if r["employee_id"] == other]
    with pytest.raises(NotFoundError) as refused:
        employee.session.api.payslip_pdf(org.id, others[0])
    assert refused.value.status == 404

    # A warehouse computer holds no employee rows and no pay data at all.
    warehouse = clients(org.email("warehouse"))
    warehouse.sync()
    assert {entity: len(warehouse.rows(entity)) for entity in PAY_AND_HR} == dict.fromkeys(PAY_AND_HR, 0)
    assert len(warehouse.rows("employee_directory")) == 2

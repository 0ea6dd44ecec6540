"""A payroll run for 2,000 employees on the desktop's encrypted store (issue 15: ≤ 5 s), and the
week grid of a timesheet over 50 projects (context for the screen's ≤ 200 ms).

The employees are written in bulk (the way an initial sync writes them): salaries in EUR, a
tenth hired or leaving inside the month, a tenth with approved unpaid leave in it. Five pay
components apply to everyone. ``hr.run_payroll`` runs as HR does on the workstation (through
``LocalStore.apply``: the command, its outbox entry and its undo record in one transaction),
writing a payslip and its lines per employee; ``hr.approve_payroll_run`` and
``hr.post_payroll_run`` follow (context). Each run is a fresh period (a month earlier than the
previous) so nothing is refused as overlapping; the figure is the fastest of three.

Context: the Payroll runs screen (offscreen) showing the first run's preview — its first page of
payslips with their paid days and the count — as it does when the run is selected.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.harness import Figure, at_most, info, median
from common.commands.project_time import week_grid
from common.ids import new_id
from common.permissions import ALL_PERMISSIONS
from desktop.api_client import ApiClient, Membership, User
from desktop.local_store import LocalStore
from desktop.profiles import Profile
from desktop.rows import WRITERS
from desktop.session import UserSession

STAMP = "2026-01-01T00:00:00+00:00"
COMPONENTS = (
    ("MEAL", "earning", "fixed", {"amount": 11_000, "currency": "EUR"}),
    ("PENSION", "deduction", "percent", {"rate": "7.15"}),
    ("UNION", "deduction", "fixed", {"amount": 1_500, "currency": "EUR"}),
    ("SOCSEC", "employer_contribution", "percent", {"rate": "20", "cap": 85_000}),
    ("HEALTH", "employer_contribution", "fixed", {"amount": 3_000, "currency": "EUR"}),
)
MONTHS = ((2026, 9), (2026, 8), (2026, 7), (2026, 6))
MONDAY = date(2026, 9, 7)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _people(org_id: str, count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Employees and their approved unpaid leave, in wire form."""
    rng = random.Random(15)
    common = {"org_id": org_id, "version": 1, "updated_at": STAMP, "updated_by": None, "deleted": False}
    employees, leave = [], []
    for n in range(count):
        employee_id = _uuid(rng)
        hire = "2020-01-01" if n % 10 else f"2026-0{6 + n % 4}-{10 + n % 15:02d}"
        employees.append(
            {**common, "id": employee_id, "name": f"Employee {n:05d}", "job_title": None, "department_id": None,
             "work_email": None, "work_phone": None, "user_id": None, "status": "active", "hire_date": hire,
             "termination_date": None, "personal_email": None, "personal_phone": None, "home_address": None,
             "birth_date": None, "national_id": None, "bank_account": "DE89370400440532013000",
             "salary": rng.randrange(250_000, 900_000), "salary_currency": "EUR"}
        )  # fmt: skip
        if n % 10 == 5:
            for year, month in MONTHS:
                leave.append(
                    {**common, "id": _uuid(rng), "employee_id": employee_id, "kind": "unpaid", "leave_type_id": None,
                     "start_date": date(year, month, 14).isoformat(), "end_date": date(year, month, 18).isoformat(),
                     "status": "approved", "note": None}
                )  # fmt: skip
    return employees, leave


def _month(year: int, month: int) -> tuple[str, str]:
    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first.isoformat(), last.isoformat()


def _timesheets(
    org_id: str, employee_id: str, projects: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(7)
    common = {"org_id": org_id, "version": 1, "updated_at": STAMP, "updated_by": None, "deleted": False}
    rows, entries = [], []
    for n in range(projects):
        project_id = _uuid(rng)
        rows.append(
            {**common, "id": project_id, "code": f"P{n:03d}", "name": f"Project {n}", "customer_id": None,
             "manager_employee_id": None, "status": "active", "start_date": None, "end_date": None, "budget": None,
             "currency": "EUR", "budget_hours": "100", "hourly_rate": 9_000}
        )  # fmt: skip
        for day in range(5):
            entries.append(
                {**common, "id": _uuid(rng), "employee_id": employee_id, "project_id": project_id, "task_id": None,
                 "work_date": (MONDAY + timedelta(days=day)).isoformat(), "hours": "0.25", "note": None,
                 "billable": True, "reverses_entry_id": None, "invoice_line_id": None}
            )  # fmt: skip
    return rows, entries


def _preview_on_screen(
    root: Path, store: LocalStore, org_id: str, actor: str, run_id: str, count: int
) -> Figure:
    """Select the run on the real Payroll runs screen (offscreen): its preview loads."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from desktop.modules import page_spec
    from desktop.qt import QApplication
    from desktop.ui.context import UiContext
    from desktop.ui.payroll_runs import PayrollRunsPage

    app = QApplication.instance() or QApplication([])
    assert app is not None
    membership = Membership(org_id, "Bench", ("hr",), ALL_PERMISSIONS)
    session = UserSession(
        root=root,
        server_url="https://bench.example",
        user=User(actor, "hr@example.test", "HR"),
        membership=membership,
        memberships=(membership,),
        store=store,
        api=ApiClient("https://bench.example"),
        online=False,
    )
    screen = PayrollRunsPage(UiContext(session).for_page(page_spec("payroll_runs")))
    screen.resize(1280, 760)
    screen.show()
    screen.activate()
    times = []
    for _ in range(5):
        screen.table.selectionModel().clearCurrentIndex()
        screen.show_preview(None)
        began = time.perf_counter()
        assert screen.select_id(run_id)
        screen.repaint()
        times.append(time.perf_counter() - began)
        assert screen.slips.rowCount() > 0
    screen.close()
    return info(
        f"payroll run preview on the screen ({count:,} payslips: first page, paid days, count)",
        median(times) * 1000,
        "ms",
    )


def run(quick: bool) -> list[Figure]:
    count = 500 if quick else 2_000
    org_id, actor = new_id(), new_id()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="bench-payroll-") as tmp:
        store = LocalStore.create(
            Path(tmp), Profile("https://bench.example", "hr@example.test", org_id), "pw"
        )
        apply = lambda name, args: store.apply(name, args, actor_id=actor, permissions=ALL_PERMISSIONS)  # noqa: E731
        apply("finance.set_up_books", {"currency": "EUR"})
        for code, kind, method, extra in COMPONENTS:
            apply(
                "hr.create_pay_component",
                {"id": new_id(), "code": code, "name": code.title(), "kind": kind, "method": method, **extra},
            )
        employees, leave = _people(org_id, count)
        with store.write_session() as session:
            WRITERS["employee"].upsert(session.connection(), employees)
            WRITERS["leave_request"].upsert(session.connection(), leave)
        runs, posts, run_ids = [], [], []
        # September first: every employee is paid in it (hires are June to August).
        for year, month in MONTHS[:3]:
            start, end = _month(year, month)
            run_id = new_id()
            run_ids.append(run_id)
            began = time.perf_counter()
            _, outcome = apply(
                "hr.run_payroll",
                {
                    "id": run_id,
                    "period_start": start,
                    "period_end": end,
                    "currency": "EUR",
                    "withholding_rate": "20",
                },
            )
            runs.append(time.perf_counter() - began)
            # Those hired after the month are not paid in it.
            assert outcome.data["payslips"] >= count * 0.9, outcome.data
            began = time.perf_counter()
            apply("hr.approve_payroll_run", {"id": run_id})
            apply("hr.post_payroll_run", {"id": run_id})
            posts.append(time.perf_counter() - began)
        figures.append(
            at_most(
                f"payroll run for {count:,} employees (payslips and lines), encrypted desktop store",
                min(runs) * 1000,
                5000,
                "ms",
                rounds_ms=[round(r * 1000, 1) for r in runs],
            )
        )
        figures.append(info(f"payroll run approved and posted ({count:,} payslips)", min(posts) * 1000, "ms"))
        figures.append(_preview_on_screen(Path(tmp), store, org_id, actor, run_ids[0], count))
        employee_id = employees[0]["id"]
        projects, entries = _timesheets(org_id, employee_id, 50)
        with store.write_session() as session:
            WRITERS["project"].upsert(session.connection(), projects)
            WRITERS["timesheet_entry"].upsert(session.connection(), entries)
        grids = []
        for _ in range(5):
            with store.read_session() as session:
                began = time.perf_counter()
                rows = week_grid(session, org_id, employee_id, MONDAY)
                grids.append(time.perf_counter() - began)
        assert len(rows) == 50
        figures.append(
            info("timesheet week grid query, 50 projects (the screen's data)", min(grids) * 1000, "ms")
        )
        store.close()
    return figures

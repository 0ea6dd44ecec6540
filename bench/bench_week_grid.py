"""The timesheet week grid opens in ≤ 200 ms for an employee working on 50 projects (issue 15).

An offline session on a real encrypted store holds 50 active projects, a task on each, and a
week of time on every one (five days × 50 rows, written in bulk the way a sync writes them). The
real Timesheets page is built offscreen and shown: timed from creating it to the grid painted
(employee list, the week's entries, 50 rows with their totals). The figure is the slowest of
five opens (the first, cold one); the median is kept beside it.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import random
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.harness import Figure, at_most

PROJECTS = 50
TARGET_MS = 200
STAMP = "2026-01-01T00:00:00+00:00"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _rows(org_id: str, employee_id: str, monday: Any) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(50)
    common = {"org_id": org_id, "version": 1, "updated_at": STAMP, "updated_by": None, "deleted": False}
    rows: dict[str, list[dict[str, Any]]] = {"project": [], "task": [], "timesheet_entry": []}
    for n in range(PROJECTS):
        project_id, task_id = _uuid(rng), _uuid(rng)
        rows["project"].append(
            {**common, "id": project_id, "code": f"P{n:03d}", "name": f"Project {n}", "customer_id": None,
             "manager_employee_id": None, "status": "active", "start_date": None, "end_date": None, "budget": None,
             "currency": "EUR", "budget_hours": "100", "hourly_rate": 9_000}
        )  # fmt: skip
        rows["task"].append(
            {**common, "id": task_id, "project_id": project_id, "title": f"Task {n}", "description": None,
             "status": "in_progress", "assignee_employee_id": employee_id, "due_date": None, "estimate_hours": "8"}
        )  # fmt: skip
        for day in range(5):
            rows["timesheet_entry"].append(
                {**common, "id": _uuid(rng), "employee_id": employee_id, "project_id": project_id,
                 "task_id": task_id, "work_date": (monday + timedelta(days=day)).isoformat(), "hours": "0.25",
                 "note": None, "billable": True, "reverses_entry_id": None, "invoice_line_id": None}
            )  # fmt: skip
    return rows


def run(quick: bool) -> list[Figure]:
    from common.ids import new_id
    from common.project_forms import monday_of
    from desktop.modules import PAGES, load_screens
    from desktop.qt import QApplication
    from desktop.rows import WRITERS
    from desktop.session import local_session
    from desktop.ui.context import UiContext
    from desktop.ui.projects_timesheet import TimesheetPage

    app = QApplication.instance() or QApplication([])
    load_screens()
    with tempfile.TemporaryDirectory(prefix="bench-week-grid-") as tmp:
        session = local_session(
            Path(tmp), "http://127.0.0.1:9", "pm@example.test", "pw", roles=("project_manager",)
        )
        employee_id = new_id()
        session.store.apply(
            "hr.create_employee",
            {"id": employee_id, "name": "Kim Berg"},
            actor_id=session.user.id,
            permissions=frozenset({"hr.write"}),
        )
        from datetime import date

        monday = monday_of(date.today())
        with session.store.write_session() as db:
            for entity, rows in _rows(session.org_id, employee_id, monday).items():
                WRITERS[entity].upsert(db.connection(), rows)
        ctx = UiContext(session).for_page(PAGES["timesheets"])
        opens: list[float] = []
        for _ in range(5):
            began = time.perf_counter()
            page = TimesheetPage(ctx)
            page.resize(1050, 700)
            page.show()
            page.activate()
            app.processEvents()
            opens.append(time.perf_counter() - began)
            assert page.grid.table.rowCount() == PROJECTS + 1, page.grid.table.rowCount()
            assert page.grid.week_total() == "62.5"
            page.close()
            page.deleteLater()
            app.processEvents()
        session.close()
    return [
        at_most(
            f"timesheet week grid, {PROJECTS} projects: the page built, loaded and painted",
            max(opens) * 1000,
            TARGET_MS,
            "ms",
            median_ms=round(statistics.median(opens) * 1000, 1),
            rounds_ms=[round(o * 1000, 1) for o in opens],
        )
    ]

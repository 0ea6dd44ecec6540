"""My work, an employee's week against a real server over HTTP: HR has hired Kim and paid
November; Kim signs in and lands on My work, sees their payslip and task, logs the week in the
grid and requests leave while offline, corrects their phone number, and syncs: everything
reaches the server. Kim's computer holds no colleague's pay.

Leave: 25 days of annual leave; 21–23 Dec 2026 is Monday to Wednesday, 3 working days, so
25 − 3 = 22 left while the request waits.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from common.ids import new_id
from common.schema import Employee, LeaveRequest, Payslip, TimesheetEntry
from desktop import background
from desktop.qt import QComboBox, QTableWidget
from desktop.ui.forms import FormDialog
from desktop.ui.my_work import MyWorkPage
from sync_server import admin_ops
from tests.desktop.conftest import LiveServer
from tests.desktop.test_inventory_screens import save_with_keyboard, type_into
from tests.desktop.test_sync_ui import command, open_window, press_f5, server_push, sign_in
from tests.e2e.proxy import DroppingProxy

MONDAY = date(2026, 12, 7)


def cells(table: QTableWidget) -> list[list[str]]:
    return [
        [table.item(r, c).text() if table.item(r, c) is not None else "" for c in range(table.columnCount())]  # type: ignore[union-attr]
        for r in range(table.rowCount())
    ]


def choose_data(dialog: FormDialog, key: str, value: Any) -> None:
    combo = dialog.inputs[key]
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(combo.findData(value))


def test_an_employees_week_in_my_work(qtbot: QtBot, live_server: LiveServer, data_root: Path) -> None:
    org_id = live_server.orgs["Acme Trading"]
    live_server.add_user("kim@acme.test", ("Acme Trading", "employee"))
    kim_user = admin_ops.find_user(live_server.services.store, "kim@acme.test")
    kim, otto, annual, run, project, task = (new_id() for _ in range(6))
    server_push(live_server, "admin@acme.test", org_id, command("finance.set_up_books", currency="EUR"))
    server_push(
        live_server,
        "hr@acme.test",
        org_id,
        command("hr.create_leave_type", id=annual, code="ANNUAL", name="Annual leave", kind="annual",
                yearly_entitlement="25"),
        command("hr.create_employee", id=kim, name="Kim Berg", user_id=kim_user, hire_date="2020-01-01",
                work_phone="+49 30 111", salary=400_000, salary_currency="EUR"),
        command("hr.create_employee", id=otto, name="Otto Other", hire_date="2020-01-01", salary=500_000,
                salary_currency="EUR"),
        command("hr.run_payroll", id=run, period_start="2026-11-01", period_end="2026-11-30", currency="EUR"),
        command("hr.approve_payroll_run", id=run),
        command("hr.post_payroll_run", id=run),  # a payslip is the employee's once its run is posted
    )  # fmt: skip
    server_push(
        live_server,
        "admin@acme.test",
        org_id,
        command("projects.create_project", id=project, code="WEB", name="Website relaunch"),
        command("projects.create_task", id=task, project_id=project, title="Write the copy",
                assignee_employee_id=kim, due_date="2026-12-11"),
    )  # fmt: skip

    with DroppingProxy(live_server.http.port) as network:
        session = sign_in(data_root, network.url, "kim@acme.test", live_server.password)
        try:
            window = open_window(qtbot, session)
            press_f5(qtbot, window)
            page = window.stack.currentWidget()
            assert isinstance(page, MyWorkPage)  # where an employee lands
            qtbot.waitUntil(lambda: page.employee is not None)
            assert page.employee is not None and page.employee["id"] == kim
            assert page.profile_values["name"].text() == "Kim Berg"
            # Their payslip is listed; its amounts are not on this computer, nor anyone else's pay.
            assert cells(page.payslip_table) == [["November 2026", "2026-11-01", "2026-11-30", "21", "EUR"]]
            with session.store.read_session() as db:
                slips = db.execute(select(Payslip.employee_id, Payslip.gross)).all()
                employees = db.execute(select(Employee.id)).scalars().all()
            assert [s.employee_id for s in slips] == [kim] and employees == [kim]
            page.payslip_table.selectRow(0)
            assert page.pdf_button.isEnabled() and page.selected_payslip() is not None
            # The PDF: its amounts come from the server's copy (4,000.00 a month, the full month).
            page.open_after_saving = False
            saved = data_root / "my-payslip.pdf"
            job = page.open_payslip(str(saved))
            assert job is not None
            failures: list[str] = []
            job.failed.connect(failures.append)
            qtbot.waitUntil(lambda: saved.exists() or bool(failures), timeout=20_000)
            assert failures == []
            text = " ".join(PdfReader(io.BytesIO(saved.read_bytes())).pages[0].extract_text().split())
            assert "Kim Berg" in text and "4,000.00" in text and "Otto" not in text, text
            assert cells(page.task_table)[0][:4] == ["Write the copy", "WEB", "To do", "2026-12-11"]
            assert cells(page.balances) == [["Annual leave", "25", "0", "0", "25"]]

            # Offline: the week in the grid, a leave request and a corrected phone number.
            network.offline = True
            grid = page.grid
            grid.set_week(MONDAY)
            row = grid.add_row(project, task)
            for day, hours in enumerate(("8", "7.5", "8", "6", "4")):
                grid.set_hours(row, day, hours)
            assert grid.week_total() == "33.5"
            grid.save_button.click()
            qtbot.waitUntil(lambda: not grid.saving and background.active_count() == 0, timeout=10_000)
            assert grid.week_total() == "33.5" and not grid.typed_cells()

            dialog = page.request_leave()
            assert isinstance(dialog, FormDialog)
            qtbot.waitUntil(dialog.isActiveWindow)
            choose_data(dialog, "leave_type_id", annual)
            dialog.set_value("start_date", "2026-12-21")
            dialog.set_value("end_date", "2026-12-23")
            save_with_keyboard(qtbot, dialog)
            qtbot.waitUntil(lambda: page.requests.rowCount() == 1)
            assert cells(page.requests)[0][:5] == [
                "2026-12-21",
                "2026-12-23",
                "Annual leave",
                "3",
                "Requested",
            ]
            assert cells(page.balances) == [["Annual leave", "25", "0", "3", "22"]]

            dialog = page.edit_contact_details()
            assert isinstance(dialog, FormDialog)
            qtbot.waitUntil(dialog.isActiveWindow)
            type_into(qtbot, dialog, "work_phone", "+49 30 222")
            save_with_keyboard(qtbot, dialog)
            assert session.store.pending_count() == 7  # 5 days of time, the leave, the phone

            network.offline = False
            press_f5(qtbot, window)
            assert session.store.pending_count() == 0, window.sync.last_error
            with live_server.services.store.session(org_id) as db:
                hours = db.execute(
                    select(TimesheetEntry.work_date, TimesheetEntry.hours).where(
                        TimesheetEntry.employee_id == kim
                    )
                ).all()
                leave = db.execute(
                    select(LeaveRequest.status).where(LeaveRequest.employee_id == kim)
                ).scalar_one()
                phone = db.execute(select(Employee.work_phone).where(Employee.id == kim)).scalar_one()
            assert sorted(hours) == [
                (date(2026, 12, 7 + d), Decimal(h)) for d, h in enumerate(("8", "7.5", "8", "6", "4"))
            ]
            assert (leave, phone) == ("requested", "+49 30 222")
            assert page.profile_values["work_phone"].text() == "+49 30 222"

            # Cancel the request again (a second sync sends it).
            page.requests.selectRow(0)
            box = page.cancel_leave()
            assert box is not None
            box.button(box.StandardButton.Yes).click()
            qtbot.waitUntil(lambda: cells(page.requests)[0][4] == "Cancelled", timeout=10_000)
            assert cells(page.balances) == [["Annual leave", "25", "0", "0", "25"]]
        finally:
            session.close()

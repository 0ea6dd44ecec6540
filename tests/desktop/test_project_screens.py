"""Projects & tasks on real widgets over a real encrypted store, offline: a project manager (who
also bills, with sales) creates a project and tasks, moves a task on the board, logs a week in
the grid and bills the time as a draft invoice — amounts worked out by hand; and who lands where.

The project bills 95.50 EUR an hour. Time logged (all billable): "Install" Mon 7.5 h + Tue 8 h
= 15.5 h → 15.5 × 95.50 = 1,480.25; no task (General) Wed 4.5 h → 4.5 × 95.50 = 429.75; the
draft invoice's lines total 1,910.00 EUR before tax. Budget 100 h / 10,000.00 EUR: 20 h and
1,910.00 used.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from common.ids import new_id
from common.permissions import ALL_PERMISSIONS, BUILTIN_ROLES
from common.project_forms import monday_of
from common.schema import Invoice, Project, Task, TimesheetEntry
from desktop import background
from desktop.modules import landing_page, load_screens
from desktop.qt import QDropEvent, QPointF, Qt
from desktop.session import UserSession
from desktop.ui.forms import FormDialog
from desktop.ui.main_window import MainWindow
from desktop.ui.my_work import MyWorkPage
from desktop.ui.projects_board import TaskBoardPage
from desktop.ui.projects_list import ProjectsPage
from desktop.ui.projects_timesheet import TimesheetPage
from desktop.ui.window_tools import DASHBOARD_KEY
from tests.desktop.seed import offline_session
from tests.desktop.test_inventory_screens import choose, save_with_keyboard, type_into


def settle(qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: background.active_count() == 0, timeout=10_000)


def as_admin(session: UserSession, name: str, args: dict[str, Any]) -> None:
    """Data another role made, as a sync would bring it (HR's employees)."""
    session.store.apply(name, args, actor_id="hr-user", permissions=ALL_PERMISSIONS)


def colleague_as_downloaded(session: UserSession, employee_id: str, name: str) -> None:
    """A colleague's entry of the employee directory, as a sync brings it to a computer without
    hr.read (no employee record)."""
    from desktop.rows import WRITERS

    row = {"org_id": session.org_id, "id": employee_id, "version": 1, "updated_at": "2026-01-01T00:00:00+00:00",
           "updated_by": None, "deleted": False, "name": name, "job_title": None, "department_id": None,
           "work_email": None, "work_phone": None}  # fmt: skip
    with session.store.write_session() as db:
        WRITERS["employee_directory"].upsert(db.connection(), [row])


def open_window(qtbot: QtBot, session: UserSession) -> MainWindow:
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    settle(qtbot)
    return window


@pytest.fixture
def manager(data_root: Path) -> Any:
    session = offline_session(data_root, roles=("project_manager", "sales"), email="pm@acme.test")
    yield session
    session.close()


def test_a_project_manager_plans_moves_logs_and_bills(
    qtbot: QtBot, manager: UserSession, use_locale: Any
) -> None:
    use_locale("de_DE")
    customer, kim = new_id(), new_id()
    manager.apply("sales.create_customer", {"id": customer, "name": "Baltic Freight AG", "currency": "EUR"})
    colleague_as_downloaded(manager, kim, "Kim Berg")
    window = open_window(qtbot, manager)

    projects = window.open_page("projects")
    assert isinstance(projects, ProjectsPage)
    dialog = projects.new_item()
    assert isinstance(dialog, FormDialog)
    qtbot.waitUntil(dialog.isActiveWindow)
    type_into(qtbot, dialog, "code", "P-300")
    type_into(qtbot, dialog, "name", "Harbour office fit-out")
    choose(dialog, "customer_id", "Baltic Freight")
    choose(dialog, "currency", "EUR")
    type_into(qtbot, dialog, "budget", "10.000,00")
    type_into(qtbot, dialog, "budget_hours", "100")
    type_into(qtbot, dialog, "hourly_rate", "95.50")  # the US way: ambiguous in German
    assert "ambiguous" in dialog.field_problem("hourly_rate")
    type_into(qtbot, dialog, "hourly_rate", "95,50")
    save_with_keyboard(qtbot, dialog)
    with manager.store.read_session() as db:
        project = db.execute(select(Project).where(Project.code == "P-300")).scalar_one()
        assert (project.budget, project.hourly_rate, project.budget_hours) == (1_000_000, 9550, Decimal(100))
        assert (project.customer_id, project.status) == (customer, "planned")
        project_id = project.id
    projects.status_box.setCurrentIndex(projects.status_box.findData("active"))
    qtbot.waitUntil(lambda: projects.model.rowCount() == 0)  # planned, not active
    projects.status_box.setCurrentIndex(projects.status_box.findData("planned"))
    qtbot.waitUntil(lambda: projects.model.rowCount() == 1)

    board = window.open_page("task_board")
    assert isinstance(board, TaskBoardPage)
    for title, assignee in (("Install", "Kim Berg"), ("Survey the site", "— unassigned —")):
        dialog = board.new_item()
        assert isinstance(dialog, FormDialog)
        qtbot.waitUntil(dialog.isActiveWindow)
        choose(dialog, "project_id", "P-300")
        type_into(qtbot, dialog, "title", title)
        choose(dialog, "assignee_employee_id", assignee)
        type_into(qtbot, dialog, "estimate_hours", "12,5")
        save_with_keyboard(qtbot, dialog)
    settle(qtbot)
    with manager.store.read_session() as db:
        tasks = {t.title: t for t in db.execute(select(Task).where(Task.project_id == project_id)).scalars()}
    install = tasks["Install"]
    assert (install.assignee_employee_id, install.estimate_hours, install.status) == (
        kim,
        Decimal("12.5"),
        "todo",
    )
    assert board.card_status(install.id) == "todo"

    # Drag "Install" from To do and drop it on Done: two steps of its life cycle.
    source = board.columns["todo"]
    item = next(source.item(r) for r in range(source.count()) if "Install" in source.item(r).text())
    mime = source.mimeData([item])  # kept alive: the event does not own it
    drop = QDropEvent(
        QPointF(20, 20), Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    board.columns["done"].dropEvent(drop)
    settle(qtbot)
    qtbot.waitUntil(lambda: board.card_status(install.id) == "done")
    # And one step back with the keyboard-friendly button.
    assert board.select_task(install.id)
    board.back_button.click()
    settle(qtbot)
    qtbot.waitUntil(lambda: board.card_status(install.id) == "in_progress")
    with manager.store.read_session() as db:
        assert db.execute(select(Task.status).where(Task.id == install.id)).scalar_one() == "in_progress"

    # Kim's week in the grid (last week, so it can be billed up to today).
    sheet = window.open_page("timesheets")
    assert isinstance(sheet, TimesheetPage)
    settle(qtbot)
    sheet.employee_combo.setCurrentIndex(sheet.employee_combo.findData(kim))
    grid = sheet.grid
    grid.set_week(monday_of(date.today()) - timedelta(days=7))
    row = grid.add_row(project_id, install.id)
    grid.set_hours(row, 0, "7,5")
    grid.set_hours(row, 1, "8")
    general = grid.add_row(project_id, None)
    grid.set_hours(general, 2, "4,5")
    assert grid.week_total() == "20"
    grid.set_hours(general, 3, "4.5")
    assert "Thu" in grid.problem_label.text() and not grid.save_button.isEnabled()
    grid.set_hours(general, 3, "")
    window.ctx.data_changed.emit()  # a sync finishing meanwhile: nothing typed is lost
    assert grid.week_total() == "20" and len(grid.typed_cells()) == 3
    prompt = grid.go_to_week(grid.monday + timedelta(days=7))  # another week asks first
    assert prompt is not None and "not saved" in prompt.text()
    prompt.reject()
    assert grid.week_total() == "20" and len(grid.typed_cells()) == 3
    grid.save_button.click()
    settle(qtbot)
    qtbot.waitUntil(lambda: not grid.saving)
    with manager.store.read_session() as db:
        logged = (
            db.execute(select(TimesheetEntry.hours).where(TimesheetEntry.employee_id == kim)).scalars().all()
        )
    assert sorted(logged) == [Decimal("4.5"), Decimal("7.5"), Decimal(8)]
    assert grid.week_total() == "20"

    projects = window.open_page("projects")
    qtbot.waitUntil(lambda: projects.select_id(project_id))
    assert projects.budget_text.isVisible()
    assert projects.hours_bar.format() == "20 of 100 h (20 %)"
    assert "1.910,00 EUR of 10.000,00 EUR (19 %)" in projects.budget_text.text()
    bill = projects.bill_time()
    assert isinstance(bill, FormDialog)
    qtbot.waitUntil(bill.isActiveWindow)
    save_with_keyboard(qtbot, bill)
    qtbot.waitUntil(lambda: bool(projects.last_invoice_lines))
    lines = {line["description"]: line for line in projects.last_invoice_lines}
    assert set(lines) == {"P-300 Install: 15.5 h", "P-300 General: 4.5 h"}
    assert (lines["P-300 Install: 15.5 h"]["unit_price"], lines["P-300 Install: 15.5 h"]["line_total"]) == (
        9550,
        148_025,
    )
    assert lines["P-300 General: 4.5 h"]["line_total"] == 42_975
    assert "1.910,00 EUR" in projects.invoice_box.text()
    with manager.store.read_session() as db:
        invoice = db.execute(select(Invoice)).scalar_one()
    assert (invoice.customer_id, invoice.status, invoice.subtotal) == (customer, "draft", 191_000)
    assert "billed 20 h" in projects.budget_text.text()
    projects.invoice_box.close()
    # Billed hours are not lowered in the grid: the invoice would no longer match.
    window.open_page("timesheets")
    row = grid.add_row(project_id, install.id)  # the row as reloaded (rows are in id order)
    grid.set_hours(row, 0, "5")
    assert "Mon" in grid.problem_label.text() and "already billed" in grid.problem_label.text()
    assert not grid.save_button.isEnabled()


def test_a_reader_sees_the_board_but_cannot_move_or_create(qtbot: QtBot, data_root: Path) -> None:
    session = offline_session(data_root, roles=("auditor",), email="audit@acme.test")
    try:
        window = open_window(qtbot, session)
        board = window.open_page("task_board")
        assert isinstance(board, TaskBoardPage)
        assert not board.new_button.isVisibleTo(board) and board.new_item() is None
        assert not board.columns["todo"].acceptDrops()
        projects = window.open_page("projects")
        assert isinstance(projects, ProjectsPage)
        assert projects.new_item() is None and not projects.bill_button.isVisibleTo(projects)
        sheet = window.open_page("timesheets")
        assert isinstance(sheet, TimesheetPage) and not sheet.grid.save_button.isVisibleTo(sheet.grid)
    finally:
        session.close()


LANDS = {
    "employee": "my_work",  # writes only their own things: My work
    "project_manager": "task_board",
    "warehouse": None,  # the dashboard: stock figures
    "admin": None,  # writes in every module: the dashboard sums them up
    "auditor": None,  # reads only
}


def test_each_role_lands_on_the_page_it_uses_most() -> None:
    load_screens()
    for role, key in LANDS.items():
        assert landing_page(BUILTIN_ROLES[role]) == key, role
    assert landing_page(frozenset()) is None
    # Several modules to write in (a project manager who also sells): the dashboard, unless only
    # one of them has pages yet.
    both = BUILTIN_ROLES["project_manager"] | BUILTIN_ROLES["warehouse"]
    assert landing_page(both) is None


@pytest.mark.parametrize("role", ["employee", "project_manager", "warehouse", "admin", "hr", "auditor"])
def test_the_window_opens_on_the_landing_page_never_an_overview(
    qtbot: QtBot, data_root: Path, role: str
) -> None:
    session = offline_session(data_root, roles=(role,), email=f"{role}@acme.test")
    try:
        window = open_window(qtbot, session)
        current = window.navigation.currentItem()
        key = current.data(Qt.ItemDataRole.UserRole + 1)
        assert not str(key).endswith(".overview"), role
        if role == "employee":
            assert isinstance(window.stack.currentWidget(), MyWorkPage)
            # An employee sees My work under HR though they cannot open the rest of HR.
            assert "my_work" in window.page_keys() and not any(
                k.startswith("hr.") for k in window.page_keys()
            )
        elif role == "project_manager":
            assert isinstance(window.stack.currentWidget(), TaskBoardPage)
        elif role in ("warehouse", "admin", "auditor"):
            assert key == DASHBOARD_KEY
    finally:
        session.close()


def seed_projects(session: UserSession) -> dict[str, str]:
    """Demo-like projects, tasks, a week of time, leave and a payslip for the signed-in user."""
    ids = {"me": new_id(), "ana": new_id(), "leave": new_id(), "run": new_id()}
    today = date.today()
    monday = monday_of(today)
    as_admin(session, "hr.create_employee", {"id": ids["me"], "name": "Alex Admin", "user_id": session.user.id,
             "job_title": "Operations lead", "work_email": "alex@acme.test", "work_phone": "+49 30 555 0100",
             "hire_date": "2021-04-01", "salary": 520_000, "salary_currency": "EUR"})  # fmt: skip
    as_admin(session, "hr.create_employee", {"id": ids["ana"], "name": "Ana Lindqvist"})
    as_admin(session, "hr.create_leave_type", {"id": new_id(), "code": "ANNUAL", "name": "Annual leave",
             "kind": "annual", "yearly_entitlement": "28"})  # fmt: skip
    as_admin(session, "hr.create_leave_type", {"id": ids["leave"], "code": "SICK", "name": "Sick leave",
             "kind": "sick"})  # fmt: skip
    as_admin(session, "hr.request_leave", {"id": new_id(), "employee_id": ids["me"], "leave_type_id": ids["leave"],
             "start_date": (monday + timedelta(days=21)).isoformat(),
             "end_date": (monday + timedelta(days=22)).isoformat()})  # fmt: skip
    first = today.replace(day=1) - timedelta(days=1)
    as_admin(session, "hr.run_payroll", {"id": ids["run"], "period_start": first.replace(day=1).isoformat(),
             "period_end": first.isoformat(), "currency": "EUR"})  # fmt: skip
    for n, (code, name, customer) in enumerate(
        (("P-100", "Warehouse fit-out", "Baltic Freight AG"), ("P-200", "Annual maintenance", "Nordic Timber AB"),
         ("P-300", "Harbour office", "Hansa Hardware GmbH"))
    ):  # fmt: skip
        customer_id, project_id = new_id(), new_id()
        ids[code] = project_id
        as_admin(session, "sales.create_customer", {"id": customer_id, "name": customer, "currency": "EUR"})
        as_admin(session, "projects.create_project", {"id": project_id, "code": code, "name": name,
                 "customer_id": customer_id, "currency": "EUR", "budget": 2_500_000 * (n + 1),
                 "budget_hours": str(250 * (n + 1)), "hourly_rate": 9500})  # fmt: skip
        for k, title in enumerate(("Survey the site", "Order materials", "Install shelving", "Hand over")):
            task_id = new_id()
            as_admin(session, "projects.create_task", {"id": task_id, "project_id": project_id, "title": title,
                     "assignee_employee_id": ids["me"] if k % 2 == 0 else ids["ana"],
                     "due_date": (monday + timedelta(days=3 * k + n - 4)).isoformat(), "estimate_hours": str(4 * (k + 1))})  # fmt: skip
            for _ in range((k + n) % 3):
                status = as_admin_status(session, task_id)
                if status == "done":
                    break
            if k < 2:
                for day in range(5 - n):
                    as_admin(session, "projects.log_time", {"id": new_id(), "employee_id": ids["me"],
                             "project_id": project_id, "task_id": task_id,
                             "work_date": (monday + timedelta(days=day)).isoformat(), "hours": ["2", "1.5", "3"][(day + k) % 3]})  # fmt: skip
    return ids


def as_admin_status(session: UserSession, task_id: str) -> str:
    """Move the task one step on (to do → in progress → done); its new status."""
    with session.store.read_session() as db:
        current = db.execute(select(Task.status).where(Task.id == task_id)).scalar_one()
    target = {"todo": "in_progress", "in_progress": "done"}.get(current, current)
    if target != current:
        as_admin(
            session,
            "projects.update_task",
            {"id": task_id, "changes": {"status": target}, "base": {"status": current}},
        )
    return target


def test_screens_with_demo_data_fit_their_text(
    qtbot: QtBot, qapp: Any, data_root: Path, tmp_path: Path
) -> None:
    import os

    from desktop.ui.theme import apply_theme
    from tests.desktop.test_screenshots import clipped_texts

    apply_theme(qapp)
    session = offline_session(data_root)
    shots = Path(os.environ.get("OPS_TEST_ARTIFACTS") or tmp_path) / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    try:
        seed_projects(session)
        window = open_window(qtbot, session)
        window.resize(1280, 800)
        problems: dict[str, list[str]] = {}
        views: list[tuple[str, Any]] = [("projects", None), ("task_board", None), ("timesheets", None)]
        views += [("my_work", tab) for tab in range(5)]
        for key, tab in views:
            page = window.open_page(key)
            if isinstance(page, ProjectsPage):
                qtbot.waitUntil(lambda p=page: p.model.rowCount() > 0)
                page.table.selectRow(0)
            if isinstance(page, MyWorkPage) and tab is not None:
                page.tabs.setCurrentIndex(tab)
            settle(qtbot)
            qtbot.wait(50)
            name = f"{key}-{tab}" if tab is not None else key
            assert window.grab().save(str(shots / f"1280x800-{name}.png"))
            found = clipped_texts(window)
            if found:
                problems[name] = found
        board = window.pages["task_board"]
        assert isinstance(board, TaskBoardPage) and all(c.count() > 0 for c in board.columns.values())
        sheet = window.pages["timesheets"]
        assert isinstance(sheet, TimesheetPage) and sheet.grid.table.rowCount() == 7  # 6 rows and the totals
        window.leaving_confirmed = True
        print(f"\nscreenshots: {shots}")
        assert problems == {}
    finally:
        session.close()


def test_billed_time_reaches_the_server_as_a_draft_invoice(
    qtbot: QtBot, live_server: Any, data_root: Path
) -> None:
    """Logged in the grid and billed on this computer, synced: the server holds the draft
    invoice (2 × 8 h × 95.50 = 1,528.00 EUR) and every entry knows its invoice line."""
    from common.schema import InvoiceLine
    from tests.desktop.test_sync_ui import command, press_f5, server_push, sign_in
    from tests.desktop.test_sync_ui import open_window as open_synced

    org_id = live_server.orgs["Acme Trading"]
    live_server.add_user("pm@acme.test", ("Acme Trading", "project_manager"), ("Acme Trading", "sales"))
    kim, customer, project = new_id(), new_id(), new_id()
    server_push(live_server, "admin@acme.test", org_id, command("finance.set_up_books", currency="EUR"))
    server_push(
        live_server,
        "admin@acme.test",
        org_id,
        command("hr.create_employee", id=kim, name="Kim Berg"),
        command("sales.create_customer", id=customer, name="Baltic Freight AG", currency="EUR"),
        command("projects.create_project", id=project, code="P-400", name="Quay lighting", customer_id=customer,
                currency="EUR", hourly_rate=9550),
    )  # fmt: skip
    session = sign_in(data_root, live_server.url, "pm@acme.test", live_server.password)
    try:
        window = open_synced(qtbot, session)
        press_f5(qtbot, window)
        sheet = window.open_page("timesheets")
        assert isinstance(sheet, TimesheetPage)
        settle(qtbot)
        sheet.employee_combo.setCurrentIndex(sheet.employee_combo.findData(kim))
        grid = sheet.grid
        grid.set_week(monday_of(date.today()) - timedelta(days=7))
        row = grid.add_row(project, None)
        grid.set_hours(row, 0, "8")
        grid.set_hours(row, 1, "8")
        grid.save_button.click()
        qtbot.waitUntil(lambda: not grid.saving and background.active_count() == 0, timeout=10_000)
        projects = window.open_page("projects")
        assert isinstance(projects, ProjectsPage)
        qtbot.waitUntil(lambda: projects.select_id(project))
        bill = projects.bill_time()
        assert isinstance(bill, FormDialog)
        qtbot.waitUntil(bill.isActiveWindow)
        save_with_keyboard(qtbot, bill)
        qtbot.waitUntil(lambda: bool(projects.last_invoice_lines))
        projects.invoice_box.close()
        assert session.store.pending_count() == 3  # two days of time and the invoice
        press_f5(qtbot, window)
        assert session.store.pending_count() == 0, window.sync.last_error
        with live_server.services.store.session(org_id) as db:
            invoice = db.execute(select(Invoice).where(Invoice.customer_id == customer)).scalar_one()
            line = db.execute(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)).scalar_one()
            billed = db.execute(
                select(TimesheetEntry.invoice_line_id).where(TimesheetEntry.project_id == project)
            )
            assert {b for (b,) in billed} == {line.id}
        assert (invoice.status, invoice.subtotal) == ("draft", 152_800)
        assert (line.quantity, line.unit_price, line.description) == (
            Decimal(16),
            9550,
            "P-400 General: 16 h",
        )
    finally:
        session.close()

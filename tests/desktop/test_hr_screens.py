"""HR and payroll screens on real widgets over a real encrypted store (offline, through the local
recorder), and a real server where what reaches the computer matters (pay details)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from common.ids import new_id
from common.schema import Employee
from desktop import background
from desktop.qt import QComboBox, QLineEdit, Qt
from desktop.session import UserSession
from desktop.sync import engine_for
from desktop.ui.forms import DateInput, FormDialog
from desktop.ui.hr_employees import EmployeesPage
from desktop.ui.main_window import MainWindow
from tests.desktop.conftest import LiveServer
from tests.desktop.seed import offline_session
from tests.desktop.test_sync_engine import online


@pytest.fixture
def hr_session(data_root: Path) -> Iterator[UserSession]:
    """An HR officer (every hr.* permission and payroll.run) offline on a real encrypted store."""
    session = offline_session(data_root, roles=("hr",), email="hr@acme.test")
    yield session
    session.close()


def hr_window(qtbot: QtBot, session: UserSession) -> MainWindow:
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: background.active_count() == 0)
    return win


def settle(qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: background.active_count() == 0, timeout=20_000)


def type_into(qtbot: QtBot, dialog: FormDialog, key: str, text: str) -> None:
    widget = dialog.inputs[key]
    assert isinstance(widget, QLineEdit)
    widget.clear()
    qtbot.keyClicks(widget, text)


def choose(dialog: FormDialog, key: str, text_part: str) -> None:
    combo = dialog.inputs[key]
    assert isinstance(combo, QComboBox)
    index = next(i for i in range(combo.count()) if text_part in combo.itemText(i))
    combo.setCurrentIndex(index)


def set_date(dialog: FormDialog, key: str, iso: str) -> None:
    widget = dialog.inputs[key]
    assert isinstance(widget, DateInput)
    widget.set_value(iso)


def save(qtbot: QtBot, dialog: FormDialog) -> None:
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not dialog.isVisible() and background.active_count() == 0, timeout=20_000)


def department(session: UserSession, code: str, name: str) -> str:
    department_id = new_id()
    session.apply("hr.create_department", {"id": department_id, "code": code, "name": name})
    return department_id


def employee_row(session: UserSession, employee_id: str) -> dict[str, Any]:
    with session.store.read_session() as db:
        found = db.execute(Employee.__table__.select().where(Employee.__table__.c.id == employee_id))
        return dict(found.mappings().one())


def test_hire_edit_and_terminate_an_employee_with_pay_details(qtbot: QtBot, hr_session: UserSession) -> None:
    department(hr_session, "OPS", "Operations")
    win = hr_window(qtbot, hr_session)
    page = win.open_page("employees")
    assert isinstance(page, EmployeesPage) and page.sensitive
    dialog = page.new_item()
    assert dialog is not None
    qtbot.waitUntil(dialog.isActiveWindow)
    type_into(qtbot, dialog, "name", "Ben Berg")
    type_into(qtbot, dialog, "job_title", "Warehouse lead")
    choose(dialog, "department_id", "Operations")
    set_date(dialog, "hire_date", "2027-04-15")
    type_into(qtbot, dialog, "salary", "3300.5")
    assert dialog.field_problem("salary") == ""
    type_into(qtbot, dialog, "salary", "3300.505")
    assert dialog.field_problem("salary") == "Monthly salary: has too many decimals (EUR has 2 decimals)"
    type_into(qtbot, dialog, "salary", "3300.00")
    type_into(qtbot, dialog, "bank_account", "FI2112345600000785")
    save(qtbot, dialog)
    row = next(r for r in page.model.rows if r["name"] == "Ben Berg")
    assert (row["department"], row["salary"], row["salary_currency"]) == ("Operations", 330_000, "EUR")
    assert str(row["hire_date"]) == "2027-04-15"
    created = hr_session.store.outbox()[-1]
    assert created["name"] == "hr.create_employee" and created["args"]["salary"] == 330_000

    page.select_id(row["id"])
    edit = page.edit(row)
    qtbot.waitUntil(edit.isActiveWindow)
    assert edit.raw()["salary"] == "3300.00" and edit.raw()["department_id"] == row["department_id"]
    type_into(qtbot, edit, "salary", "3400.00")
    save(qtbot, edit)
    last = hr_session.store.outbox()[-1]
    assert last["name"] == "hr.update_employee"
    assert last["args"]["changes"] == {"salary": 340_000} and last["args"]["base"] == {"salary": 330_000}

    page.select_id(row["id"])
    assert page.terminate_button.isEnabled()
    leaving = page.terminate(row)
    assert leaving is not None
    set_date(leaving, "termination_date", "2027-04-01")
    leaving.try_save()
    assert leaving.field_problem("termination_date") == (
        "Last day: must not be before the hire date (2027-04-15)"
    )
    set_date(leaving, "termination_date", "2027-06-30")
    save(qtbot, leaving)
    stored = employee_row(hr_session, row["id"])
    assert stored["status"] == "terminated" and str(stored["termination_date"]) == "2027-06-30"
    assert row["id"] not in [r["id"] for r in page.model.rows]  # leavers are hidden by default
    page.leavers_box.setChecked(True)
    assert row["id"] in [r["id"] for r in page.model.rows]


def test_without_sensitive_read_pay_details_never_reach_the_computer_and_the_form_says_so(
    qtbot: QtBot, live_server: LiveServer, data_root: Path
) -> None:
    hr = online(data_root / "hr", live_server, "hr@acme.test")
    admin = online(data_root / "admin", live_server, "admin@acme.test")
    try:
        employee_id = new_id()
        hr.apply(
            "hr.create_employee",
            {
                "id": employee_id,
                "name": "Cara Castro",
                "salary": 500_000,
                "salary_currency": "EUR",
                "bank_account": "FI2112345600000785",
                "national_id": "131052-308T",
            },
        )
        engine_for(hr).run()
        engine_for(admin).run()
        assert admin.can("hr.read") and not admin.can("hr.sensitive.read")
        stored = employee_row(admin, employee_id)
        assert stored["name"] == "Cara Castro"
        assert (stored["salary"], stored["bank_account"], stored["national_id"]) == (None, None, None)

        win = hr_window(qtbot, admin)
        page = win.open_page("employees")
        assert isinstance(page, EmployeesPage) and not page.sensitive
        assert "salary" not in [c.key for c in page.model.columns]
        row = next(r for r in page.model.rows if r["id"] == employee_id)
        dialog = page.edit(row)
        notice = getattr(dialog, "sensitive_notice", None)
        assert notice is not None and notice.isVisible()
        assert notice.text() == "Pay details are visible to payroll staff only."
        assert not {"salary", "bank_account", "national_id", "salary_currency"} & set(dialog.inputs)
        # An edit sends what changed, never a pay field it was not shown.
        type_into(qtbot, dialog, "job_title", "Controller")
        save(qtbot, dialog)
        last = admin.store.outbox()[-1]
        assert last["args"]["changes"] == {"job_title": "Controller"}
        report = engine_for(admin).run()
        assert report is not None
        engine_for(hr).run()
        assert employee_row(hr, employee_id)["salary"] == 500_000  # untouched on the server
        assert employee_row(hr, employee_id)["job_title"] == "Controller"
    finally:
        hr.close()
        admin.close()

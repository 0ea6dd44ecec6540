"""HR and payroll screens on real widgets over a real encrypted store (offline, through the local
recorder), and a real server where what reaches the computer matters (pay details)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from common.commands import CommandError
from common.ids import new_id
from common.schema import Employee
from desktop import background
from desktop.qt import QComboBox, QLineEdit, QMessageBox, Qt
from desktop.session import UserSession
from desktop.sync import engine_for
from desktop.ui.forms import DateInput, FormDialog
from desktop.ui.hr_calendar import LeaveCalendarPage
from desktop.ui.hr_employees import EmployeesPage
from desktop.ui.hr_leave import LeavePage, LeaveRequestDialog
from desktop.ui.main_window import MainWindow
from desktop.ui.payroll_payslip import PayslipDialog
from desktop.ui.payroll_runs import PayrollRunsPage
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
    # Back again: re-hired after their last day.
    assert page.select_id(row["id"]) and page.terminate_button.text() == "Re-hire…"
    page.terminate_button.click()
    (back,) = [d for d in page.findChildren(FormDialog) if d.isVisible()]
    set_date(back, "hire_date", "2027-06-30")
    back.try_save()
    assert back.field_problem("hire_date") == "New hire date: must be after their last day (2027-06-30)"
    set_date(back, "hire_date", "2027-09-01")
    save(qtbot, back)
    stored = employee_row(hr_session, row["id"])
    assert (stored["status"], str(stored["hire_date"]), stored["termination_date"]) == (
        "active",
        "2027-09-01",
        None,
    )


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
        shots = Path(os.environ.get("OPS_TEST_ARTIFACTS", data_root)) / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        assert dialog.grab().save(str(shots / "hr-employee-form-without-pay.png"))
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


# -- an HR month (April 2027) --------------------------------------------------------------------
#
# April 2027 has 22 working days (Monday to Friday): 1-2, 5-9, 12-16, 19-23, 26-30.
# Components: MEAL fixed earning 110.00 a full month (prorated like the salary); PENSION 7.15 %
# deduction of gross; UNION fixed 15.00 deduction; SOCSEC 20 % employer contribution capped at
# 850.00; HEALTH fixed 30.00 employer contribution. The run withholds a flat 20 % tax.
#
# Alice, 4,000.00, paid annual leave 12-16 April (costs nothing): 22 of 22 days.
#   gross 4,000.00 + 110.00 = 4,110.00; pension 4,110 × 7.15 % = 293.865 → 293.87; union 15.00;
#   tax 822.00: deductions 1,130.87, net 2,979.13; employer 822.00 + 30.00 = 852.00.
# Ben, 3,300.00, hired Thursday 15 April: 15-16, 19-23, 26-30 = 12 of 22 days.
#   salary 3,300 × 12 / 22 = 1,800.00; meal 110 × 12 / 22 = 60.00; gross 1,860.00;
#   pension 132.99; union 15.00; tax 372.00: deductions 519.99, net 1,340.01;
#   employer 372.00 + 30.00 = 402.00.
# Cara, 5,000.00, unpaid leave Thursday 22 to Monday 26 April (Thu, Fri, Mon: 3 days): 19 of 22.
#   salary 5,000 × 19 / 22 = 4,318.1818… → 4,318.18; meal 110 × 19 / 22 = 95.00; gross 4,413.18;
#   pension 315.54237 → 315.54; union 15.00; tax 882.636 → 882.64: deductions 1,213.18,
#   net 3,200.00; employer: 20 % = 882.64 capped at 850.00, + 30.00 = 880.00.
# Totals: gross 10,383.18, deductions 2,864.04, net 7,519.14, employer 2,134.00.
# Entry: debit wages 10,383.18 + employer contributions 2,134.00 = 12,517.18; credit
# withholdings 2,864.04 + contributions payable 2,134.00 + net wages payable 7,519.14 = 12,517.18.

HAND_WORKED = {
    "Alice Aalto": ("22 of 22 days", 411_000, 113_087, 85_200, 297_913),
    "Ben Berg": ("12 of 22 days", 186_000, 51_999, 40_200, 134_001),
    "Cara Castro": ("19 of 22 days", 441_318, 121_318, 88_000, 320_000),
}
COMPONENTS = (
    ("MEAL", "Meal allowance", "earning", "fixed", {"amount": 11_000, "currency": "EUR"}),
    ("PENSION", "Pension", "deduction", "percent", {"rate": "7.15"}),
    ("UNION", "Union fee", "deduction", "fixed", {"amount": 1_500, "currency": "EUR"}),
    ("SOCSEC", "Social security", "employer_contribution", "percent", {"rate": "20", "cap": 85_000}),
    ("HEALTH", "Health insurance", "employer_contribution", "fixed", {"amount": 3_000, "currency": "EUR"}),
)


def _entry_of(session: UserSession, run_id: str) -> dict[str, tuple[int, int]]:
    from common.schema import AccountMapping, JournalEntry, JournalLine

    with session.store.read_session() as db:
        (entry_id,) = db.execute(
            select(JournalEntry.id).where(
                JournalEntry.source == "payroll_run", JournalEntry.source_id == run_id
            )
        ).scalars()
        roles = {
            r.account_id: r.role for r in db.execute(select(AccountMapping.account_id, AccountMapping.role))
        }
        lines = db.execute(
            select(JournalLine.account_id, JournalLine.debit, JournalLine.credit).where(
                JournalLine.journal_entry_id == entry_id
            )
        )
        return {roles[r.account_id]: (r.debit, r.credit) for r in lines}


def _set_up_month(session: UserSession) -> dict[str, str]:
    for code, name, kind, method, extra in COMPONENTS:
        session.apply(
            "hr.create_pay_component",
            {"id": new_id(), "code": code, "name": name, "kind": kind, "method": method, **extra},
        )
    ids = {}
    for name, salary, hired in (
        ("Alice Aalto", 400_000, "2020-01-01"),
        ("Cara Castro", 500_000, "2019-06-01"),
    ):
        ids[name] = new_id()
        session.apply(
            "hr.create_employee",
            {"id": ids[name], "name": name, "salary": salary, "salary_currency": "EUR", "hire_date": hired},
        )
    return ids


def test_an_hr_month_through_the_screens(qtbot: QtBot, hr_session: UserSession, monkeypatch: Any) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: warnings.append(text))
    _set_up_month(hr_session)
    hr_session.apply(
        "hr.create_employee",
        {
            "id": new_id(),
            "name": "Dana Doe",
            "salary": 450_000,
            "salary_currency": "USD",
            "hire_date": "2022-01-03",
        },
    )
    win = hr_window(qtbot, hr_session)

    # Ben is hired in the middle of the month.
    employees = win.open_page("employees")
    assert isinstance(employees, EmployeesPage)
    hire = employees.new_item()
    assert hire is not None
    qtbot.waitUntil(hire.isActiveWindow)
    type_into(qtbot, hire, "name", "Ben Berg")
    set_date(hire, "hire_date", "2027-04-15")
    type_into(qtbot, hire, "salary", "3300.00")
    save(qtbot, hire)

    # Leave types, then leave requested, approved and rejected through the Leave screen.
    types = win.open_page("leave_types")
    for code, name, kind, days in (
        ("ANNUAL", "Annual leave", "Annual", "25"),
        ("UNPAID", "Unpaid leave", "Unpaid", ""),
    ):
        new_type = types.new_item()
        assert new_type is not None
        qtbot.waitUntil(new_type.isActiveWindow)
        type_into(qtbot, new_type, "code", code)
        type_into(qtbot, new_type, "name", name)
        choose(new_type, "kind", kind)
        type_into(qtbot, new_type, "yearly_entitlement", days)
        save(qtbot, new_type)
    assert [(r["code"], r["yearly_entitlement"]) for r in types.model.rows] == [
        ("ANNUAL", 25),
        ("UNPAID", None),
    ]

    leave = win.open_page("leave")
    assert isinstance(leave, LeavePage)

    def request(name: str, leave_type: str, start: str, end: str) -> LeaveRequestDialog:
        dialog = leave.new_item()
        assert dialog is not None
        qtbot.waitUntil(dialog.isActiveWindow)
        choose(dialog, "employee_id", name)
        choose(dialog, "leave_type_id", leave_type)
        set_date(dialog, "start_date", start)
        set_date(dialog, "end_date", end)
        return dialog

    def decide(button_name: str) -> None:
        getattr(leave, button_name).click()
        settle(qtbot)

    alice = request("Alice Aalto", "Annual", "2027-04-12", "2027-04-16")
    assert alice.info.text() == "5 working days · in 2027 so far — Annual leave: 0 taken, 25 of 25 days left"
    save(qtbot, alice)
    assert leave.current_row()["status"] == "requested"  # type: ignore[index]
    decide("approve_button")
    assert leave.current_row()["status"] == "approved" and not leave.approve_button.isEnabled()  # type: ignore[index]
    assert leave.balances.text() == (
        "Balances of Alice Aalto in 2027: Annual leave: 5 taken, 20 of 25 days left · "
        "Unpaid leave: 0 taken (not limited)"
    )
    too_long = request("Alice Aalto", "Annual", "2027-05-03", "2027-06-30")  # 43 working days
    too_long.try_save()
    settle(qtbot)
    assert too_long.isVisible() and too_long.field_problem("end_date") == (
        "Last day: 43 working days of Annual leave in 2027 exceed the balance: 20 of 25 days left"
    )
    too_long.discard_confirmed = True
    too_long.reject()
    for start, end, decision in (
        ("2027-04-22", "2027-04-26", "approve_button"),
        ("2027-04-28", "2027-04-28", "reject_button"),
    ):
        unpaid = request("Cara Castro", "Unpaid", start, end)
        save(qtbot, unpaid)
        decide(decision)
    assert sorted((r["employee"], r["days"], r["status"]) for r in leave.model.rows) == [
        ("Alice Aalto", 5, "approved"),
        ("Cara Castro", 1, "rejected"),
        ("Cara Castro", 3, "approved"),
    ]

    # The month calendar shows who is away (approved leave on working days only).
    away = win.open_page("leave_calendar")
    assert isinstance(away, LeaveCalendarPage)
    away.show_month(2027, 4)
    assert away.names_on(date(2027, 4, 12)) == ["Alice Aalto"]
    assert away.names_on(date(2027, 4, 22)) == ["Cara Castro"] == away.names_on(date(2027, 4, 26))
    assert away.names_on(date(2027, 4, 24)) == []  # a Saturday
    assert away.names_on(date(2027, 4, 28)) == []  # rejected
    assert away.cell_text(date(2027, 4, 23)) == "23\nCara Castro"
    assert away.summary.text() == "2 people away this month"
    away.next_button.click()
    assert away.month_label.text() == "May 2027" and away.summary.text() == "Nobody is away this month"

    # The run: created for April, previewed with its proration.
    runs = win.open_page("payroll_runs")
    assert isinstance(runs, PayrollRunsPage)
    dialog = runs.new_item()
    assert dialog is not None
    qtbot.waitUntil(dialog.isActiveWindow)
    set_date(dialog, "period_start", "2027-04-01")
    set_date(dialog, "period_end", "2027-04-30")
    type_into(qtbot, dialog, "withholding_rate", "20")
    choose(dialog, "currency", "GBP")  # nobody is paid in pounds: refused, naming the field
    dialog.try_save()
    settle(qtbot)
    assert dialog.isVisible()
    assert dialog.field_problem("currency") == (
        "Currency: no employee with a salary in GBP is paid in this period"
    )
    choose(dialog, "currency", "EUR")
    save(qtbot, dialog)
    run = runs.current_row()
    assert run is not None and run["status"] == "draft"
    # Dana is paid in dollars: she needs a run of her own, and the preview says so.
    assert runs.preview_note.isVisible()
    assert (
        runs.preview_note.text() == "1 employee(s) paid in another currency need a payroll run of their own."
    )
    preview = {
        r["employee"]: (r["days"], r["gross"], r["deductions"], r["employer_contributions"], r["net"])
        for r in runs.slips.rows
    }
    assert preview == HAND_WORKED
    assert runs.preview_totals.text() == (
        "3 payslips · gross 10,383.18 EUR · deductions 2,864.04 EUR · "
        "employer contributions 2,134.00 EUR · net pay 7,519.14 EUR"
    )
    assert runs.approve_button.isEnabled() and not runs.post_button.isEnabled()
    runs.slip_table.setFocus()
    runs.slip_table.selectRow(
        next(i for i, r in enumerate(runs.slips.rows) if r["employee"] == "Cara Castro")
    )
    qtbot.keyClick(runs.slip_table, Qt.Key.Key_Return)
    (payslip,) = runs.findChildren(PayslipDialog)
    assert payslip.shown_lines() == [
        ("Base salary, 19 of 22 working days", "4,318.18 EUR"),
        ("Meal allowance", "95.00 EUR"),
        ("Gross pay", "4,413.18 EUR"),
        ("Pension 7.15 %", "-315.54 EUR"),
        ("Union fee", "-15.00 EUR"),
        ("Withholding tax 20 %", "-882.64 EUR"),
        ("Net pay", "3,200.00 EUR"),
        ("Health insurance (paid by the employer)", "30.00 EUR"),
        ("Social security 20 % (paid by the employer)", "850.00 EUR"),
    ]
    payslip.reject()
    # The selected employee's payslip document, with print preview (the same figures).
    assert runs.payslip_button.isVisible() and runs.payslip_button.isEnabled()
    printing = runs.print_payslip()
    assert printing is not None
    with qtbot.waitSignal(printing.ready, timeout=20_000):
        pass
    assert "Cara Castro" in printing.html and "3,200.00" in printing.html and "4,413.18" in printing.html
    assert printing.dialog is not None
    printing.dialog.close()

    runs.approve_button.click()
    settle(qtbot)
    assert runs.current_row()["status"] == "approved"  # type: ignore[index]
    assert runs.post_button.isEnabled()
    runs.post_button.click()
    settle(qtbot)
    run = runs.current_row()
    assert run is not None and run["status"] == "posted"
    assert _entry_of(hr_session, run["id"]) == {
        "wages": (1_038_318, 0),
        "employer_contributions": (213_400, 0),
        "withholdings_payable": (0, 286_404),
        "contributions_payable": (0, 213_400),
        "net_wages_payable": (0, 751_914),
    }
    entry = _entry_of(hr_session, run["id"]).values()
    assert sum(d for d, _ in entry) == sum(c for _, c in entry) == 1_251_718

    # Posted once: the button is disabled, and a second post is refused by the command.
    assert not runs.post_button.isEnabled() and runs.pay_button.isEnabled()
    runs.post(run)
    settle(qtbot)
    assert warnings and "already posted" in warnings[-1]
    with pytest.raises(CommandError) as refused:
        hr_session.apply("hr.post_payroll_run", {"id": run["id"]})
    assert refused.value.code == "invalid_state"

    # Paid, then corrected by a reversing run.
    pay = runs.pay(run)
    set_date(pay, "paid_on", "2027-04-30")
    save(qtbot, pay)
    runs.select_id(run["id"])
    assert runs.current_row()["status"] == "paid" and runs.reverse_button.isEnabled()  # type: ignore[index]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    runs.reverse_button.click()
    settle(qtbot)
    statuses = sorted((r["status"], r["total_net"]) for r in runs.model.rows)
    assert statuses == [("posted", -751_914), ("reversed", 751_914)]


def test_departments_and_pay_components_through_their_forms(qtbot: QtBot, hr_session: UserSession) -> None:
    win = hr_window(qtbot, hr_session)
    departments = win.open_page("departments")
    for code, name, parent in (("SALES", "Sales", None), ("INSIDE", "Inside sales", "Sales")):
        dialog = departments.new_item()
        assert dialog is not None
        qtbot.waitUntil(dialog.isActiveWindow)
        type_into(qtbot, dialog, "code", code)
        type_into(qtbot, dialog, "name", name)
        if parent:
            choose(dialog, "parent_id", parent)
        save(qtbot, dialog)
    rows = {r["code"]: r for r in departments.model.rows}
    assert rows["INSIDE"]["parent"] == "Sales" and rows["SALES"]["parent"] is None
    hr_session.apply(
        "hr.create_employee", {"id": new_id(), "name": "Dmitri Novak", "department_id": rows["INSIDE"]["id"]}
    )
    settle(qtbot)
    departments.model.reload()
    assert {r["code"]: r["people"] for r in departments.model.rows} == {"INSIDE": 1, "SALES": 0}
    edit = departments.edit(rows["SALES"])
    combo = edit.inputs["parent_id"]
    assert isinstance(combo, QComboBox)
    assert [combo.itemText(i) for i in range(combo.count())] == ["None (top level)", "Inside sales (INSIDE)"]
    edit.discard_confirmed = True
    edit.reject()

    components = win.open_page("pay_components")
    dialog = components.new_item()
    assert dialog is not None
    qtbot.waitUntil(dialog.isActiveWindow)
    type_into(qtbot, dialog, "code", "SOCSEC")
    type_into(qtbot, dialog, "name", "Social security")
    choose(dialog, "kind", "Employer contribution")
    type_into(qtbot, dialog, "rate", "20,5")
    assert dialog.field_problem("rate").startswith("Rate %: ")
    type_into(qtbot, dialog, "rate", "20")
    type_into(qtbot, dialog, "cap", "850.00")
    save(qtbot, dialog)
    dialog = components.new_item()
    assert dialog is not None
    qtbot.waitUntil(dialog.isActiveWindow)
    type_into(qtbot, dialog, "code", "HEALTH")
    type_into(qtbot, dialog, "name", "Health insurance")
    choose(dialog, "kind", "Employer contribution")
    choose(dialog, "method", "Fixed")
    assert not dialog.inputs["rate"].isVisibleTo(dialog) and dialog.inputs["amount"].isVisibleTo(dialog)
    dialog.try_save()
    assert dialog.field_problem("amount") == "Amount: is required for a fixed amount"
    type_into(qtbot, dialog, "amount", "30.00")
    save(qtbot, dialog)
    shown = {r["code"]: (r["kind_title"], r["value"], r["cap_text"]) for r in components.model.rows}
    # A percentage's cap is in the currency of the run it applies to: shown without one.
    assert shown == {
        "HEALTH": ("Employer contribution", "30.00 EUR", ""),
        "SOCSEC": ("Employer contribution", "20 %", "850.00"),
    }
    socsec = next(r for r in components.model.rows if r["code"] == "SOCSEC")
    assert (socsec["rate"], socsec["cap"], socsec["currency"]) == (20, 85_000, None)
    edit = components.edit(socsec)
    qtbot.waitUntil(edit.isActiveWindow)
    type_into(qtbot, edit, "rate", "20.5")
    save(qtbot, edit)
    last = hr_session.store.outbox()[-1]
    assert last["name"] == "hr.update_pay_component"
    assert last["args"]["changes"] == {"rate": "20.5"} and last["args"]["base"] == {"rate": "20"}


def test_a_reader_sees_hr_but_cannot_write_and_no_payroll(qtbot: QtBot, data_root: Path) -> None:
    session = offline_session(data_root, roles=("auditor",), email="auditor@acme.test")
    try:
        win = hr_window(qtbot, session)
        keys = set(win.page_keys())
        assert {"employees", "leave", "leave_calendar", "leave_types", "departments"} <= keys
        assert not {"payroll_runs", "pay_components"} & keys  # payroll.run only
        employees = win.open_page("employees")
        assert isinstance(employees, EmployeesPage)
        assert not employees.new_button.isVisibleTo(employees) and employees.new_item() is None
        assert not employees.terminate_button.isVisibleTo(employees)
        leave = win.open_page("leave")
        assert isinstance(leave, LeavePage)
        assert not leave.approve_button.isVisibleTo(leave) and leave.new_item() is None
    finally:
        win.leaving_confirmed = True
        session.close()


def test_two_workstations_post_the_same_run_and_the_server_refuses_the_second(
    qtbot: QtBot, live_server: LiveServer, data_root: Path
) -> None:
    """Both HR workstations had the approved run and posted it offline: the server applies the
    first post and refuses the second (a run is posted once); the books hold one entry."""
    from common.schema import JournalEntry
    from desktop.attention import attention_items
    from sync_server.writes import apply_system_command

    org_id = live_server.orgs["Acme Trading"]
    with live_server.services.store.session(org_id, write=True) as db:
        apply_system_command(db, org_id, "finance.set_up_books", {"currency": "EUR"}, command_id=new_id())
    first = online(data_root / "first", live_server, "hr@acme.test")
    second = online(data_root / "second", live_server, "hr@acme.test")
    try:
        engine_for(first).run()
        first.apply(
            "hr.create_employee",
            {
                "id": new_id(),
                "name": "Alice Aalto",
                "salary": 400_000,
                "salary_currency": "EUR",
                "hire_date": "2020-01-01",
            },
        )
        run_id = new_id()
        first.apply(
            "hr.run_payroll",
            {"id": run_id, "period_start": "2027-04-01", "period_end": "2027-04-30", "currency": "EUR"},
        )
        first.apply("hr.approve_payroll_run", {"id": run_id})
        assert engine_for(first).run().rejected == 0
        engine_for(second).run()
        windows = []
        for session in (first, second):
            win = hr_window(qtbot, session)
            runs = win.open_page("payroll_runs")
            assert isinstance(runs, PayrollRunsPage)
            runs.select_id(run_id)
            assert runs.current_row()["status"] == "approved" and runs.post_button.isEnabled()  # type: ignore[index]
            runs.post_button.click()  # offline, on each workstation
            settle(qtbot)
            assert runs.current_row()["status"] == "posted" and not runs.post_button.isEnabled()  # type: ignore[index]
            windows.append(win)
        assert engine_for(first).run().applied == 1
        report = engine_for(second).run()
        assert report.rejected == 1
        (refused,) = attention_items(second)
        assert refused.name == "hr.post_payroll_run" and refused.code == "invalid_state"
        assert "already posted" in refused.message
        with live_server.services.store.session(org_id) as db:
            entries = db.execute(
                select(JournalEntry.id).where(
                    JournalEntry.source == "payroll_run", JournalEntry.source_id == run_id
                )
            ).all()
        assert len(entries) == 1
        for win in windows:
            win.leaving_confirmed = True
    finally:
        first.close()
        second.close()


def test_payroll_without_sensitive_read_hides_the_figures_and_says_why(
    qtbot: QtBot, hr_session: UserSession
) -> None:
    """A custom role with payroll.run but not hr.sensitive.read: pay figures never reach its
    computer (the server masks them), so the run screen shows no money columns and says why."""
    import dataclasses

    _set_up_month(hr_session)
    run_id = new_id()
    hr_session.apply(
        "hr.run_payroll",
        {"id": run_id, "period_start": "2027-04-01", "period_end": "2027-04-30", "currency": "EUR"},
    )
    membership = hr_session.membership
    hr_session.membership = dataclasses.replace(
        membership, permissions=membership.permissions - {"hr.sensitive.read"}
    )
    win = hr_window(qtbot, hr_session)
    runs = win.open_page("payroll_runs")
    assert isinstance(runs, PayrollRunsPage) and not runs.sensitive
    runs.select_id(run_id)
    assert runs.preview_totals.text() == "2 payslips · Pay details are visible to payroll staff only."
    shown = [
        runs.slips.columns[i].title
        for i in range(len(runs.slips.columns))
        if not runs.slip_table.isColumnHidden(i)
    ]
    assert shown == ["Employee", "Paid days"]
    assert [c.title for i, c in enumerate(runs.model.columns) if not runs.table.isColumnHidden(i)] == [
        "From",
        "To",
        "Status",
        "Note",
    ]
    assert runs.approve_button.isEnabled()
    win.leaving_confirmed = True


def test_a_salary_is_typed_and_shown_in_the_users_locale(
    qtbot: QtBot, hr_session: UserSession, use_locale: Any
) -> None:
    use_locale("de_DE")
    win = hr_window(qtbot, hr_session)
    page = win.open_page("employees")
    assert isinstance(page, EmployeesPage)
    dialog = page.new_item()
    assert dialog is not None
    qtbot.waitUntil(dialog.isActiveWindow)
    type_into(qtbot, dialog, "name", "Jonas Weber")
    type_into(qtbot, dialog, "salary", "3,300.50")  # the English way: ambiguous in German
    assert dialog.field_problem("salary").startswith("Monthly salary: ")
    type_into(qtbot, dialog, "salary", "3.300,50")
    assert dialog.field_problem("salary") == ""
    save(qtbot, dialog)
    row = next(r for r in page.model.rows if r["name"] == "Jonas Weber")
    assert row["salary"] == 330_050
    salary_column = page.model.column_index("salary")
    assert page.model.data(page.model.index(page.model.rows.index(row), salary_column)) == "3.300,50 EUR"
    edit = page.edit(row)
    assert edit.raw()["salary"] == "3300,50"
    edit.discard_confirmed = True
    edit.reject()


def test_cancelled_leave_gives_its_days_back(qtbot: QtBot, hr_session: UserSession, monkeypatch: Any) -> None:
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    employee_id, type_id, leave_id = new_id(), new_id(), new_id()
    hr_session.apply("hr.create_employee", {"id": employee_id, "name": "Alice Aalto"})
    hr_session.apply(
        "hr.create_leave_type",
        {
            "id": type_id,
            "code": "ANNUAL",
            "name": "Annual leave",
            "kind": "annual",
            "yearly_entitlement": "25",
        },
    )
    hr_session.apply(
        "hr.request_leave",
        {
            "id": leave_id,
            "employee_id": employee_id,
            "leave_type_id": type_id,
            "start_date": "2027-04-12",
            "end_date": "2027-04-16",
        },
    )
    win = hr_window(qtbot, hr_session)
    leave = win.open_page("leave")
    assert isinstance(leave, LeavePage)
    assert leave.select_id(leave_id)
    assert (
        leave.balances.text()
        == "Balances of Alice Aalto in 2027: Annual leave: 0 taken, 5 pending, 20 of 25 days left"
    )
    assert leave.cancel_leave_button.isEnabled()
    leave.cancel_leave_button.click()
    settle(qtbot)
    assert leave.current_row()["status"] == "cancelled"  # type: ignore[index]
    assert not (leave.cancel_leave_button.isEnabled() or leave.approve_button.isEnabled())
    assert (
        leave.balances.text() == "Balances of Alice Aalto in 2027: Annual leave: 0 taken, 25 of 25 days left"
    )
    leave.status_box.setCurrentIndex(leave.status_box.findData("requested"))
    assert leave.model.rows == []
    win.leaving_confirmed = True

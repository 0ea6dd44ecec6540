"""Self-service contact details (``hr.update_own_contact_details``) through a real encrypted store."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from common.ids import new_id
from common.schema import Employee, EmployeeDirectory
from tests.common.business import Business, role

EMPLOYEE = role("employee")
HR = role("hr")
WAREHOUSE = role("warehouse")


def _staff(business: Business) -> tuple[str, str]:
    user_id = new_id()
    return business.employee(user_id=user_id, work_phone="+49 30 111"), user_id


def test_an_employee_corrects_their_own_contact_details_and_the_directory_follows(
    business: Business,
) -> None:
    employee_id, me = _staff(business)
    business.apply(
        "hr.update_own_contact_details",
        {
            "id": employee_id,
            "changes": {"work_phone": "+49 30 222", "home_address": "Lindenstr. 5, Berlin"},
            "base": {"work_phone": "+49 30 111", "home_address": None},
        },
        permissions=EMPLOYEE,
        actor_id=me,
    )
    row = business.row(Employee, employee_id)
    assert (row["work_phone"], row["home_address"]) == ("+49 30 222", "Lindenstr. 5, Berlin")
    assert business.row(EmployeeDirectory, employee_id)["work_phone"] == "+49 30 222"


def test_only_contact_details_of_ones_own_record(business: Business) -> None:
    mine, me = _staff(business)
    theirs, _ = _staff(business)
    error = business.refused(
        "hr.update_own_contact_details",
        {"id": theirs, "changes": {"personal_phone": "+1 555 0100"}, "base": {"personal_phone": None}},
        permissions=EMPLOYEE,
        actor_id=me,
    )
    assert (error.code, error.field) == ("forbidden", "id")
    error = business.invalid(
        "hr.update_own_contact_details",
        {"id": mine, "changes": {"job_title": "Director"}, "base": {"job_title": None}},
        "changes.job_title",
        permissions=EMPLOYEE,
        actor_id=me,
    )
    assert "HR changes it" in error.message
    error = business.refused(
        "hr.update_own_contact_details",
        {"id": mine, "changes": {"personal_phone": "+1 555 0100"}, "base": {"personal_phone": None}},
        permissions=WAREHOUSE,
        actor_id=me,
    )
    assert error.code == "forbidden" and "hr.self_service" in error.message


def test_a_stale_base_is_a_conflict_and_hr_corrects_anyone(business: Business) -> None:
    employee_id, me = _staff(business)
    error = business.refused(
        "hr.update_own_contact_details",
        {"id": employee_id, "changes": {"work_phone": "+49 30 333"}, "base": {"work_phone": "+49 30 999"}},
        permissions=EMPLOYEE,
        actor_id=me,
    )
    assert error.code == "conflict"
    business.apply(
        "hr.update_own_contact_details",
        {
            "id": employee_id,
            "changes": {"personal_email": "kim@example.org"},
            "base": {"personal_email": None},
        },
        permissions=HR,
    )
    assert business.row(Employee, employee_id)["personal_email"] == "kim@example.org"


def test_a_workstation_without_hr_records_logs_a_colleagues_time_from_the_directory(tmp_path: Path) -> None:
    """A project manager's computer holds the employee directory, not employee records (no
    hr.read): logging a colleague's time checks the directory there, the record on the server
    (which always holds it: this is about a client's copy only)."""
    from sqlalchemy import delete

    from common.schema import TimesheetEntry
    from tests.common.sides import ClientCopy

    business = Business(ClientCopy(tmp_path / "pm"), new_id()).set_up_books()
    colleague = business.employee()
    project = business.project()
    with business.store.write_session() as db:
        db.execute(delete(Employee.__table__).where(Employee.__table__.c.id == colleague))
    args = {"employee_id": colleague, "project_id": project, "work_date": "2030-06-03", "hours": "7.5"}
    business.apply("projects.log_time", {"id": new_id(), **args}, permissions=role("project_manager"))
    [logged] = business.rows(TimesheetEntry)
    assert (logged["employee_id"], logged["hours"]) == (colleague, Decimal("7.5"))
    task = new_id()
    business.apply(
        "projects.create_task",
        {"id": task, "project_id": project, "title": "Survey", "assignee_employee_id": colleague},
        permissions=role("project_manager"),
    )
    # Self-service still needs one's own record: the directory is not enough for it.
    error = business.refused("projects.log_time", {"id": new_id(), **args}, permissions=EMPLOYEE)
    assert (error.code, error.field) == ("invalid", "employee_id")

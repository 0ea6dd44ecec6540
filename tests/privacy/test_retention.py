"""Retention by data type: an erasure under a legal hold keeps the employee's record and says
why and until when; the retention run, with the clock moved past the hold, anonymizes it
(record, directory, audit trail) and records what it did; a dry run changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from common.ids import new_id
from common.schema import AuditEvent, Employee
from sync_server.retention_run import run_retention
from tests.privacy.conftest import PrivacyServer, new_subject_name, open_and_complete
from tests.sync_server.test_audit import _cli

LEFT = date(2025, 1, 31)
HOLD_ENDS = date(2031, 1, 31)  # six years (with the leap day of 2028) after the termination


def _employee(server: PrivacyServer, name: str) -> str:
    employee_id = new_id()
    hr = server.a.email("hr")
    server.push(
        hr,
        server.a,
        "hr.create_employee",
        id=employee_id,
        name=name,
        hire_date="2020-03-01",
        home_address="7 Analytical Row",
        personal_email="ada@home.example",
        salary=420000,
        salary_currency="EUR",
    )
    server.push(
        hr,
        server.a,
        "hr.update_employee",
        id=employee_id,
        changes={"status": "terminated", "termination_date": LEFT.isoformat()},
        base={"status": "active", "termination_date": None},
    )
    return employee_id


def _row(server: PrivacyServer, employee_id: str) -> dict:  # type: ignore[type-arg]
    with server.services.store.session(server.a.id) as db:
        return dict(db.execute(select(Employee.__table__).where(Employee.id == employee_id)).mappings().one())


def test_erasure_under_a_legal_hold_keeps_the_record_and_the_retention_run_anonymizes_it_later(
    privacy_server: PrivacyServer,
) -> None:
    server = privacy_server
    name = new_subject_name()
    employee_id = _employee(server, name)
    request_id = open_and_complete(server, "employee", employee_id, "erasure")
    admin = server.a.email("admin")
    with server.services.store.session(server.a.id) as db:
        from common.schema import DataSubjectRequest

        outcome = db.execute(
            select(DataSubjectRequest.outcome).where(DataSubjectRequest.id == request_id)
        ).scalar_one()
    assert outcome["complete"] is False
    [record, payslips] = outcome["kept"]
    assert record["until"] == HOLD_ENDS.isoformat() and "employment law" in record["reason"]
    assert "payslips" in payslips["data"]
    assert _row(server, employee_id)["name"] == name  # kept: under the hold

    # The day before the hold ends nothing is due; a dry run after it changes nothing.
    before = run_retention(server.services.store, now=datetime(2031, 1, 30, tzinfo=UTC), dry_run=True)
    assert employee_id not in [e for r in before for e in r.employees]
    after = datetime(2031, 2, 2, tzinfo=UTC)
    dry = run_retention(server.services.store, now=after, dry_run=True)
    assert employee_id in [e for r in dry for e in r.employees]
    assert _row(server, employee_id)["name"] == name

    reports = run_retention(server.services.store, now=after)
    assert employee_id in [e for r in reports for e in r.employees]
    row = _row(server, employee_id)
    assert (row["name"], row["home_address"], row["personal_email"], row["salary"]) == (
        "[erased]",
        None,
        None,
        None,
    )
    assert row["hire_date"] == date(2020, 3, 1)  # business facts stay
    audit = server.call(
        "GET", admin, f"/orgs/{server.a.id}/audit", params={"entity": "employee", "entity_id": employee_id}
    )
    assert name not in audit.text and "Analytical" not in audit.text and "420000" not in audit.text
    with server.services.store.session(server.a.id) as db:
        runs = (
            db.execute(select(AuditEvent.after).where(AuditEvent.action == "privacy.retention_run"))
            .scalars()
            .all()
        )
    assert any(r["employee_records"] >= 1 for r in runs)
    assert server.call("GET", admin, f"/orgs/{server.a.id}/audit/verify").json()["intact"] is True


def test_ops_server_retention_run_dry_run_reports_per_data_type(privacy_server: PrivacyServer) -> None:
    result = _cli(privacy_server.config, "retention", "run", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"would apply (dry run): {privacy_server.a.id}: employee_records:" in result.stdout
    assert "customer_contacts" in result.stdout and "change_log" in result.stdout


def test_customer_contacts_are_anonymized_three_years_after_the_last_activity(
    privacy_server: PrivacyServer,
) -> None:
    from common.schema import Customer

    server = privacy_server
    customer_id, name = new_id(), new_subject_name()
    server.push(
        server.a.email("sales"),
        server.a,
        "sales.create_customer",
        id=customer_id,
        name=name,
        email="quiet@example.test",
        currency="EUR",
    )
    with server.services.store.session(server.a.id) as db:
        created = db.execute(select(Customer.updated_at).where(Customer.id == customer_id)).scalar_one()
    still_active = run_retention(server.services.store, now=created + timedelta(days=1000), dry_run=True)
    assert customer_id not in [c for r in still_active for c in r.customers]
    run_retention(server.services.store, now=created + timedelta(days=1100))
    with server.services.store.session(server.a.id) as db:
        row = db.execute(
            select(Customer.name, Customer.email, Customer.erased).where(Customer.id == customer_id)
        ).one()
    assert tuple(row) == ("[erased]", None, True)

"""HR and payroll: departments, employees and their directory, leave, payroll runs and payslips."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped

from common.schema.base import (
    ID_LENGTH,
    Base,
    EntityInfo,
    SyncedEntity,
    business,
    personal,
    public,
    ref,
    sensitive,
)
from common.schema.types import Quantity


class Department(SyncedEntity, Base):
    __tablename__ = "department"
    __entity__ = EntityInfo(module="hr", read="hr.read", directory=True)
    __table_args__ = (ref("department", "parent_id"),)

    code: Mapped[str] = public(String(32))
    name: Mapped[str] = public(String(200))
    parent_id: Mapped[str | None] = public(String(ID_LENGTH))


class Employee(SyncedEntity, Base):
    """An employee record: read with ``hr.read``; pay and ids also need ``hr.sensitive.read``.

    Members without ``hr.read`` see colleagues through :class:`EmployeeDirectory`, never here.
    With ``hr.self_service`` an employee reads their own record through ``user_id``: its public,
    business and personal fields, but not its sensitive ones (salary, bank account, national
    id) unless they also hold ``hr.sensitive.read``.

    ``user_id`` is sensitive: the user it names reads the record, so setting it needs
    ``hr.sensitive.read`` (and only a member may be named: the server checks).
    """

    __tablename__ = "employee"
    __entity__ = EntityInfo(module="hr", read="hr.read", owner="user_id", self_service=True)
    __table_args__ = (
        ref("department", "department_id"),
        Index("ix_employee_org_name", "org_id", "name"),
        Index("ix_employee_user", "org_id", "user_id"),
    )

    name: Mapped[str] = public(String(200))
    job_title: Mapped[str | None] = public(String(200))
    department_id: Mapped[str | None] = public(String(ID_LENGTH))
    work_email: Mapped[str | None] = public(String(254))
    work_phone: Mapped[str | None] = public(String(50))
    user_id: Mapped[str | None] = sensitive(String(ID_LENGTH), ForeignKey("app_user.id"))
    status: Mapped[str] = business(String(16), default="active")
    hire_date: Mapped[date | None] = business(Date)
    termination_date: Mapped[date | None] = business(Date)
    personal_email: Mapped[str | None] = personal(String(254))
    personal_phone: Mapped[str | None] = personal(String(50))
    home_address: Mapped[str | None] = personal(String(500))
    birth_date: Mapped[date | None] = personal(Date)
    national_id: Mapped[str | None] = sensitive(String(50))
    bank_account: Mapped[str | None] = sensitive(String(64))
    salary: Mapped[int | None] = sensitive(BigInteger)
    salary_currency: Mapped[str | None] = sensitive(String(3))


class EmployeeDirectory(SyncedEntity, Base):
    """The employee directory (DESIGN §6): one row per employee not terminated, with the
    employee's id and its public fields only. Every member reads it.

    A table of its own rather than the public columns of ``employee``, so that a pull without
    ``hr.read`` holds no employee row at all. Written only together with the employee, by the
    HR commands (:func:`common.commands.hr.keep_directory_in_step`): a leaver's row becomes a
    tombstone.
    """

    __tablename__ = "employee_directory"
    __entity__ = EntityInfo(module="hr", read="hr.read", directory=True)
    __table_args__ = (
        ref("employee", "id"),
        ref("department", "department_id"),
        Index("ix_employee_directory_org_name", "org_id", "name"),
    )

    name: Mapped[str] = public(String(200))
    job_title: Mapped[str | None] = public(String(200))
    department_id: Mapped[str | None] = public(String(ID_LENGTH))
    work_email: Mapped[str | None] = public(String(254))
    work_phone: Mapped[str | None] = public(String(50))


class LeaveRequest(SyncedEntity, Base):
    """States: requested → approved | rejected; requested/approved → cancelled."""

    __tablename__ = "leave_request"
    __entity__ = EntityInfo(module="hr", read="hr.read", owner="employee_id", self_service=True)
    __table_args__ = (
        ref("employee", "employee_id"),
        Index("ix_leave_employee", "org_id", "employee_id"),
    )

    employee_id: Mapped[str] = business(String(ID_LENGTH))
    kind: Mapped[str] = personal(String(16))
    start_date: Mapped[date] = business(Date)
    end_date: Mapped[date] = business(Date)
    status: Mapped[str] = business(String(16), default="requested")
    note: Mapped[str | None] = personal(String(500))


class PayrollRun(SyncedEntity, Base):
    """States: completed → paid (its net pay paid out)."""

    __tablename__ = "payroll_run"
    __entity__ = EntityInfo(module="hr", read="payroll.run")

    period_start: Mapped[date] = business(Date)
    period_end: Mapped[date] = business(Date)
    status: Mapped[str] = business(String(16), default="draft")
    currency: Mapped[str] = business(String(3))
    completed_at: Mapped[datetime | None] = business()
    total_gross: Mapped[int] = sensitive(BigInteger, default=0)
    # Ledger currency units per unit of ``currency``; empty for runs from before the books.
    exchange_rate: Mapped[Decimal | None] = business(Quantity)
    paid_on: Mapped[date | None] = business(Date)


class Payslip(SyncedEntity, Base):
    """Issued by a payroll run; append-only (corrected by a reversing payslip)."""

    __tablename__ = "payslip"
    __entity__ = EntityInfo(
        module="hr",
        read="payroll.run",
        owner="employee_id",
        self_service=True,
        append_only=True,
    )
    __table_args__ = (
        ref("payroll_run", "payroll_run_id"),
        ref("employee", "employee_id"),
        Index("ix_payslip_employee", "org_id", "employee_id"),
    )

    payroll_run_id: Mapped[str] = business(String(ID_LENGTH))
    employee_id: Mapped[str] = business(String(ID_LENGTH))
    period_start: Mapped[date] = business(Date)
    period_end: Mapped[date] = business(Date)
    currency: Mapped[str] = business(String(3))
    gross: Mapped[int] = sensitive(BigInteger)
    deductions: Mapped[int] = sensitive(BigInteger, default=0)
    net: Mapped[int] = sensitive(BigInteger)


class PayslipLine(SyncedEntity, Base):
    __tablename__ = "payslip_line"
    __entity__ = EntityInfo(
        module="hr",
        read="payroll.run",
        owner="employee_id",
        self_service=True,
        append_only=True,
    )
    __table_args__ = (
        ref("payslip", "payslip_id"),
        ref("employee", "employee_id"),
        Index("ix_payslip_line_payslip", "org_id", "payslip_id"),
    )

    payslip_id: Mapped[str] = business(String(ID_LENGTH))
    employee_id: Mapped[str] = business(String(ID_LENGTH))
    line_no: Mapped[int] = business(Integer)
    kind: Mapped[str] = business(String(16))
    description: Mapped[str] = business(String(200))
    quantity: Mapped[Decimal | None] = business(Quantity)
    amount: Mapped[int] = sensitive(BigInteger)

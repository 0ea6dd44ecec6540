"""HR and payroll: departments, employees and their directory, leave, payroll runs and payslips."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped

from common.classification import IDENTIFYING
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

    # Public (the directory), yet they identify the person: an erasure removes them too.
    name: Mapped[str] = public(String(200), info=IDENTIFYING)
    job_title: Mapped[str | None] = public(String(200))
    department_id: Mapped[str | None] = public(String(ID_LENGTH))
    work_email: Mapped[str | None] = public(String(254), info=IDENTIFYING)
    work_phone: Mapped[str | None] = public(String(50), info=IDENTIFYING)
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

    # Public (the directory), yet they identify the person: an erasure removes them too.
    name: Mapped[str] = public(String(200), info=IDENTIFYING)
    job_title: Mapped[str | None] = public(String(200))
    department_id: Mapped[str | None] = public(String(ID_LENGTH))
    work_email: Mapped[str | None] = public(String(254), info=IDENTIFYING)
    work_phone: Mapped[str | None] = public(String(50), info=IDENTIFYING)


class LeaveType(SyncedEntity, Base):
    """A kind of leave of the organization with its yearly entitlement in working days (none:
    not limited). ``kind`` is one of the leave kinds; ``unpaid`` leave reduces pay (payroll).
    Read by HR and by every employee (to request leave and see their balance)."""

    __tablename__ = "leave_type"
    __entity__ = EntityInfo(module="hr", read="hr.read", also_read=("hr.self_service",))
    __table_args__ = (UniqueConstraint("org_id", "code"),)

    code: Mapped[str] = business(String(32))
    name: Mapped[str] = business(String(200))
    kind: Mapped[str] = business(String(16))
    yearly_entitlement: Mapped[Decimal | None] = business(Quantity)
    active: Mapped[bool] = business(Boolean, default=True)


class LeaveRequest(SyncedEntity, Base):
    """States: requested → approved | rejected; requested/approved → cancelled."""

    __tablename__ = "leave_request"
    __entity__ = EntityInfo(module="hr", read="hr.read", owner="employee_id", self_service=True)
    __table_args__ = (
        ref("employee", "employee_id"),
        ref("leave_type", "leave_type_id"),
        Index("ix_leave_employee", "org_id", "employee_id"),
    )

    employee_id: Mapped[str] = business(String(ID_LENGTH))
    kind: Mapped[str] = personal(String(16))
    # Personal like ``kind``: a type such as sick leave says as much.
    leave_type_id: Mapped[str | None] = personal(String(ID_LENGTH))
    start_date: Mapped[date] = business(Date)
    end_date: Mapped[date] = business(Date)
    status: Mapped[str] = business(String(16), default="requested")
    note: Mapped[str | None] = personal(String(500))


class PayComponent(SyncedEntity, Base):
    """One pay component of the organization, applied to every employee of a run in its currency.

    ``kind``: ``earning`` (added to gross pay), ``deduction`` (withheld from the employee's
    pay: withholdings payable) or ``employer_contribution`` (paid by the employer on top:
    contributions payable). ``method``: ``percent`` (``rate`` % of the prorated base salary
    for an earning, of gross pay otherwise) or ``fixed`` (``amount`` minor units of
    ``currency`` per full period; a fixed earning is prorated like the salary). ``cap``: the
    most the component comes to for one employee in one run (minor units of the run's
    currency), when set.
    """

    __tablename__ = "pay_component"
    __entity__ = EntityInfo(module="hr", read="payroll.run")
    __table_args__ = (UniqueConstraint("org_id", "code"),)

    code: Mapped[str] = business(String(32))
    name: Mapped[str] = business(String(200))
    kind: Mapped[str] = business(String(24))
    method: Mapped[str] = business(String(16))
    rate: Mapped[Decimal | None] = business(Quantity)
    amount: Mapped[int | None] = business(BigInteger)
    currency: Mapped[str | None] = business(String(3))
    cap: Mapped[int | None] = business(BigInteger)
    active: Mapped[bool] = business(Boolean, default=True)


class PayrollRun(SyncedEntity, Base):
    """States: draft (the preview) → approved → posted → paid; draft → discarded;
    posted/paid → reversed (by a reversing run, itself posted, whose ``reverses_run_id`` names
    the run it reverses)."""

    __tablename__ = "payroll_run"
    __entity__ = EntityInfo(module="hr", read="payroll.run")
    __table_args__ = (ref("payroll_run", "reverses_run_id"),)

    period_start: Mapped[date] = business(Date)
    period_end: Mapped[date] = business(Date)
    status: Mapped[str] = business(String(16), default="draft")
    currency: Mapped[str] = business(String(3))
    completed_at: Mapped[datetime | None] = business()
    total_gross: Mapped[int] = sensitive(BigInteger, default=0)
    # Ledger currency units per unit of ``currency``; empty for runs from before the books.
    exchange_rate: Mapped[Decimal | None] = business(Quantity)
    paid_on: Mapped[date | None] = business(Date)
    total_deductions: Mapped[int] = sensitive(BigInteger, default=0)
    total_employer: Mapped[int] = sensitive(BigInteger, default=0)
    total_net: Mapped[int] = sensitive(BigInteger, default=0)
    approved_at: Mapped[datetime | None] = business()
    posted_at: Mapped[datetime | None] = business()
    reverses_run_id: Mapped[str | None] = business(String(ID_LENGTH))
    reversed_by_run_id: Mapped[str | None] = business(String(ID_LENGTH))


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
    employer_contributions: Mapped[int] = sensitive(BigInteger, default=0)
    # Working days (Monday to Friday) paid, and in the period: the proration of the salary.
    paid_days: Mapped[int | None] = business(Integer)
    period_days: Mapped[int | None] = business(Integer)


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

"""Projects and tasks: projects, tasks, timesheet entries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped

from common.schema.base import ID_LENGTH, Base, EntityInfo, SyncedEntity, business, ref
from common.schema.types import Quantity

_PROJECTS = EntityInfo(module="projects", read="projects.read")


class Project(SyncedEntity, Base):
    """States: planned → active → completed; any → cancelled."""

    __tablename__ = "project"
    __entity__ = _PROJECTS
    __table_args__ = (
        UniqueConstraint("org_id", "code"),
        ref("customer", "customer_id"),
        ref("employee", "manager_employee_id"),
    )

    code: Mapped[str] = business(String(32))
    name: Mapped[str] = business(String(200))
    customer_id: Mapped[str | None] = business(String(ID_LENGTH))
    manager_employee_id: Mapped[str | None] = business(String(ID_LENGTH))
    status: Mapped[str] = business(String(16), default="planned")
    start_date: Mapped[date | None] = business(Date)
    end_date: Mapped[date | None] = business(Date)
    budget: Mapped[int | None] = business(BigInteger)
    currency: Mapped[str | None] = business(String(3))
    budget_hours: Mapped[Decimal | None] = business(Quantity)
    # Minor units of ``currency`` per hour: what billable time is invoiced at.
    hourly_rate: Mapped[int | None] = business(BigInteger)


class Task(SyncedEntity, Base):
    """States: todo → in_progress → done."""

    __tablename__ = "task"
    __entity__ = _PROJECTS
    __table_args__ = (
        ref("project", "project_id"),
        ref("employee", "assignee_employee_id"),
        Index("ix_task_project", "org_id", "project_id"),
    )

    project_id: Mapped[str] = business(String(ID_LENGTH))
    title: Mapped[str] = business(String(200))
    description: Mapped[str | None] = business(String(4000))
    status: Mapped[str] = business(String(16), default="todo")
    assignee_employee_id: Mapped[str | None] = business(String(ID_LENGTH))
    due_date: Mapped[date | None] = business(Date)
    estimate_hours: Mapped[Decimal | None] = business(Quantity)


class TimesheetEntry(SyncedEntity, Base):
    """Hours worked; append-only (corrected by a negative entry). ``invoice_line_id`` is set once,
    when billable time is invoiced (``projects.invoice_time``): the hours never change."""

    __tablename__ = "timesheet_entry"
    __entity__ = EntityInfo(
        module="projects",
        read="projects.read",
        owner="employee_id",
        self_service=True,
        append_only=True,
        set_once=("invoice_line_id",),
    )
    __table_args__ = (
        ref("employee", "employee_id"),
        ref("project", "project_id"),
        ref("task", "task_id"),
        ref("timesheet_entry", "reverses_entry_id"),
        Index("ix_timesheet_employee", "org_id", "employee_id", "work_date"),
    )

    employee_id: Mapped[str] = business(String(ID_LENGTH))
    project_id: Mapped[str] = business(String(ID_LENGTH))
    task_id: Mapped[str | None] = business(String(ID_LENGTH))
    work_date: Mapped[date] = business(Date)
    hours: Mapped[Decimal] = business(Quantity)
    note: Mapped[str | None] = business(String(500))
    billable: Mapped[bool] = business(Boolean, default=True)
    reverses_entry_id: Mapped[str | None] = business(String(ID_LENGTH))
    # No foreign key: a project manager's workstation holds timesheets but not invoices.
    invoice_line_id: Mapped[str | None] = business(String(ID_LENGTH))

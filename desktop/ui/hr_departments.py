"""Departments: the organization's units, optionally inside a parent department."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from common.commands.fields import text_limit
from common.commands.hr import CreateDepartmentArgs
from common.hr_forms import build_department
from common.schema import Department, Employee
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.qt import QComboBox
from desktop.ui.context import UiContext
from desktop.ui.forms import FormDialog, FormField
from desktop.ui.master_data import MasterDataPage
from desktop.ui.pickers import fill_combo

COLUMNS = (
    Column("code", "Code", width=120),
    Column("name", "Name", stretch=True),
    Column("parent", "Part of", width=220),
    Column("people", "Employees", kind="number", sortable=False, width=110),
)
FIELDS = (
    FormField(
        "code",
        "Code",
        required=True,
        max_length=text_limit(CreateDepartmentArgs, "code"),
        placeholder="e.g. SALES",
    ),
    FormField("name", "Name", required=True, max_length=text_limit(CreateDepartmentArgs, "name")),
    FormField("parent_id", "Part of", kind="choice", hint="The department this one belongs to, if any."),
)
EDITABLE = ("code", "name", "parent_id")


def department_source(ctx: UiContext) -> ListSource:
    d = Department.__table__
    parent = aliased(Department)
    org_id = ctx.session.org_id

    def build() -> Any:
        return (
            select(d.c.id, d.c.code, d.c.name, d.c.parent_id, parent.name.label("parent"))
            .select_from(d)
            .join(parent, (parent.org_id == d.c.org_id) & (parent.id == d.c.parent_id), isouter=True)
            .where(live(Department, org_id))
        )

    def decorate(session: Any, rows: list[dict[str, Any]]) -> None:
        e = Employee.__table__.c
        counts = dict(
            session.execute(
                select(e.department_id, func.count())
                .where(
                    live(Employee, org_id),
                    e.status != "terminated",
                    e.department_id.in_([r["id"] for r in rows]),
                )
                .group_by(e.department_id)
            ).all()
        )
        for row in rows:
            row["people"] = int(counts.get(row["id"], 0))

    return ListSource(
        ctx.session.store,
        COLUMNS,
        build,
        search_keys=("code", "name", "parent"),
        default_sort="name",
        decorate=decorate,
    )


@page("hr", "departments", "Departments", opens="hr.read", writes="hr.create_department", position=50)
class DepartmentsPage(MasterDataPage):
    title = "Departments"
    subtitle = "The organization's units. Every member sees them with the employee directory."
    noun = "department"
    search_placeholder = "Search by code or name  (Ctrl+F)"
    empty_hint = "Add a department with New department (Ctrl+N)."
    entity = "department"
    command_module = "hr"
    archivable = False
    fields = FIELDS
    editable = EDITABLE

    def make_source(self) -> ListSource:
        return department_source(self.ctx)

    def args_from_form(self, raw: dict[str, Any], entity_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        built = build_department(entity_id, raw)
        return built.args, built.problems

    def form_from_row(self, row: dict[str, Any]) -> dict[str, Any]:
        return {"code": row["code"], "name": row["name"], "parent_id": row.get("parent_id")}

    def row_title(self, row: dict[str, Any]) -> str:
        return f"{row['code']} — {row['name']}"

    def new_item(self) -> FormDialog | None:
        dialog = super().new_item()
        if dialog is not None:
            self._fill_parents(dialog, None)
        return dialog

    def edit(self, row: dict[str, Any]) -> FormDialog:
        dialog = super().edit(row)
        self._fill_parents(dialog, row)
        return dialog

    def _fill_parents(self, dialog: FormDialog, row: dict[str, Any] | None) -> None:
        d = Department.__table__.c
        with self.ctx.session.store.read_session() as db:
            rows = db.execute(
                select(d.id, d.code, d.name).where(live(Department, self.ctx.session.org_id)).order_by(d.name)
            ).all()
        combo = dialog.inputs["parent_id"]
        assert isinstance(combo, QComboBox)
        own = row["id"] if row is not None else None
        fill_combo(
            combo, [(r.id, f"{r.name} ({r.code})") for r in rows if r.id != own], empty="None (top level)"
        )
        if row is not None and row.get("parent_id"):
            combo.setCurrentIndex(max(combo.findData(row["parent_id"]), 0))
        dialog.baseline = dialog.snapshot()
        dialog.validate()

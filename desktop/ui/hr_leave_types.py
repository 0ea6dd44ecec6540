"""Leave types: the kinds of leave of the organization and their yearly entitlement."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.commands.fields import text_limit
from common.commands.leave import LEAVE_KINDS, CreateLeaveTypeArgs
from common.hr_forms import build_leave_type
from common.money import quantity_text
from common.schema import LeaveType
from desktop.formatting import parse_quantity_input, quantity_input
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.ui.context import UiContext
from desktop.ui.forms import FormDialog, FormField
from desktop.ui.master_data import MasterDataPage

KIND_TITLES = {
    "annual": "Annual leave (paid)",
    "sick": "Sick leave (paid)",
    "unpaid": "Unpaid leave (reduces pay)",
    "parental": "Parental leave",
    "training": "Training",
    "other": "Other",
}
COLUMNS = (
    Column("code", "Code", width=120),
    Column("name", "Name", stretch=True),
    Column("kind_title", "Kind", sortable=False, width=220),
    Column("yearly_entitlement", "Days a year", kind="quantity", width=120),
    Column("active", "In use", kind="bool", width=80),
)
FIELDS = (
    FormField(
        "code",
        "Code",
        required=True,
        max_length=text_limit(CreateLeaveTypeArgs, "code"),
        placeholder="e.g. ANNUAL",
    ),
    FormField("name", "Name", required=True, max_length=text_limit(CreateLeaveTypeArgs, "name")),
    FormField(
        "kind", "Kind", kind="choice", required=True, choices=[(k, KIND_TITLES[k]) for k in LEAVE_KINDS]
    ),
    FormField(
        "yearly_entitlement",
        "Days a year",
        kind="quantity",
        placeholder="empty: not limited",
        max_length=12,
        hint="Working days (Monday to Friday) per calendar year.",
    ),
    FormField("active", "In use", kind="bool", hint="In use (offered for new requests)"),
)
EDITABLE = ("code", "name", "yearly_entitlement", "active")


def leave_type_source(ctx: UiContext) -> ListSource:
    t = LeaveType.__table__.c

    def build() -> Any:
        return select(t.id, t.code, t.name, t.kind, t.yearly_entitlement, t.active).where(
            live(LeaveType, ctx.session.org_id)
        )

    def decorate(_session: Any, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            row["kind_title"] = KIND_TITLES.get(row["kind"], row["kind"])

    return ListSource(
        ctx.session.store,
        COLUMNS,
        build,
        search_keys=("code", "name"),
        default_sort="code",
        decorate=decorate,
    )


@page("hr", "leave_types", "Leave types", opens="hr.read", writes="hr.create_leave_type", position=40)
class LeaveTypesPage(MasterDataPage):
    title = "Leave types"
    subtitle = "Kinds of leave and how many working days a year each employee may take."
    noun = "leave type"
    search_placeholder = "Search by code or name  (Ctrl+F)"
    empty_hint = "Add leave types with New leave type (Ctrl+N), e.g. annual and unpaid leave."
    entity = "leave_type"
    command_module = "hr"
    archivable = False
    fields = FIELDS
    editable = EDITABLE

    def make_source(self) -> ListSource:
        return leave_type_source(self.ctx)

    def args_from_form(self, raw: dict[str, Any], entity_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        built = build_leave_type(entity_id, raw, parse_quantity_input)
        return built.args, built.problems

    def form_from_row(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "code": row["code"],
            "name": row["name"],
            "kind": row["kind"],
            "yearly_entitlement": quantity_input(row.get("yearly_entitlement")),
            "active": bool(row["active"]),
        }

    def values_from_row(self, row: dict[str, Any]) -> dict[str, Any]:
        values = super().values_from_row(row)
        if values.get("yearly_entitlement") is not None:
            values["yearly_entitlement"] = quantity_text(values["yearly_entitlement"])
        return values

    def new_defaults(self) -> dict[str, Any]:
        return {"kind": "annual", "active": True}

    def row_title(self, row: dict[str, Any]) -> str:
        return f"{row['code']} — {row['name']}"

    def edit(self, row: dict[str, Any]) -> FormDialog:
        dialog = super().edit(row)
        dialog.inputs["kind"].setEnabled(False)  # a leave type's kind never changes
        return dialog

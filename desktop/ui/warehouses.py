"""Warehouses: where stock is kept."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.commands.fields import text_limit
from common.commands.inventory import CreateWarehouseArgs
from common.schema import Warehouse
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.ui.context import UiContext
from desktop.ui.forms import FormField
from desktop.ui.master_data import MasterDataPage
from desktop.validation import problems

COLUMNS = (
    Column("code", "Code", width=120),
    Column("name", "Name", width=260),
    Column("address", "Address", stretch=True),
)
FIELDS = (
    FormField(
        "code",
        "Code",
        required=True,
        max_length=text_limit(CreateWarehouseArgs, "code"),
        placeholder="e.g. MAIN",
    ),
    FormField("name", "Name", required=True, max_length=text_limit(CreateWarehouseArgs, "name")),
    FormField("address", "Address", kind="multiline", max_length=text_limit(CreateWarehouseArgs, "address")),
)
EDITABLE = ("code", "name", "address")


def warehouse_source(ctx: UiContext, *, include_archived: bool = False) -> ListSource:
    t = Warehouse.__table__.c

    def build() -> Any:
        stmt = select(t.id, t.code, t.name, t.address, t.archived).where(live(Warehouse, ctx.session.org_id))
        return stmt if include_archived else stmt.where(t.archived.is_(False))

    return ListSource(
        ctx.session.store, COLUMNS, build, search_keys=("code", "name", "address"), default_sort="code"
    )


def warehouse_args(raw: dict[str, Any], warehouse_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    args: dict[str, Any] = {
        "id": warehouse_id,
        "code": (raw.get("code") or "").strip(),
        "name": (raw.get("name") or "").strip(),
        "address": (raw.get("address") or "").strip() or None,
    }
    return args, problems(CreateWarehouseArgs, {k: v for k, v in args.items() if v is not None})


@page("inventory", "warehouses", "Warehouses", writes="inventory.create_warehouse", position=50)
class WarehousesPage(MasterDataPage):
    title = "Warehouses"
    subtitle = "The places stock is kept. Every stock move goes into or out of one."
    noun = "warehouse"
    search_placeholder = "Search by code, name or address  (Ctrl+F)"
    empty_hint = "Add a warehouse with New warehouse (Ctrl+N) before recording stock."
    entity = "warehouse"
    fields = FIELDS
    editable = EDITABLE

    def make_source(self) -> ListSource:
        return warehouse_source(self.ctx, include_archived=self.include_archived)

    def args_from_form(self, raw: dict[str, Any], entity_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        return warehouse_args(raw, entity_id)

    def form_from_row(self, row: dict[str, Any]) -> dict[str, Any]:
        return {"code": row["code"], "name": row["name"], "address": row.get("address") or ""}

    def row_title(self, row: dict[str, Any]) -> str:
        return f"{row['code']} — {row['name']}"

"""Suppliers: who purchase orders go to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.commands.fields import text_limit
from common.commands.inventory import CreateSupplierArgs
from common.schema import Supplier
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.ui.context import UiContext
from desktop.ui.forms import FormField
from desktop.ui.master_data import MasterDataPage
from desktop.ui.products import CURRENCY_CHOICES
from desktop.validation import problems

COLUMNS = (
    Column("name", "Name", stretch=True),
    Column("contact_name", "Contact", width=180),
    Column("email", "E-mail", width=220),
    Column("phone", "Phone", width=140),
    Column("currency", "Currency", width=80),
)
FIELDS = (
    FormField("name", "Name", required=True, max_length=text_limit(CreateSupplierArgs, "name")),
    FormField(
        "currency",
        "Currency",
        kind="choice",
        required=True,
        choices=CURRENCY_CHOICES,
        hint="Purchase orders to this supplier are in this currency.",
    ),
    FormField("contact_name", "Contact person", max_length=text_limit(CreateSupplierArgs, "contact_name")),
    FormField("email", "E-mail", max_length=text_limit(CreateSupplierArgs, "email")),
    FormField("phone", "Phone", max_length=text_limit(CreateSupplierArgs, "phone")),
    FormField("address", "Address", kind="multiline", max_length=text_limit(CreateSupplierArgs, "address")),
    FormField("tax_id", "Tax id", max_length=text_limit(CreateSupplierArgs, "tax_id")),
)
EDITABLE = ("name", "currency", "contact_name", "email", "phone", "address", "tax_id")
OPTIONAL = ("contact_name", "email", "phone", "address", "tax_id")


def supplier_source(ctx: UiContext, *, include_archived: bool = False) -> ListSource:
    t = Supplier.__table__.c

    def build() -> Any:
        stmt = select(
            t.id, t.name, t.contact_name, t.email, t.phone, t.address, t.tax_id, t.currency, t.archived
        ).where(live(Supplier, ctx.session.org_id))
        return stmt if include_archived else stmt.where(t.archived.is_(False))

    return ListSource(
        ctx.session.store,
        COLUMNS,
        build,
        search_keys=("name", "contact_name", "email"),
        default_sort="name",
        search_table="supplier",
    )


def supplier_args(raw: dict[str, Any], supplier_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    args: dict[str, Any] = {
        "id": supplier_id,
        "name": (raw.get("name") or "").strip(),
        "currency": raw.get("currency") or "",
    }
    for key in OPTIONAL:
        args[key] = (raw.get(key) or "").strip() or None
    return args, problems(CreateSupplierArgs, {k: v for k, v in args.items() if v is not None})


@page("inventory", "suppliers", "Suppliers", writes="inventory.create_supplier", position=60)
class SuppliersPage(MasterDataPage):
    title = "Suppliers"
    subtitle = "The companies you buy from."
    noun = "supplier"
    search_placeholder = "Search by name, contact or e-mail  (Ctrl+F)"
    empty_hint = "Add a supplier with New supplier (Ctrl+N) to start ordering."
    entity = "supplier"
    fields = FIELDS
    editable = EDITABLE

    def make_source(self) -> ListSource:
        return supplier_source(self.ctx, include_archived=self.include_archived)

    def args_from_form(self, raw: dict[str, Any], entity_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        return supplier_args(raw, entity_id)

    def form_from_row(self, row: dict[str, Any]) -> dict[str, Any]:
        return {key: row.get(key) or "" for key in EDITABLE}

    def new_defaults(self) -> dict[str, Any]:
        return {"currency": self.model.rows[0]["currency"] if self.model.rows else "EUR"}

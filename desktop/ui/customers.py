"""Customers: the list (lazy, searchable, sortable), the form with credit limit, open balance and
communication preferences, and each customer's account (documents and statement)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.commands.fields import text_limit
from common.commands.sales import CreateCustomerArgs
from common.sales_forms import build_customer
from common.schema import Customer
from desktop.formatting import money, money_input, parse_money
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.qt import QVBoxLayout
from desktop.ui.context import UiContext
from desktop.ui.forms import FormDialog, FormField
from desktop.ui.master_data import MasterDataPage
from desktop.ui.products import CURRENCY_CHOICES
from desktop.ui.sales_common import open_balances, opt_outs
from desktop.ui.sales_statement import CustomerAccountDialog
from desktop.ui.widgets import PageHeader, button, label

COLUMNS = (
    Column("name", "Name", stretch=True),
    Column("email", "E-mail", stretch=True),
    Column("credit_limit", "Credit limit", kind="money", width=120),
    Column("balance", "Open balance", kind="money", sortable=False, width=135),
    Column("contact", "No contact for", sortable=False, width=150),
)

FIELDS = (
    FormField("name", "Name", required=True, max_length=text_limit(CreateCustomerArgs, "name")),
    FormField(
        "currency",
        "Currency",
        kind="choice",
        required=True,
        choices=CURRENCY_CHOICES,
        hint="Orders and invoices for this customer are in this currency.",
    ),
    FormField("email", "E-mail", max_length=text_limit(CreateCustomerArgs, "email")),
    FormField("phone", "Phone", max_length=text_limit(CreateCustomerArgs, "phone")),
    FormField("address", "Address", kind="multiline", max_length=text_limit(CreateCustomerArgs, "address")),
    FormField("tax_id", "Tax id", max_length=text_limit(CreateCustomerArgs, "tax_id")),
    FormField(
        "credit_limit",
        "Credit limit",
        kind="money",
        placeholder="none",
        max_length=24,
        hint="Confirming an order beyond it is flagged, not refused.",
    ),
)
EDITABLE = ("name", "currency", "email", "phone", "address", "tax_id", "credit_limit")


def customer_source(ctx: UiContext, *, include_archived: bool = False) -> ListSource:
    org_id = ctx.session.org_id
    t = Customer.__table__.c

    def build(scan: bool = False) -> Any:
        stmt = select(
            t.id,
            t.name,
            t.email,
            t.phone,
            t.address,
            t.tax_id,
            t.currency,
            t.credit_limit,
            t.archived,
            t.erased,
        ).where(live(Customer, org_id, scan=scan))
        return stmt if include_archived else stmt.where(t.archived.is_(False))

    def decorate(session: Session, rows: list[dict[str, Any]]) -> None:
        ids = [r["id"] for r in rows]
        balances = open_balances(session, org_id, ids)
        refused = opt_outs(session, org_id, ids)
        for row in rows:
            row["balance"] = balances.get((row["id"], row["currency"]), 0)
            row["contact"] = ", ".join(refused.get(row["id"], []))

    return ListSource(
        ctx.session.store,
        COLUMNS,
        build,
        search_keys=("name", "email", "phone"),
        default_sort="name",
        decorate=decorate,
        build_for_search=lambda: build(scan=True),
        search_table="customer",
    )


@page("sales", "customers", "Customers", writes="sales.create_customer", position=10)
class CustomersPage(MasterDataPage):
    title = "Customers"
    subtitle = "Who you sell to: contact details, credit limit and what they owe."
    noun = "customer"
    search_placeholder = "Search by name, e-mail or phone  (Ctrl+F)"
    empty_hint = "Add your first customer with New customer (Ctrl+N)."
    command_module = "sales"
    entity = "customer"
    fields = FIELDS
    editable = EDITABLE

    def make_source(self) -> ListSource:
        return customer_source(self.ctx, include_archived=self.include_archived)

    def add_actions(self, header: PageHeader) -> None:
        self.account_button = button("Account…", tooltip="The customer's documents and statement")
        self.account_button.clicked.connect(lambda: self._with_row(self.open_account))
        header.add_action(self.account_button)
        super().add_actions(header)

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        super().selection_changed(row)
        self.account_button.setEnabled(row is not None)

    def _with_row(self, action: Any) -> None:
        row = self.current_row()
        if row is not None:
            action(row)

    def open_account(self, row: dict[str, Any]) -> CustomerAccountDialog:
        dialog = CustomerAccountDialog(self, self.ctx, row)
        dialog.open()
        return dialog

    def args_from_form(self, raw: dict[str, Any], entity_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        built = build_customer(entity_id, raw, parse_money)
        return built.args, built.problems

    def form_from_row(self, row: dict[str, Any]) -> dict[str, Any]:
        values = {key: row.get(key) or "" for key in EDITABLE}
        values["credit_limit"] = money_input(row.get("credit_limit"), row["currency"])
        return values

    def new_defaults(self) -> dict[str, Any]:
        return {"currency": self.model.rows[0]["currency"] if self.model.rows else "EUR"}

    def edit(self, row: dict[str, Any]) -> FormDialog:
        """The form, with what the customer owes and what they opted out of shown above it."""
        dialog = super().edit(row)
        limit = row.get("credit_limit")
        balance = row.get("balance", 0)
        facts = [f"Open balance: {money(balance, row['currency'])}"]
        if limit is not None:
            facts.append(f"credit limit {money(limit, row['currency'])}")
            if balance > limit:
                facts.append("over the limit")
        contact = row.get("contact") or ""
        words = f"Does not want to be contacted for: {contact}." if contact else "No communication opt-outs."
        main = dialog.layout()
        assert isinstance(main, QVBoxLayout)
        dialog.facts_label = label(" · ".join(facts) + ".  " + words, "muted", wrap=True)  # type: ignore[attr-defined]
        main.insertWidget(1, dialog.facts_label)  # type: ignore[attr-defined]
        return dialog

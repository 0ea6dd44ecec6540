"""Pay components: the earnings, deductions and employer contributions every payroll run applies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.commands.fields import text_limit
from common.commands.pay_components import COMPONENT_KINDS, CreatePayComponentArgs
from common.hr_forms import build_pay_component, percent_text
from common.money import quantity_text
from common.schema import PayComponent
from desktop.formatting import money, money_input, parse_money, parse_quantity_input, quantity_input
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.ui.context import UiContext
from desktop.ui.forms import FormDialog, FormField
from desktop.ui.master_data import MasterDataPage
from desktop.ui.products import CURRENCY_CHOICES

KIND_TITLES = {
    "earning": "Earning (added to gross pay)",
    "deduction": "Deduction (withheld from pay)",
    "employer_contribution": "Employer contribution (paid on top)",
}
SHORT_KINDS = {
    "earning": "Earning",
    "deduction": "Deduction",
    "employer_contribution": "Employer contribution",
}
METHOD_CHOICES = (("percent", "Percentage"), ("fixed", "Fixed amount per period"))
COLUMNS = (
    Column("code", "Code", width=120),
    Column("name", "Name", stretch=True),
    Column("kind_title", "Kind", sortable=False, width=200),
    Column("value", "Rate or amount", sortable=False, width=170),
    Column("cap_text", "Cap", sortable=False, width=130),
    Column("active", "In use", kind="bool", width=80),
)
FIELDS = (
    FormField(
        "code",
        "Code",
        required=True,
        max_length=text_limit(CreatePayComponentArgs, "code"),
        placeholder="e.g. PENSION",
    ),
    FormField("name", "Name", required=True, max_length=text_limit(CreatePayComponentArgs, "name")),
    FormField(
        "kind", "Kind", kind="choice", required=True, choices=[(k, KIND_TITLES[k]) for k in COMPONENT_KINDS]
    ),
    FormField("method", "Computed as", kind="choice", required=True, choices=METHOD_CHOICES),
    FormField(
        "rate",
        "Rate %",
        kind="quantity",
        max_length=12,
        hint="Of the prorated salary for an earning; of gross pay otherwise.",
    ),
    FormField(
        "amount", "Amount", kind="money", max_length=24, hint="For a full period; earnings are prorated."
    ),
    FormField("currency", "Currency", kind="choice", choices=CURRENCY_CHOICES),
    FormField(
        "cap",
        "Cap",
        kind="money",
        placeholder="optional",
        max_length=24,
        hint="The most it comes to for one employee in one run.",
    ),
    FormField("active", "In use", kind="bool", hint="In use (applied to new runs)"),
)
EDITABLE = ("code", "name", "kind", "method", "rate", "amount", "currency", "cap", "active")


def component_source(ctx: UiContext) -> ListSource:
    t = PayComponent.__table__.c

    def build() -> Any:
        return select(
            t.id, t.code, t.name, t.kind, t.method, t.rate, t.amount, t.currency, t.cap, t.active
        ).where(live(PayComponent, ctx.session.org_id))

    def decorate(_session: Any, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            row["kind_title"] = SHORT_KINDS.get(row["kind"], row["kind"])
            if row["method"] == "percent":
                row["value"] = f"{quantity_input(row['rate'])} %"
            else:
                row["value"] = money(row["amount"], row["currency"])
            # A cap is in the run's currency: shown as a number in the component's currency or plain.
            row["cap_text"] = money(row["cap"], row["currency"]) if row["cap"] is not None else ""

    return ListSource(
        ctx.session.store,
        COLUMNS,
        build,
        search_keys=("code", "name"),
        default_sort="code",
        decorate=decorate,
    )


@page(
    "hr",
    "pay_components",
    "Pay components",
    opens="payroll.run",
    writes="hr.create_pay_component",
    position=70,
)
class PayComponentsPage(MasterDataPage):
    title = "Pay components"
    subtitle = "Earnings, deductions and employer contributions applied to every employee of a run."
    noun = "pay component"
    search_placeholder = "Search by code or name  (Ctrl+F)"
    empty_hint = "Add pay components with New pay component (Ctrl+N), e.g. a pension deduction."
    entity = "pay_component"
    command_module = "hr"
    archivable = False
    fields = FIELDS
    editable = EDITABLE

    def make_source(self) -> ListSource:
        return component_source(self.ctx)

    def args_from_form(self, raw: dict[str, Any], entity_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        built = build_pay_component(entity_id, raw, parse_money, parse_quantity_input)
        return built.args, built.problems

    def form_from_row(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "code": row["code"],
            "name": row["name"],
            "kind": row["kind"],
            "method": row["method"],
            "rate": quantity_input(percent_text(row.get("rate")) or None),
            "amount": money_input(row.get("amount"), row.get("currency")),
            "currency": row.get("currency") or "EUR",
            "cap": money_input(row.get("cap"), row.get("currency") or "EUR"),
            "active": bool(row["active"]),
        }

    def values_from_row(self, row: dict[str, Any]) -> dict[str, Any]:
        values = super().values_from_row(row)
        if values.get("rate") is not None:
            values["rate"] = quantity_text(values["rate"])
        return values

    def new_defaults(self) -> dict[str, Any]:
        return {"kind": "deduction", "method": "percent", "currency": "EUR", "active": True}

    def row_title(self, row: dict[str, Any]) -> str:
        return f"{row['code']} — {row['name']}"

    def new_item(self) -> FormDialog | None:
        dialog = super().new_item()
        if dialog is not None:
            self._arrange(dialog)
        return dialog

    def edit(self, row: dict[str, Any]) -> FormDialog:
        dialog = super().edit(row)
        self._arrange(dialog)
        return dialog

    def _arrange(self, dialog: FormDialog) -> None:
        """A percentage has a rate; a fixed amount an amount and its currency."""

        def arrange() -> None:
            fixed = dialog.raw().get("method") == "fixed"
            dialog.set_field_visible("rate", not fixed)
            dialog.set_field_visible("amount", fixed)
            dialog.validate()

        dialog.inputs["method"].currentIndexChanged.connect(lambda *_: arrange())  # type: ignore[attr-defined]
        arrange()

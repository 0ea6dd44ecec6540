"""What can be imported: each kind's fields, natural key and the commands a row becomes.

A row whose natural key (SKU, account code, e-mail; SKU and warehouse for opening stock) is new
becomes a create command; one whose stored record differs becomes an update with ``changes``
and ``base`` (the stored values, so a concurrent edit on the server is a conflict, not lost);
an unchanged one becomes nothing. Opening stock is a receipt marked ``OPENING`` per product and
warehouse, recorded once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.ids import new_id
from common.schema import (
    Account,
    Customer,
    Employee,
    Invoice,
    JournalEntry,
    Product,
    StockMove,
    Supplier,
    SupplierBill,
    Warehouse,
)

OPENING_REFERENCE = "OPENING"
Command = tuple[str, dict[str, Any]]


class RowProblem(ValueError):
    """A row that cannot become a command: ``message`` about the field ``key``."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.message, self.key = message, key


@dataclass(frozen=True)
class ImportField:
    key: str
    title: str
    kind: str = "text"  # text, money, quantity, date, choice
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    updatable: bool = True


Lookups = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class ImportKind:
    name: str
    title: str
    permission: str
    fields: Sequence[ImportField]
    natural_key: str
    model: Any
    create: str
    update: str | None
    key_case_insensitive: bool = False
    # (session, org_id) → natural key → stored row; default: the model's natural key column.
    existing: Callable[[Session, str], dict[Any, dict[str, Any]]] | None = None
    # (session, org_id) → name → {value: id}: codes the rows refer to (warehouses, products).
    lookups: Callable[[Session, str], dict[str, dict[str, str]]] | None = None
    # (values, stored row or None, lookups) → commands; default: create or update the model.
    builder: Callable[[ImportKind, dict[str, Any], dict[str, Any] | None, Lookups], list[Command]] | None = (
        None
    )
    # "module:function" planning the whole file at once (rows that become one document), called
    # as plan_import's row loop would be; None: one row, one record.
    planner: str | None = None
    # The date the user is asked for (its title), for a kind whose rows post on one date.
    asks_date: str | None = None
    # A planned command's line field → this kind's field, to name a refused line's column.
    line_fields: Mapping[str, str] = field(default_factory=dict)

    def key_of(self, values: Mapping[str, Any]) -> Any:
        if self.name == "opening_stock":
            return f"{values['sku']}@{values['warehouse']}".lower()
        value = values[self.natural_key]
        return value.lower() if self.key_case_insensitive and isinstance(value, str) else value

    def build(self, values: dict[str, Any], stored: dict[str, Any] | None, lookups: Lookups) -> list[Command]:
        if self.builder is not None:
            return self.builder(self, values, stored, lookups)
        return master_data_commands(self, values, stored)


def _same(new: Any, old: Any) -> bool:
    if isinstance(new, Decimal) or isinstance(old, Decimal):
        try:
            return old is not None and Decimal(str(new)) == Decimal(str(old))
        except ArithmeticError:
            return False
    if isinstance(new, str) and isinstance(old, str) and new.lower() == old.lower():
        return new == old
    return bool(new == old)


def _wire(value: Any) -> Any:
    """Args travel as JSON: decimals as text, dates as ISO text."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def master_data_commands(
    kind: ImportKind, values: dict[str, Any], stored: dict[str, Any] | None
) -> list[Command]:
    if stored is None:
        return [(kind.create, {"id": new_id(), **{k: _wire(v) for k, v in values.items()}})]
    changes, base = {}, {}
    for spec in kind.fields:
        if spec.key not in values or not spec.updatable or spec.key == kind.natural_key:
            continue
        if not _same(values[spec.key], stored.get(spec.key)):
            changes[spec.key] = _wire(values[spec.key])
            base[spec.key] = _wire(stored.get(spec.key))
    if not changes or kind.update is None:
        return []
    return [(kind.update, {"id": stored["id"], "changes": changes, "base": base})]


def _opening_existing(session: Session, org_id: str) -> dict[Any, dict[str, Any]]:
    m, p, w = StockMove.__table__.c, Product.__table__.c, Warehouse.__table__.c
    stmt = (
        select(m.id, p.sku, w.code)
        .select_from(StockMove.__table__)
        .join(Product.__table__, (p.org_id == m.org_id) & (p.id == m.product_id))
        .join(Warehouse.__table__, (w.org_id == m.org_id) & (w.id == m.to_warehouse_id))
        .where(m.org_id == org_id, m.deleted.is_(False), m.reference == OPENING_REFERENCE)
    )
    return {f"{sku}@{code}".lower(): {"id": move_id} for move_id, sku, code in session.execute(stmt)}


def _codes(session: Session, org_id: str) -> dict[str, dict[str, str]]:
    def ids(model: Any, key: str) -> dict[str, str]:
        t = model.__table__.c
        rows = session.execute(select(t[key], t.id).where(t.org_id == org_id, t.deleted.is_(False)))
        return {str(k).lower(): str(i) for k, i in rows}

    return {"product": ids(Product, "sku"), "warehouse": ids(Warehouse, "code")}


def _opening_commands(
    kind: ImportKind, values: dict[str, Any], stored: dict[str, Any] | None, lookups: Lookups
) -> list[Command]:
    if stored is not None:
        return []  # this product's opening stock in this warehouse is already recorded
    product = lookups["product"].get(values["sku"].lower())
    if product is None:
        raise RowProblem(f"no product has the SKU “{values['sku']}” (import products first)", "sku")
    warehouse = lookups["warehouse"].get(values["warehouse"].lower())
    if warehouse is None:
        raise RowProblem(f"no warehouse has the code “{values['warehouse']}”", "warehouse")
    args: dict[str, Any] = {
        "id": new_id(),
        "product_id": product,
        "to_warehouse_id": warehouse,
        "quantity": _wire(values["quantity"]),
        "reason": "receipt",
        "reference": OPENING_REFERENCE,
        "note": "Opening stock (import)",
    }
    if values.get("unit_cost") is not None:
        args["unit_cost"] = values["unit_cost"]
        args["currency"] = values["currency"]
    return [("inventory.record_stock_move", args)]


CURRENCY = ImportField("currency", "Currency", aliases=("curr", "ccy", "währung", "devise"))
KINDS: Mapping[str, ImportKind] = {
    kind.name: kind
    for kind in (
        ImportKind(
            "products", "Products", "inventory.write",
            [ImportField("sku", "SKU", required=True, aliases=("article", "item code", "product code")),
             ImportField("name", "Name", required=True, aliases=("product", "description short", "title")),
             ImportField("unit", "Unit", aliases=("uom",)),
             ImportField("sale_price", "Sale price", "money", required=True, aliases=("price", "list price")),
             ImportField("cost_price", "Cost price", "money", aliases=("cost",)),
             CURRENCY,
             ImportField("reorder_point", "Reorder point", "quantity", aliases=("reorder at", "min stock")),
             ImportField("barcode", "Barcode", aliases=("ean", "gtin", "upc")),
             ImportField("description", "Description")],
            "sku", Product, "inventory.create_product", "inventory.update_product",
        ),
        ImportKind(
            "customers", "Customers", "sales.write",
            [ImportField("name", "Name", required=True, aliases=("customer", "company")),
             ImportField("email", "E-mail", required=True, aliases=("email address", "mail")),
             ImportField("phone", "Phone", aliases=("telephone", "tel")),
             ImportField("address", "Address"),
             ImportField("tax_id", "Tax id", aliases=("vat", "vat number", "tax number")),
             CURRENCY,
             ImportField("credit_limit", "Credit limit", "money")],
            "email", Customer, "sales.create_customer", "sales.update_customer", key_case_insensitive=True,
        ),
        ImportKind(
            "suppliers", "Suppliers", "inventory.write",
            [ImportField("name", "Name", required=True, aliases=("supplier", "company", "vendor")),
             ImportField("email", "E-mail", required=True, aliases=("email address", "mail")),
             ImportField("contact_name", "Contact", aliases=("contact name", "contact person")),
             ImportField("phone", "Phone", aliases=("telephone", "tel")),
             ImportField("address", "Address"),
             ImportField("tax_id", "Tax id", aliases=("vat", "vat number")),
             CURRENCY],
            "email", Supplier, "inventory.create_supplier", "inventory.update_supplier",
            key_case_insensitive=True,
        ),
        ImportKind(
            "employees", "Employees", "hr.write",
            [ImportField("name", "Name", required=True, aliases=("full name", "employee")),
             ImportField("work_email", "Work e-mail", required=True, aliases=("email", "e-mail", "work email")),
             ImportField("job_title", "Job title", aliases=("title", "position")),
             ImportField("work_phone", "Work phone", aliases=("phone",)),
             ImportField("hire_date", "Hire date", "date", aliases=("start date", "hired")),
             ImportField("personal_email", "Personal e-mail"),
             ImportField("personal_phone", "Personal phone"),
             ImportField("home_address", "Home address"),
             ImportField("birth_date", "Birth date", "date", aliases=("date of birth",))],
            "work_email", Employee, "hr.create_employee", "hr.update_employee", key_case_insensitive=True,
        ),
        ImportKind(
            "accounts", "Chart of accounts", "finance.post",
            [ImportField("code", "Code", required=True, aliases=("account", "account code", "number")),
             ImportField("name", "Name", required=True, aliases=("account name",)),
             ImportField("type", "Type", "choice", required=True, aliases=("account type",),
                         choices=("asset", "liability", "equity", "income", "expense"), updatable=False)],
            "code", Account, "finance.create_account", "finance.update_account",
        ),
        ImportKind(
            "opening_stock", "Opening stock", "inventory.write",
            [ImportField("sku", "SKU", required=True, aliases=("article", "product code")),
             ImportField("warehouse", "Warehouse", required=True, aliases=("warehouse code", "location")),
             ImportField("quantity", "Quantity", "quantity", required=True, aliases=("qty", "on hand")),
             ImportField("unit_cost", "Unit cost", "money", aliases=("cost",)),
             CURRENCY],
            "sku", StockMove, "inventory.record_stock_move", None,
            existing=_opening_existing, lookups=_codes, builder=_opening_commands,
        ),
        ImportKind(
            "opening_balances", "Opening balances", "finance.post",
            [ImportField("account", "Account", required=True,
                         aliases=("account code", "code", "account number", "number", "konto")),
             ImportField("debit", "Debit", "money", aliases=("dr", "debit balance", "soll")),
             ImportField("credit", "Credit", "money", aliases=("cr", "credit balance", "haben")),
             ImportField("description", "Description",
                         aliases=("memo", "text", "partner", "customer", "supplier"))],
            "account", JournalEntry, "finance.post_opening_balances", None,
            planner="common.imports.opening:plan_opening_balances", asks_date="Opening date",
            line_fields={"account_id": "account", "memo": "description"},
        ),
        ImportKind(
            "open_invoices", "Open customer invoices", "finance.post",
            [ImportField("customer", "Customer", required=True,
                         aliases=("customer e-mail", "customer email", "customer name", "client", "debtor")),
             ImportField("reference", "Invoice number", required=True,
                         aliases=("number", "invoice no", "invoice", "document number", "reference", "ref",
                                  "old number")),
             ImportField("issue_date", "Issue date", "date", required=True,
                         aliases=("date", "invoice date", "document date")),
             ImportField("due_date", "Due date", "date", aliases=("due", "payable by")),
             ImportField("amount", "Open amount", "money", required=True,
                         aliases=("amount", "open", "outstanding", "balance", "amount due", "still open")),
             CURRENCY,
             ImportField("exchange_rate", "Exchange rate", aliases=("rate", "fx rate")),
             ImportField("description", "Description", aliases=("memo", "text"))],
            "reference", Invoice, "finance.record_opening_invoice", None,
            planner="common.imports.open_items:plan_open_invoices",
            line_fields={"customer_id": "customer", "number": "reference"},
        ),
        ImportKind(
            "open_bills", "Open supplier bills", "finance.post",
            [ImportField("supplier", "Supplier", required=True,
                         aliases=("supplier e-mail", "supplier email", "supplier name", "vendor", "creditor")),
             ImportField("reference", "Bill number", required=True,
                         aliases=("number", "supplier reference", "their number", "invoice number", "bill no",
                                  "document number", "reference", "ref", "old number")),
             ImportField("bill_date", "Bill date", "date", required=True,
                         aliases=("date", "invoice date", "issue date", "document date")),
             ImportField("due_date", "Due date", "date", aliases=("due", "payable by")),
             ImportField("amount", "Open amount", "money", required=True,
                         aliases=("amount", "open", "outstanding", "balance", "amount due", "still open")),
             CURRENCY,
             ImportField("exchange_rate", "Exchange rate", aliases=("rate", "fx rate")),
             ImportField("description", "Description", aliases=("memo", "text"))],
            "reference", SupplierBill, "finance.record_opening_bill", None,
            planner="common.imports.open_items:plan_open_bills",
            line_fields={"supplier_id": "supplier", "supplier_reference": "reference"},
        ),
    )
}  # fmt: skip

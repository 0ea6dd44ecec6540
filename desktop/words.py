"""Records, commands and fields in a clerk's words (no Qt): "Hard hat — AC-0010", "Change
product", "Sale price", "12,50 EUR" — never ``inventory.update_product``, ``sale_price`` or 1250.

The facts come from the schema (which column is money, a quantity, a date) and the command names'
pattern ``<module>.<verb>_<entity>`` (DESIGN §4), so a new module is described without code here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Integer, select
from sqlalchemy.orm import Session

from common.schema import ENTITIES
from common.schema.base import table_of
from common.schema.types import Quantity
from desktop.formatting import day, money, quantity, timestamp

_VERBS = {
    "create": "New",
    "update": "Change",
    "archive": "Archive",
    "delete": "Delete",
    "record": "Record",
    "reverse": "Reverse",
    "set": "Set",
}
# Words whose plural is not "+s" (entity titles come from table names).
_IRREGULAR_PLURALS = {"entry": "entries", "directory": "directories", "person": "people", "tax": "taxes"}
EMPTY = "(empty)"
_ACRONYMS = {"sku": "SKU", "vat": "VAT", "iban": "IBAN", "bic": "BIC", "id": "ID", "url": "URL"}


def entity_title(entity: str) -> str:
    """``purchase_order`` → ``purchase order``."""
    return entity.replace("_", " ")


def plural(noun: str) -> str:
    """``entry`` → ``entries``, ``directory`` → ``directories``, ``product`` → ``products``."""
    head, _, last = noun.rpartition(" ")
    if last in _IRREGULAR_PLURALS:
        word = _IRREGULAR_PLURALS[last]
    elif last.endswith("y") and last[-2:-1] not in ("a", "e", "i", "o", "u"):
        word = last[:-1] + "ies"
    elif last.endswith(("s", "x", "ch", "sh")):
        word = last + "es"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word


def command_entity(name: str) -> str | None:
    """``inventory.update_product`` → ``product`` (None when the name names no entity)."""
    _module, _, action = name.partition(".")
    _verb, _, rest = action.partition("_")
    while rest:
        if rest in ENTITIES:
            return rest
        rest = rest.partition("_")[2]
    return None


def command_title(name: str) -> str:
    """``inventory.create_supplier`` → ``New supplier``; ``inventory.update_product`` → ``Change product``."""
    _module, _, action = name.partition(".")
    verb, _, rest = action.partition("_")
    words = rest.replace("_", " ")
    shown = _VERBS.get(verb, verb.capitalize())
    return f"{shown} {words}".strip() if words else shown


def field_label(key: str) -> str:
    """``sale_price`` → ``Sale price``; ``supplier_id`` → ``Supplier``; ``sku`` → ``SKU``."""
    words = key.removesuffix("_id").split("_")
    shown = [_ACRONYMS.get(word, word) for word in words]
    first = shown[0] if shown[0] in _ACRONYMS.values() else shown[0].capitalize()
    return " ".join([first, *shown[1:]])


def field_kind(entity: str | None, key: str) -> str:
    """How a column's value reads: money, quantity, bool, date, datetime or text (from the schema)."""
    if entity is None or entity not in ENTITIES:
        return "text"
    table = table_of(ENTITIES[entity])
    column = table.c.get(key)
    if column is None:
        return "text"
    kind = column.type
    if isinstance(kind, Quantity):
        return "quantity"
    if isinstance(kind, Boolean):
        return "bool"
    if isinstance(kind, DateTime):
        return "datetime"
    if isinstance(kind, Date):
        return "date"
    if (
        isinstance(kind, BigInteger | Integer)
        and "currency" in table.c
        and not key.endswith(("_no", "_days"))
    ):
        return "money"
    return "text"


def value_text(kind: str, value: Any, currency: str | None) -> str:
    """A value as a person reads it: ``18900`` EUR money → ``189.00 EUR`` (locale separators)."""
    if value is None or value == "":
        return EMPTY
    if kind == "money":
        try:
            return money(int(value), currency)
        except (TypeError, ValueError):
            return str(value)
    if kind == "quantity":
        return quantity(value)
    if kind == "bool":
        return "Yes" if value else "No"
    if kind == "datetime":
        return timestamp(value)
    if kind == "date":
        return day(value if isinstance(value, date | datetime) else str(value))
    return str(value)


def record_title(row: dict[str, Any] | None) -> str | None:
    """``Hard hat — AC-0010``: a record's name and its code (SKU, code or number), when it has them."""
    if not row:
        return None
    name = row.get("name") or row.get("title")
    code = row.get("sku") or row.get("code") or row.get("number")
    parts = [str(p) for p in (name, code) if p]
    return " — ".join(parts) or None


def load_row(db: Session, org_id: str, entity: str, entity_id: str) -> dict[str, Any] | None:
    model = ENTITIES[entity]
    table = table_of(model)
    row = (
        db.execute(select(*table.columns).where(table.c.org_id == org_id, table.c.id == entity_id))
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None

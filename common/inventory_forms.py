"""What the inventory forms hold, turned into command args — no Qt, no locale, unit-tested.

A form gives what was typed (texts, the picked ids) and two parsers for numbers (the desktop's
read the user's locale); a builder answers with the command to apply, its args and the problems
``{field: phrase}`` in words a user understands (``""`` keys a problem of the whole form). The
args models of the commands check the rest, so a form and the server can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from common.commands.inventory import CreatePurchaseOrderArgs, RecordStockCountArgs, RecordStockMoveArgs
from common.money import line_amount, quantity_text
from common.stock import MOVE_REASONS
from common.validation import problems

ParseQuantity = Callable[[str], Decimal]  # raises ValueError with a phrase ("is not a number")
ParseMoney = Callable[[str, str], int]  # (text, currency) → minor units; raises ValueError

_REQUIRED = "is required"


@dataclass(frozen=True)
class FormArgs:
    """A builder's answer: apply ``command`` with ``args`` unless ``problems`` is not empty."""

    command: str
    args: dict[str, Any]
    problems: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)


def _text(raw: Mapping[str, Any], key: str) -> str:
    return str(raw.get(key) or "").strip()


# -- stock moves -----------------------------------------------------------------------------

_SIDES = {
    "receipt": ("to_warehouse_id",),
    "issue": ("from_warehouse_id",),
    "transfer": ("from_warehouse_id", "to_warehouse_id"),
}


def build_stock_move(
    move_id: str,
    raw: Mapping[str, Any],
    product: Mapping[str, Any] | None,
    product_text: str,
    parse_quantity: ParseQuantity,
    parse_money: ParseMoney,
) -> FormArgs:
    """A stock move form → ``inventory.record_stock_move`` args, or for a count
    ``inventory.record_stock_count`` with the quantity counted (the command finds the difference).

    ``raw``: reason, the warehouse ids, quantity, unit_cost, reference and note as typed;
    ``product``: the picked product (``id``, ``currency``), None when none is picked.
    """
    reason = raw.get("reason") or "receipt"
    if reason not in MOVE_REASONS:
        return FormArgs("inventory.record_stock_move", {}, {"reason": "is not a kind of move"})
    found: dict[str, str] = {}
    args: dict[str, Any] = {"id": move_id}
    if product is not None:
        args["product_id"] = product["id"]
    elif product_text.strip():
        found["product_id"] = "no product has that SKU or barcode; pick one from the list"
    amount: Decimal | None = None
    quantity_typed = _text(raw, "quantity")
    if quantity_typed:
        try:
            amount = parse_quantity(quantity_typed)
        except ValueError as exc:
            found["quantity"] = str(exc)
    for key in ("reference", "note"):
        if _text(raw, key):
            args[key] = _text(raw, key)
    model: type[BaseModel]
    if reason == "count":
        command, model = "inventory.record_stock_count", RecordStockCountArgs
        if raw.get("warehouse_id"):
            args["warehouse_id"] = raw["warehouse_id"]
        if amount is not None and "quantity" not in found:
            args["counted"] = quantity_text(amount)
        renamed = {"counted": "quantity"}
    else:
        command, model = "inventory.record_stock_move", RecordStockMoveArgs
        args["reason"] = reason
        for key in _SIDES.get(reason, ()):
            if raw.get(key):
                args[key] = raw[key]
            else:
                found[key] = _REQUIRED
        if amount is not None and "quantity" not in found:
            args["quantity"] = quantity_text(amount)
        cost = _text(raw, "unit_cost")
        if reason == "receipt" and cost and product is not None:
            try:
                args["unit_cost"] = parse_money(cost, str(product["currency"]))
            except ValueError as exc:
                found["unit_cost"] = str(exc)
        renamed = {}
    for key, phrase in problems(model, args).items():
        key = renamed.get(key, key)
        if key == "quantity" and not quantity_typed:
            phrase = _REQUIRED
        found.setdefault(key, phrase)
    return FormArgs(command, args, found)


# -- purchase orders -------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLineInput:
    """One line of the order form as typed."""

    line_id: str
    product_id: str | None  # the picked product; None when none is picked
    product_text: str
    quantity: str
    unit_cost: str


def _line_label(index: int, field_name: str) -> str:
    return f"Line {index + 1} {field_name.replace('_id', '').replace('_', ' ')}"


def build_purchase_order(
    order_id: str,
    raw: Mapping[str, Any],
    lines: Sequence[OrderLineInput],
    currency: str,
    parse_quantity: ParseQuantity,
    parse_money: ParseMoney,
) -> FormArgs:
    """A purchase order form → ``inventory.create_purchase_order`` args.

    ``extra`` holds ``line_totals`` (minor units or None per line) and ``total``. Problems of a
    line are keyed ``Line 2 quantity``; of the header by field.
    """
    found: dict[str, str] = {}
    args: dict[str, Any] = {"id": order_id}
    for key in ("supplier_id", "warehouse_id"):
        if raw.get(key):
            args[key] = raw[key]
    args["expected_on"] = _text(raw, "expected_on") or None
    args["note"] = _text(raw, "note") or None
    built: list[dict[str, Any]] = []
    totals: list[int | None] = []
    for index, line in enumerate(lines):
        entry, amount = _order_line(index, line, currency, parse_quantity, parse_money, found)
        built.append(entry)
        totals.append(amount)
    args["lines"] = built
    present = {k: v for k, v in args.items() if v is not None}
    for key, phrase in problems(CreatePurchaseOrderArgs, present).items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) > 2 and parts[1].isdigit():
            key = _line_label(int(parts[1]), parts[2])
        found.setdefault(key, phrase)
    if not built:
        found.setdefault("", "Add at least one line (Add line).")
    total = sum(t for t in totals if t is not None)
    return FormArgs("inventory.create_purchase_order", args, found, {"line_totals": totals, "total": total})


def _order_line(
    index: int,
    line: OrderLineInput,
    currency: str,
    parse_quantity: ParseQuantity,
    parse_money: ParseMoney,
    found: dict[str, str],
) -> tuple[dict[str, Any], int | None]:
    entry: dict[str, Any] = {"id": line.line_id}
    if line.product_id is not None:
        entry["product_id"] = line.product_id
    else:
        found[_line_label(index, "product")] = (
            "pick a product" if not line.product_text.strip() else "no product has that SKU"
        )
    amount: Decimal | None = None
    cost: int | None = None
    for key, text in (("quantity", line.quantity.strip()), ("unit_cost", line.unit_cost.strip())):
        label = _line_label(index, key)
        if not text:
            found[label] = _REQUIRED
            continue
        try:
            if key == "quantity":
                amount = parse_quantity(text)
                entry["quantity"] = quantity_text(amount)
            else:
                cost = parse_money(text, currency)
                entry["unit_cost"] = cost
        except ValueError as exc:
            found[label] = str(exc)
    total = line_amount(amount, cost) if amount is not None and cost is not None else None
    return entry, total

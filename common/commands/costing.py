"""Moving average cost and the postings of stock that enters or leaves.

Every stock move that changes the quantity on hand changes the product's value in the ledger:

- a receipt adds its value at cost (a purchase order's receipt at the order's unit cost,
  converted at the receipt's rate; a manual one at its ``unit_cost``, else at the current
  average, else at the product's cost price) — inventory / goods received not invoiced;
- stock leaving on a sale or issue is valued at the moving average — cost of goods sold /
  inventory; adjustments and counts either way — inventory / stock adjustments;
- a reversal moves exactly the value of the move it reverses back;
- a transfer between warehouses changes no value and posts nothing.

The average is (value + value received) / (quantity + quantity received); issues take value in
proportion, and the last units on hand take exactly what value is left, so nothing lingers.

Stock may leave an empty shelf (negative stock): the units beyond those on hand leave at the
average. Stock entering a shortage then costs those units at what it brings them for: what they
cost beyond (or short of) what they left at goes to cost of goods sold in the receipt's entry, so
the product's value is its quantity × average again and the inventory account is the valuation.
Filled, the units that had left are valued at the move's unit cost and any beyond them enter at
it; still short, the units still missing are carried at the average (the move's unit cost when
the product had none). A reversal still moves back exactly its move's value, the charge to cost
of goods sold staying: a shortage it reopens is carried at the cost last known, and the receipt
that fills it charges cost of goods sold with the difference to that.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from common.commands.framework import CommandContext
from common.commands.periods import require_open_period
from common.commands.postings import account_for, books_on, ledger_currency, new_posting, to_ledger
from common.money import half_up, line_amount
from common.schema import Product, ProductCost

# Minor units per unit are kept to six places (the exactness of a stored quantity).
_COST_PLACES = Decimal("0.000001")
# The account on the other side of the inventory account, per reason of the move.
COUNTER_ROLE = {
    "receipt": "grni",
    "issue": "cogs",
    "adjustment": "stock_adjustments",
    "count": "stock_adjustments",
}


class MoveValue(NamedTuple):
    """What a move is worth in the ledger (``value``: ``None`` for a transfer), and what it moves
    from inventory to cost of goods sold as it fills a shortage (``to_cogs``: negative when the
    units that had left cost less than they left at)."""

    value: int | None
    to_cogs: int = 0


def product_cost(ctx: CommandContext, product_id: str) -> dict[str, Any]:
    """The product's cost row, created empty the first time stock of it moves."""
    row = ctx.get(ProductCost, product_id)
    if row is None:
        row = ctx.insert(
            ProductCost, {"id": product_id, "quantity": Decimal(0), "value": 0, "average_cost": Decimal(0)}
        )
    return row


def _incoming_value(ctx: CommandContext, values: dict[str, Any], cost: dict[str, Any]) -> int:
    quantity: Decimal = values["quantity"]
    if values.get("value") is not None:
        return int(values["value"])
    ledger = ledger_currency(ctx)
    if values.get("unit_cost") is not None:
        currency = values.get("currency") or ledger
        rate = values.get("exchange_rate") or Decimal(1)
        return to_ledger(line_amount(quantity, values["unit_cost"]), currency, rate, ledger)
    if cost["average_cost"] > 0:
        return half_up(quantity * cost["average_cost"])
    product = ctx.get(Product, values["product_id"]) or {}
    if product.get("cost_price") is not None and product.get("currency") == ledger:
        return line_amount(quantity, product["cost_price"])
    ctx.warn(
        "unvalued_stock",
        "the product has no cost yet: these units entered stock at no value",
        move_id=values["id"],
        product_id=values["product_id"],
    )
    return 0


def _outgoing_value(quantity: Decimal, cost: dict[str, Any]) -> int:
    on_hand: Decimal = cost["quantity"]
    if on_hand <= 0:
        return half_up(quantity * cost["average_cost"])
    if quantity >= on_hand:
        # The last units take what value is left; any beyond them leave at the average.
        return int(cost["value"]) + half_up((quantity - on_hand) * cost["average_cost"])
    return half_up(Decimal(cost["value"]) * quantity / on_hand)


def _filling(cost: dict[str, Any], quantity: Decimal, value: int) -> tuple[int, Decimal]:
    """The product's value and average once ``quantity`` units worth ``value`` enter while its
    quantity on hand is below zero."""
    unit = (Decimal(value) / quantity).quantize(_COST_PLACES, rounding=ROUND_HALF_UP)
    left: Decimal = cost["quantity"] + quantity
    if left >= 0:
        # Filled: the units that had left cost what this move brings them for; those beyond them
        # enter at its cost.
        return half_up(Decimal(value) * left / quantity), unit
    # Still short: the units still missing are carried at the average they left at, or at this
    # move's cost when the product had none.
    average: Decimal = cost["average_cost"] if cost["average_cost"] > 0 else unit
    return half_up(left * average), average


def value_move(
    ctx: CommandContext,
    values: dict[str, Any],
    reverses: dict[str, Any] | None = None,
    date_field: str = "moved_at",
) -> MoveValue:
    """The ledger value of a move about to be recorded, with the product's quantity, value and
    average brought up to date (and what filling a shortage moves to cost of goods sold).
    Refuses a move dated in a closed period (``period_closed``, naming ``date_field``: the field
    the user gave the date in)."""
    incoming = values.get("to_warehouse_id") is not None
    outgoing = values.get("from_warehouse_id") is not None
    if incoming == outgoing:
        return MoveValue(None)  # a transfer: the stock stays the organization's, at the same cost
    if not books_on(ctx):
        return MoveValue(None)  # nothing is valued before the books are set up
    require_open_period(ctx, values["moved_at"].date(), date_field)
    cost = product_cost(ctx, values["product_id"])
    quantity: Decimal = values["quantity"]
    if reverses is not None and reverses.get("value") is not None:
        value = int(reverses["value"])
    elif incoming:
        value = _incoming_value(ctx, values, cost)
    else:
        value = _outgoing_value(quantity, cost)
    sign = 1 if incoming else -1
    new_quantity = cost["quantity"] + sign * quantity
    new_value = cost["value"] + sign * value
    average = cost["average_cost"]
    to_cogs = 0
    if incoming and cost["quantity"] < 0:
        new_value, average = _filling(cost, quantity, value)
        to_cogs = cost["value"] + value - new_value
    if incoming and new_quantity > 0:
        average = (Decimal(new_value) / new_quantity).quantize(_COST_PLACES, rounding=ROUND_HALF_UP)
    elif incoming and quantity > 0 and average == 0:
        average = (Decimal(value) / quantity).quantize(_COST_PLACES, rounding=ROUND_HALF_UP)
    ctx.update(
        ProductCost,
        values["product_id"],
        {"quantity": new_quantity, "value": new_value, "average_cost": average},
    )
    return MoveValue(value, to_cogs)


def post_move(ctx: CommandContext, move: dict[str, Any], product_name: str, to_cogs: int = 0) -> None:
    """Post a valued move: inventory against the account of its reason, and in the same entry
    what it moves from inventory to cost of goods sold as it fills a shortage (``to_cogs``)."""
    value = int(move.get("value") or 0)
    if not value and not to_cogs:
        return
    posting = new_posting(ctx)
    inventory = account_for(ctx, "inventory")
    counter = account_for(ctx, COUNTER_ROLE[move["reason"]])
    memo = f"{move['reason'].capitalize()} of {move['quantity']} {product_name}"
    if move.get("reference"):
        memo += f" ({move['reference']})"
    if move.get("to_warehouse_id") is not None:
        posting.debit(inventory, value)
        posting.credit(counter, value)
    else:
        posting.debit(counter, value)
        posting.credit(inventory, value)
    if to_cogs:
        # Negative: the units that had left cost less than they left at (a credit to COGS).
        memo_cogs = "Cost of units that had left before they were in stock"
        posting.debit(account_for(ctx, COUNTER_ROLE["issue"]), to_cogs, memo_cogs)
        posting.credit(inventory, to_cogs, memo_cogs)
    posting.post(
        source="stock_move",
        source_id=move["id"],
        entry_date=move["moved_at"].date(),
        memo=memo,
        key=move["id"],
    )

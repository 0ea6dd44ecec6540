"""Inventory and purchasing commands: warehouses, products, stock moves, suppliers, purchase orders.

Every stock move that changes the quantity on hand is valued at moving average cost and posted
(:mod:`common.commands.costing`); receiving a purchase order posts its goods at the order's cost.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import Field, model_validator

from common.commands.costing import post_move, value_move
from common.commands.fields import (
    Args,
    Code,
    Currency,
    Email,
    Id,
    MinorUnits,
    Name,
    NonNegativeQuantity,
    Note,
    OptText500,
    OptText2000,
    Phone,
    PositiveQuantity,
    Sku,
    Text16,
    Text50,
    Text64,
    Text100,
    UpdateArgs,
    changes_of,
)
from common.commands.framework import (
    CommandContext,
    CommandError,
    apply_field_changes,
    command,
    invalid,
)
from common.commands.postings import books_on, document_rate, ledger_currency, to_ledger
from common.commands.rules import Transitions, require_transition
from common.money import line_amount, share
from common.schema import Product, PurchaseOrder, PurchaseOrderLine, StockMove, Supplier, Warehouse
from common.stock import MOVE_REASONS, stock_on_hand

MAX_ORDER_LINES = 500
Unit = Text16
Barcode = Text64
Address = OptText500

# Purchase order life cycle, as data: state → states it may move to (in life-cycle order: the
# desktop's status filter lists them so).
PURCHASE_ORDER_TRANSITIONS: Transitions = {
    "draft": frozenset({"ordered", "cancelled"}),
    "ordered": frozenset({"received", "cancelled"}),
    "received": frozenset(),
    "cancelled": frozenset(),
}


def _check_transition(order: dict[str, Any], target: str) -> None:
    require_transition(PURCHASE_ORDER_TRANSITIONS, order, target, f"purchase order {order['number']}")


# -- warehouses ------------------------------------------------------------------------------


class CreateWarehouseArgs(Args):
    id: Id
    code: Code
    name: Name
    address: Address | None = None


WarehouseChanges = changes_of(CreateWarehouseArgs, "WarehouseChanges", extra={"archived": bool})


@command("inventory.create_warehouse", args=CreateWarehouseArgs, permission="inventory.write")
def create_warehouse(ctx: CommandContext, args: CreateWarehouseArgs) -> None:
    """Create a warehouse with a code unique in the organization."""
    ctx.ensure_unique(Warehouse, "code", args.code, "code")
    ctx.insert(Warehouse, args.model_dump())


@command("inventory.update_warehouse", args=UpdateArgs, permission="inventory.write")
def update_warehouse(ctx: CommandContext, args: UpdateArgs) -> None:
    """Change a warehouse's code, name, address or archive it (per-field compare-and-set)."""
    if "code" in args.changes and isinstance(args.changes["code"], str):
        ctx.ensure_unique(Warehouse, "code", args.changes["code"].strip(), "changes.code", exclude=args.id)
    apply_field_changes(ctx, Warehouse, args.id, WarehouseChanges, args.changes, args.base)


# -- products --------------------------------------------------------------------------------


class CreateProductArgs(Args):
    id: Id
    sku: Sku
    name: Name
    unit: Unit = "pcs"
    sale_price: MinorUnits
    currency: Currency
    reorder_point: NonNegativeQuantity | None = None
    barcode: Barcode | None = None
    description: OptText2000 | None = None
    cost_price: MinorUnits | None = None


ProductChanges = changes_of(CreateProductArgs, "ProductChanges", extra={"archived": bool})


@command("inventory.create_product", args=CreateProductArgs, permission="inventory.write")
def create_product(ctx: CommandContext, args: CreateProductArgs) -> None:
    """Create a product; its SKU is unique in the organization."""
    ctx.ensure_unique(Product, "sku", args.sku, "sku")
    ctx.insert(Product, args.model_dump())


@command("inventory.update_product", args=UpdateArgs, permission="inventory.write")
def update_product(ctx: CommandContext, args: UpdateArgs) -> None:
    """Change product fields, or archive it, with per-field compare-and-set."""
    if "sku" in args.changes and isinstance(args.changes["sku"], str):
        ctx.ensure_unique(Product, "sku", args.changes["sku"].strip(), "changes.sku", exclude=args.id)
    apply_field_changes(ctx, Product, args.id, ProductChanges, args.changes, args.base)


# -- stock moves -----------------------------------------------------------------------------


class RecordStockMoveArgs(Args):
    id: Id
    product_id: Id
    from_warehouse_id: Id | None = None
    to_warehouse_id: Id | None = None
    quantity: PositiveQuantity
    unit_cost: MinorUnits | None = None
    currency: Currency | None = None
    # Ledger currency units per unit of ``currency``: required when a unit cost is given in
    # another currency than the ledger's.
    exchange_rate: PositiveQuantity | None = None
    reason: str = Field(max_length=16)
    note: Note | None = None
    reference: Text100 | None = None
    moved_at: datetime | None = None

    @model_validator(mode="after")
    def _sides_fit_reason(self) -> RecordStockMoveArgs:
        if self.reason not in MOVE_REASONS:
            raise ValueError(f"reason must be one of {', '.join(MOVE_REASONS)}")
        needs_from, needs_to = MOVE_REASONS[self.reason]
        has_from, has_to = self.from_warehouse_id is not None, self.to_warehouse_id is not None
        if needs_from and not has_from:
            raise ValueError(f"from_warehouse_id is required for a {self.reason}")
        if needs_to and not has_to:
            raise ValueError(f"to_warehouse_id is required for a {self.reason}")
        if self.reason == "receipt" and has_from:
            raise ValueError("from_warehouse_id must be empty for a receipt")
        if self.reason == "issue" and has_to:
            raise ValueError("to_warehouse_id must be empty for an issue")
        if self.reason in ("adjustment", "count") and has_from == has_to:
            raise ValueError(f"a {self.reason} names exactly one of from_warehouse_id and to_warehouse_id")
        if has_from and self.from_warehouse_id == self.to_warehouse_id:
            raise ValueError("to_warehouse_id must differ from from_warehouse_id")
        if self.moved_at is not None and self.moved_at.tzinfo is None:
            raise ValueError("moved_at must include a time zone")
        return self


def record_move(
    ctx: CommandContext,
    values: dict[str, Any],
    *,
    reverses: dict[str, Any] | None = None,
    date_field: str = "moved_at",
) -> dict[str, Any]:
    """Insert one stock move, valued and posted, flagging (never refusing) a move that takes
    stock below zero. ``values`` may carry the move's ledger ``value`` (a purchase order's
    receipt) or an ``exchange_rate`` for its unit cost. ``date_field``: the field the user gave
    the move's date in, which a refusal for a closed period names."""
    source = values.get("from_warehouse_id")
    negative = False
    if source is not None:
        on_hand = stock_on_hand(ctx.session, ctx.org_id, values["product_id"], source)
        negative = on_hand - values["quantity"] < 0
    value, to_cogs = value_move(ctx, values, reverses, date_field)
    stored = {k: v for k, v in values.items() if k != "exchange_rate"}
    row = ctx.insert(StockMove, {**stored, "value": value, "negative_stock": negative})
    product = ctx.get(Product, values["product_id"]) or {}
    post_move(ctx, row, product.get("name", "units"), to_cogs)
    if negative:
        ctx.warn(
            "negative_stock",
            f"stock of this product in the source warehouse is now {on_hand - values['quantity']}",
            move_id=row["id"],
            product_id=values["product_id"],
            warehouse_id=source,
        )
    return row


@command("inventory.record_stock_move", args=RecordStockMoveArgs, permission="inventory.write")
def record_stock_move(ctx: CommandContext, args: RecordStockMoveArgs) -> None:
    """Record a receipt, issue, transfer, adjustment or count of stock."""
    product = ctx.require(Product, args.product_id, "product_id")
    for side in ("from_warehouse_id", "to_warehouse_id"):
        warehouse_id = getattr(args, side)
        if warehouse_id is not None:
            ctx.require(Warehouse, warehouse_id, side)
    values = args.model_dump()
    if values["unit_cost"] is not None and values["currency"] is None:
        values["currency"] = product["currency"]
    if values["unit_cost"] is not None:
        values["exchange_rate"] = document_rate(ctx, values["currency"], args.exchange_rate, "exchange_rate")
    elif args.exchange_rate is not None:
        raise invalid("exchange_rate", "applies to a unit cost: give unit_cost too")
    values["moved_at"] = values["moved_at"] or ctx.now
    record_move(ctx, values)


class RecordStockCountArgs(Args):
    id: Id
    product_id: Id
    warehouse_id: Id
    counted: NonNegativeQuantity
    note: Note | None = None
    reference: Text100 | None = None
    moved_at: datetime | None = None

    @model_validator(mode="after")
    def _aware(self) -> RecordStockCountArgs:
        if self.moved_at is not None and self.moved_at.tzinfo is None:
            raise ValueError("moved_at must include a time zone")
        return self


@command("inventory.record_stock_count", args=RecordStockCountArgs, permission="inventory.write")
def record_stock_count(ctx: CommandContext, args: RecordStockCountArgs) -> None:
    """Record a stock count: the quantity counted in one warehouse.

    The difference to the stock on hand *where the command runs* becomes a ``count`` move, so the
    server decides with its own stock (moves synced meanwhile included), not with the stock the
    counting computer happened to know. A count that matches records nothing.
    """
    ctx.require(Product, args.product_id, "product_id")
    ctx.require(Warehouse, args.warehouse_id, "warehouse_id")
    on_hand = stock_on_hand(ctx.session, ctx.org_id, args.product_id, args.warehouse_id)
    difference = args.counted - on_hand
    if difference == 0:
        return
    side = "to_warehouse_id" if difference > 0 else "from_warehouse_id"
    values: dict[str, Any] = {
        "id": args.id,
        "product_id": args.product_id,
        "from_warehouse_id": None,
        "to_warehouse_id": None,
        side: args.warehouse_id,
        "quantity": abs(difference),
        "unit_cost": None,
        "currency": None,
        "reason": "count",
        "note": args.note,
        "reference": args.reference,
        "moved_at": args.moved_at or ctx.now,
    }
    record_move(ctx, values)


class ReverseStockMoveArgs(Args):
    id: Id
    move_id: Id
    note: Note | None = None


def _receipt_order_line(
    ctx: CommandContext, move: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The purchase order and its lines a receipt move was received on, if it was one.

    A move carries no order line id: a purchase order's receipt is known by its derived id (the
    receipt command made it, where a move typed by hand carries the id its computer gave), its
    reference (the order's number), the order's warehouse and currency; its lines are those of
    the move's product at the move's unit cost (usually one).
    """
    if move["reason"] != "receipt" or move["from_warehouse_id"] is not None or not move["reference"]:
        return None
    if move["id"][14:15] != "8":  # not derived (CommandContext.derived_id): typed by hand
        return None
    order = (
        ctx.session.execute(ctx.select(PurchaseOrder, PurchaseOrder.number == move["reference"]))
        .mappings()
        .first()
    )
    if (
        order is None
        or order["warehouse_id"] != move["to_warehouse_id"]
        or order["currency"] != move["currency"]
    ):
        return None
    lines = [
        dict(row)
        for row in ctx.session.execute(
            ctx.select(
                PurchaseOrderLine,
                PurchaseOrderLine.purchase_order_id == order["id"],
                PurchaseOrderLine.product_id == move["product_id"],
                PurchaseOrderLine.unit_cost == move["unit_cost"],
            )
        ).mappings()
    ]
    if not lines:
        return None
    return dict(order), sorted(lines, key=lambda line: line["line_no"])


def _returned_value(line: dict[str, Any], move: dict[str, Any]) -> int:
    """What reversing ``move`` takes off the line's received value: the move's own value (what
    its reversal posts back), or for an unvalued one (received before the books) its share."""
    if move["value"] is not None:
        return int(move["value"])
    return share(line["received_value"], move["quantity"], line["received_quantity"])


def _unreceive(ctx: CommandContext, move: dict[str, Any]) -> Callable[[], None] | None:
    """Check a purchase order receipt about to be reversed can come off its order line, and
    return what takes it off (after the reversal is recorded); ``None`` for any other move.

    Only what is received and not billed yet comes off: a supplier bill already cleared goods
    received not invoiced for the rest, and there is no supplier credit note to put it back, so
    a reversal beyond it would leave that account with a debit balance. It is refused instead.
    """
    found = _receipt_order_line(ctx, move)
    if found is None:
        return None
    order, lines = found
    quantity: Decimal = move["quantity"]
    for line in lines:
        value = _returned_value(line, move)
        if (
            line["received_quantity"] - line["billed_quantity"] >= quantity
            and line["received_value"] - line["billed_value"] >= value
        ):
            break
    else:
        line = lines[0]
        unbilled = line["received_quantity"] - line["billed_quantity"]
        what = (
            f"only {unbilled} received on the order line is not billed yet"
            if unbilled < quantity
            # The quantity is unbilled but not the value: the bill cleared more than this receipt
            # leaves (receipts at different exchange rates, billed at their average).
            else "the order line's bills cleared more of its received value than reversing this receipt leaves"
        )
        raise CommandError(
            "invalid_state",
            f"move_id: this receipt of {quantity} on purchase order {order['number']} is billed: {what}, "
            "and a billed receipt is not reversed",
            field="move_id",
            details={
                "purchase_order_id": order["id"],
                "billed_quantity": str(line["billed_quantity"]),
                "unbilled_quantity": str(unbilled),
            },
        )

    def take_off() -> None:
        received = line["received_quantity"] - quantity
        ctx.update(
            PurchaseOrderLine,
            line["id"],
            {"received_quantity": received, "received_value": line["received_value"] - value},
        )
        if order["status"] == "received" and received < line["quantity"]:
            # No longer received in full: waiting for these goods again (receivable, cancellable
            # once nothing is received). Not a transition a user asks for: the reversal's effect.
            ctx.update(PurchaseOrder, order["id"], {"status": "ordered", "received_at": None})

    return take_off


@command("inventory.reverse_stock_move", args=ReverseStockMoveArgs, permission="inventory.write")
def reverse_stock_move(ctx: CommandContext, args: ReverseStockMoveArgs) -> None:
    """Correct a stock move by recording its exact opposite (moves are never edited).

    Reversing a purchase order's receipt takes its quantity and value off the order line (and
    the order back to ``ordered``), so no bill can match goods that went back; a receipt already
    billed is not reversed (:func:`_unreceive`).
    """
    original = ctx.require(StockMove, args.move_id, "move_id")
    if original["reverses_move_id"] is not None:
        raise invalid("move_id", "is itself a reversal; record a new move instead")
    if ctx.exists(StockMove, StockMove.reverses_move_id == args.move_id):
        raise invalid("move_id", "has already been reversed")
    take_off = _unreceive(ctx, original)
    record_move(
        ctx,
        {
            "id": args.id,
            "product_id": original["product_id"],
            "from_warehouse_id": original["to_warehouse_id"],
            "to_warehouse_id": original["from_warehouse_id"],
            "quantity": original["quantity"],
            "unit_cost": original["unit_cost"],
            "currency": original["currency"],
            "reason": original["reason"],
            "note": args.note,
            "reference": original["reference"],
            "moved_at": ctx.now,
            "reverses_move_id": args.move_id,
        },
        reverses=original,
    )
    if take_off is not None:
        take_off()


# -- suppliers -------------------------------------------------------------------------------


class CreateSupplierArgs(Args):
    id: Id
    name: Name
    contact_name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    address: Address | None = None
    tax_id: Text50 | None = None
    currency: Currency
    # A person trading under their own name: their name and address are personal data.
    sole_trader: bool = False


SupplierChanges = changes_of(CreateSupplierArgs, "SupplierChanges", extra={"archived": bool})


@command("inventory.create_supplier", args=CreateSupplierArgs, permission="inventory.write")
def create_supplier(ctx: CommandContext, args: CreateSupplierArgs) -> None:
    """Create a supplier."""
    ctx.insert(Supplier, args.model_dump())


@command("inventory.update_supplier", args=UpdateArgs, permission="inventory.write")
def update_supplier(ctx: CommandContext, args: UpdateArgs) -> None:
    """Change supplier fields, or archive it, with per-field compare-and-set."""
    apply_field_changes(ctx, Supplier, args.id, SupplierChanges, args.changes, args.base)


# -- purchase orders -------------------------------------------------------------------------


class OrderLineArgs(Args):
    id: Id
    product_id: Id
    quantity: PositiveQuantity
    unit_cost: MinorUnits


class CreatePurchaseOrderArgs(Args):
    id: Id
    supplier_id: Id
    warehouse_id: Id
    currency: Currency | None = None
    expected_on: date | None = None
    note: Note | None = None
    lines: list[OrderLineArgs] = Field(default_factory=list, max_length=MAX_ORDER_LINES)


PurchaseOrderChanges = changes_of(
    CreatePurchaseOrderArgs, "PurchaseOrderChanges", exclude=("id", "currency", "lines")
)


class SetOrderLinesArgs(Args):
    id: Id
    lines: list[OrderLineArgs] = Field(max_length=MAX_ORDER_LINES)


class OrderStateArgs(Args):
    id: Id


class ReceiptLineArgs(Args):
    line_id: Id
    quantity: PositiveQuantity


class ReceivePurchaseOrderArgs(Args):
    id: Id
    # Quantities received per line; omitted: everything still outstanding.
    lines: list[ReceiptLineArgs] | None = Field(default=None, max_length=MAX_ORDER_LINES)
    received_at: datetime | None = None
    # Ledger currency units per unit of the order's currency (required for an order in another).
    exchange_rate: PositiveQuantity | None = None


def _write_lines(ctx: CommandContext, order_id: str, lines: list[OrderLineArgs]) -> int:
    """Insert or replace the lines of a draft order; returns the order total in minor units."""
    seen: set[str] = set()
    for index, line in enumerate(lines):
        if line.id in seen:
            raise invalid(f"lines.{index}.id", "appears twice")
        seen.add(line.id)
        ctx.require(Product, line.product_id, f"lines.{index}.product_id")
    existing = {
        row["id"]: row
        for row in ctx.session.execute(
            ctx.select(PurchaseOrderLine, PurchaseOrderLine.purchase_order_id == order_id)
        ).mappings()
    }
    for line_id in set(existing) - seen:
        ctx.update(PurchaseOrderLine, line_id, {"deleted": True})
    total = 0
    for line_no, line in enumerate(lines, start=1):
        values = {
            "purchase_order_id": order_id,
            "line_no": line_no,
            "product_id": line.product_id,
            "quantity": line.quantity,
            "unit_cost": line.unit_cost,
        }
        if line.id in existing:
            ctx.update(PurchaseOrderLine, line.id, values)
        else:
            ctx.insert(
                PurchaseOrderLine,
                {
                    "id": line.id,
                    **values,
                    "received_quantity": Decimal(0),
                    "received_value": 0,
                    "billed_quantity": Decimal(0),
                    "billed_value": 0,
                },
            )
        total += line_amount(line.quantity, line.unit_cost)
    return total


@command("inventory.create_purchase_order", args=CreatePurchaseOrderArgs, permission="inventory.write")
def create_purchase_order(ctx: CommandContext, args: CreatePurchaseOrderArgs) -> None:
    """Create a draft purchase order with its lines."""
    supplier = ctx.require(Supplier, args.supplier_id, "supplier_id")
    ctx.require(Warehouse, args.warehouse_id, "warehouse_id")
    number = ctx.numbering.next_number("purchase_order")
    ctx.insert(
        PurchaseOrder,
        {
            "id": args.id,
            "number": number,
            "supplier_id": args.supplier_id,
            "warehouse_id": args.warehouse_id,
            "status": "draft",
            "currency": args.currency or supplier["currency"],
            "expected_on": args.expected_on,
            "note": args.note,
            "total": 0,
        },
    )
    total = _write_lines(ctx, args.id, list(args.lines))
    ctx.update(PurchaseOrder, args.id, {"total": total})
    ctx.outcome.data["number"] = number


def _draft_order(ctx: CommandContext, order_id: str) -> dict[str, Any]:
    order = ctx.require(PurchaseOrder, order_id, "id")
    if order["status"] != "draft":
        raise CommandError(
            "invalid_state",
            f"purchase order {order['number']} is {order['status']}; only a draft can be edited",
            details={"status": order["status"]},
        )
    return order


@command("inventory.update_purchase_order", args=UpdateArgs, permission="inventory.write")
def update_purchase_order(ctx: CommandContext, args: UpdateArgs) -> None:
    """Change a draft order's supplier, warehouse, expected date or note (compare-and-set)."""
    order = _draft_order(ctx, args.id)
    for key, model in (("supplier_id", Supplier), ("warehouse_id", Warehouse)):
        if isinstance(args.changes.get(key), str):
            ctx.require(model, args.changes[key], f"changes.{key}")
    apply_field_changes(
        ctx, PurchaseOrder, args.id, PurchaseOrderChanges, args.changes, args.base, current=order
    )


@command("inventory.set_purchase_order_lines", args=SetOrderLinesArgs, permission="inventory.write")
def set_purchase_order_lines(ctx: CommandContext, args: SetOrderLinesArgs) -> None:
    """Replace the lines of a draft purchase order."""
    _draft_order(ctx, args.id)
    total = _write_lines(ctx, args.id, list(args.lines))
    ctx.update(PurchaseOrder, args.id, {"total": total})


@command("inventory.order_purchase_order", args=OrderStateArgs, permission="inventory.write")
def order_purchase_order(ctx: CommandContext, args: OrderStateArgs) -> None:
    """Send a draft purchase order to the supplier (draft → ordered)."""
    order = ctx.require(PurchaseOrder, args.id, "id")
    _check_transition(order, "ordered")
    if not ctx.exists(PurchaseOrderLine, PurchaseOrderLine.purchase_order_id == args.id):
        raise invalid("id", f"purchase order {order['number']} has no lines to order")
    ctx.update(PurchaseOrder, args.id, {"status": "ordered", "ordered_at": ctx.now})


@command("inventory.cancel_purchase_order", args=OrderStateArgs, permission="inventory.write")
def cancel_purchase_order(ctx: CommandContext, args: OrderStateArgs) -> None:
    """Cancel a draft or ordered purchase order on which nothing was received yet."""
    order = ctx.require(PurchaseOrder, args.id, "id")
    _check_transition(order, "cancelled")
    received = ctx.session.execute(
        ctx.select(PurchaseOrderLine, PurchaseOrderLine.purchase_order_id == args.id)
    ).mappings()
    if any(line["received_quantity"] > 0 for line in received):
        raise CommandError("invalid_state", f"goods were already received on {order['number']}")
    ctx.update(PurchaseOrder, args.id, {"status": "cancelled"})


@command("inventory.receive_purchase_order", args=ReceivePurchaseOrderArgs, permission="inventory.write")
def receive_purchase_order(ctx: CommandContext, args: ReceivePurchaseOrderArgs) -> None:
    """Receive goods of an ordered purchase order: one stock receipt per line received.

    Receiving everything outstanding moves the order to ``received``.
    """
    order = ctx.require(PurchaseOrder, args.id, "id")
    if order["status"] != "ordered":
        raise CommandError(
            "invalid_state",
            f"purchase order {order['number']} is {order['status']}; only an ordered one can be received",
            details={"status": order["status"]},
        )
    lines = {
        row["id"]: dict(row)
        for row in ctx.session.execute(
            ctx.select(PurchaseOrderLine, PurchaseOrderLine.purchase_order_id == args.id)
        ).mappings()
    }
    if args.lines is None:
        wanted = {line_id: line["quantity"] - line["received_quantity"] for line_id, line in lines.items()}
    else:
        wanted = {}
        for index, receipt in enumerate(args.lines):
            if receipt.line_id not in lines:
                raise invalid(f"lines.{index}.line_id", f"is not a line of {order['number']}")
            if receipt.line_id in wanted:
                raise invalid(f"lines.{index}.line_id", "appears twice")
            wanted[receipt.line_id] = receipt.quantity
    received_at = args.received_at or ctx.now
    rate = document_rate(ctx, order["currency"], args.exchange_rate, "exchange_rate")
    ledger = ledger_currency(ctx) if books_on(ctx) else order["currency"]
    for line_id, quantity in sorted(wanted.items(), key=lambda item: lines[item[0]]["line_no"]):
        if quantity <= 0:
            continue
        line = lines[line_id]
        # Goods received not invoiced at the order's cost, in the ledger currency.
        value = to_ledger(line_amount(quantity, line["unit_cost"]), order["currency"], rate, ledger)
        record_move(
            ctx,
            {
                "id": ctx.derived_id("receipt", line_id),
                "product_id": line["product_id"],
                "from_warehouse_id": None,
                "to_warehouse_id": order["warehouse_id"],
                "quantity": quantity,
                "unit_cost": line["unit_cost"],
                "currency": order["currency"],
                "reason": "receipt",
                "note": None,
                "reference": order["number"],
                "moved_at": received_at,
                "value": value,
            },
            date_field="received_at",
        )
        line["received_quantity"] = line["received_quantity"] + quantity
        line["received_value"] = line["received_value"] + value
        ctx.update(
            PurchaseOrderLine,
            line_id,
            {"received_quantity": line["received_quantity"], "received_value": line["received_value"]},
        )
    if all(line["received_quantity"] >= line["quantity"] for line in lines.values()):
        ctx.update(PurchaseOrder, args.id, {"status": "received", "received_at": received_at})

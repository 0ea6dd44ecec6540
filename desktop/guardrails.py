"""Warehouse reality: warnings that ask once, with the numbers, and never block (no Qt).

Stock can go negative (goods left before the receipt was typed), a delivery can bring more than
was ordered, a product with stock can be archived: each is allowed, but the user is told what
it means first. Each function returns the question to ask, or None when there is nothing to say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from desktop.formatting import quantity as _quantity


def quantity(value: Decimal, unit: str = "") -> str:
    return f"{_quantity(value)} {unit}".rstrip()


def negative_stock_warning(on_hand: Decimal, taking: Decimal, unit: str, warehouse: str) -> str | None:
    """Issuing ``taking`` from ``on_hand`` that would leave less than nothing."""
    left = on_hand - taking
    if left >= 0:
        return None
    return (
        f"Only {quantity(on_hand, unit)} on hand in {warehouse}; taking {quantity(taking, unit)} "
        f"leaves {quantity(left, unit)}. Record it anyway? (Stock shows negative until the missing "
        "receipt or count is recorded.)"
    )


@dataclass(frozen=True)
class ReceiptLine:
    product: str
    ordered: Decimal
    received_before: Decimal
    receiving: Decimal
    unit: str


def over_receipt_warning(lines: Sequence[ReceiptLine]) -> str | None:
    """Receiving more than was ordered on any line."""
    over = []
    for line in lines:
        total = line.received_before + line.receiving
        if total > line.ordered:
            over.append(
                f"{line.product}: {quantity(total, line.unit)} received against "
                f"{quantity(line.ordered, line.unit)} ordered ({quantity(total - line.ordered, line.unit)} more)"
            )
    if not over:
        return None
    return "More than ordered:\n" + "\n".join(over) + "\nReceive it anyway?"


def archive_with_stock_warning(product: str, unit: str, by_warehouse: Mapping[str, Decimal]) -> str | None:
    """Archiving a product that still has stock somewhere."""
    held = {code: qty for code, qty in sorted(by_warehouse.items()) if qty != 0}
    if not held:
        return None
    total = sum(held.values(), Decimal(0))
    where = ", ".join(f"{code} {quantity(qty)}" for code, qty in held.items())
    return (
        f"{product} still has {quantity(total, unit)} on hand ({where}). Archived, it disappears from "
        "lists and pickers, but its stock stays counted. Archive it anyway?"
    )

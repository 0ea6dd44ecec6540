"""Moving average cost per product: what the stock of a product is worth in the ledger.

One row per product (its id is the product's id), kept by every stock move that changes the
quantity on hand: a receipt adds its value at cost and the average becomes (value + received
value) / (quantity + received quantity); stock leaving is valued at the average. Transfers
between warehouses change neither.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped

from common.schema.base import Base, EntityInfo, SyncedEntity, business, ref
from common.schema.types import Quantity


class ProductCost(SyncedEntity, Base):
    __tablename__ = "product_cost"
    # Sales ships orders (stock leaves at this cost) and finance reads the valuation.
    __entity__ = EntityInfo(
        module="inventory",
        read="inventory.read",
        also_read=("sales.read", "finance.read"),
    )
    __table_args__ = (ref("product", "id"),)

    # Quantity on hand over every warehouse, and its value in the ledger currency (minor units).
    quantity: Mapped[Decimal] = business(Quantity, default=0)
    value: Mapped[int] = business(BigInteger, default=0)
    # Minor units of the ledger currency per unit, exact to six places; kept when stock runs out
    # so that stock leaving an empty shelf (negative stock) is still valued.
    average_cost: Mapped[Decimal] = business(Quantity, default=0)

"""Inventory and purchasing: warehouses, products, stock moves, suppliers, purchase orders."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped

from common.schema.base import ID_LENGTH, Base, EntityInfo, SyncedEntity, business, personal, ref
from common.schema.types import Quantity

_INVENTORY = EntityInfo(module="inventory", read="inventory.read")


class Warehouse(SyncedEntity, Base):
    __tablename__ = "warehouse"
    __entity__ = _INVENTORY
    __table_args__ = (UniqueConstraint("org_id", "code"),)

    code: Mapped[str] = business(String(32))
    name: Mapped[str] = business(String(200))
    address: Mapped[str | None] = business(String(500))
    archived: Mapped[bool] = business(Boolean, default=False)


class Product(SyncedEntity, Base):
    __tablename__ = "product"
    __entity__ = _INVENTORY
    __table_args__ = (
        UniqueConstraint("org_id", "sku"),
        Index("ix_product_org_name", "org_id", "name"),
        Index("ix_product_org_barcode", "org_id", "barcode"),
    )

    sku: Mapped[str] = business(String(64))
    name: Mapped[str] = business(String(200))
    description: Mapped[str | None] = business(String(2000))
    barcode: Mapped[str | None] = business(String(64))
    unit: Mapped[str] = business(String(16), default="pcs")
    sale_price: Mapped[int] = business(BigInteger, default=0)
    cost_price: Mapped[int | None] = business(BigInteger)
    currency: Mapped[str] = business(String(3))
    reorder_point: Mapped[Decimal | None] = business(Quantity)
    archived: Mapped[bool] = business(Boolean, default=False)


class StockMove(SyncedEntity, Base):
    """One physical movement of stock. Stock on hand is the sum of moves; moves are never edited."""

    __tablename__ = "stock_move"
    __entity__ = EntityInfo(module="inventory", read="inventory.read", append_only=True)
    __table_args__ = (
        ref("product", "product_id"),
        ref("warehouse", "from_warehouse_id"),
        ref("warehouse", "to_warehouse_id"),
        ref("stock_move", "reverses_move_id"),
        Index("ix_stock_move_product", "org_id", "product_id"),
    )

    product_id: Mapped[str] = business(String(ID_LENGTH))
    from_warehouse_id: Mapped[str | None] = business(String(ID_LENGTH))
    to_warehouse_id: Mapped[str | None] = business(String(ID_LENGTH))
    quantity: Mapped[Decimal] = business(Quantity)
    unit_cost: Mapped[int | None] = business(BigInteger)
    currency: Mapped[str | None] = business(String(3))
    reason: Mapped[str] = business(String(16))
    note: Mapped[str | None] = business(String(500))
    reference: Mapped[str | None] = business(String(100))
    moved_at: Mapped[datetime] = business()
    # Set when this move took a warehouse below zero: flagged for review, never refused.
    negative_stock: Mapped[bool] = business(Boolean, default=False)
    reverses_move_id: Mapped[str | None] = business(String(ID_LENGTH))
    # What the move was worth in the ledger currency (minor units) when it changed the stock on
    # hand; empty for transfers, which change no value.
    value: Mapped[int | None] = business(BigInteger)


class Supplier(SyncedEntity, Base):
    __tablename__ = "supplier"
    __entity__ = _INVENTORY
    __table_args__ = (Index("ix_supplier_org_name", "org_id", "name"),)

    # A sole trader's name is the person's name: personal when ``sole_trader`` is set.
    name: Mapped[str] = business(String(200), info={"personal_when": "sole_trader"})
    contact_name: Mapped[str | None] = personal(String(200))
    email: Mapped[str | None] = personal(String(254))
    phone: Mapped[str | None] = personal(String(50))
    address: Mapped[str | None] = business(String(500), info={"personal_when": "sole_trader"})
    tax_id: Mapped[str | None] = business(String(50))
    currency: Mapped[str] = business(String(3))
    archived: Mapped[bool] = business(Boolean, default=False)
    # A person trading under their own name: name and address are theirs (personal data).
    sole_trader: Mapped[bool] = business(Boolean, default=False)


class PurchaseOrder(SyncedEntity, Base):
    """States: draft → ordered → received; draft/ordered → cancelled."""

    __tablename__ = "purchase_order"
    __entity__ = _INVENTORY
    __table_args__ = (
        ref("supplier", "supplier_id"),
        ref("warehouse", "warehouse_id"),
        UniqueConstraint("org_id", "number"),
    )

    number: Mapped[str] = business(String(40))
    supplier_id: Mapped[str] = business(String(ID_LENGTH))
    warehouse_id: Mapped[str] = business(String(ID_LENGTH))
    status: Mapped[str] = business(String(16), default="draft")
    currency: Mapped[str] = business(String(3))
    expected_on: Mapped[date | None] = business(Date)
    ordered_at: Mapped[datetime | None] = business()
    received_at: Mapped[datetime | None] = business()
    note: Mapped[str | None] = business(String(1000))
    total: Mapped[int] = business(BigInteger, default=0)


class PurchaseOrderLine(SyncedEntity, Base):
    __tablename__ = "purchase_order_line"
    __entity__ = _INVENTORY
    __table_args__ = (
        ref("purchase_order", "purchase_order_id"),
        ref("product", "product_id"),
        Index("ix_po_line_order", "org_id", "purchase_order_id"),
    )

    purchase_order_id: Mapped[str] = business(String(ID_LENGTH))
    line_no: Mapped[int] = business(Integer)
    product_id: Mapped[str] = business(String(ID_LENGTH))
    quantity: Mapped[Decimal] = business(Quantity)
    unit_cost: Mapped[int] = business(BigInteger)
    received_quantity: Mapped[Decimal] = business(Quantity, default=0)
    # Goods received not invoiced: the value received at the order's cost (ledger currency),
    # and what supplier bills have matched of it so far.
    received_value: Mapped[int] = business(BigInteger, default=0)
    billed_quantity: Mapped[Decimal] = business(Quantity, default=0)
    billed_value: Mapped[int] = business(BigInteger, default=0)

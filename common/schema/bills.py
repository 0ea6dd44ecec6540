"""Supplier bills and supplier payments: what the organization owes and pays its suppliers.

A bill is recorded from a purchase order (its lines clear goods received not invoiced at the
order's cost; a price difference goes to purchase price variance) or directly (each line names
the account it is spent on). Bills are posted when recorded and never edited.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped

from common.schema.base import ID_LENGTH, Base, EntityInfo, SyncedEntity, business, ref
from common.schema.types import Quantity

# Purchasing staff read the bills of their orders; accountants record them.
_BILLS = EntityInfo(module="finance", read="finance.read", also_read=("inventory.read",))


class SupplierBill(SyncedEntity, Base):
    """States: posted → paid."""

    __tablename__ = "supplier_bill"
    __entity__ = _BILLS
    __table_args__ = (
        ref("supplier", "supplier_id"),
        ref("purchase_order", "purchase_order_id"),
        UniqueConstraint("org_id", "number"),
        Index("ix_supplier_bill_supplier", "org_id", "supplier_id"),
    )

    number: Mapped[str] = business(String(40))
    # The supplier's own invoice number, as printed on their bill.
    supplier_reference: Mapped[str | None] = business(String(100))
    supplier_id: Mapped[str] = business(String(ID_LENGTH))
    purchase_order_id: Mapped[str | None] = business(String(ID_LENGTH))
    status: Mapped[str] = business(String(16), default="posted")
    bill_date: Mapped[date] = business(Date)
    due_date: Mapped[date | None] = business(Date)
    currency: Mapped[str] = business(String(3))
    exchange_rate: Mapped[Decimal] = business(Quantity)
    subtotal: Mapped[int] = business(BigInteger, default=0)
    tax_total: Mapped[int] = business(BigInteger, default=0)
    total: Mapped[int] = business(BigInteger, default=0)
    amount_paid: Mapped[int] = business(BigInteger, default=0)


class SupplierBillLine(SyncedEntity, Base):
    __tablename__ = "supplier_bill_line"
    __entity__ = _BILLS
    __table_args__ = (
        ref("supplier_bill", "supplier_bill_id"),
        ref("purchase_order_line", "purchase_order_line_id"),
        ref("product", "product_id"),
        ref("account", "account_id"),
        ref("tax_rate", "tax_rate_id"),
        Index("ix_supplier_bill_line_bill", "org_id", "supplier_bill_id"),
    )

    supplier_bill_id: Mapped[str] = business(String(ID_LENGTH))
    line_no: Mapped[int] = business(Integer)
    purchase_order_line_id: Mapped[str | None] = business(String(ID_LENGTH))
    product_id: Mapped[str | None] = business(String(ID_LENGTH))
    # A direct line's account (an expense, or any account); order lines post to GRNI.
    account_id: Mapped[str | None] = business(String(ID_LENGTH))
    description: Mapped[str] = business(String(500))
    quantity: Mapped[Decimal] = business(Quantity)
    unit_price: Mapped[int] = business(BigInteger)
    tax_rate_id: Mapped[str | None] = business(String(ID_LENGTH))
    tax_amount: Mapped[int] = business(BigInteger, default=0)
    line_total: Mapped[int] = business(BigInteger, default=0)


class SupplierPayment(SyncedEntity, Base):
    __tablename__ = "supplier_payment"
    __entity__ = EntityInfo(
        module="finance",
        read="finance.read",
        also_read=("inventory.read",),
        append_only=True,
    )
    __table_args__ = (ref("supplier_bill", "supplier_bill_id"), ref("supplier", "supplier_id"))

    supplier_bill_id: Mapped[str] = business(String(ID_LENGTH))
    supplier_id: Mapped[str] = business(String(ID_LENGTH))
    amount: Mapped[int] = business(BigInteger)
    currency: Mapped[str] = business(String(3))
    exchange_rate: Mapped[Decimal] = business(Quantity)
    paid_on: Mapped[date] = business(Date)
    method: Mapped[str] = business(String(20), default="bank_transfer")
    reference: Mapped[str | None] = business(String(100))

"""Sales and customers: customers, sales orders, invoices, payments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped

from common.schema.base import ID_LENGTH, Base, EntityInfo, SyncedEntity, business, personal, ref
from common.schema.types import Quantity

_SALES = EntityInfo(module="sales", read="sales.read")


class Customer(SyncedEntity, Base):
    """A customer; often a person, so its contact fields are personal data."""

    __tablename__ = "customer"
    __entity__ = _SALES
    __table_args__ = (Index("ix_customer_org_name", "org_id", "name"),)

    name: Mapped[str] = personal(String(200))
    email: Mapped[str | None] = personal(String(254))
    phone: Mapped[str | None] = personal(String(50))
    address: Mapped[str | None] = personal(String(500))
    tax_id: Mapped[str | None] = business(String(50))
    currency: Mapped[str] = business(String(3))
    credit_limit: Mapped[int | None] = business(BigInteger)
    archived: Mapped[bool] = business(Boolean, default=False)
    # Set when the person was erased on request: the row stays for legally kept documents.
    erased: Mapped[bool] = business(Boolean, default=False)


class SalesOrder(SyncedEntity, Base):
    """States: draft → confirmed → fulfilled; draft/confirmed → cancelled."""

    __tablename__ = "sales_order"
    __entity__ = _SALES
    __table_args__ = (
        ref("customer", "customer_id"),
        ref("warehouse", "warehouse_id"),
        UniqueConstraint("org_id", "number"),
    )

    number: Mapped[str] = business(String(40))
    customer_id: Mapped[str] = business(String(ID_LENGTH))
    warehouse_id: Mapped[str | None] = business(String(ID_LENGTH))
    status: Mapped[str] = business(String(16), default="draft")
    order_date: Mapped[date] = business(Date)
    currency: Mapped[str] = business(String(3))
    total: Mapped[int] = business(BigInteger, default=0)
    note: Mapped[str | None] = business(String(1000))


class SalesOrderLine(SyncedEntity, Base):
    __tablename__ = "sales_order_line"
    __entity__ = _SALES
    __table_args__ = (
        ref("sales_order", "sales_order_id"),
        ref("product", "product_id"),
        ref("tax_rate", "tax_rate_id"),
        Index("ix_so_line_order", "org_id", "sales_order_id"),
    )

    sales_order_id: Mapped[str] = business(String(ID_LENGTH))
    line_no: Mapped[int] = business(Integer)
    product_id: Mapped[str] = business(String(ID_LENGTH))
    quantity: Mapped[Decimal] = business(Quantity)
    unit_price: Mapped[int] = business(BigInteger)
    # Percent off ``quantity × unit_price`` (0-100); the line's net is rounded once, after it.
    discount_percent: Mapped[Decimal] = business(Quantity, default=Decimal(0))
    tax_rate_id: Mapped[str | None] = business(String(ID_LENGTH))


class Invoice(SyncedEntity, Base):
    """A legally numbered document: ``DRAFT-<device>-<n>`` offline, a gapless number once posted.

    States: draft → posted → paid | credited. A draft may be deleted; a posted invoice is
    never edited: credit notes correct it. Its final number is given when it is posted.
    """

    __tablename__ = "invoice"
    __entity__ = _SALES
    __table_args__ = (
        ref("customer", "customer_id"),
        ref("sales_order", "sales_order_id"),
        UniqueConstraint("org_id", "number"),
    )

    number: Mapped[str] = business(String(40))
    customer_id: Mapped[str] = business(String(ID_LENGTH))
    sales_order_id: Mapped[str | None] = business(String(ID_LENGTH))
    status: Mapped[str] = business(String(16), default="draft")
    issue_date: Mapped[date] = business(Date)
    due_date: Mapped[date | None] = business(Date)
    currency: Mapped[str] = business(String(3))
    subtotal: Mapped[int] = business(BigInteger, default=0)
    tax_total: Mapped[int] = business(BigInteger, default=0)
    total: Mapped[int] = business(BigInteger, default=0)
    amount_paid: Mapped[int] = business(BigInteger, default=0)
    amount_credited: Mapped[int] = business(BigInteger, default=0)
    # Ledger currency units per unit of ``currency`` (1 in the ledger's own currency).
    exchange_rate: Mapped[Decimal | None] = business(Quantity)


class InvoiceLine(SyncedEntity, Base):
    __tablename__ = "invoice_line"
    __entity__ = _SALES
    __table_args__ = (
        ref("invoice", "invoice_id"),
        ref("product", "product_id"),
        ref("tax_rate", "tax_rate_id"),
        Index("ix_invoice_line_invoice", "org_id", "invoice_id"),
    )

    invoice_id: Mapped[str] = business(String(ID_LENGTH))
    line_no: Mapped[int] = business(Integer)
    product_id: Mapped[str | None] = business(String(ID_LENGTH))
    description: Mapped[str] = business(String(500))
    quantity: Mapped[Decimal] = business(Quantity)
    unit_price: Mapped[int] = business(BigInteger)
    # Percent off ``quantity × unit_price`` (0-100): ``line_total - tax_amount`` is the net after it.
    discount_percent: Mapped[Decimal] = business(Quantity, default=Decimal(0))
    tax_rate_id: Mapped[str | None] = business(String(ID_LENGTH))
    tax_amount: Mapped[int] = business(BigInteger, default=0)
    line_total: Mapped[int] = business(BigInteger, default=0)


class Payment(SyncedEntity, Base):
    __tablename__ = "payment"
    __entity__ = EntityInfo(module="sales", read="sales.read", append_only=True)
    __table_args__ = (ref("invoice", "invoice_id"), ref("customer", "customer_id"))

    invoice_id: Mapped[str | None] = business(String(ID_LENGTH))
    customer_id: Mapped[str] = business(String(ID_LENGTH))
    amount: Mapped[int] = business(BigInteger)
    currency: Mapped[str] = business(String(3))
    paid_on: Mapped[date] = business(Date)
    method: Mapped[str] = business(String(20), default="bank_transfer")
    reference: Mapped[str | None] = business(String(100))
    exchange_rate: Mapped[Decimal | None] = business(Quantity)
    # What was paid beyond the invoice's open amount, kept as the customer's credit.
    credit_amount: Mapped[int] = business(BigInteger, default=0)

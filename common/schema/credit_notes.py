"""Credit notes: how a posted invoice is corrected (never edited, never voided).

A credit note credits an invoice in full or by line, in its own gapless series (``CN-…``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped

from common.schema.base import ID_LENGTH, Base, EntityInfo, SyncedEntity, business, ref
from common.schema.types import Quantity

_CREDIT_NOTES = EntityInfo(module="sales", read="sales.read", append_only=True)


class CreditNote(SyncedEntity, Base):
    __tablename__ = "credit_note"
    __entity__ = _CREDIT_NOTES
    __table_args__ = (
        ref("invoice", "invoice_id"),
        ref("customer", "customer_id"),
        UniqueConstraint("org_id", "number"),
        Index("ix_credit_note_invoice", "org_id", "invoice_id"),
    )

    number: Mapped[str] = business(String(40))
    invoice_id: Mapped[str] = business(String(ID_LENGTH))
    customer_id: Mapped[str] = business(String(ID_LENGTH))
    issue_date: Mapped[date] = business(Date)
    currency: Mapped[str] = business(String(3))
    exchange_rate: Mapped[Decimal] = business(Quantity)
    subtotal: Mapped[int] = business(BigInteger, default=0)
    tax_total: Mapped[int] = business(BigInteger, default=0)
    total: Mapped[int] = business(BigInteger, default=0)
    reason: Mapped[str | None] = business(String(500))


class CreditNoteLine(SyncedEntity, Base):
    __tablename__ = "credit_note_line"
    __entity__ = _CREDIT_NOTES
    __table_args__ = (
        ref("credit_note", "credit_note_id"),
        ref("invoice_line", "invoice_line_id"),
        ref("tax_rate", "tax_rate_id"),
        Index("ix_credit_note_line_note", "org_id", "credit_note_id"),
        Index("ix_credit_note_line_invoice_line", "org_id", "invoice_line_id"),
    )

    credit_note_id: Mapped[str] = business(String(ID_LENGTH))
    invoice_line_id: Mapped[str] = business(String(ID_LENGTH))
    line_no: Mapped[int] = business(Integer)
    description: Mapped[str] = business(String(500))
    quantity: Mapped[Decimal] = business(Quantity)
    unit_price: Mapped[int] = business(BigInteger)
    # The credited invoice line's discount (its net is a share of that line's net).
    discount_percent: Mapped[Decimal] = business(Quantity, default=Decimal(0))
    tax_rate_id: Mapped[str | None] = business(String(ID_LENGTH))
    tax_amount: Mapped[int] = business(BigInteger, default=0)
    line_total: Mapped[int] = business(BigInteger, default=0)

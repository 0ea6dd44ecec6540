"""The organization's profile: what its documents print in the letterhead and how it is paid.

One row per organization, whose id is the organization's id (like the ledger). Every member
reads it (an invoice, a purchase order or a payslip printed by anyone carries the letterhead),
so every column is ``public``: it is what the organization prints on the documents it sends.
It is written by ``finance.set_organization_profile`` (``finance.write``).
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped

from common.schema.base import Base, EntityInfo, SyncedEntity, public

PROFILE_FIELDS = (
    "legal_name",
    "address_line1",
    "address_line2",
    "postcode",
    "city",
    "country",
    "tax_id",
    "email",
    "phone",
    "iban",
    "bic",
)


class OrganizationProfile(SyncedEntity, Base):
    """Legal name, postal address, tax (VAT) id, contact and bank account of the organization."""

    __tablename__ = "organization_profile"
    __entity__ = EntityInfo(module="finance", read="finance.read", directory=True)

    legal_name: Mapped[str | None] = public(String(200))
    address_line1: Mapped[str | None] = public(String(200))
    address_line2: Mapped[str | None] = public(String(200))
    postcode: Mapped[str | None] = public(String(20))
    city: Mapped[str | None] = public(String(100))
    # ISO 3166-1 alpha-2 (``DE``).
    country: Mapped[str | None] = public(String(2))
    tax_id: Mapped[str | None] = public(String(50))
    email: Mapped[str | None] = public(String(254))
    phone: Mapped[str | None] = public(String(50))
    # Compact IBAN and BIC: the account customers pay into and salaries are paid from.
    iban: Mapped[str | None] = public(String(34))
    bic: Mapped[str | None] = public(String(11))

"""The books' settings: the ledger (its currency) and the account each posting role uses.

Every business event posts to the ledger through an account named by a posting role
(``receivables``, ``revenue``, ``grni``…); :mod:`common.commands.books` creates a default
small-business chart and these settings with each organization. The chart, its settings and the
fiscal periods are read by every module that posts (sales, inventory, HR): a workstation applies
an invoice, a receipt or a payroll run offline with the same postings as the server, so it must
know which accounts they go to and which periods are closed. Journal entries stay
``finance.read``.
"""

from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped

from common.schema.base import ID_LENGTH, Base, EntityInfo, SyncedEntity, business, ref

# Who reads the chart of accounts, the posting settings and the fiscal periods.
POSTING_READERS = ("sales.read", "inventory.read", "hr.read", "payroll.run")
BOOKS_SETTINGS = EntityInfo(module="finance", read="finance.read", also_read=POSTING_READERS)


class Ledger(SyncedEntity, Base):
    """The organization's ledger: one row whose id is the organization's id."""

    __tablename__ = "ledger"
    __entity__ = BOOKS_SETTINGS

    # Every journal line is in this currency; documents in others carry their exchange rate.
    currency: Mapped[str] = business(String(3))


class AccountMapping(SyncedEntity, Base):
    """Which account a posting role uses (``receivables`` → 1200 Accounts receivable)."""

    __tablename__ = "account_mapping"
    __entity__ = BOOKS_SETTINGS
    __table_args__ = (UniqueConstraint("org_id", "role"), ref("account", "account_id"))

    role: Mapped[str] = business(String(40))
    account_id: Mapped[str | None] = business(String(ID_LENGTH))

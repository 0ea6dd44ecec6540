"""Finance and accounting: chart of accounts, fiscal periods, journal entries, tax rates.

The chart and the periods are read by every module that posts (see :mod:`common.schema.books`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped

from common.schema.base import ID_LENGTH, Base, EntityInfo, SyncedEntity, business, ref
from common.schema.books import BOOKS_SETTINGS
from common.schema.types import Quantity


class Account(SyncedEntity, Base):
    """Types: asset, liability, equity, income, expense."""

    __tablename__ = "account"
    __entity__ = BOOKS_SETTINGS
    __table_args__ = (UniqueConstraint("org_id", "code"), ref("account", "parent_id"))

    code: Mapped[str] = business(String(20))
    name: Mapped[str] = business(String(200))
    type: Mapped[str] = business(String(16))
    parent_id: Mapped[str | None] = business(String(ID_LENGTH))
    archived: Mapped[bool] = business(Boolean, default=False)


class FiscalPeriod(SyncedEntity, Base):
    """States: open → closed (and reopened by ``finance.close_period``)."""

    __tablename__ = "fiscal_period"
    __entity__ = BOOKS_SETTINGS
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    name: Mapped[str] = business(String(40))
    start_date: Mapped[date] = business(Date)
    end_date: Mapped[date] = business(Date)
    status: Mapped[str] = business(String(16), default="open")


class JournalEntry(SyncedEntity, Base):
    """A posted entry; corrected by a reversing entry, never edited."""

    __tablename__ = "journal_entry"
    __entity__ = EntityInfo(module="finance", read="finance.read", append_only=True)
    __table_args__ = (
        ref("fiscal_period", "fiscal_period_id"),
        ref("journal_entry", "reverses_entry_id"),
        UniqueConstraint("org_id", "number"),
        Index("ix_journal_entry_date", "org_id", "entry_date"),
        # Finds entries by source: a document's entry (source and source_id, revision 0017), and
        # by the prefix the few year-end closing entries that profit and loss leaves out, the
        # opening balances.
        Index("ix_journal_entry_source", "org_id", "source", "source_id"),
    )

    number: Mapped[str] = business(String(40))
    entry_date: Mapped[date] = business(Date)
    fiscal_period_id: Mapped[str | None] = business(String(ID_LENGTH))
    memo: Mapped[str | None] = business(String(500))
    source: Mapped[str] = business(String(20), default="manual")
    source_id: Mapped[str | None] = business(String(ID_LENGTH))
    reverses_entry_id: Mapped[str | None] = business(String(ID_LENGTH))


class JournalLine(SyncedEntity, Base):
    __tablename__ = "journal_line"
    __entity__ = EntityInfo(module="finance", read="finance.read", append_only=True)
    # Its entry (NOT NULL, same organization) references the organization (TenantRow).
    __org_via__ = "journal_entry_id"
    # Checked once a statement on PostgreSQL (a push writes 1,500 lines in one INSERT; revision 0015).
    __pg_set_refs__ = ("journal_entry_id", "account_id")
    __table_args__ = (
        ref("journal_entry", "journal_entry_id"),
        ref("account", "account_id"),
        Index("ix_journal_line_entry", "org_id", "journal_entry_id"),
        # Covers the trial balance: sums per account and currency up to a date, read from the
        # index alone (DESIGN §9: one second over a million lines). ``version`` (the change
        # sequence: a line written later has a higher one) comes before the amounts, so that
        # an account's lines of one day are kept in the order they were written and a new one
        # goes after them, not among them by amount (revision 0018).
        Index(
            "ix_journal_line_balance",
            "org_id",
            "account_id",
            "currency",
            "entry_date",
            "version",
            "deleted",
            "debit",
            "credit",
        ),
    )

    journal_entry_id: Mapped[str] = business(String(ID_LENGTH))
    line_no: Mapped[int] = business(Integer)
    account_id: Mapped[str] = business(String(ID_LENGTH))
    debit: Mapped[int] = business(BigInteger, default=0)
    credit: Mapped[int] = business(BigInteger, default=0)
    currency: Mapped[str] = business(String(3))
    memo: Mapped[str | None] = business(String(500))
    # The entry's date, copied onto its lines (entries are never edited, so it never differs).
    entry_date: Mapped[date] = business(Date)


class TaxRate(SyncedEntity, Base):
    __tablename__ = "tax_rate"
    # Sales reads the rates it prices invoice and order lines with.
    __entity__ = EntityInfo(
        module="finance",
        read="finance.read",
        also_read=("sales.read", "inventory.read"),
    )
    __table_args__ = (
        UniqueConstraint("org_id", "code"),
        ref("account", "output_account_id"),
        ref("account", "input_account_id"),
    )

    code: Mapped[str] = business(String(20))
    name: Mapped[str] = business(String(200))
    # Percent, exact: 20 means 20 %.
    rate: Mapped[Decimal] = business(Quantity)
    archived: Mapped[bool] = business(Boolean, default=False)
    # Where tax charged (output) and tax paid (input) at this rate is posted; empty: the
    # ``output_tax`` and ``input_tax`` account mappings.
    output_account_id: Mapped[str | None] = business(String(ID_LENGTH))
    input_account_id: Mapped[str | None] = business(String(ID_LENGTH))

"""Finance and accounting: chart of accounts, fiscal periods, journal entries, tax rates.

The chart and the periods are read by every module that posts (see :mod:`common.schema.books`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped

from common.schema.base import ID_LENGTH, Base, EntityInfo, SyncedEntity, business, public, ref
from common.schema.books import BOOKS_SETTINGS
from common.schema.types import Quantity, UTCDateTime


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
    # The entry's lines, a JSON array of ``[id, account_id, debit, credit, currency, memo]`` in
    # line order (``line_no`` is the place, from 1): written with the entry, never edited, read
    # through the ``journal_line`` view; triggers keep ``journal_balance`` (revision 0019).
    lines_json: Mapped[str] = business(Text, default="[]", nullable=False)


class JournalBalance(Base):
    """What an organization's journal holds per account, currency and day: the sums of its live
    entries' lines and how many lines those are. Kept only by triggers on ``journal_entry``
    (revision 0019), on every store, from the lines each entry carries (``lines_json``); never
    synced: each store sums its own entries. The statements (trial balance, profit and loss,
    balance sheet) read these rows, accounts × days, instead of a million lines. The reference
    to the account keeps a line from naming another organization's account."""

    __tablename__ = "journal_balance"
    __table_args__ = (ref("account", "account_id"), {"sqlite_with_rowid": False})

    org_id: Mapped[str] = public(String(ID_LENGTH), ForeignKey("organization.id"), primary_key=True)
    account_id: Mapped[str] = business(String(ID_LENGTH), primary_key=True)
    currency: Mapped[str] = business(String(3), primary_key=True)
    entry_date: Mapped[date] = business(Date, primary_key=True)
    debit: Mapped[int] = business(BigInteger, nullable=False)
    credit: Mapped[int] = business(BigInteger, nullable=False)
    lines: Mapped[int] = business(Integer, nullable=False)


class _Views(DeclarativeBase):
    """Views: mapped for reading, never created by ``create_all`` nor compared with the
    migrations (revision 0019 creates them)."""

    metadata = MetaData()
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class JournalLine(_Views):
    """A journal entry's line: a read-only view over the lines each entry carries in
    ``journal_entry.lines_json`` (revision 0019), with the columns the table had. Lines are
    written with their entry, never on their own; they sync inside their entry's row."""

    __tablename__ = "journal_line"
    __entity__ = EntityInfo(module="finance", read="finance.read", append_only=True)

    org_id: Mapped[str] = public(String(ID_LENGTH), primary_key=True)
    id: Mapped[str] = public(String(ID_LENGTH), primary_key=True)
    journal_entry_id: Mapped[str] = business(String(ID_LENGTH))
    line_no: Mapped[int] = business(Integer)
    account_id: Mapped[str] = business(String(ID_LENGTH))
    debit: Mapped[int] = business(BigInteger)
    credit: Mapped[int] = business(BigInteger)
    currency: Mapped[str] = business(String(3))
    memo: Mapped[str | None] = business(String(500))
    entry_date: Mapped[date] = business(Date)
    version: Mapped[int] = public(BigInteger)
    updated_at: Mapped[datetime] = business()
    updated_by: Mapped[str | None] = business(String(ID_LENGTH))
    deleted: Mapped[bool] = public(Boolean)


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

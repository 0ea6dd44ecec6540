"""Postings: the balanced journal entry each business event makes, in the ledger currency.

A command that changes what the business owns or owes builds a :class:`Posting` (debits and
credits on accounts named through the organization's posting roles) and posts it with
:meth:`Posting.post`, linked to its source document. The entry's id is derived from the
command, so the workstation's optimistic entry and the server's are the same row and a retried
push (answered ``duplicate``) never posts twice.

An organization whose books are not set up (one created before the books existed, until
``finance.set_up_books``) posts nothing: its documents are accepted as before, so upgrading the
server never stops its warehouses. Once the ledger exists, every event posts and an event whose
account mapping is missing is refused, naming the setting.

Amounts of documents in another currency are converted with the document's exchange rate
(ledger currency units per unit of the document's currency) by the one rounding helper; where
converting each line separately leaves the entry a few minor units out of balance, the
difference goes to the ``rounding`` account.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from common.commands.finance import EntryLine, post_entry_lines
from common.commands.framework import CommandContext, CommandError, invalid
from common.money import convert
from common.schema import AccountMapping, Ledger, TaxRate

MAPPING_MISSING = "mapping_missing"
_NAMESPACE = uuid.UUID("0f5c2a4e-7d51-4c1b-9a7e-2b8d3c6f1e90")

# Every posting role, with what posts to it (shown where the settings are edited).
POSTING_ROLES: Mapping[str, str] = MappingProxyType(
    {
        "bank": "Payments received and made by transfer, card, cheque or direct debit",
        "cash": "Payments received and made in cash",
        "receivables": "What customers owe on posted invoices",
        "customer_credit": "What customers paid or were credited beyond their invoices",
        "inventory": "Stock on hand at moving average cost",
        "input_tax": "Tax paid on supplier bills (unless the tax rate names its own account)",
        "payables": "What the organization owes suppliers on posted bills",
        "grni": "Goods received not invoiced: receipts waiting for the supplier's bill",
        "output_tax": "Tax charged on invoices (unless the tax rate names its own account)",
        "withholdings_payable": "Tax withheld from wages, owed to the tax office",
        "contributions_payable": "Employer contributions owed",
        "net_wages_payable": "Net pay owed to employees until the payroll run is paid",
        "retained_earnings": "The results of closed years",
        "opening": "Temporary opening: the other side of imported open invoices and bills",
        "revenue": "Sales revenue (invoice and credit note lines)",
        "cogs": "Cost of goods sold: stock leaving on a sale or issue",
        "stock_adjustments": "Stock found or lost by adjustments and counts",
        "purchase_price_variance": "Supplier bill price minus the order's cost of the goods billed",
        "wages": "Gross wages of payroll runs",
        "employer_contributions": "Employer contributions of payroll runs",
        "rounding": "Minor units left over when converting a document's lines",
        "exchange_differences": "Gains and losses from exchange rates between document and payment",
    }
)


@lru_cache(maxsize=4096)
def mapping_id(org_id: str, role: str) -> str:
    """The id of the organization's setting for ``role``: the same on every workstation."""
    return str(uuid.uuid5(_NAMESPACE, f"{org_id}|account_mapping|{role}"))


def chart_account_id(org_id: str, code: str) -> str:
    """The id of the default chart's account ``code`` in the organization."""
    return str(uuid.uuid5(_NAMESPACE, f"{org_id}|account|{code}"))


def books_ledger(ctx: CommandContext) -> dict[str, Any] | None:
    """The organization's ledger row, or ``None`` before the books are set up (for reading)."""
    return ctx.peek(Ledger, ctx.org_id)


def ledger_currency(ctx: CommandContext) -> str:
    """The ledger currency; refuses (``mapping_missing``) when the books are not set up."""
    ledger = books_ledger(ctx)
    if ledger is None:
        raise CommandError(
            MAPPING_MISSING,
            "the books of this organization are not set up (setting: ledger); run finance.set_up_books",
            details={"setting": "ledger"},
        )
    return str(ledger["currency"])


def books_on(ctx: CommandContext) -> bool:
    """True once the organization's books are set up (its ledger exists)."""
    return books_ledger(ctx) is not None


def account_for(ctx: CommandContext, role: str, *, books: bool | None = None) -> str:
    """The account the posting role ``role`` points at; refuses naming the setting when unset.
    Before the books are set up there is none (``""``): nothing is posted then. ``books``:
    whether they are, when the caller knows (:attr:`Posting.enabled`)."""
    if not (books_on(ctx) if books is None else books):
        return ""
    return _mapped_account(ctx, role)


def _mapped_account(ctx: CommandContext, role: str) -> str:
    """:func:`account_for` once the books are known to be set up."""
    row = ctx.peek(AccountMapping, mapping_id(ctx.org_id, role))
    if row is None or row["account_id"] is None:
        raise CommandError(
            MAPPING_MISSING,
            f"the account mapping {role} is not set: point it at an account (finance.update_account_mapping)",
            details={"setting": role},
        )
    return str(row["account_id"])


def tax_account(ctx: CommandContext, tax_rate_id: str, side: str, *, books: bool | None = None) -> str:
    """The account tax at this rate posts to: the rate's own, else ``output_tax``/``input_tax``
    (``books`` as for :func:`account_for`)."""
    rate = ctx.peek(TaxRate, tax_rate_id) or {}
    own = rate.get(f"{side}_account_id")
    if not (books_on(ctx) if books is None else books):
        return ""
    return str(own) if own else _mapped_account(ctx, f"{side}_tax")


def document_rate(ctx: CommandContext, currency: str, rate: Decimal | None, field: str) -> Decimal:
    """The exchange rate a document in ``currency`` carries: 1 in the ledger currency (where a
    rate other than 1 is refused), required in any other. Before the books are set up, the rate
    given (or 1) is kept as it is."""
    if not books_on(ctx):
        return rate if rate is not None else Decimal(1)
    ledger = ledger_currency(ctx)
    if currency == ledger:
        if rate is not None and rate != 1:
            raise invalid(field, f"must be 1 or omitted: {currency} is the ledger currency")
        return Decimal(1)
    if rate is None:
        raise invalid(field, f"is required: the document is in {currency}, the ledger in {ledger}")
    return rate


def to_ledger(amount: int, currency: str, rate: Decimal, ledger: str) -> int:
    """``amount`` minor units of ``currency`` in minor units of the ledger currency."""
    return convert(amount, currency, rate, ledger)


def settled_in_ledger(total: int, settled: int, currency: str, rate: Decimal, ledger: str) -> int:
    """The ledger value of having settled ``settled`` of a document's ``total``. Payments take
    differences of it (after minus before), which add up to exactly the converted total, so the
    last payment of a foreign-currency document clears its receivable or payable to the minor
    unit whatever the rounding of the ones before."""
    return convert(min(settled, total), currency, rate, ledger)


@dataclass
class Posting:
    """An entry being built: signed amounts per line (positive debit, negative credit)."""

    ctx: CommandContext
    ledger: str
    # Set when amounts were converted from another currency: only then may rounding be needed.
    converted: bool = False
    # False before the organization's books are set up: the posting is built and dropped.
    enabled: bool = True
    lines: list[tuple[str, int, str | None]] = field(default_factory=list)

    def debit(self, account_id: str, amount: int, memo: str | None = None) -> None:
        if amount:
            self.lines.append((account_id, amount, memo))

    def credit(self, account_id: str, amount: int, memo: str | None = None) -> None:
        if amount:
            self.lines.append((account_id, -amount, memo))

    def account(self, role: str) -> str:
        """:func:`account_for` ``role``, the books known set up (or not) by this posting."""
        return account_for(self.ctx, role, books=self.enabled)

    def tax_account(self, tax_rate_id: str, side: str) -> str:
        """:func:`tax_account`, the books known set up (or not) by this posting."""
        return tax_account(self.ctx, tax_rate_id, side, books=self.enabled)

    def balance(self) -> int:
        return sum(amount for _, amount, _ in self.lines)

    def post(
        self, *, source: str, source_id: str, entry_date: date, memo: str, key: str = ""
    ) -> dict[str, Any] | None:
        """Post the entry (nothing when every amount is zero, or before the books are set up);
        returns the journal entry row."""
        if not self.lines or not self.enabled:
            return None
        difference = self.balance()
        if difference:
            # Only conversion may leave a difference, and at most a minor unit per line.
            if not self.converted or abs(difference) > len(self.lines):
                raise CommandError(
                    "invalid",
                    f"the posting of {source} {source_id} does not balance by {difference} minor units",
                )
            self.credit(self.account("rounding"), difference, "Rounding")
        ledger = self.ledger
        lines: list[EntryLine] = [
            (account_id, amount if amount > 0 else 0, -amount if amount < 0 else 0, ledger, line_memo)
            for account_id, amount, line_memo in self.lines
        ]
        return post_entry_lines(
            self.ctx,
            entry_id=self.ctx.derived_id("journal_entry", source, source_id, key),
            entry_date=entry_date,
            memo=memo[:500],
            lines=lines,
            source=source,
            source_id=source_id,
            report_number=False,
        )


def new_posting(ctx: CommandContext, currency: str | None = None, rate: Decimal | None = None) -> Posting:
    """A posting in the organization's ledger, marked converted for a foreign document (one that
    posts nothing before the books are set up)."""
    books = books_ledger(ctx)
    if books is None:
        return Posting(ctx, currency or "", enabled=False)
    ledger = str(books["currency"])  # ledger_currency's answer, the ledger read once
    converted = currency is not None and (currency != ledger or (rate is not None and rate != 1))
    return Posting(ctx, ledger, converted)


def exchange_difference(
    ctx: CommandContext, posting: Posting, difference: int, same_rate: bool, memo: str
) -> None:
    """Post what a payment left over (debit positive): a gain or loss from the rate, or mere
    rounding when the payment's rate was the document's."""
    if difference:
        account = account_for(ctx, "rounding" if same_rate else "exchange_differences")
        posting.debit(account, difference, memo)

"""Receivables and payables aging: what is open per customer or supplier, by days overdue.

An invoice (or bill) is open as of a date for its total less the payments and credit notes
dated up to that date. Its age is counted from its due date (its issue date when it has none);
buckets: current (not yet due), 1–30, 31–60, 61–90 and over 90 days. Amounts are in the ledger
currency at the document's rate, as the ledger carries them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.access import readable_columns
from common.money import convert
from common.reports.base import ReportParams, amount_text, ledger_currency, report
from common.schema import CreditNote, Customer, Invoice, Payment, Supplier, SupplierBill, SupplierPayment

BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "over_90")


def bucket_of(days_overdue: int) -> str:
    if days_overdue <= 0:
        return "current"
    if days_overdue <= 30:
        return "days_1_30"
    if days_overdue <= 60:
        return "days_31_60"
    if days_overdue <= 90:
        return "days_61_90"
    return "over_90"


def _settled(
    session: Session, org_id: str, model: Any, key: Any, amount: Any, day: Any, as_of: date
) -> dict[str, int]:
    stmt = (
        select(key, func.sum(amount))
        .where(model.org_id == org_id, model.deleted.is_(False), day <= as_of)
        .group_by(key)
    )
    return {doc_id: int(total or 0) for doc_id, total in session.execute(stmt)}


def _aging(
    name: str,
    documents: Iterable[Any],
    settled: dict[str, int],
    parties: dict[str, str | None],
    currency: str,
    as_of: date,
) -> dict[str, Any]:
    per_party: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BUCKETS, 0))
    for doc in documents:
        done = min(doc.total, settled.get(doc.id, 0))
        rate = Decimal(doc.exchange_rate) if doc.exchange_rate is not None else Decimal(1)
        # The ledger's view: the converted total less the converted part settled.
        still_open = convert(doc.total, doc.currency, rate, currency) - convert(
            done, doc.currency, rate, currency
        )
        if still_open == 0:
            continue
        days = (as_of - (doc.due_date or doc.issued)).days
        per_party[doc.party][bucket_of(days)] += still_open
    rows, totals = [], dict.fromkeys(BUCKETS, 0)
    for party, buckets in per_party.items():
        for bucket, value in buckets.items():
            totals[bucket] += value
        rows.append(
            {"party_id": party, "name": parties.get(party),
             **{bucket: amount_text(value, currency) for bucket, value in buckets.items()},
             "total": amount_text(sum(buckets.values()), currency)}
        )  # fmt: skip
    rows.sort(key=lambda row: (row["name"] or "", row["party_id"]))
    return report(
        name,
        {"as_of": as_of},
        currency,
        ["name", *BUCKETS, "total"],
        rows,
        {**{bucket: amount_text(value, currency) for bucket, value in totals.items()},
         "total": amount_text(sum(totals.values()), currency)},
    )  # fmt: skip


def _names(
    session: Session, org_id: str, model: Any, entity: str, permissions: frozenset[str]
) -> dict[str, str | None]:
    """Party names, only where the caller may read them (a customer's name is personal data)."""
    readable = "name" in readable_columns(entity, permissions)
    stmt = select(model.id, model.name).where(model.org_id == org_id)
    return {row.id: (row.name if readable else None) for row in session.execute(stmt)}


def ar_aging(
    session: Session, org_id: str, params: ReportParams, permissions: frozenset[str]
) -> dict[str, Any]:
    as_of = params.as_of or params.end or date.today()
    currency = ledger_currency(session, org_id)
    stmt = select(
        Invoice.id, Invoice.customer_id.label("party"), Invoice.total, Invoice.currency, Invoice.exchange_rate,
        Invoice.due_date, Invoice.issue_date.label("issued"),
    ).where(
        Invoice.org_id == org_id, Invoice.deleted.is_(False), Invoice.status != "draft", Invoice.issue_date <= as_of
    )  # fmt: skip
    settled = _settled(
        session,
        org_id,
        Payment,
        Payment.invoice_id,
        Payment.amount - Payment.credit_amount,
        Payment.paid_on,
        as_of,
    )
    for invoice_id, credited in _settled(
        session, org_id, CreditNote, CreditNote.invoice_id, CreditNote.total, CreditNote.issue_date, as_of
    ).items():
        settled[invoice_id] = settled.get(invoice_id, 0) + credited
    names = _names(session, org_id, Customer, "customer", permissions)
    return _aging("ar_aging", session.execute(stmt), settled, names, currency, as_of)


def ap_aging(
    session: Session, org_id: str, params: ReportParams, permissions: frozenset[str]
) -> dict[str, Any]:
    as_of = params.as_of or params.end or date.today()
    currency = ledger_currency(session, org_id)
    stmt = select(
        SupplierBill.id, SupplierBill.supplier_id.label("party"), SupplierBill.total, SupplierBill.currency,
        SupplierBill.exchange_rate, SupplierBill.due_date, SupplierBill.bill_date.label("issued"),
    ).where(SupplierBill.org_id == org_id, SupplierBill.deleted.is_(False), SupplierBill.bill_date <= as_of)  # fmt: skip
    settled = _settled(
        session, org_id, SupplierPayment, SupplierPayment.supplier_bill_id, SupplierPayment.amount,
        SupplierPayment.paid_on, as_of,
    )  # fmt: skip
    names = _names(session, org_id, Supplier, "supplier", permissions)
    return _aging("ap_aging", session.execute(stmt), settled, names, currency, as_of)

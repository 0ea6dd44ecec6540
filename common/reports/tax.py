"""Tax summary: output tax (invoices less credit notes) and input tax (supplier bills) per rate
and month, with the taxable amounts, in the ledger currency at each document's rate.

Open items brought from the old system (:mod:`common.commands.opening_items`) are not sales or
purchases of the period and are left out, as the profit and loss leaves them out: an opening
invoice is known by its number, the old system's (this system's own series are refused for it,
so the two never meet); an opening bill's line by its account, the temporary opening account
(posting role ``opening``) where an ordinary bill line names an expense or stock account.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from common.money import convert
from common.numbering import is_own_number
from common.reports.base import ReportParams, amount_text, ledger_currency, report
from common.schema import (
    AccountMapping,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    SupplierBill,
    SupplierBillLine,
    TaxRate,
)

KEYS = ("output_base", "output_tax", "input_base", "input_tax")


# The posting role of the temporary opening account: common.commands.opening_items.OPENING_ROLE
# (reports never import commands).
OPENING_ROLE = "opening"


def tax_summary(session: Session, org_id: str, params: ReportParams) -> dict[str, Any]:
    start, end = params.require_range()
    currency = ledger_currency(session, org_id)
    sums: dict[tuple[str, str | None], dict[str, int]] = defaultdict(lambda: dict.fromkeys(KEYS, 0))

    def add(rows: Any, side: str, sign: int, invoices: bool) -> None:
        for day, doc_currency, rate, tax_rate_id, line_total, tax, number in rows:
            if invoices and not is_own_number(number):
                continue  # an opening invoice: numbered by the old system
            at = Decimal(rate) if rate is not None else Decimal(1)
            bucket = sums[(day.isoformat()[:7], tax_rate_id)]
            bucket[f"{side}_base"] += sign * convert(line_total - tax, doc_currency, at, currency)
            bucket[f"{side}_tax"] += sign * convert(tax, doc_currency, at, currency)

    sources = (
        (Invoice, InvoiceLine, InvoiceLine.invoice_id, Invoice.issue_date, "output", 1),
        (CreditNote, CreditNoteLine, CreditNoteLine.credit_note_id, CreditNote.issue_date, "output", -1),
        (
            SupplierBill,
            SupplierBillLine,
            SupplierBillLine.supplier_bill_id,
            SupplierBill.bill_date,
            "input",
            1,
        ),
    )
    opening = session.execute(
        select(AccountMapping.account_id).where(
            AccountMapping.org_id == org_id,
            AccountMapping.role == OPENING_ROLE,
            AccountMapping.deleted.is_(False),
        )
    ).scalar()
    for doc, line, link, day, side, sign in sources:
        where = [
            doc.org_id == org_id,
            doc.deleted.is_(False),
            line.deleted.is_(False),
            day >= start,
            day <= end,
        ]
        if doc is Invoice:
            where.append(Invoice.status != "draft")
        if doc is SupplierBill and opening is not None:  # not an opening bill's line
            where.append(or_(SupplierBillLine.account_id.is_(None), SupplierBillLine.account_id != opening))
        stmt = (
            select(
                day,
                doc.currency,
                doc.exchange_rate,
                line.tax_rate_id,
                line.line_total,
                line.tax_amount,
                doc.number,
            )
            .join(doc, (doc.org_id == line.org_id) & (doc.id == link))
            .where(*where)
        )
        add(session.execute(stmt), side, sign, doc is Invoice)
    rates = {
        row.id: row
        for row in session.execute(
            select(TaxRate.id, TaxRate.code, TaxRate.rate).where(TaxRate.org_id == org_id)
        )
    }
    rows, totals = [], dict.fromkeys(KEYS, 0)
    for (month, tax_rate_id), values in sorted(sums.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        rate = rates.get(tax_rate_id) if tax_rate_id else None
        for key in KEYS:
            totals[key] += values[key]
        rows.append(
            {"period": month, "tax_rate_id": tax_rate_id, "code": rate.code if rate else None,
             "rate": format(rate.rate, "f") if rate else None,
             **{key: amount_text(value, currency) for key, value in values.items()}}
        )  # fmt: skip
    return report(
        "tax_summary",
        {"from": start, "to": end},
        currency,
        ["period", "code", "rate", *KEYS],
        rows,
        {**{key: amount_text(value, currency) for key, value in totals.items()},
         "payable": amount_text(totals["output_tax"] - totals["input_tax"], currency)},
    )  # fmt: skip

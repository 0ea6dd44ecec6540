"""Open items: a file of the old system's unpaid customer invoices, or of its unpaid supplier bills.

Each row becomes one ``finance.record_opening_invoice`` (or ``finance.record_opening_bill``): a
posted document for the amount still open, against the temporary opening account
(:mod:`common.commands.opening_items`). The partner is found by e-mail, else by name, as the
customer and supplier imports match them; the old number is the natural key with the partner, so
a document already in the books is left alone and the same file imported again changes nothing.
Every problem is named by row and column: an unknown or archived partner, a missing or
unreadable amount or date, a due date before the issue date, a date in a closed period, a
foreign currency without its exchange rate.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.commands.opening_items import OPENING_ROLE, opening_number_problem
from common.commands.postings import mapping_id
from common.imports.kinds import ImportKind
from common.imports.plan import ImportOptions, ImportPlan, Planned, Problem, RawTable
from common.imports.values import CellProblem, parse_date, parse_money, parse_number
from common.money import CURRENCIES, format_money
from common.schema import AccountMapping, Customer, FiscalPeriod, Invoice, Ledger, Supplier, SupplierBill

MAX_REFERENCE = {"invoices": 40, "bills": 100}
MAX_DESCRIPTION = 500


def open_item_id(org_id: str, side: str, partner_id: str, reference: str) -> str:
    """The same id for the same partner's document wherever it is imported: two workstations
    importing one file make one document (the server refuses the second)."""
    text = "\n".join(("open_item", side, org_id, partner_id, reference.lower()))
    digest = bytearray(hashlib.sha256(text.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80
    digest[8] = (digest[8] & 0x3F) | 0x80
    hexed = digest.hex()
    return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"


def _partners(session: Session, org_id: str, model: Any) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Partners by lower-case e-mail, and by lower-case name (a name may be shared)."""
    t = model.__table__.c
    columns = [t.id, t.name, t.email, t.currency, t.archived]
    if "erased" in t:
        columns.append(t.erased)
    by_email: dict[str, Any] = {}
    by_name: dict[str, list[Any]] = defaultdict(list)
    for row in session.execute(select(*columns).where(t.org_id == org_id, t.deleted.is_(False))).mappings():
        if row["email"]:
            by_email[row["email"].lower()] = row
        by_name[row["name"].strip().lower()].append(row)
    return by_email, by_name


def _existing(session: Session, org_id: str, side: str) -> dict[Any, Any]:
    if side == "invoices":
        i = Invoice.__table__.c
        rows = session.execute(
            select(i.number, i.customer_id).where(i.org_id == org_id, i.deleted.is_(False))
        )
        return {number: customer for number, customer in rows}
    b = SupplierBill.__table__.c
    rows = session.execute(
        select(b.supplier_id, b.supplier_reference).where(
            b.org_id == org_id, b.deleted.is_(False), b.supplier_reference.is_not(None)
        )
    )
    return {(supplier, str(reference).lower()): True for supplier, reference in rows}


def _plan(
    session: Session,
    org_id: str,
    kind: ImportKind,
    table: RawTable,
    mapping: Mapping[str, int | None],
    names: Mapping[str, str],
    options: ImportOptions,
    progress: Callable[[int, int], None] | None = None,
    *,
    side: str,
) -> ImportPlan:
    """One ``finance.record_opening_invoice`` (``side`` "invoices") or
    ``finance.record_opening_bill`` ("bills") per row not in the books yet."""
    plan = ImportPlan(kind)
    problems = plan.problems
    partner_key = "customer" if side == "invoices" else "supplier"
    date_key = "issue_date" if side == "invoices" else "bill_date"
    noun = "invoice" if side == "invoices" else "bill"
    ledger = session.execute(
        select(Ledger.__table__.c.currency).where(Ledger.org_id == org_id, Ledger.id == org_id)
    ).scalar()
    if ledger is None:
        problems.append(Problem(0, kind.title, "the books of this organization are not set up"))
        return plan
    role = session.execute(
        select(AccountMapping.__table__.c.account_id).where(
            AccountMapping.org_id == org_id, AccountMapping.id == mapping_id(org_id, OPENING_ROLE)
        )
    ).first()
    if role is not None and role[0] is None:
        problems.append(
            Problem(
                0,
                kind.title,
                "the posting role Temporary opening has no account: choose one in Finance › Account mapping",
            )
        )
        return plan
    by_email, by_name = _partners(session, org_id, Customer if side == "invoices" else Supplier)
    existing = _existing(session, org_id, side)
    periods = _closed_periods(session, org_id)
    seen: dict[Any, int] = {}
    partners: set[str] = set()
    totals: dict[str, int] = defaultdict(int)
    for row, raw in table.records(mapping, progress):
        before = len(problems)

        def problem(key: str, message: str, row: int = row) -> None:
            problems.append(Problem(row, names[key], message))

        partner = _partner(raw, partner_key, by_email, by_name, problem)
        reference = raw.get("reference", "")
        if not reference:
            problem("reference", "is required")
        elif len(reference) > MAX_REFERENCE[side]:
            problem("reference", f"is longer than {MAX_REFERENCE[side]} characters")
        elif side == "invoices" and (own := opening_number_problem(reference)) is not None:
            problem("reference", own)
        natural = reference if side == "invoices" else (partner["id"] if partner else "", reference.lower())
        stored = existing.get(natural)
        if partner is not None and len(problems) == before and stored in (partner["id"], True):
            # Already in the books: left alone, whatever has changed since (a period closed).
            seen.setdefault(natural, row)
            plan.unchanged += 1
            continue
        issued = _date(raw, date_key, True, problem)
        due = _date(raw, "due_date", False, problem)
        if issued is not None and due is not None and due < issued:
            problem("due_date", f"{due.isoformat()} is before the {names[date_key]} {issued.isoformat()}")
        if issued is not None and (closed := _closed_on(periods, issued)) is not None:
            problem(date_key, f"{issued.isoformat()} falls in fiscal period {closed}, which is closed")
        currency = (raw.get("currency") or (partner["currency"] if partner else "") or ledger).upper()
        if currency not in CURRENCIES:
            problem("currency", f"“{currency}” is not an ISO 4217 currency code")
            continue
        amount = _amount(raw, currency, options, problem)
        rate = _rate(raw, currency, ledger, options, problem)
        description = raw.get("description") or None
        if description is not None and len(description) > MAX_DESCRIPTION:
            problem("description", f"is longer than {MAX_DESCRIPTION} characters")
        if len(problems) > before or partner is None or issued is None or amount is None:
            continue
        if amount == 0:
            plan.unchanged += 1  # nothing is open on it: no document
            continue
        if natural in seen:
            problem("reference", f"“{reference}” is also on row {seen[natural]}")
            continue
        seen[natural] = row
        if stored is not None:  # an invoice number another customer's invoice has
            problem("reference", f"invoice {reference} is already in the books, for another customer")
            continue
        args: dict[str, Any] = {
            "id": open_item_id(org_id, side, partner["id"], reference),
            f"{partner_key}_id": partner["id"],
            ("number" if side == "invoices" else "supplier_reference"): reference,
            date_key: issued.isoformat(),
            "amount": amount,
            "currency": currency,
        }
        if due is not None:
            args["due_date"] = due.isoformat()
        if rate is not None:
            args["exchange_rate"] = format(rate.normalize(), "f")
        if description is not None:
            args["description"] = description
        plan.commands.append(Planned(row, kind.create, args))
        partners.add(partner["id"])
        totals[currency] += amount
        plan.created += 1
    if not problems and not plan.commands and not plan.unchanged:
        problems.append(Problem(0, names["amount"], f"no row has an open {noun}"))
    if not problems:
        amounts = ", ".join(format_money(total, currency) for currency, total in sorted(totals.items()))
        what = f"{plan.created:,} open {noun}s of {len(partners):,} {partner_key}s" + (
            f" ({amounts})" if amounts else ""
        )
        plan.headline = f"{what}; {plan.unchanged:,} already in the books or with nothing open"
    return plan


def _closed_periods(session: Session, org_id: str) -> list[tuple[date, date, str]]:
    """The closed fiscal periods (read once: a file may hold thousands of dates)."""
    p = FiscalPeriod.__table__.c
    rows = session.execute(
        select(p.start_date, p.end_date, p.name).where(
            p.org_id == org_id, p.deleted.is_(False), p.status != "open"
        )
    )
    return [(start, end, str(name)) for start, end, name in rows]


def _closed_on(periods: list[tuple[date, date, str]], day: date) -> str | None:
    return next((name for start, end, name in periods if start <= day <= end), None)


def _partner(
    raw: Mapping[str, str],
    key: str,
    by_email: Mapping[str, Any],
    by_name: Mapping[str, list[Any]],
    problem: Callable[[str, str], None],
) -> Any:
    text = raw.get(key, "")
    if not text:
        problem(key, "is required")
        return None
    found = by_email.get(text.lower())
    if found is None:
        named = by_name.get(text.strip().lower(), [])
        if len(named) > 1:
            problem(key, f"{len(named)} {key}s are named “{text}”: give the e-mail instead")
            return None
        found = named[0] if named else None
    if found is None:
        problem(key, f"no {key} has the e-mail or name “{text}” (import {key}s first)")
        return None
    if found["archived"] or found.get("erased"):
        problem(key, f"{key} {found['name']} is archived")
        return None
    return found


def _date(
    raw: Mapping[str, str], key: str, required: bool, problem: Callable[[str, str], None]
) -> date | None:
    text = raw.get(key, "")
    if not text:
        if required:
            problem(key, "is required")
        return None
    try:
        return parse_date(text)
    except CellProblem as exc:
        problem(key, str(exc))
        return None


def _amount(
    raw: Mapping[str, str], currency: str, options: ImportOptions, problem: Callable[[str, str], None]
) -> int | None:
    text = raw.get("amount", "")
    if not text:
        problem("amount", "is required")
        return None
    try:
        amount = parse_money(text, currency, options.decimal_mark)
    except CellProblem as exc:
        problem("amount", str(exc))
        return None
    if amount < 0:
        problem("amount", f"“{text}” is negative: an open amount is what is still owed")
        return None
    return amount


def _rate(
    raw: Mapping[str, str],
    currency: str,
    ledger: str,
    options: ImportOptions,
    problem: Callable[[str, str], None],
) -> Decimal | None:
    text = raw.get("exchange_rate", "")
    if not text:
        if currency != ledger:
            problem(
                "exchange_rate",
                f"is required: the {currency} amount needs the rate to {ledger}, the ledger's currency "
                f"({ledger} per 1 {currency})",
            )
        return None
    try:
        rate = parse_number(text, options.decimal_mark)
    except CellProblem as exc:
        problem("exchange_rate", str(exc))
        return None
    if rate <= 0:
        problem("exchange_rate", f"“{text}” must be more than zero")
        return None
    if currency == ledger:
        if rate != 1:
            problem("exchange_rate", f"must be 1 or empty: {currency} is the ledger's currency")
        return None
    return rate


# The import kinds' planners (common.imports.kinds names them).
plan_open_invoices = partial(_plan, side="invoices")
plan_open_bills = partial(_plan, side="bills")

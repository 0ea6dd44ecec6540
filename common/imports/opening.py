"""Opening balances: a file of account codes with a debit or a credit becomes one journal entry.

Every row is one line of a single balanced entry of source ``opening_balance``, dated on the
opening date the user chooses and posted by ``finance.post_opening_balances``. Problems are
named by row and column (an unknown or archived account, a row with both a debit and a credit,
a negative, inexact or ambiguous amount), and for the whole file (debits and credits that do
not balance, with the difference; an opening date in a closed period). The entry's id is
derived from the organization, the date and the lines, so the same file imported again is
recognized as posted and changes nothing; a different file is refused while an opening entry
stands (the command refuses it too, on the workstation and on the server).

Journal lines name an account, not a customer or supplier, so a partner column can only
become the line's description: receivables and payables per partner are opened with their
documents (invoices, supplier bills), not here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.commands.finance import MAX_JOURNAL_LINES, OPENING_BALANCE
from common.imports.kinds import ImportKind
from common.imports.plan import ImportOptions, ImportPlan, Planned, Problem, RawTable
from common.imports.values import CellProblem, parse_money
from common.money import format_money
from common.schema import Account, FiscalPeriod, JournalEntry

MEMO = "Opening balances"
MAX_MEMO = 500


def opening_entry_id(
    org_id: str, opening_date: date, currency: str, lines: list[dict[str, Any]], attempt: int = 0
) -> str:
    """The same id for the same balances on the same date, whatever order the rows come in.

    ``attempt`` counts the times these very balances were posted and reversed before: each
    posting needs an id of its own, and the next import must still find the one that stands.
    """
    parts = sorted(f"{ln['account_id']}|{ln['debit']}|{ln['credit']}|{ln.get('memo') or ''}" for ln in lines)
    text = "\n".join((OPENING_BALANCE, org_id, opening_date.isoformat(), currency, str(attempt), *parts))
    digest = bytearray(hashlib.sha256(text.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8: derived, as CommandContext.derived_id
    digest[8] = (digest[8] & 0x3F) | 0x80
    hexed = digest.hex()
    return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"


def _accounts(session: Session, org_id: str) -> dict[str, dict[str, Any]]:
    t = Account.__table__.c
    rows = session.execute(
        select(t.id, t.code, t.archived).where(t.org_id == org_id, t.deleted.is_(False))
    ).mappings()
    return {str(row["code"]).lower(): dict(row) for row in rows}


def _opening_entries(session: Session, org_id: str) -> list[dict[str, Any]]:
    """Every opening entry posted, ``reversed`` or not (at most one stands: the command refuses
    a second)."""
    e = JournalEntry.__table__.c
    live = (e.org_id == org_id) & e.deleted.is_(False)
    reversed_ids = select(e.reverses_entry_id).where(live, e.source == "reversal")
    stmt = select(e.id, e.number, e.entry_date, e.id.in_(reversed_ids).label("reversed")).where(
        live, e.source == OPENING_BALANCE
    )
    return [dict(row) for row in session.execute(stmt).mappings()]


def _entry_id(
    org_id: str, opening_date: date, currency: str, lines: list[dict[str, Any]], taken: set[str]
) -> str:
    """This file's entry id: the first of its ids that no reversed opening entry holds."""
    attempt = 0
    while (entry_id := opening_entry_id(org_id, opening_date, currency, lines, attempt)) in taken:
        attempt += 1
    return entry_id


def _closed_period(session: Session, org_id: str, day: date) -> str | None:
    p = FiscalPeriod.__table__.c
    found = session.execute(
        select(p.name).where(
            p.org_id == org_id,
            p.deleted.is_(False),
            p.status != "open",
            p.start_date <= day,
            p.end_date >= day,
        )
    ).first()
    return str(found[0]) if found is not None else None


def plan_opening_balances(
    session: Session,
    org_id: str,
    kind: ImportKind,
    table: RawTable,
    mapping: Mapping[str, int | None],
    names: Mapping[str, str],
    options: ImportOptions,
    progress: Callable[[int, int], None] | None = None,
) -> ImportPlan:
    """One ``finance.post_opening_balances`` for the whole file, or the problems that stop it."""
    plan = ImportPlan(kind)
    problems = plan.problems
    currency = options.default_currency
    if mapping.get("debit") is None and mapping.get("credit") is None:
        problems.append(Problem(1, "Debit", "match a debit or a credit column (or both)"))
        return plan
    accounts = _accounts(session, org_id)
    lines: list[dict[str, Any]] = []
    line_rows: list[int] = []
    totals = {"debit": 0, "credit": 0}
    amounts_read = True
    for row, raw in table.records(mapping, progress):
        before = len(problems)
        account = None
        if not raw["account"]:
            problems.append(Problem(row, names["account"], "is required"))
        else:
            account = accounts.get(raw["account"].lower())
            if account is None:
                problems.append(
                    Problem(
                        row,
                        names["account"],
                        f"no account has the code “{raw['account']}” (import the chart of accounts first)",
                    )
                )
            elif account["archived"]:
                problems.append(Problem(row, names["account"], f"account {account['code']} is archived"))
        amounts = {"debit": 0, "credit": 0}
        for key, other in (("debit", "credit"), ("credit", "debit")):
            text = raw.get(key, "")
            if not text:
                continue
            try:
                amounts[key] = parse_money(text, currency, options.decimal_mark)
            except CellProblem as exc:
                problems.append(Problem(row, names[key], str(exc)))
                amounts_read = False
                continue
            if amounts[key] < 0:
                problems.append(
                    Problem(
                        row,
                        names[key],
                        f"“{text}” is negative: write it as a positive amount in the {names[other]} column",
                    )
                )
                amounts_read = False
        if amounts["debit"] > 0 and amounts["credit"] > 0:
            problems.append(
                Problem(
                    row,
                    names["credit"],
                    f"the row has both a debit and a credit; give each its own row "
                    f"(or write the balance, {format_money(abs(amounts['debit'] - amounts['credit']), currency)}, "
                    f"on the side it falls)",
                )
            )
            amounts_read = False
        memo = raw.get("description") or None
        if memo is not None and len(memo) > MAX_MEMO:
            problems.append(Problem(row, names["description"], f"is longer than {MAX_MEMO} characters"))
        if len(problems) > before or (amounts["debit"] == 0 and amounts["credit"] == 0):
            continue  # a row with nothing to open (a zero balance) is no line
        assert account is not None
        totals["debit"] += amounts["debit"]
        totals["credit"] += amounts["credit"]
        lines.append({"account_id": account["id"], **amounts, "memo": memo})
        line_rows.append(row)
    if len(lines) > MAX_JOURNAL_LINES:
        problems.append(
            Problem(
                line_rows[MAX_JOURNAL_LINES],
                names["account"],
                f"an opening entry holds at most {MAX_JOURNAL_LINES:,} lines; "
                "add up the rows of each account",
            )
        )
    debit, credit = totals["debit"], totals["credit"]
    if amounts_read and debit != credit:
        larger = "debits" if debit > credit else "credits"
        problems.append(
            Problem(
                0,
                f"{names['debit']} and {names['credit']}",
                f"the file does not balance: debits {format_money(debit, currency)}, credits "
                f"{format_money(credit, currency)}; the {larger} are "
                f"{format_money(abs(debit - credit), currency)} more",
            )
        )
    if not lines and not problems:
        problems.append(Problem(0, names["account"], "no row has a debit or a credit"))
    if options.opening_date is None:
        problems.append(Problem(0, kind.asks_date or "Date", "choose the opening date"))
        return plan
    closed = _closed_period(session, org_id, options.opening_date)
    if closed is not None:
        problems.append(
            Problem(
                0,
                kind.asks_date or "Date",
                f"{options.opening_date.isoformat()} falls in fiscal period {closed}, which is closed; "
                "choose a date in an open period",
            )
        )
    if problems:
        return plan
    posted = _opening_entries(session, org_id)
    reversed_ids = {str(entry["id"]) for entry in posted if entry["reversed"]}
    entry_id = _entry_id(org_id, options.opening_date, currency, lines, reversed_ids)
    standing = next((entry for entry in posted if not entry["reversed"]), None)
    totals_text = f"debits {format_money(debit, currency)} = credits {format_money(credit, currency)}"
    if standing is not None and standing["id"] == entry_id:
        plan.unchanged = len(lines)
        plan.headline = (
            f"Already posted: these opening balances are entry {standing['number']} of "
            f"{standing['entry_date'].isoformat()}; nothing to change"
        )
        return plan
    if standing is not None:
        problems.append(
            Problem(
                0,
                kind.asks_date or "Date",
                f"the opening balances are already posted as entry {standing['number']} of "
                f"{standing['entry_date'].isoformat()}; reverse that entry to import different ones",
            )
        )
        return plan
    args = {
        "id": entry_id,
        "entry_date": options.opening_date.isoformat(),
        "currency": currency,
        "memo": MEMO,
        "lines": [{**line, "currency": currency} for line in lines],
    }
    plan.commands.append(Planned(line_rows[0], kind.create, args, tuple(line_rows)))
    plan.created = len(lines)
    plan.headline = (
        f"One opening entry of {len(lines):,} lines on {options.opening_date.isoformat()}: {totals_text}"
    )
    return plan

"""Trial balance, profit and loss and balance sheet over a million journal lines (DESIGN §9:
≤ 1 s each).

Measured where an accountant runs them: on the desktop's encrypted store (the same queries the
server runs), and on PostgreSQL when the service is reachable. The lines are written in bulk
(the way an initial sync writes them) across 60 accounts of every type and two years of dates,
all in the ledger currency (the books keep one), and 2025 closed by a year-end entry as books
are after their first year (profit and loss leaves its lines out: finding them once walked the
whole index). Profit and loss covers 2026 beside 2025 (every line is in one of the two periods);
the balance sheet is as of 2026-06-30. Each figure is the fastest of three runs after a first one
that warms the cache.
"""

from __future__ import annotations

import random
import tempfile
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.harness import Figure, at_most, best_of, info, timed
from common import migrate
from common.ids import new_id
from common.journal_lines import encode_lines
from common.reports import ReportParams, balance_sheet, profit_and_loss, trial_balance
from common.schema import Account, JournalEntry, Ledger, Organization
from common.schema.base import table_of
from desktop.local_store import LocalStore
from desktop.profiles import Profile
from desktop.rows import WRITERS

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
ACCOUNTS = 60
CURRENCY = "EUR"
TYPES = ("asset", "liability", "equity", "income", "expense")
PNL = ReportParams(start=date(2026, 1, 1), end=date(2026, 12, 31))
SHEET = ReportParams(as_of=date(2026, 6, 30))
LINES_PER_ENTRY = 4
STAMP = "2026-01-01T00:00:00+00:00"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _books(
    org_id: str, line_count: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The ledger row, accounts and entries carrying balanced lines, in wire form, 2025 closed."""
    rng = random.Random(11)
    common = {"org_id": org_id, "version": 1, "updated_at": STAMP, "updated_by": None, "deleted": False}
    accounts = [
        {**common, "id": _uuid(rng), "code": f"{1000 + i}", "name": f"Account {i}", "type": TYPES[i % 5],
         "parent_id": None, "archived": False}
        for i in range(ACCOUNTS)
    ]  # fmt: skip
    entries, lines = [], []
    start = date(2025, 1, 1)
    first_year: dict[str, int] = {}  # debit minus credit of 2025 per account
    for n in range(line_count // LINES_PER_ENTRY):
        entry_id = _uuid(rng)
        day = (start + timedelta(days=rng.randrange(730))).isoformat()
        currency = CURRENCY
        entries.append(
            {**common, "id": entry_id, "number": f"JE-{n + 1:07d}", "entry_date": day, "fiscal_period_id": None,
             "memo": None, "source": "manual", "source_id": None, "reverses_entry_id": None}
        )  # fmt: skip
        amount = rng.randint(100, 1_000_000)
        for line_no, (debit, credit) in enumerate(
            ((amount, 0), (0, amount), (amount // 2, 0), (0, amount // 2))
        ):
            lines.append(
                {**common, "id": _uuid(rng), "journal_entry_id": entry_id, "line_no": line_no + 1,
                 "account_id": accounts[rng.randrange(ACCOUNTS)]["id"], "debit": debit, "credit": credit,
                 "currency": currency, "memo": None, "entry_date": day}
            )  # fmt: skip
            if day < "2026-01-01":
                account_id = str(lines[-1]["account_id"])
                first_year[account_id] = first_year.get(account_id, 0) + debit - credit
    # Closing 2025 (as finance.close_year does): each income and expense account's balance
    # moved to retained earnings (the first equity account).
    closing_id, closed = _uuid(rng), {str(a["id"]) for a in accounts if a["type"] in ("income", "expense")}
    entries.append(
        {**common, "id": closing_id, "number": "JE-CLOSE-2025", "entry_date": "2025-12-31",
         "fiscal_period_id": None, "memo": None, "source": "year_end", "source_id": None,
         "reverses_entry_id": None}
    )  # fmt: skip
    moves = [(a, -first_year[a]) for a in sorted(closed) if first_year.get(a)]
    moves.append((next(str(a["id"]) for a in accounts if a["type"] == "equity"), -sum(m for _, m in moves)))
    for line_no, (account_id, move) in enumerate(moves):
        lines.append(
            {**common, "id": _uuid(rng), "journal_entry_id": closing_id, "line_no": line_no + 1,
             "account_id": account_id, "debit": max(move, 0), "credit": max(-move, 0),
             "currency": CURRENCY, "memo": None, "entry_date": "2025-12-31"}
        )  # fmt: skip
    ledger = [{**common, "id": org_id, "currency": CURRENCY}]
    # An entry carries its lines (revision 0019); the store's triggers keep the balances.
    by_entry: dict[str, list[list[Any]]] = {}
    for line in lines:
        by_entry.setdefault(str(line["journal_entry_id"]), []).append(
            [line["id"], line["account_id"], line["debit"], line["credit"], line["currency"], line["memo"]]
        )
    for entry in entries:
        entry["lines_json"] = encode_lines(by_entry.get(str(entry["id"]), []))
    return ledger, accounts, entries


def _timings(session: Session, org_id: str) -> dict[str, float]:
    """Fastest of three runs of each statement, after one run that warms the cache."""
    runs = {
        "trial balance": lambda: trial_balance(session, org_id),
        "trial balance as of a date": lambda: trial_balance(session, org_id, date(2025, 12, 31)),
        "profit and loss with the previous period": lambda: profit_and_loss(session, org_id, PNL),
        "balance sheet": lambda: balance_sheet(session, org_id, SHEET),
    }
    for fn in runs.values():
        fn()
    return {name: best_of(3, fn) for name, fn in runs.items()}


def _desktop(line_count: int) -> tuple[dict[str, float], int]:
    org_id = new_id()
    ledger, accounts, entries = _books(org_id, line_count)
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        store = LocalStore.create(
            Path(tmp), Profile("https://bench.example", "acct@example.test", org_id), "pw"
        )
        with store.write_session() as session:
            connection = session.connection()
            WRITERS["ledger"].upsert(connection, ledger)
            WRITERS["account"].upsert(connection, accounts)
            WRITERS["journal_entry"].upsert(connection, entries)
        with store.read_session() as session:
            timings = _timings(session, org_id)
            result = trial_balance(session, org_id)
            sheet = balance_sheet(session, org_id, SHEET)["totals"]
        store.close()
    assert result.is_balanced()
    # The books balance: assets = liabilities + equity (the unclosed result included).
    assert Decimal(sheet["assets"]) == Decimal(sheet["liabilities"]) + Decimal(sheet["equity"])
    return timings, len(result.rows)


def _postgres(line_count: int) -> dict[str, float] | None:
    try:
        admin = create_engine(
            PG_ADMIN.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return None
    name = f"bench_reports_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
        migrate.upgrade(engine)
        org_id = new_id()
        ledger, accounts, entries = _books(org_id, line_count)
        with engine.begin() as conn:
            conn.execute(
                table_of(Organization).insert(), [{"id": org_id, "name": "Bench", "base_currency": "EUR"}]
            )
            for model, rows in ((Ledger, ledger), (Account, accounts), (JournalEntry, entries)):
                for start in range(0, len(rows), 20_000):
                    conn.execute(table_of(model).insert(), rows[start : start + 20_000])
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE journal_entry"))
            conn.execute(text("VACUUM ANALYZE journal_balance"))
        with Session(engine) as session:
            timings = _timings(session, org_id)
        engine.dispose()
        return timings
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(quick: bool) -> list[Figure]:
    line_count = 100_000 if quick else 1_000_000
    with timed() as load:
        timings, rows = _desktop(line_count)
    figures = [
        at_most(
            f"{name}, {line_count:,} lines, encrypted desktop store",
            seconds * 1000,
            1000,
            "ms",
            accounts=rows,
        )
        for name, seconds in timings.items()
    ]
    figures.append(info("journal lines written (setup, for scale)", line_count / load.seconds, "lines/s"))
    pg = _postgres(line_count)
    if pg is None:
        figures.append(info("reports on PostgreSQL: service not reachable", float("nan"), "ms"))
    else:
        figures.extend(
            at_most(f"{name}, {line_count:,} lines, PostgreSQL", seconds * 1000, 1000, "ms")
            for name, seconds in pg.items()
        )
    return figures

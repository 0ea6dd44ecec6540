"""Profit and loss and the balance sheet on screen over a million journal lines (issue 14: ≤ 1 s).

The report functions alone are measured by ``bench_reports``; this measures what an accountant
waits for on the desktop: from asking (the period changed) until the report page's table is
filled and painted — the report made off the GUI thread (``desktop.background``), its answer
queued back to the GUI thread, the rows arranged with headings and totals, the model reset, the
columns fitted and the table repainted. The lines are written in batches the way an initial sync
writes them (60 accounts of every type over two years, as in ``bench_reports``). Each figure is
the fastest of three after a first run that warms the cache.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.harness import Figure, at_most, info, timed
from common.ids import new_id
from common.journal_lines import encode_lines
from common.permissions import permissions_for_roles
from common.reports import run_report
from desktop.api_client import ApiClient
from desktop.local_store import LocalStore
from desktop.profiles import Profile
from desktop.rows import WRITERS
from desktop.session import Membership, User, UserSession

ACCOUNTS = 60
TYPES = ("asset", "liability", "equity", "income", "expense")
BATCH_ENTRIES = 12_500  # 50,000 lines a batch: memory stays flat at a million
STAMP = "2026-01-01T00:00:00+00:00"
PERIOD = (date(2026, 1, 1), date(2026, 12, 31))  # beside 2025: every line is in one of the two
SHEET_DAY = date(2026, 6, 30)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _batches(
    org_id: str, line_count: int, rng: random.Random, accounts: list[str]
) -> Iterator[tuple[list[dict[str, Any]], list[list[Any]]]]:
    common = {"org_id": org_id, "version": 1, "updated_at": STAMP, "updated_by": None, "deleted": False}
    start, number = date(2025, 1, 1), 0
    for _ in range(0, line_count // 4, BATCH_ENTRIES):
        entries, lines = [], []
        for _ in range(BATCH_ENTRIES):
            number += 1
            entry_id = _uuid(rng)
            day = (start + timedelta(days=rng.randrange(730))).isoformat()
            amount = rng.randint(100, 1_000_000)
            entry_lines = [
                [_uuid(rng), accounts[rng.randrange(ACCOUNTS)], debit, credit, "EUR", None]
                for debit, credit in ((amount, 0), (0, amount), (amount // 2, 0), (0, amount // 2))
            ]
            lines.extend(entry_lines)
            entries.append(
                {**common, "id": entry_id, "number": f"JE-{number:07d}", "entry_date": day, "fiscal_period_id": None,
                 "memo": None, "source": "manual", "source_id": None, "reverses_entry_id": None,
                 "lines_json": encode_lines(entry_lines)}
            )  # fmt: skip
        yield entries, lines


def make_session(root: Path, line_count: int) -> UserSession:
    org_id = new_id()
    store = LocalStore.create(root, Profile("https://ops.example.test", "acct@example.test", org_id), "pw")
    rng = random.Random(11)
    common = {"org_id": org_id, "version": 1, "updated_at": STAMP, "updated_by": None, "deleted": False}
    accounts = [
        {**common, "id": _uuid(rng), "code": f"{1000 + i}", "name": f"Account {i}", "type": TYPES[i % 5],
         "parent_id": None, "archived": False}
        for i in range(ACCOUNTS)
    ]  # fmt: skip
    with store.write_session() as db:
        WRITERS["ledger"].upsert(db.connection(), [{**common, "id": org_id, "currency": "EUR"}])
        WRITERS["account"].upsert(db.connection(), accounts)
    for entries, _ in _batches(org_id, line_count, rng, [a["id"] for a in accounts]):
        with store.write_session() as db:
            WRITERS["journal_entry"].upsert(db.connection(), entries)
    membership = Membership(org_id, "Bench", ("accountant",), permissions_for_roles(["accountant"]))
    return UserSession(
        root=root,
        server_url="https://ops.example.test",
        user=User(new_id(), "acct@example.test", "Bench"),
        membership=membership,
        memberships=(membership,),
        store=store,
        api=ApiClient("https://ops.example.test"),
        online=False,
    )


def _on_screen(app: Any, page: Any) -> float:
    """Seconds from asking for the report until its table is filled and painted."""
    from desktop import background

    started = time.perf_counter()
    page.compute()
    while page.computing or background.active_count():
        app.processEvents()
        time.sleep(0.001)
    page.table.viewport().repaint()
    assert page.made is not None, page.last_error
    return time.perf_counter() - started


def run(quick: bool) -> list[Figure]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from desktop.qt import QApplication
    from desktop.ui.context import UiContext
    from desktop.ui.finance_reports import BalanceSheetPage, ProfitAndLossPage
    from desktop.ui.theme import apply_theme

    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    line_count = 100_000 if quick else 1_000_000
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-report-screens-") as tmp:
        with timed() as load:
            session = make_session(Path(tmp), line_count)
        figures.append(info("journal lines written (setup, for scale)", line_count / load.seconds, "lines/s"))
        try:
            ctx = UiContext(session)
            pages = (
                ("profit and loss", ProfitAndLossPage, PERIOD),
                ("balance sheet", BalanceSheetPage, (date(2026, 6, 1), SHEET_DAY)),
            )
            for name, factory, period in pages:
                page = factory(ctx)
                page.resize(1050, 700)
                page.period.set_range(*period)
                page.show()
                _on_screen(app, page)  # warms the cache
                report, params = page.report, page.params()

                def bare(report: str = report, params: dict[str, str] = params) -> float:
                    started = time.perf_counter()
                    with session.store.read_session() as db:
                        run_report(db, session.org_id, report, params, session.permissions)
                    return time.perf_counter() - started

                # Interleaved, so both see the same load of a shared machine.
                screen, alone = [], []
                for _ in range(3):
                    screen.append(_on_screen(app, page))
                    alone.append(bare())
                rows = page.model.rowCount()
                page.close()
                figures.append(
                    at_most(f"{name} on screen, {line_count:,} lines, desktop", min(screen) * 1000, 1000, "ms",
                            rows=rows)
                )  # fmt: skip
                figures.append(
                    info(f"{name}: the report function alone, same store and moment (context)", min(alone) * 1000, "ms")
                )  # fmt: skip
        finally:
            session.close()
    return figures


if __name__ == "__main__":
    for figure in run(quick=os.environ.get("BENCH_QUICK") == "1"):
        print(figure.as_dict())

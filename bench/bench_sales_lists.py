"""The sales and finance lists at size (issue 14): 100k invoices and 1M journal lines.

A real encrypted store (LocalStore, SQLCipher, the real schema) is filled the way an initial sync
fills it (``desktop.rows``): customers and invoices, then journal entries of four lines each. The
real Invoices and Journal entries screens are shown offscreen and timed, as ``bench_desktop``
times Products, from creating the screen (or a keystroke in its search box) until the table has
been painted.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.bench_desktop import FIRST_PAINT_TARGET_MS, KEYSTROKE_TARGET_MS
from bench.harness import Figure, at_most, info, median
from common.ids import new_id
from common.journal_lines import encode_lines
from common.permissions import permissions_for_roles
from desktop.api_client import ApiClient, Membership, User
from desktop.local_store import LocalStore
from desktop.profiles import Profile
from desktop.rows import WRITERS
from desktop.session import UserSession

BATCH = 5000
NAMES = ["Nordic", "Oak", "Atlas", "Harbor", "Summit", "Lumen", "Cedar", "Vega", "Delta", "Orion"]
KINDS = ["Trading", "Works", "Supply", "Studio", "Foods", "Logistics"]
INVOICE_SEARCHES = ("I", "IN", "INV-0004", "INV-00042", "o", "oa", "oak", "oak w", "zzz-no-match")
JOURNAL_SEARCHES = ("J", "JE-0001", "JE-000123", "r", "re", "ren", "rent", "zzz-no-match")


def _session(root: Path) -> tuple[UserSession, str]:
    org_id = new_id()
    store = LocalStore.create(root, Profile("https://ops.example.test", "bench@example.test", org_id), "pw")
    membership = Membership(
        org_id, "Bench", ("admin", "accountant"), permissions_for_roles(["admin", "accountant"])
    )
    session = UserSession(
        root=root,
        server_url="https://ops.example.test",
        user=User(new_id(), "bench@example.test", "Bench"),
        membership=membership,
        memberships=(membership,),
        store=store,
        api=ApiClient("https://ops.example.test"),
        online=False,
    )
    return session, org_id


def _base(org_id: str) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "version": 1,
        "updated_at": "2026-11-01T08:00:00+00:00",
        "updated_by": None,
        "deleted": False,
    }


def fill_invoices(store: LocalStore, org_id: str, invoices: int) -> None:
    rng, base, start_day = random.Random(7), _base(org_id), date(2022, 1, 1)
    customers = [new_id() for _ in range(5000)]
    rows = [
        {**base, "id": cid, "name": f"{rng.choice(NAMES)} {rng.choice(KINDS)} {n}", "email": None, "phone": None,
         "address": None, "tax_id": None, "currency": "EUR", "credit_limit": None, "archived": False, "erased": False}
        for n, cid in enumerate(customers)
    ]  # fmt: skip
    with store.write_session() as db:
        WRITERS["customer"].upsert(db.connection(), rows)
    for start in range(0, invoices, BATCH):
        batch = []
        for n in range(start, min(invoices, start + BATCH)):
            total = rng.randint(1_000, 500_000)
            day = start_day + timedelta(days=rng.randint(0, 1500))
            batch.append(
                {**base, "id": new_id(), "number": f"INV-{n:07d}", "customer_id": rng.choice(customers),
                 "sales_order_id": None, "status": rng.choice(("posted", "paid", "draft")), "issue_date": day,
                 "due_date": day + timedelta(days=30), "currency": "EUR", "subtotal": total, "tax_total": 0,
                 "total": total, "amount_paid": 0, "amount_credited": 0, "exchange_rate": None}
            )  # fmt: skip
        with store.write_session() as db:
            WRITERS["invoice"].upsert(db.connection(), batch)


def fill_journal(store: LocalStore, org_id: str, lines: int) -> None:
    rng, base, start_day = random.Random(9), _base(org_id), date(2022, 1, 1)
    accounts = [new_id() for _ in range(4)]
    memos = ["Rent", "Wages", "Sale", "Purchase", "Bank fees", "Reversal"]
    for start in range(0, lines // 4, BATCH):
        entries = []
        for n in range(start, min(lines // 4, start + BATCH)):
            entry_id, day, amount = (
                new_id(),
                start_day + timedelta(days=rng.randint(0, 1500)),
                rng.randint(100, 90_000),
            )
            entry_lines = [
                [new_id(), accounts[line_no], debit, credit, "EUR", None]
                for line_no, (debit, credit) in enumerate(
                    ((amount, 0), (0, amount), (amount, 0), (0, amount))
                )
            ]
            entries.append(
                {**base, "id": entry_id, "number": f"JE-{n:07d}", "entry_date": day, "fiscal_period_id": None,
                 "memo": f"{rng.choice(memos)} {n}", "source": "manual", "source_id": None, "reverses_entry_id": None,
                 "lines_json": encode_lines(entry_lines)}
            )  # fmt: skip
        with store.write_session() as db:
            WRITERS["journal_entry"].upsert(db.connection(), entries)


def _measure(
    page_class: Any, ctx: Any, searches: tuple[str, ...]
) -> tuple[list[float], dict[str, list[float]]]:
    from desktop import background
    from desktop.qt import QApplication

    app = QApplication.instance()
    assert app is not None

    def settle() -> None:
        while background.active_count():
            app.processEvents()

    paints: list[float] = []
    page = None
    for _ in range(5):
        if page is not None:
            page.close()
            page.deleteLater()
            settle()
        started = time.perf_counter()
        page = page_class(ctx)
        page.resize(1200, 760)
        page.show()
        page.activate()
        page.repaint()  # synchronous: the table is on screen when this returns
        paints.append((time.perf_counter() - started) * 1000)
        assert page.model.rowCount() > 0
    assert page is not None
    settle()
    keystrokes: dict[str, list[float]] = {text: [] for text in searches}
    for _round in range(3):
        for text in searches:
            started = time.perf_counter()
            page.search.setText(text)
            page.repaint()
            keystrokes[text].append((time.perf_counter() - started) * 1000)
            settle()
        page.search.setText("")
        settle()
    page.close()
    return paints, keystrokes


def _rows(name: str, count: str, paints: list[float], keystrokes: dict[str, list[float]]) -> list[Figure]:
    samples = [ms for runs in keystrokes.values() for ms in runs]
    worst = max(keystrokes, key=lambda k: max(keystrokes[k]))
    return [
        at_most(
            f"{name} list: first paint ({count})",
            median(paints[1:]),
            FIRST_PAINT_TARGET_MS,
            "ms",
            cold_ms=round(paints[0], 1),
            runs_ms=[round(p, 1) for p in paints],
        ),
        at_most(
            f"{name} list: filter keystroke p50 ({count})",
            median(samples),
            KEYSTROKE_TARGET_MS,
            "ms",
            per_search_ms={k: round(median(v), 1) for k, v in keystrokes.items()},
        ),
        at_most(
            f"{name} list: filter keystroke worst ({count})",
            max(samples),
            KEYSTROKE_TARGET_MS,
            "ms",
            worst_search=worst,
        ),
    ]


def run(quick: bool) -> list[Figure]:
    from desktop.qt import QApplication
    from desktop.ui.context import UiContext
    from desktop.ui.finance_journal import JournalPage
    from desktop.ui.sales_invoices import InvoicesPage
    from desktop.ui.theme import apply_theme

    invoices, lines = (10_000, 100_000) if quick else (100_000, 1_000_000)
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    apply_theme(app)
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        session, org_id = _session(Path(tmp))
        try:
            start = time.perf_counter()
            fill_invoices(session.store, org_id, invoices)
            fill_journal(session.store, org_id, lines)
            figures.append(info("sales/journal lists: fill encrypted store", time.perf_counter() - start, "s",
                                invoices=invoices, journal_lines=lines))  # fmt: skip
            ctx = UiContext(session)
            figures += _rows(
                "invoices", f"{invoices:,} invoices", *_measure(InvoicesPage, ctx, INVOICE_SEARCHES)
            )
            figures += _rows(
                "journal entries", f"{lines:,} journal lines", *_measure(JournalPage, ctx, JOURNAL_SEARCHES)
            )
        finally:
            session.close()
    return figures


if __name__ == "__main__":
    from bench.harness import render

    print(render([f.as_dict() for f in run(quick=False)], {}))

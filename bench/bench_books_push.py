"""Pushing posted invoices (issue 12: posted invoices keep ≥ 70 % of the push throughput of
plain commands), on the server's write path, both stores.

A round pushes three batches of 1,000 commands through :func:`sync_server.writes.apply_in_slices`,
as a push runs them (on the embedded store slices of 50 commands, each committed; on PostgreSQL the
batch in one transaction, its writes held and sent ahead every 100 commands): plain commands
(``sales.create_customer``: one row each) and twice 500 invoices of one taxed line (varied prices
and quantities), each created and then posted (the invoice and its line, numbers from the gapless
series) — once in an organization whose books are set up, where
posting also writes the journal entry holding its three lines (revision 0019), and once in one whose books are not
(``admin_ops.create_org(..., books=False)``: the same commands, nothing posted). The batches
alternate within and across rounds (``bench.harness.interleaved``). A third organization, made
after the two and not measured, keeps both in the middle of the shared tables, as on a server of
many tenants (bench/README.md, "Stop 34").

The row with the target is posted invoices against the same commands without books: what the
postings cost a push, which is what issue 12 asks about (bench/README.md gives the argument).
Posted invoices against plain commands is beside it as context.

Ids are made as the desktop makes them (``common.ids.new_id``: time-ordered UUIDv7, the commands'
and the documents'), and the rows a command derives take the scheme a current desktop's push names
(``Ops-Derived-Ids: 2``, the default of ``apply_in_slices``: the command id's time prefix). On
PostgreSQL the tables are analyzed once the organizations are set up, as autovacuum does on a
running store: a fresh database's foreign-key checks are otherwise planned against empty tables
and stay sequential scans in each pooled connection (the posted push measured 2.3× slower so,
bench/README.md "Books, stop 26").
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import Figure, info, interleaved, median, rounds_row
from common.ids import new_id

ROUNDS = 16
BATCH = 1000


def _mutation(name: str, args: dict[str, Any]) -> Any:
    from common.wire import Mutation

    return Mutation(id=new_id(), name=name, args=args)


def _plain() -> list[Any]:
    return [
        _mutation("sales.create_customer", {"id": new_id(), "name": f"Customer {n}"}) for n in range(BATCH)
    ]


# Prices and quantities of a real day's invoices, not one amount repeated: the ledger's balance
# index orders an account's lines of a day by what follows the date, and 1,500 equal amounts hid
# what varied ones cost (bench/README.md, "Stop 32"). Seeded: every run pushes the same invoices.
_AMOUNTS = random.Random(32)


def _invoices(customer: str, tax_rate: str) -> list[Any]:
    batch = []
    for _ in range(BATCH // 2):
        invoice = new_id()
        line = {"id": new_id(), "description": "Service", "quantity": str(_AMOUNTS.randint(1, 20)),
                "unit_price": _AMOUNTS.randint(100, 99_999), "tax_rate_id": tax_rate}  # fmt: skip
        batch.append(
            _mutation("sales.create_invoice", {"id": invoice, "customer_id": customer, "lines": [line]})
        )
        batch.append(_mutation("sales.post_invoice", {"id": invoice}))
    return batch


def _rates(database_url: str | None, quick: bool) -> tuple[list[float], list[float], list[float]]:
    """Commands/s of plain commands, of invoices posted, and of the same invoice commands in an
    organization whose books are not set up, by interleaved round."""
    from sqlalchemy import text

    from common.permissions import ALL_PERMISSIONS
    from sync_server import admin_ops
    from sync_server.config import ServerConfig, normalize_database_url
    from sync_server.store import prepare_store
    from sync_server.writes import apply_in_slices, settle_heap

    config = ServerConfig(
        data_dir=Path(tempfile.mkdtemp(prefix="bench-books-push-")),
        database_url=normalize_database_url(database_url),
    )
    store = prepare_store(config)
    settle_heap()  # as `ops-server run` does once started (both batches alike)
    user = new_id()

    def push(org_id: str, batch: list[Any]) -> float:
        start = time.perf_counter()
        results = apply_in_slices(store, org_id, user, None, ALL_PERMISSIONS, batch)
        seconds = time.perf_counter() - start
        assert {r.status for r in results} == {"applied"}, [r for r in results if r.status != "applied"][:1]
        return len(batch) / seconds

    def organization(books: bool) -> tuple[str, str, str]:
        org_id = admin_ops.create_org(store, f"Bench {new_id()[-12:]}", books=books)
        customer, tax_rate = new_id(), new_id()
        push(org_id,
             [_mutation("sales.create_customer", {"id": customer, "name": "Bench customer"}),
              _mutation("finance.create_tax_rate", {"id": tax_rate, "code": "VAT", "name": "VAT", "rate": "20"})])  # fmt: skip
        push(org_id, _invoices(customer, tax_rate))  # warm up
        return org_id, customer, tax_rate

    books, unbooked = organization(True), organization(False)
    # A later tenant, so that neither organization measured writes at the end of the shared
    # B-trees (every table's key and indexes begin with the organization): there SQLite appends
    # a page as a leaf fills, elsewhere it rebalances the leaf with its siblings, a few pages
    # more a commit. Made second, the organization without books wrote at the end and the one
    # with books in the middle, as every organization but the newest does on a real server.
    organization(True)
    # Warmed up before the tables are analyzed: analyzed while the organization held one
    # customer, PostgreSQL kept planning the customer push's statements for a table of one row,
    # and the plain push slowed round by round, 7,700 to 1,600 commands/s over 16 rounds.
    push(books[0], _plain())  # warm up
    if store.is_postgres:
        with store.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    plain, posted, unposted = interleaved(
        2 if quick else ROUNDS,
        lambda: push(books[0], _plain()),
        lambda: push(books[0], _invoices(*books[1:])),
        lambda: push(unbooked[0], _invoices(*unbooked[1:])),
    )
    store.dispose()
    return plain, posted, unposted


def _figures(store_name: str, plain: list[float], posted: list[float], unposted: list[float]) -> list[Figure]:
    return [
        rounds_row(
            f"push of invoices created and posted / the same without books (what posting costs), {store_name}",
            [b / a for a, b in zip(unposted, posted, strict=True)],
            unit="ratio",
            at_least=0.7,
        ),
        rounds_row(
            f"push of invoices created and posted / plain commands (create_customer), {store_name}",
            [b / a for a, b in zip(plain, posted, strict=True)],
            unit="ratio",
        ),
        info(
            f"push of plain commands (create_customer), write path, {store_name}", median(plain), "commands/s"
        ),
        info(f"push of invoices created and posted, write path, {store_name}", median(posted), "commands/s"),
        info(
            f"push of invoices created and posted, books not set up, write path, {store_name}",
            median(unposted),
            "commands/s",
        ),
    ]


def run(quick: bool) -> list[Figure]:
    from bench.bench_server_auth import _pg_database

    figures = _figures("embedded store", *_rates(None, quick))
    pg = _pg_database()
    if pg is None:
        figures.append(
            info("push of posted invoices, PostgreSQL: service not reachable", float("nan"), "ratio")
        )
        return figures
    url, name = pg
    try:
        figures.extend(_figures("PostgreSQL", *_rates(url, quick)))
    finally:
        import psycopg

        admin = os.environ.get("OPS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
    return figures

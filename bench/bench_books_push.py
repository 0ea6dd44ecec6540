"""Pushing posted invoices against pushing plain commands (issue 12: posted invoices keep ≥ 70 %
of the push throughput of plain commands), on the server's write path, both stores.

A round pushes one batch of 1,000 plain commands (``sales.create_customer``: one row each) and
one batch of 1,000 invoice commands (500 invoices of one taxed line, each created and then
posted: the invoice, its line, its journal entry and three journal lines, numbers from the
gapless series), through :func:`sync_server.writes.apply_mutations` in one write transaction per
batch as a push does. Rounds alternate (A, B, A, B …); the row is the median ratio of the
rounds' commands/s, with its min–max.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.harness import Figure, at_least, info, median

ROUNDS = 3
BATCH = 1000


def _mutation(name: str, args: dict[str, Any]) -> Any:
    from common.wire import Mutation

    return Mutation(id=str(uuid.uuid4()), name=name, args=args)


def _plain() -> list[Any]:
    return [
        _mutation("sales.create_customer", {"id": str(uuid.uuid4()), "name": f"Customer {n}"})
        for n in range(BATCH)
    ]


def _invoices(customer: str, tax_rate: str) -> list[Any]:
    batch = []
    for _ in range(BATCH // 2):
        invoice = str(uuid.uuid4())
        line = {"id": str(uuid.uuid4()), "description": "Service", "quantity": "3", "unit_price": 12_345,
                "tax_rate_id": tax_rate}  # fmt: skip
        batch.append(
            _mutation("sales.create_invoice", {"id": invoice, "customer_id": customer, "lines": [line]})
        )
        batch.append(_mutation("sales.post_invoice", {"id": invoice}))
    return batch


def _rates(database_url: str | None, quick: bool) -> tuple[list[float], list[float]]:
    from common.permissions import ALL_PERMISSIONS
    from sync_server import admin_ops
    from sync_server.config import ServerConfig, normalize_database_url
    from sync_server.store import prepare_store
    from sync_server.writes import apply_mutations

    config = ServerConfig(
        data_dir=Path(tempfile.mkdtemp(prefix="bench-books-push-")),
        database_url=normalize_database_url(database_url),
    )
    store = prepare_store(config)
    org_id = admin_ops.create_org(store, f"Bench {uuid.uuid4().hex[:8]}")
    user = str(uuid.uuid4())
    customer, tax_rate = str(uuid.uuid4()), str(uuid.uuid4())
    setup = [
        _mutation("sales.create_customer", {"id": customer, "name": "Bench customer"}),
        _mutation("finance.create_tax_rate", {"id": tax_rate, "code": "VAT", "name": "VAT", "rate": "20"}),
    ]

    def push(batch: list[Any]) -> float:
        start = time.perf_counter()
        with store.session(org_id, user_id=user, write=True) as session:
            results = apply_mutations(session, org_id, user, None, ALL_PERMISSIONS, batch)
        seconds = time.perf_counter() - start
        assert {r.status for r in results} == {"applied"}, [r for r in results if r.status != "applied"][:1]
        return len(batch) / seconds

    push(setup)
    push(_plain())  # warm up both paths once
    push(_invoices(customer, tax_rate))
    plain, posted = [], []
    for _ in range(2 if quick else ROUNDS):
        plain.append(push(_plain()))
        posted.append(push(_invoices(customer, tax_rate)))
    store.dispose()
    return plain, posted


def _figures(store_name: str, plain: list[float], posted: list[float]) -> list[Figure]:
    ratios = [b / a for a, b in zip(plain, posted, strict=True)]
    return [
        at_least(
            f"push of posted invoices / plain commands, write path, {store_name}",
            median(ratios),
            0.7,
            "ratio",
            min=min(ratios),
            max=max(ratios),
        ),
        info(
            f"push of plain commands (create_customer), write path, {store_name}", median(plain), "commands/s"
        ),
        info(f"push of invoices created and posted, write path, {store_name}", median(posted), "commands/s"),
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

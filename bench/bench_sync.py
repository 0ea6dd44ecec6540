"""Sync, end to end (DESIGN §9): initial sync, push, no-op round trip, applying one change,
the 90-day catch-up, and the server under 50 clients doing no-op incremental syncs.

Every figure runs the real parts: ``ops-server run`` in its own process (embedded SQLCipher store;
PostgreSQL for the second push figure when it is reachable), real HTTP on loopback, real
encrypted client stores and the real sync engine (``desktop.sync``). Server data is written in
bulk the way the write path leaves it (``bench/sync_setup.py``); client commands go through the
real local command path. Loops are bounded in count and time. The 50 concurrent clients are
``wrk`` when it is installed, else a Python generator (``bench/http_load.py`` says why).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.harness import Figure, at_least, at_most, info, interleaved, median, percentile, ratios, rounds_row
from bench.http_load import bare_flask, load
from bench.sync_setup import (
    BenchServer,
    bench_server,
    client,
    pg_available,
    seed_inventory,
)
from common.ids import new_id
from common.schema import SCHEMA_VERSION
from common.schema.types import utcnow
from desktop.session import UserSession
from desktop.sync import SyncEngine
from desktop.sync.local import apply_page, saved_cursor

INITIAL_TARGET = 80_000  # rows/s
PUSH_TARGET = 2000  # commands/s, on both stores
NOOP_TARGET_MS = 3
CONCURRENT_RATIO = 0.5  # of the bare Flask endpoint's requests/s
CONCURRENT_P99_MS = 50
APPLY_ONE_TARGET_MS = 5
CATCH_UP_TARGET_S = 60


def _engine(session: UserSession) -> SyncEngine:
    return SyncEngine(session.store, session.api, session.org_id)


def record_moves(session: UserSession, products: list[str], warehouse: str, count: int) -> None:
    """``count`` stock receipts made offline through the real local command path."""
    store = session.store
    for start in range(0, count, 2000):
        with store.write_session() as db:
            for n in range(start, min(count, start + 2000)):
                store.apply(
                    "inventory.record_stock_move",
                    {
                        "id": new_id(),
                        "product_id": products[n % len(products)],
                        "to_warehouse_id": warehouse,
                        "quantity": "1",
                        "reason": "receipt",
                    },
                    actor_id=session.user.id,
                    permissions=session.permissions,
                    session=db,
                )


# -- initial sync ----------------------------------------------------------------------------------


def initial_sync(server: BenchServer, rows: int, root: Path) -> tuple[list[Figure], UserSession]:
    session = client(server, root / "initial")
    engine = _engine(session)
    start = time.perf_counter()
    report = engine.run()
    seconds = time.perf_counter() - start
    assert report.pulled == rows, (report.pulled, rows)
    rate = rows / seconds
    figures = [
        at_least(
            f"initial sync into an empty encrypted DB, over HTTP ({rows:,} rows)",
            rate,
            INITIAL_TARGET,
            "rows/s",
            seconds=round(seconds, 2),
            pages=report.pages,
        )
    ]
    figures.append(_naive_baseline(server, root / "naive", rows, sample=300 if rows < 100_000 else 1000))
    return figures, session


def _naive_baseline(server: BenchServer, root: Path, rows: int, sample: int) -> Figure:
    """The same download one row per request and per local transaction, on a sample."""
    session = client(server, root)
    cursor: str | None = None
    start = time.perf_counter()
    for n in range(sample):
        page = session.api.pull(session.org_id, cursor, limit=1, schema_version=SCHEMA_VERSION)
        apply_page(session.store, page["changes"], page["cursor"], fresh_start=n == 0)
        cursor = page["cursor"]
    rate = sample / (time.perf_counter() - start)
    session.close()
    return info(
        f"naive baseline: one HTTP request and one transaction per row (sample of {sample:,})",
        rate,
        "rows/s",
        extrapolated_seconds_for_all_rows=round(rows / rate, 1),
    )


# -- push, no-op, apply one --------------------------------------------------------------------------


def push_rate(session: UserSession, commands: int, store_name: str) -> Figure:
    products = [p for (p,) in _ids(session, "product", 200)]
    (warehouse,) = _ids(session, "warehouse", 1)[0]
    record_moves(session, products, warehouse, commands)
    marks: dict[str, float] = {}

    def progress(done: int, total: int | None, text: str) -> None:
        if text.startswith("Sent ") and "sent" not in marks:
            marks["sent"] = time.perf_counter()

    start = time.perf_counter()
    report = _engine(session).run(progress)
    seconds = marks["sent"] - start
    assert report.applied == commands, report
    return at_least(
        f"push over HTTP from the client outbox, {store_name} store (1,000-command batches)",
        commands / seconds,
        PUSH_TARGET,
        "commands/s",
        commands=commands,
    )


def _ids(session: UserSession, entity: str, limit: int) -> list[tuple[str]]:
    with session.store.read_session() as db:
        return [tuple(r) for r in db.connection().exec_driver_sql(f'SELECT id FROM "{entity}" LIMIT {limit}')]


def noop_round_trip(session: UserSession, samples: int) -> Figure:
    engine = _engine(session)
    times = []
    deadline = time.monotonic() + 60
    for _ in range(samples):
        start = time.perf_counter()
        session.api.push(session.org_id, [], client_id="bench", schema_version=SCHEMA_VERSION)
        report = engine.run()
        times.append(time.perf_counter() - start)
        assert report.pulled == 0
        if time.monotonic() > deadline:
            break
    return at_most(
        "no-op sync round trip (empty push + empty pull + local bookkeeping) p50",
        median(times) * 1000,
        NOOP_TARGET_MS,
        "ms",
        p99_ms=round(percentile(times, 99) * 1000, 2),
        samples=len(times),
    )


def apply_one_change(root: Path, stored: int) -> list[Figure]:
    """One pulled upsert and one pulled delete, each a page of its own, into a store holding
    ``stored`` rows."""
    from common.db import new_key
    from desktop.local_store import LocalStore
    from desktop.profiles import Profile
    from desktop.rows import WRITERS

    org_id = new_id()
    profile = Profile("http://127.0.0.1:9", "bench@bench.test", org_id)
    profile.directory(root).mkdir(parents=True, mode=0o700)
    store = LocalStore.open_with_key(root, profile, new_key())
    now = utcnow().isoformat()
    product, warehouse = new_id(), new_id()

    def move(version: int, move_id: str | None = None) -> dict[str, Any]:
        return {
            "id": move_id or new_id(),
            "version": version,
            "product_id": product,
            "from_warehouse_id": None,
            "to_warehouse_id": warehouse,
            "quantity": "2",
            "unit_cost": 100,
            "currency": "EUR",
            "reason": "receipt",
            "note": None,
            "reference": "B-1",
            "moved_at": now,
            "negative_stock": False,
            "reverses_move_id": None,
            "updated_at": now,
            "updated_by": None,
            "deleted": False,
        }

    kept: list[str] = []
    for start in range(0, stored, 5000):
        rows = [move(start + i) for i in range(min(5000, stored - start))]
        kept.extend(r["id"] for r in rows[:20])
        with store.write_session() as db:
            WRITERS["stock_move"].upsert(db.connection(), rows, org_id)
    upserts, deletes = [], []
    for n in range(100):
        change = {"entity": "stock_move", "op": "upsert", "id": kept[n], "version": stored + n}
        change["data"] = move(stored + n, kept[n])
        start = time.perf_counter()
        assert apply_page(store, [change], f"c{n}", fresh_start=False)
        upserts.append(time.perf_counter() - start)
        gone = {"entity": "stock_move", "op": "delete", "id": kept[100 + n], "version": stored + n}
        start = time.perf_counter()
        assert apply_page(store, [gone], f"d{n}", fresh_start=False)
        deletes.append(time.perf_counter() - start)
    store.close()
    return [
        at_most(
            f"apply one pulled upsert with {stored:,} rows stored (p50)",
            median(upserts) * 1000,
            APPLY_ONE_TARGET_MS,
            "ms",
            p99_ms=round(percentile(upserts, 99) * 1000, 2),
        ),
        at_most(
            f"apply one pulled delete with {stored:,} rows stored (p50)",
            median(deletes) * 1000,
            APPLY_ONE_TARGET_MS,
            "ms",
            p99_ms=round(percentile(deletes, 99) * 1000, 2),
        ),
    ]


# -- the 90-day catch-up -------------------------------------------------------------------------


def catch_up(root: Path, incoming: int, outgoing: int) -> Figure:
    from sync_server.retention import prune

    with bench_server() as server:
        base = seed_inventory(server, 1000)
        session = client(server, root / "catch-up")
        _engine(session).run()
        went_offline = utcnow()
        record_moves(session, base["products"][:100], base["warehouse"], outgoing)
        seed_inventory(server, incoming)
        prune(server.store, now=went_offline + timedelta(days=90))
        start = time.perf_counter()
        report = _engine(session).run()
        seconds = time.perf_counter() - start
        assert not report.resynced and report.applied == outgoing, report
        assert report.pulled >= incoming, report
        session.close()
    return at_most(
        f"catch-up after 90 days offline: {incoming:,} in, {outgoing:,} out",
        seconds,
        CATCH_UP_TARGET_S,
        "s",
        pushed=report.pushed,
        pulled=report.pulled,
    )


# -- 50 clients --------------------------------------------------------------------------------


def _peak_rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import psutil

    return float(psutil.Process(pid).memory_info().rss) / 2**20


def concurrent_noop(server: BenchServer, session: UserSession, seconds: float, rounds: int) -> list[Figure]:
    """50 clients repeating one no-op incremental pull, against the bare Flask endpoint served
    the same way, in interleaved rounds; with one worker process, then two."""
    cursor = saved_cursor(session.store)
    token = session.api._access_token
    assert cursor and token
    path = f"/api/v1/orgs/{session.org_id}/sync/pull?cursor={cursor}&schema_version={SCHEMA_VERSION}"
    figures: list[Figure] = []
    for workers in (1, 2):
        if workers != 1:
            server.stop()
            server.start(workers=workers, port=server.port)
        with bare_flask(server.env(), workers=workers) as bare_port:
            bare, ours = interleaved(
                rounds,
                lambda port=bare_port: load(port, "/noop", None, seconds),  # type: ignore[misc]
                lambda: load(server.port, path, token, seconds),
            )
        label = f"{workers} worker{'s' if workers > 1 else ''}"
        detail: dict[str, Any] = {"seconds_per_round": seconds, "instrument": ours[0].instrument}
        figures += [
            rounds_row(
                f"bare Flask endpoint, 50 clients, {label} (same server, same run)",
                [b.rps for b in bare],
                unit="req/s",
                p99_ms=[round(b.p99_ms, 1) for b in bare],
                **detail,
            ),
            rounds_row(
                f"no-op incremental sync (pull with cursor), 50 clients, {label}, vs bare Flask",
                ratios([o.rps for o in ours], [b.rps for b in bare]),
                unit="x",
                at_least=CONCURRENT_RATIO,
                rps=[round(o.rps) for o in ours],
                p50_ms=[round(o.p50_ms, 2) for o in ours],
                **detail,
            ),
            rounds_row(
                f"no-op incremental sync, 50 clients, {label}, p99",
                [o.p99_ms for o in ours],
                unit="ms",
                at_most=CONCURRENT_P99_MS,
                **detail,
            ),
            at_most(
                f"no-op incremental sync, 50 clients, {label}, errors",
                sum(o.errors for o in ours),
                0,
                "errors",
                **detail,
            ),
        ]
        if workers == 1:
            assert server.process is not None
            figures.append(
                info("sync server peak RSS under 50 clients", _peak_rss_mib(server.process.pid), "MiB")
            )
    return figures


def run(quick: bool) -> list[Figure]:
    rows = 50_000 if quick else 300_000
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="bench-sync-clients-") as tmp:
        root = Path(tmp)
        with bench_server() as server:
            seed_inventory(server, rows)
            found, session = initial_sync(server, rows, root)
            figures.extend(found)
            figures.append(noop_round_trip(session, 100 if quick else 400))
            figures.append(push_rate(session, 2000 if quick else 10_000, "embedded"))
            figures.extend(concurrent_noop(server, session, 3.0 if quick else 6.0, rounds=3 if quick else 4))
            session.close()
        if pg_available():
            with bench_server(postgres=True) as server:
                seed_inventory(server, 2000)
                session = client(server, root / "pg")
                _engine(session).run()
                figures.append(push_rate(session, 2000 if quick else 10_000, "PostgreSQL"))
                session.close()
        else:
            figures.append(
                info("push over HTTP, PostgreSQL: service not reachable", float("nan"), "commands/s")
            )
        figures.extend(apply_one_change(root / "apply-one", 100_000 if quick else 500_000))
        figures.append(catch_up(root, 40_000 if quick else 200_000, 4_000 if quick else 20_000))
    return figures


if __name__ == "__main__":
    from bench.harness import render

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(render([f.as_dict() for f in run(quick="--quick" in sys.argv)], {}))

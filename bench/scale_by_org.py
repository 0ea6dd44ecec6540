"""Scale by organization on PostgreSQL (DESIGN §9): 1,000 organizations and 10M rows against 10.

Not part of ``make bench`` (generating the large store takes minutes on two cores): run it with
``make bench-scale``. Two stores are made side by side, the same per organization (a warehouse,
2,000 products, 7,999 stock moves and a change-log row for each, 10,000 rows), one with 1,000
organizations (10M rows, 10M change-log rows, 8M processed commands, 5,000 members), one with
10. Rows are generated inside
PostgreSQL (``INSERT … SELECT … generate_series``, foreign-key triggers off for the load: the
rows are consistent by construction), organizations and users through ``sync_server.admin_ops``,
then ``VACUUM ANALYZE`` (as a deployed store is vacuumed: visibility map set, statistics taken).
Each store is served by its own ``ops-server run`` process, and one organization in the middle
of each is measured in interleaved rounds: no-op incremental pulls (the most frequent request of
all), one on each store in turn, their p50 and the servers' CPU per pull (``ops-server`` and its
PostgreSQL backends, from the scheduler's account: far less changed by other work on the machine
than the wall time), and the push rate of a 1,000-command batch over HTTP. The figures are the large store's
over the small one's, median round. The plans of the no-op pull's own statements (recorded from a
real no-op pull) and of the other hot queries, ``EXPLAIN (ANALYZE, BUFFERS)`` under the request's
scope (row-level security applies), on both stores, are kept in the figures' details
(bench/README.md shows them). ``OPS_BENCH_SCALE_KEEP=DIR`` keeps the generated stores for the
next run (see :func:`scale_store`).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psutil
import psycopg

from bench.bench_tenants import Tenant
from bench.harness import Figure, info, interleaved, median, ratios, rounds_row, timed
from bench.sync_setup import PASSWORD, PG_ADMIN, BenchServer, _drop_pg, _pg_scratch, client
from common.money import QUANTITY_SCALE
from common.schema import SCHEMA_VERSION
from desktop.sync import SyncEngine
from desktop.sync.local import saved_cursor
from sync_server import admin_ops
from sync_server.config import ServerConfig, normalize_database_url
from sync_server.services import Services
from sync_server.store import prepare_store

PRODUCTS, MOVES = 2000, 7999  # + 1 warehouse: 10,000 rows per organization
MEMBERS = 5  # users with a membership, per organization
WITHIN = 1.2  # the large store's figure within 20 % of the small one's
SCALE_ORGS = "name LIKE 'Scale %'"

_GENERATE = f"""
SET session_replication_role = replica;
INSERT INTO warehouse (org_id, id, version, updated_at, updated_by, deleted, code, name, address, archived)
SELECT id, md5(id || ':w')::uuid::text, 1, now(), NULL, false, 'GEN', 'Generated', NULL, false
FROM organization WHERE {SCALE_ORGS};
INSERT INTO product (org_id, id, version, updated_at, updated_by, deleted, sku, name, description, barcode,
                     unit, sale_price, cost_price, currency, reorder_point, archived)
SELECT o.id, md5(o.id || ':p:' || g)::uuid::text, 1 + g, now(), NULL, false, 'SKU-' || g, 'Product ' || g,
       NULL, (4000000000000 + g)::text, 'pcs', 1000 + g, 500, 'EUR', {5 * QUANTITY_SCALE}, false
FROM organization o CROSS JOIN generate_series(1, {PRODUCTS}) g WHERE o.{SCALE_ORGS};
INSERT INTO stock_move (org_id, id, version, updated_at, updated_by, deleted, product_id, from_warehouse_id,
                        to_warehouse_id, quantity, unit_cost, currency, reason, note, reference, moved_at,
                        negative_stock, reverses_move_id)
SELECT o.id, md5(o.id || ':m:' || g)::uuid::text, 1 + {PRODUCTS} + g, now(), NULL, false,
       md5(o.id || ':p:' || (1 + g % {PRODUCTS}))::uuid::text, NULL, md5(o.id || ':w')::uuid::text,
       {3 * QUANTITY_SCALE}, 450, 'EUR', 'receipt', NULL, 'PO-' || (g % 997), now(), false, NULL
FROM organization o CROSS JOIN generate_series(1, {MOVES}) g WHERE o.{SCALE_ORGS};
INSERT INTO change_log (org_id, seq, entity, entity_id, at)
SELECT r.org_id, c.value + r.version, r.entity, r.id, now()
FROM (SELECT org_id, version, 'warehouse' AS entity, id FROM warehouse WHERE code = 'GEN'
      UNION ALL SELECT org_id, version, 'product', id FROM product
      UNION ALL SELECT org_id, version, 'stock_move', id FROM stock_move) r
JOIN org_sequence c ON c.org_id = r.org_id AND c.name = 'change'
WHERE r.org_id IN (SELECT id FROM organization WHERE {SCALE_ORGS});
INSERT INTO app_user (id, email, name, password_hash, disabled, created_at, sessions_valid_after)
SELECT md5(o.id || ':u:' || u)::uuid::text, 'member' || u || '.' || o.id || '@scale.test', 'Member', 'x', false,
       now(), now()
FROM organization o CROSS JOIN generate_series(1, {MEMBERS}) u WHERE o.{SCALE_ORGS};
INSERT INTO membership (org_id, id, user_id, roles, created_at)
SELECT o.id, md5(o.id || ':ms:' || u)::uuid::text, md5(o.id || ':u:' || u)::uuid::text, '["warehouse"]', now()
FROM organization o CROSS JOIN generate_series(1, {MEMBERS}) u WHERE o.{SCALE_ORGS};
INSERT INTO processed_mutation (org_id, id, user_id, device_id, name, status, result, processed_at)
SELECT o.id, md5(o.id || ':c:' || g)::uuid::text, md5(o.id || ':u:' || (1 + g % {MEMBERS}))::uuid::text, NULL,
       'inventory.record_stock_move', 'applied', '{{"status": "applied"}}', now()
FROM organization o CROSS JOIN generate_series(1, {MOVES}) g WHERE o.{SCALE_ORGS};
UPDATE org_sequence SET value = value + {1 + PRODUCTS + MOVES}
WHERE name = 'change' AND org_id IN (SELECT id FROM organization WHERE {SCALE_ORGS});
SET session_replication_role = origin;
"""

# The hot queries, as the server runs them. The no-op pull's (sync_server.noop_sync) are recorded
# from a real no-op pull on each store and explained under its scope (below); these are the others
# (sync_server.pull's incremental page, sync_server.writes, the push's reads).
HOT_QUERIES = {
    "pull with changes: change log after the cursor": (
        "SELECT seq, entity, entity_id FROM change_log WHERE org_id = %(org)s AND seq > %(after)s "
        "ORDER BY seq LIMIT 2001"
    ),
    "push: write lock": (
        "SELECT name, value FROM org_sequence WHERE org_id = %(org)s AND name IN ('audit', 'change') "
        "ORDER BY name FOR UPDATE"
    ),
    "push: seen mutation ids": (
        "SELECT id, user_id, result FROM processed_mutation WHERE org_id = %(org)s AND id IN (%(id)s, %(id2)s)"
    ),
    "push: a product by id": (
        "SELECT * FROM product WHERE org_id = %(org)s AND id = %(product)s AND deleted = false"
    ),
}
_SCOPE = (
    "SELECT set_config('role', %(role)s, true), set_config('app.org_id', %(org)s, true), "
    "set_config('app.user_id', %(user)s, true)"
)


KEEP_ENV = "OPS_BENCH_SCALE_KEEP"  # a directory: the generated stores are kept, and reused by the next run


@contextmanager
def scale_store(orgs: int, root: Path) -> Iterator[tuple[BenchServer, float]]:
    """A PostgreSQL store of ``orgs`` organizations of 10,000 rows each, served by ``ops-server``;
    yields it (measured organization in the middle) and the seconds generation took.

    With ``OPS_BENCH_SCALE_KEEP=DIR`` the store is kept after the run (database
    ``ops_bench_scale_<orgs>``, its server directory and keys under ``DIR``) and the next run
    reuses it instead of generating it again (~10 minutes for 1,000 organizations); the measured
    organization then holds the previous runs' pushes as well (about 7,000 stock moves a run, on
    both stores alike; not vacuumed again)."""
    keep = os.environ.get(KEEP_ENV)
    if keep:
        home = Path(keep).resolve() / f"orgs-{orgs}"
        name = f"ops_bench_scale_{orgs}"
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        made = _kept(home, name)
        if made is None:
            _drop_pg(name)
            shutil.rmtree(home, ignore_errors=True)
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    else:
        scratch = _pg_scratch()
        if scratch is None:
            raise RuntimeError("PostgreSQL is not reachable")
        url, name = scratch
        home, made = root, None
    try:
        config = ServerConfig(data_dir=home / "server", database_url=normalize_database_url(url))
        store = prepare_store(config)
        if made is None:
            made = _generate(store, config, url, orgs)
            if keep:
                (home / "ready.json").write_text(json.dumps(made))
        server = BenchServer(config, store, made["measured"], made["email"])
        with timed() as started:
            # A generous deadline: a server's first start on a freshly loaded 10M-row store (its
            # catalogue and statistics cold, other work on the machine) is measured, not assumed.
            server.start(start_deadline_s=900)
        server.started_s = started.seconds
        try:
            yield server, made["seconds"]
        finally:
            server.stop()
            store.dispose()
    finally:
        if not keep:
            _drop_pg(name)


def _kept(home: Path, name: str) -> dict[str, Any] | None:
    """The kept store's facts (measured organization, its user, generation seconds), or None."""
    ready = home / "ready.json"
    if not ready.exists():
        return None
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            return None
    facts: dict[str, Any] = json.loads(ready.read_text())
    return facts


def _generate(store: Any, config: ServerConfig, url: str, orgs: int) -> dict[str, Any]:
    """Generate the store's organizations and rows; the measured organization and its user."""
    services = Services.build(config, store)
    with timed() as made:
        org_ids = [admin_ops.create_org(store, f"Scale {n:04d}") for n in range(orgs)]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(_GENERATE)  # type: ignore[arg-type]
            # A deployed store is vacuumed (autovacuum, or by its operator): the bulk load's
            # pages are marked all-visible, so index-only scans need not visit the heap, and the
            # planner has statistics. Without it the plans and the page reads are a fresh load's.
            conn.execute("VACUUM ANALYZE")
            # … and checkpointed long since: the load's dirty pages written out now, not by the
            # measured requests' backends when they need a buffer.
            conn.execute("CHECKPOINT")
    measured = org_ids[orgs // 2]
    email = f"scale-{orgs}@bench.test"
    admin_ops.create_user(store, services.passwords, email, "Scale bench", PASSWORD)
    admin_ops.grant(store, email, measured, "warehouse")
    return {"measured": measured, "email": email, "seconds": made.seconds}


def _url(server: BenchServer) -> str:
    assert server.config.database_url is not None
    return server.config.database_url.replace("postgresql+psycopg://", "postgresql://")


def _noop_statements(server: BenchServer, token: str, cursor: str) -> list[tuple[str, Any]]:
    """The statements one no-op pull runs on ``server``'s store, with their parameters: the
    request answered in this process by the server's own WSGI app (its no-op layer), its
    DB-API statements recorded (``RawStatement.rows``, which ``Store.raw_reads`` runs them on)."""
    from werkzeug.test import EnvironBuilder

    from common.commands import rowaccess
    from sync_server.app import create_app

    app = create_app(ServerConfig.from_env(server.env()))
    environ = EnvironBuilder(
        path=f"/api/v1/orgs/{server.org_id}/sync/pull",
        query_string=urlencode({"cursor": cursor, "schema_version": SCHEMA_VERSION}),
        headers=[("Authorization", f"Bearer {token}")],
    ).get_environ()
    seen: list[tuple[str, Any]] = []
    original = rowaccess.RawStatement.rows

    def rows(self: rowaccess.RawStatement, dbapi_connection: Any, params: Any) -> list[Any]:
        seen.append((self.sql, params))
        return original(self, dbapi_connection, params)

    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)

    rowaccess.RawStatement.rows = rows  # type: ignore[method-assign]
    try:
        body = b"".join(app(environ, start_response))
    finally:
        rowaccess.RawStatement.rows = original  # type: ignore[method-assign]
        app.extensions["ops"].store.dispose()  # its connections are not the server's
    # Answered by the no-op layer (its statements were recorded: the request's scope, then its
    # one read of the caller and the counters), with no changes.
    assert statuses == ["200 OK"] and b'"changes":[]' in body and len(seen) >= 2, (statuses, body[:200], seen)
    return [(sql, params) for sql, params in seen if "set_config" not in sql]


def _explain(server: BenchServer, user_id: str, token: str, cursor: str) -> dict[str, str]:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of the no-op pull's statements, under the request's scope
    (role, organization and user: row-level security applies, as in the request), each run
    once before (its pages cached, as for a store that serves pulls), and of the other hot
    queries."""
    params = {
        "org": server.org_id,
        "after": 0,  # the organization's last change: an empty page (read below)
        "id": str(uuid.uuid4()),
        "id2": str(uuid.uuid4()),
        "product": str(uuid.uuid4()),
        "user": user_id,
        "role": server.config.app_role,
    }
    statements: list[tuple[str, str, Any]] = [
        (f"no-op pull {n}: {_what(sql)}", sql, p)
        for n, (sql, p) in enumerate(_noop_statements(server, token, cursor), start=1)
    ]
    statements += [(title, sql, params) for title, sql in HOT_QUERIES.items()]
    plans = {}
    with psycopg.connect(_url(server)) as conn:
        last = conn.execute(
            "SELECT value FROM org_sequence WHERE org_id = %(org)s AND name = 'change'", params
        ).fetchone()
        params["after"] = last[0] if last else 0
        for title, sql, values in statements:
            for _ in range(2):
                conn.execute(_SCOPE, params)  # type: ignore[arg-type]
                rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", values).fetchall()  # type: ignore[arg-type]
                conn.rollback()
            plans[title] = "\n".join(r[0] for r in rows)
    return plans


def _what(sql: str) -> str:
    """A no-op pull statement's tables, for its plan's title."""
    words = sql.replace("\n", " ").split()
    return ", ".join(dict.fromkeys(w for a, w in itertools.pairwise(words) if a in ("FROM", "JOIN")))


def _cpu_s(pids: list[int]) -> float:
    """Seconds these processes have run on a CPU so far, every thread (Linux: the scheduler's
    nanosecond account, ``/proc/PID/task/*/schedstat``; elsewhere user + system time, in clock
    ticks). A process that ended counts 0."""
    total = 0.0
    for pid in pids:
        tasks = list(Path(f"/proc/{pid}/task").glob("*/schedstat"))
        if tasks:
            for task in tasks:
                try:
                    total += int(task.read_text().split()[0]) / 1e9
                except (OSError, ValueError, IndexError):
                    continue  # a thread that ended meanwhile
            continue
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


class _Measured:
    """One store's measured organization: a synced client for no-op pulls, a tenant for pushes."""

    def __init__(self, server: BenchServer, root: Path) -> None:
        self.server = server
        # its setup push comes first; a code of its own (a kept store has the previous runs')
        self.tenant = Tenant(server, server.org_id, server.email, code=f"RUN-{uuid.uuid4().hex[:8]}")
        self.session = client(server, root)
        SyncEngine(self.session.store, self.session.api, self.session.org_id).run()
        cursor = saved_cursor(self.session.store)
        assert cursor is not None, "the initial sync saved no cursor"
        self.cursor: str = cursor
        self.pull()  # the connection open, the server's pages cached

    def pull(self) -> float:
        """One no-op pull over HTTP: its seconds."""
        start = time.perf_counter()
        page = self.session.api.pull(
            self.server.org_id, self.cursor, limit=2000, schema_version=SCHEMA_VERSION
        )
        seconds = time.perf_counter() - start
        assert not page["changes"] and not page["has_more"], page
        return seconds

    def server_pids(self) -> list[int]:
        """The ops-server process and the PostgreSQL backends connected to its database."""
        assert self.server.process is not None
        with psycopg.connect(_url(self.server), autocommit=True) as conn:
            backends = [
                pid
                for (pid,) in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ]
        return [self.server.process.pid, *backends]

    def push_rate(self) -> tuple[float, float]:
        """One 1,000-command push over HTTP: commands/s, and its server's CPU per command in µs
        (``ops-server`` and its PostgreSQL backends)."""
        batch = self.tenant.moves(1000)
        pids = self.server_pids()
        cpu = _cpu_s(pids)
        start = time.perf_counter()
        self.tenant.push(batch)
        seconds = time.perf_counter() - start
        return len(batch) / seconds, (_cpu_s(pids) - cpu) / len(batch) * 1e6


def noop_pull_rounds(small: _Measured, large: _Measured, rounds: int, samples: int) -> dict[str, list[float]]:
    """No-op pulls on both stores, one on each in turn (small, large, large, small…), ``samples``
    each a round: per round, each side's p50 (``<side>_ms``) and its server's CPU per pull in µs
    (``<side>_cpu_us``: the ``ops-server`` process and its PostgreSQL backends, which other work
    on the shared machine changes far less than the wall time; ``<side>_pg_us``: the backends'
    part)."""
    names = ("small", "large")
    found: dict[str, list[float]] = {
        f"{name}_{what}": [] for name in names for what in ("ms", "cpu_us", "pg_us")
    }
    for n in range(rounds):
        pids = {"small": small.server_pids(), "large": large.server_pids()}
        before = {name: (_cpu_s(p[:1]), _cpu_s(p[1:])) for name, p in pids.items()}
        times: dict[str, list[float]] = {"small": [], "large": []}
        for i in range(samples):
            pair = [("small", small), ("large", large)]
            for name, side in pair if (n + i) % 2 == 0 else pair[::-1]:
                times[name].append(side.pull())
        for name, p in pids.items():
            server_s, pg_s = _cpu_s(p[:1]) - before[name][0], _cpu_s(p[1:]) - before[name][1]
            found[f"{name}_cpu_us"].append((server_s + pg_s) / samples * 1e6)
            found[f"{name}_pg_us"].append(pg_s / samples * 1e6)
            found[f"{name}_ms"].append(median(times[name]) * 1000)
    return found


def run(quick: bool) -> list[Figure]:
    large_orgs = 100 if quick else 1000
    rounds = 3 if quick else 7
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        root = Path(tmp)
        with (
            scale_store(10, root / "small") as (small_server, _),
            scale_store(large_orgs, root / "large") as (
                large_server,
                made_s,
            ),
        ):
            small, large = (
                _Measured(small_server, root / "small-client"),
                _Measured(large_server, root / "large-client"),
            )
            plans = {
                f"{orgs:,} organizations": _explain(
                    side.server, side.session.user.id, side.session.api._access_token or "", side.cursor
                )
                for orgs, side in ((large_orgs, large), (10, small))
            }
            load_before = os.getloadavg()[0]
            pulls = noop_pull_rounds(small, large, rounds, samples=300 if quick else 1000)
            pushes_small, pushes_large = interleaved(rounds, small.push_rate, large.push_rate)
            load_after = os.getloadavg()[0]
            small.session.close()
            large.session.close()
    (push_small, push_cpu_small), (push_large, push_cpu_large) = (
        [list(x) for x in zip(*pushes_small, strict=True)],
        [list(x) for x in zip(*pushes_large, strict=True)],
    )
    rows = large_orgs * (1 + PRODUCTS + MOVES)
    label = f"{large_orgs:,} organizations ({rows / 1e6:.0f}M rows) vs 10"
    return [
        info(f"scale store generated: {large_orgs:,} organizations, {rows:,} rows + change log", made_s, "s"),
        info(f"ops-server start-up on the {large_orgs:,}-organization store", large_server.started_s, "s"),
        info("ops-server start-up on the 10-organization store", small_server.started_s, "s"),
        rounds_row(
            f"no-op pull p50, {label}",
            ratios(pulls["large_ms"], pulls["small_ms"]),
            unit="x",
            at_most=WITHIN,
            large_ms=[round(x, 3) for x in pulls["large_ms"]],
            small_ms=[round(x, 3) for x in pulls["small_ms"]],
            load_average=[round(load_before, 1), round(load_after, 1)],
            plans=plans,
        ),
        rounds_row(
            f"server CPU per no-op pull (ops-server + PostgreSQL backends), {label}",
            ratios(pulls["large_cpu_us"], pulls["small_cpu_us"]),
            unit="x",
            large_us=[round(x) for x in pulls["large_cpu_us"]],
            small_us=[round(x) for x in pulls["small_cpu_us"]],
            large_postgresql_us=[round(x) for x in pulls["large_pg_us"]],
            small_postgresql_us=[round(x) for x in pulls["small_pg_us"]],
        ),
        rounds_row(
            f"push rate, {label} (slower by)",
            ratios(push_small, push_large),
            unit="x",
            at_most=WITHIN,
            large_commands_per_s=[round(x) for x in push_large],
            small_commands_per_s=[round(x) for x in push_small],
        ),
        rounds_row(
            f"server CPU per pushed command (ops-server + PostgreSQL backends), {label}",
            ratios(push_cpu_large, push_cpu_small),
            unit="x",
            large_us=[round(x) for x in push_cpu_large],
            small_us=[round(x) for x in push_cpu_small],
        ),
    ]


if __name__ == "__main__":
    from bench.harness import render

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(render([f.as_dict() for f in run(quick="--quick" in sys.argv)], {}))

"""Scale by organization on PostgreSQL (DESIGN §9): 1,000 organizations and 10M rows against 10.

Not part of ``make bench`` (generating the large store takes minutes on two cores): run it with
``make bench-scale``. Two stores are made side by side, the same per organization (a warehouse,
2,000 products, 7,999 stock moves and a change-log row for each, 10,000 rows), one with 1,000
organizations (10M rows, 10M change-log rows, 8M processed commands, 5,000 members), one with
10. Rows are generated inside
PostgreSQL (``INSERT … SELECT … generate_series``, foreign-key triggers off for the load: the
rows are consistent by construction), organizations and users through ``sync_server.admin_ops``.
Each store is served by its own ``ops-server run`` process, and one organization in the middle
of each is measured in interleaved rounds: a no-op incremental pull's p50 (the most frequent
request of all) and the push rate of a 1,000-command batch over HTTP. The figures are the large
store's over the small one's, median round. The plans of the hot queries on the large store are
kept in the figures' details (bench/README.md shows them).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from bench.bench_tenants import Tenant
from bench.harness import Figure, info, interleaved, median, ratios, rounds_row, timed
from bench.sync_setup import PASSWORD, BenchServer, _drop_pg, _pg_scratch, client
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

# The hot queries, as the server runs them (sync_server.pull, writes, auth.principal).
HOT_QUERIES = {
    "no-op pull: change log after the cursor": (
        "SELECT seq, entity, entity_id FROM change_log WHERE org_id = %(org)s AND seq > %(after)s "
        "ORDER BY seq LIMIT 2001"
    ),
    "pull: the organization's counters": (
        "SELECT name, value FROM org_sequence WHERE org_id = %(org)s AND name IN ('change', 'pruned')"
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
    "every request: the caller's membership": (
        "SELECT * FROM membership WHERE org_id = %(org)s AND user_id = %(user)s"
    ),
}


@contextmanager
def scale_store(orgs: int, root: Path) -> Iterator[tuple[BenchServer, float]]:
    """A PostgreSQL store of ``orgs`` organizations of 10,000 rows each, served by ``ops-server``;
    yields it (measured organization in the middle) and the seconds generation took."""
    scratch = _pg_scratch()
    if scratch is None:
        raise RuntimeError("PostgreSQL is not reachable")
    url, name = scratch
    try:
        config = ServerConfig(data_dir=root / "server", database_url=normalize_database_url(url))
        store = prepare_store(config)
        services = Services.build(config, store)
        with timed() as made:
            org_ids = [admin_ops.create_org(store, f"Scale {n:04d}") for n in range(orgs)]
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(_GENERATE)  # type: ignore[arg-type]
                conn.execute("VACUUM ANALYZE")
        measured = org_ids[orgs // 2]
        email = f"scale-{orgs}@bench.test"
        admin_ops.create_user(store, services.passwords, email, "Scale bench", PASSWORD)
        admin_ops.grant(store, email, measured, "warehouse")
        server = BenchServer(config, store, measured, email)
        with timed() as started:
            # A generous deadline: a server's first start on a freshly loaded 10M-row store (its
            # catalogue and statistics cold, other work on the machine) is measured, not assumed.
            server.start(start_deadline_s=900)
        server.started_s = started.seconds
        try:
            yield server, made.seconds
        finally:
            server.stop()
            store.dispose()
    finally:
        _drop_pg(name)


def _explain(server: BenchServer, user_id: str) -> dict[str, str]:
    assert server.config.database_url is not None
    url = server.config.database_url.replace("postgresql+psycopg://", "postgresql://")
    params = {
        "org": server.org_id,
        "after": 0,  # the organization's last change: a no-op pull (read below)
        "id": str(uuid.uuid4()),
        "id2": str(uuid.uuid4()),
        "product": str(uuid.uuid4()),
        "user": user_id,
    }
    plans = {}
    with psycopg.connect(url) as conn:
        last = conn.execute(
            "SELECT value FROM org_sequence WHERE org_id = %(org)s AND name = 'change'", params
        ).fetchone()
        params["after"] = last[0] if last else 0
        for title, sql in HOT_QUERIES.items():
            rows = conn.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {sql}", params).fetchall()  # type: ignore[arg-type]
            plans[title] = "\n".join(r[0] for r in rows)
        conn.rollback()
    return plans


class _Measured:
    """One store's measured organization: a synced client for no-op pulls, a tenant for pushes."""

    def __init__(self, server: BenchServer, root: Path) -> None:
        self.server = server
        self.tenant = Tenant(server, server.org_id, server.email)  # its setup push comes first
        self.session = client(server, root)
        SyncEngine(self.session.store, self.session.api, self.session.org_id).run()
        self.cursor = saved_cursor(self.session.store)

    def noop_pull_p50(self, samples: int = 200) -> float:
        times = []
        for _ in range(samples):
            start = time.perf_counter()
            page = self.session.api.pull(
                self.server.org_id, self.cursor, limit=2000, schema_version=SCHEMA_VERSION
            )
            times.append(time.perf_counter() - start)
            assert not page["changes"]
        return median(times) * 1000

    def push_rate(self) -> float:
        batch = self.tenant.moves(1000)
        start = time.perf_counter()
        self.tenant.push(batch)
        return len(batch) / (time.perf_counter() - start)


def run(quick: bool) -> list[Figure]:
    large_orgs = 100 if quick else 1000
    rounds = 3 if quick else 5
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
            plans = _explain(large_server, large.session.user.id)
            pulls_small, pulls_large = interleaved(rounds, small.noop_pull_p50, large.noop_pull_p50)
            push_small, push_large = interleaved(rounds, small.push_rate, large.push_rate)
            small.session.close()
            large.session.close()
    rows = large_orgs * (1 + PRODUCTS + MOVES)
    label = f"{large_orgs:,} organizations ({rows / 1e6:.0f}M rows) vs 10"
    detail: dict[str, Any] = {"plans": plans}
    return [
        info(f"scale store generated: {large_orgs:,} organizations, {rows:,} rows + change log", made_s, "s"),
        info(f"ops-server start-up on the {large_orgs:,}-organization store", large_server.started_s, "s"),
        info("ops-server start-up on the 10-organization store", small_server.started_s, "s"),
        rounds_row(
            f"no-op pull p50, {label}",
            ratios(pulls_large, pulls_small),
            unit="x",
            at_most=WITHIN,
            large_ms=[round(x, 3) for x in pulls_large],
            small_ms=[round(x, 3) for x in pulls_small],
            **detail,
        ),
        rounds_row(
            f"push rate, {label} (slower by)",
            ratios(push_small, push_large),
            unit="x",
            at_most=WITHIN,
            large_commands_per_s=[round(x) for x in push_large],
            small_commands_per_s=[round(x) for x in push_small],
        ),
    ]


if __name__ == "__main__":
    from bench.harness import render

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(render([f.as_dict() for f in run(quick="--quick" in sys.argv)], {}))

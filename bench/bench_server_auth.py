"""The sync server's own costs: sign-in, a single client's authenticated no-op, the write path.

The server runs as it does in production: ``ops-server run`` (cheroot) in its own process over an
embedded SQLCipher store seeded with ``ops-server demo``, production Argon2id parameters. Sign-in
and one client's no-op requests (``GET /me``, an empty push) are context, without targets.

Push throughput (DESIGN §9: ≥ 2,000 commands/s per organization on both stores;
validated, applied, audited) is measured here through ``sync_server.writes.apply_mutations``
alone, on both stores. The rows measured over HTTP (push from a client outbox, 50 clients doing
no-op incremental syncs against a bare Flask endpoint) are ``bench_sync``'s.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.harness import Figure, at_least, info, median, percentile
from bench.sync_setup import free_port, wait_up
from common.schema import SCHEMA_VERSION

PASSWORD = "bench password 1"


def _request(
    conn: http.client.HTTPConnection, method: str, path: str, body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    return response.status, json.loads(data) if data else None


def _server_figures(quick: bool, data_dir: Path) -> list[Figure]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OPS_")}, "OPS_DATA_DIR": str(data_dir)}
    ops = str(Path(sys.executable).with_name("ops-server"))
    subprocess.run([ops, "demo", "--password", PASSWORD], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [ops, "run", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    figures: list[Figure] = []
    try:
        wait_up(port, "/healthz", server)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        logins = []
        for _ in range(5 if quick else 20):
            start = time.perf_counter()
            status, body = _request(
                conn, "POST", "/api/v1/auth/login", {"email": "warehouse@acme.test", "password": PASSWORD}
            )
            logins.append(time.perf_counter() - start)
            assert status == 200, body
        token, org_id = body["access_token"], body["memberships"][0]["org_id"]
        figures.append(
            info("server: sign-in latency p50 (Argon2id, production parameters)", median(logins) * 1000, "ms")
        )
        push_path = f"/api/v1/orgs/{org_id}/sync/push"
        empty_push = {"client_id": "bench", "schema_version": SCHEMA_VERSION, "mutations": []}
        for name, method, path, payload in (
            ("GET /api/v1/me", "GET", "/api/v1/me", None),
            ("empty push", "POST", push_path, empty_push),
        ):
            samples = []
            for _ in range(100 if quick else 500):
                start = time.perf_counter()
                status, _ = _request(conn, method, path, payload, token)
                samples.append(time.perf_counter() - start)
                assert status == 200
            figures.append(
                info(
                    f"server: authenticated no-op ({name}), one client, p50",
                    median(samples) * 1000,
                    "ms",
                    p99_ms=percentile(samples, 99) * 1000,
                )
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return figures


def _moves(product_ids: list[str], warehouse_id: str, count: int) -> list[dict[str, Any]]:
    """Stock moves as a desktop's outbox holds them: the commands' and the moves' ids UUIDv7
    (``common.ids.new_id``), time-ordered as DESIGN §3 has every id."""
    from common.ids import new_id

    return [
        {
            "id": new_id(),
            "name": "inventory.record_stock_move",
            "args": {
                "id": new_id(),
                "product_id": product_ids[n % len(product_ids)],
                "to_warehouse_id": warehouse_id,
                "quantity": "2",
                "reason": "receipt",
            },
        }
        for n in range(count)
    ]


def _direct_push(database_url: str | None, quick: bool, synchronous: str = "FULL") -> float:
    from common.permissions import BUILTIN_ROLES
    from common.wire import Mutation
    from sync_server import admin_ops
    from sync_server.config import ServerConfig, normalize_database_url
    from sync_server.store import prepare_store
    from sync_server.writes import apply_in_slices, apply_mutations

    config = ServerConfig(
        data_dir=Path(tempfile.mkdtemp(prefix="bench-push-")),
        database_url=normalize_database_url(database_url),
        sqlite_synchronous=synchronous,
    )
    store = prepare_store(config)
    org_id = admin_ops.create_org(store, f"Bench {uuid.uuid4().hex[:8]}")
    user = str(uuid.uuid4())
    perms = BUILTIN_ROLES["warehouse"]
    warehouse = str(uuid.uuid4())
    products = [str(uuid.uuid4()) for _ in range(50)]
    setup = [
        Mutation(
            id=str(uuid.uuid4()),
            name="inventory.create_warehouse",
            args={"id": warehouse, "code": "B", "name": "Bench"},
        )
    ]
    setup += [
        Mutation(
            id=str(uuid.uuid4()),
            name="inventory.create_product",
            args={"id": p, "sku": f"B-{n}", "name": "Bench", "sale_price": 100, "currency": "EUR"},
        )
        for n, p in enumerate(products)
    ]
    with store.session(org_id, user_id=user, write=True) as session:
        apply_mutations(session, org_id, user, None, perms, setup)
    best = 0.0
    for _ in range(2 if quick else 5):
        batch = [Mutation.model_validate(m) for m in _moves(products, warehouse, 1000)]
        start = time.perf_counter()
        results = apply_in_slices(store, org_id, user, None, perms, batch)  # as a push runs it
        best = max(best, len(batch) / (time.perf_counter() - start))
        assert {r.status for r in results} == {"applied"}
    store.dispose()
    return best


def _durability(quick: bool) -> list[Figure]:
    """The embedded push with synchronous=FULL (what the server runs) and NORMAL, interleaved."""
    rounds: dict[str, list[float]] = {"FULL": [], "NORMAL": []}
    for _ in range(2 if quick else 3):
        for mode in ("FULL", "NORMAL"):
            rounds[mode].append(_direct_push(None, quick, mode))
    ratios = [full / normal for full, normal in zip(rounds["FULL"], rounds["NORMAL"], strict=True)]
    return [
        at_least("push, write path only, embedded store", median(rounds["FULL"]), 2000, "commands/s"),
        info(
            "embedded store: push rate with synchronous=FULL vs NORMAL (FULL survives power loss)",
            median(ratios),
            "x",
            full=round(median(rounds["FULL"])),
            normal=round(median(rounds["NORMAL"])),
            min_ratio=round(min(ratios), 3),
            max_ratio=round(max(ratios), 3),
        ),
    ]


def _pg_database() -> tuple[str, str] | None:
    """A scratch PostgreSQL database (URL, name), or None when the service is not reachable."""
    admin = os.environ.get("OPS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        import psycopg

        name = f"ops_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    except Exception:
        return None
    return admin.rsplit("/", 1)[0] + f"/{name}", name


def run(quick: bool) -> list[Figure]:
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-server-") as data_dir:
        figures.extend(_server_figures(quick, Path(data_dir)))
    figures.extend(_durability(quick))
    pg = _pg_database()
    if pg is None:
        figures.append(
            info("push, write path only, PostgreSQL: service not reachable", float("nan"), "commands/s")
        )
    else:
        url, name = pg
        try:
            figures.append(
                at_least("push, write path only, PostgreSQL", _direct_push(url, quick), 2000, "commands/s")
            )
        finally:
            import psycopg

            admin = os.environ.get("OPS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
    return figures


if __name__ == "__main__":
    from bench.harness import render

    print(render([f.as_dict() for f in run(quick="--quick" in sys.argv)], {}))

"""Fair tenants (DESIGN §9): another organization's push while one pushes 1,000-command batches.

``ops-server run`` in its own process, on the embedded store and on PostgreSQL. A large tenant
pushes 1,000-command batches back to back over HTTP; meanwhile a small tenant (another
organization, another user) sends single-command pushes one after another, and each of its
pushes is timed. The figure is the small tenant's p95 (≤ 100 ms), beside the same pushes with
the large tenant idle and the large tenant's own rate meanwhile. On the embedded store one writer
holds the lock for every organization: a push is applied in slices and writers take turns
(``sync_server.writes.apply_in_slices``); on PostgreSQL each organization has its own lock.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
import uuid
from typing import Any

from bench.harness import Figure, at_most, info, median, percentile
from bench.sync_setup import PASSWORD, BenchServer, bench_server, pg_available
from common.schema import SCHEMA_VERSION
from sync_server import admin_ops
from sync_server.services import Services

BATCH = 1000
TARGET_P95_MS = 100


class Tenant:
    """One organization's user with a keep-alive connection, a warehouse and some products."""

    def __init__(self, server: BenchServer, org_id: str, email: str, code: str = "MAIN") -> None:
        """``code``: the warehouse's code, and the prefix of its products' SKUs (unique in the
        organization: a kept store's organization has the previous runs' tenants)."""
        self.org_id = org_id
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        status, body = self._call("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})
        assert status == 200, body
        self.token = body["access_token"]
        self.warehouse = str(uuid.uuid4())
        self.products = [str(uuid.uuid4()) for _ in range(20)]
        setup = [_mutation("inventory.create_warehouse", id=self.warehouse, code=code, name="Main")]
        setup += [
            _mutation("inventory.create_product", id=p, sku=f"{code}-{n}", name="Tenant product", sale_price=100,
                      currency="EUR")
            for n, p in enumerate(self.products)
        ]  # fmt: skip
        self.push(setup)

    def _call(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        token: str | None = getattr(self, "token", None)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            self.conn.request(method, path, body=json.dumps(body), headers=headers)
            response = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server had closed the idle keep-alive connection (its 30 s timeout) before it
            # read this request: nothing was applied, so sending it again on a new one is safe.
            self.conn.close()
            self.conn.request(method, path, body=json.dumps(body), headers=headers)
            response = self.conn.getresponse()
        return response.status, json.loads(response.read())

    def moves(self, count: int) -> list[dict[str, Any]]:
        return [
            _mutation(
                "inventory.record_stock_move",
                id=str(uuid.uuid4()),
                product_id=self.products[n % len(self.products)],
                to_warehouse_id=self.warehouse,
                quantity="1",
                reason="receipt",
            )
            for n in range(count)
        ]

    def push(self, mutations: list[dict[str, Any]]) -> None:
        body = {"client_id": "bench", "schema_version": SCHEMA_VERSION, "mutations": mutations}
        status, answer = self._call("POST", f"/api/v1/orgs/{self.org_id}/sync/push", body)
        assert status == 200, answer
        assert all(r["status"] == "applied" for r in answer["results"]), answer


def _mutation(command: str, **args: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "name": command, "args": args}


def _second_tenant(server: BenchServer) -> tuple[str, str]:
    services = Services.build(server.config, server.store)
    org_id = admin_ops.create_org(server.store, "Small Tenant")
    email = "small@tenant.test"
    admin_ops.create_user(server.store, services.passwords, email, "Small tenant", PASSWORD)
    admin_ops.grant(server.store, email, org_id, "warehouse")
    return org_id, email


def _small_pushes(small: Tenant, count: int, deadline: float) -> list[float]:
    latencies = []
    for mutations in [small.moves(1) for _ in range(count)]:
        start = time.perf_counter()
        small.push(mutations)
        latencies.append(time.perf_counter() - start)
        if time.monotonic() > deadline:
            break
    return latencies


def measure(store_name: str, postgres: bool, small_pushes: int, seconds: float) -> list[Figure]:
    with bench_server(postgres=postgres) as server:
        big = Tenant(server, server.org_id, server.email)
        small = Tenant(server, *_second_tenant(server))
        alone = _small_pushes(small, small_pushes, time.monotonic() + seconds)
        stop = threading.Event()
        pushed = [0]

        def large_tenant() -> None:
            while not stop.is_set():
                big.push(big.moves(BATCH))
                pushed[0] += BATCH

        worker = threading.Thread(target=large_tenant, name="large-tenant")
        started = time.perf_counter()
        worker.start()
        time.sleep(0.5)  # the large tenant is in the middle of a batch when the small one starts
        during = _small_pushes(small, small_pushes, time.monotonic() + seconds)
        stop.set()
        worker.join(timeout=120)
        big_rate = pushed[0] / (time.perf_counter() - started)
    return [
        info(
            f"small tenant's single push alone, {store_name} store, p95",
            percentile(alone, 95) * 1000,
            "ms",
            p50_ms=round(median(alone) * 1000, 2),
            pushes=len(alone),
        ),
        at_most(
            f"small tenant's single push while another pushes 1,000-command batches, {store_name}, p95",
            percentile(during, 95) * 1000,
            TARGET_P95_MS,
            "ms",
            p50_ms=round(median(during) * 1000, 2),
            max_ms=round(max(during) * 1000, 1),
            pushes=len(during),
        ),
        info(f"the large tenant's push rate meanwhile, {store_name}", big_rate, "commands/s"),
    ]


def run(quick: bool) -> list[Figure]:
    pushes, seconds = (100, 10.0) if quick else (300, 20.0)
    figures = measure("embedded", False, pushes, seconds)
    if pg_available():
        figures += measure("PostgreSQL", True, pushes, seconds)
    else:
        figures.append(info("fair tenants, PostgreSQL: service not reachable", float("nan"), "ms"))
    return figures


if __name__ == "__main__":
    from bench.harness import render

    print(render([f.as_dict() for f in run(quick="--quick" in sys.argv)], {}))

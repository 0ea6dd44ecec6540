"""The sync bench's fixtures: a real ``ops-server run`` process, bulk server data, real clients.

The server runs as in production, in its own process, over an embedded SQLCipher store (or
PostgreSQL). Large server data is written straight into the store the way the write path leaves
it (rows with ``version`` = change sequence, one change-log row each, the counter advanced),
because pushing 300k commands first would take minutes and measure something else (push has its
own figure). Clients are real encrypted local stores with the real sync engine.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update

from common.db import new_key
from common.ids import new_id
from common.schema import ChangeLog, OrgSequence, Product, StockMove, Warehouse
from common.schema.base import table_of
from common.schema.types import utcnow
from desktop.api_client import ApiClient
from desktop.local_store import LocalStore
from desktop.profiles import Profile
from desktop.session import UserSession, save_session_facts
from sync_server import admin_ops
from sync_server.config import ServerConfig, normalize_database_url
from sync_server.serve import DEFAULT_THREADS
from sync_server.services import Services
from sync_server.store import Store, prepare_store
from sync_server.writes import CHANGE_SEQUENCE, lock_organization

PASSWORD = "bench password 1"
PG_ADMIN = os.environ.get("OPS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(port: int, path: str, proc: subprocess.Popen[bytes], deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.05)  # polling a starting subprocess, with a deadline
    raise RuntimeError("server did not start")


@dataclass
class BenchServer:
    """A prepared store with one organization and its warehouse user, served by ``ops-server``."""

    config: ServerConfig
    store: Store
    org_id: str
    email: str
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    started_s: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_")}
        env["OPS_DATA_DIR"] = str(self.config.data_dir)
        if self.config.database_url:
            env["OPS_DATABASE_URL"] = self.config.database_url
        # The 50-client rows send every request with one user's token, thousands a second: the
        # per-user limit (sync_server.auth.request_limit) would stop them. It stays on, checked on
        # every request as in production, but set where it never refuses.
        env["OPS_USER_REQUESTS_PER_MINUTE"] = env["OPS_USER_REQUEST_BURST"] = str(10**9)
        return env

    def start(
        self,
        threads: int = DEFAULT_THREADS,
        workers: int = 1,
        port: int | None = None,
        start_deadline_s: float = 60,
    ) -> None:
        self.port = port or free_port()
        ops = str(Path(sys.executable).with_name("ops-server"))
        self.process = subprocess.Popen(
            [ops, "run", "--port", str(self.port), "--threads", str(threads), "--workers", str(workers)],
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_up(self.port, "/healthz", self.process, start_deadline_s)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


def _pg_scratch() -> tuple[str, str] | None:
    try:
        import psycopg

        name = f"ops_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    except Exception:
        return None
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", name


def pg_available() -> bool:
    scratch = _pg_scratch()
    if scratch is None:
        return False
    _drop_pg(scratch[1])
    return True


def _drop_pg(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


@contextmanager
def bench_server(postgres: bool = False, threads: int = DEFAULT_THREADS) -> Iterator[BenchServer]:
    """A running ``ops-server`` with a fresh organization; everything removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        scratch = _pg_scratch() if postgres else None
        if postgres and scratch is None:
            raise RuntimeError("PostgreSQL is not reachable")
        config = ServerConfig(
            data_dir=Path(tmp) / "server",
            database_url=normalize_database_url(scratch[0]) if scratch else None,
        )
        store = prepare_store(config)
        services = Services.build(config, store)
        org_id = admin_ops.create_org(
            store, "Bench Trading", books=False
        )  # the rows counted are the bench's own
        email = "warehouse@bench.test"
        admin_ops.create_user(store, services.passwords, email, "Bench warehouse", PASSWORD)
        admin_ops.grant(store, email, org_id, "warehouse")
        server = BenchServer(config, store, org_id, email)
        server.start(threads)
        try:
            yield server
        finally:
            server.stop()
            store.dispose()
            if scratch is not None:
                _drop_pg(scratch[1])


def seed_inventory(server: BenchServer, rows: int, *, products_share: int = 6) -> dict[str, Any]:
    """``rows`` inventory rows (a warehouse, then products and stock moves, 1 in ``products_share``
    a product), written as the write path leaves them, each with its change-log row."""
    org_id = server.org_id
    now = utcnow()
    warehouse_id = new_id()
    n_products = max(1, rows // products_share)
    product_ids = [new_id() for _ in range(n_products)]
    with server.store.session(org_id, write=True) as session:
        lock = lock_organization(session, org_id)
        seq = lock.change_seq
        changes: list[dict[str, Any]] = []

        def stamp(entity: str, entity_id: str) -> int:
            nonlocal seq
            seq += 1
            changes.append(
                {"org_id": org_id, "seq": seq, "entity": entity, "entity_id": entity_id, "at": now}
            )
            return seq

        base = {"org_id": org_id, "updated_at": now, "updated_by": None, "deleted": False}
        session.execute(
            insert(table_of(Warehouse)),
            [
                {
                    **base,
                    "id": warehouse_id,
                    "version": stamp("warehouse", warehouse_id),
                    "code": f"W{seq}",
                    "name": "Bench",
                }
            ],
        )
        products = [
            {
                **base,
                "id": pid,
                "version": stamp("product", pid),
                "sku": f"SKU-{uuid.uuid4().hex[:12]}",
                "name": f"Bench product {n}",
                "description": "A product of the sync benchmark, described in a sentence or two.",
                "barcode": f"{4000000000000 + n}",
                "unit": "pcs",
                "sale_price": 1000 + n,
                "cost_price": 500,
                "currency": "EUR",
                "reorder_point": 5,
                "archived": False,
            }
            for n, pid in enumerate(product_ids)
        ]
        for start in range(0, len(products), 20000):
            session.execute(insert(table_of(Product)), products[start : start + 20000])
        n_moves = rows - 1 - n_products
        batch: list[dict[str, Any]] = []
        for n in range(n_moves):
            mid = new_id()
            batch.append(
                {
                    **base,
                    "id": mid,
                    "version": stamp("stock_move", mid),
                    "product_id": product_ids[n % n_products],
                    "from_warehouse_id": None,
                    "to_warehouse_id": warehouse_id,
                    "quantity": 3,
                    "unit_cost": 450,
                    "currency": "EUR",
                    "reason": "receipt",
                    "note": None,
                    "reference": f"PO-{n % 997}",
                    "moved_at": now,
                    "negative_stock": False,
                    "reverses_move_id": None,
                }
            )
            if len(batch) == 20000:
                session.execute(insert(table_of(StockMove)), batch)
                batch.clear()
        if batch:
            session.execute(insert(table_of(StockMove)), batch)
        for start in range(0, len(changes), 50000):
            session.execute(insert(table_of(ChangeLog)), changes[start : start + 50000])
        session.execute(
            update(table_of(OrgSequence))
            .where(OrgSequence.org_id == org_id, OrgSequence.name == CHANGE_SEQUENCE)
            .values(value=seq)
        )
    return {"warehouse": warehouse_id, "products": product_ids, "last_seq": seq}


def age_history(server: BenchServer, days: int) -> None:
    """Make the whole change log ``days`` old (the server's clock moved on)."""
    with server.store.session(server.org_id, write=True) as session:
        session.execute(
            update(table_of(ChangeLog))
            .where(ChangeLog.org_id == server.org_id)
            .values(at=utcnow() - timedelta(days=days))
        )


def client(server: BenchServer, root: Path) -> UserSession:
    """A signed-in desktop session on a new, empty encrypted store."""
    api = ApiClient(server.url)
    me = api.login(server.email, PASSWORD)
    membership = me.membership(server.org_id)
    assert membership is not None
    profile = Profile(server.url, server.email, server.org_id)
    profile.directory(root).mkdir(parents=True, exist_ok=True, mode=0o700)
    store = LocalStore.open_with_key(root, profile, new_key())
    save_session_facts(store, me.user, membership, me.memberships)
    return UserSession(root, server.url, me.user, membership, me.memberships, store, api, online=True)

"""Where the no-op pull's cost goes on the two scale stores, in figures the machine's load changes
little: ``OPS_BENCH_SCALE_KEEP=DIR python -m bench.scale_probe`` after a ``make bench-scale`` run
with the same ``OPS_BENCH_SCALE_KEEP`` (it reads the kept stores; it generates nothing).

For the measured organization of each store (10 and 1,000 organizations), in interleaved rounds:

- ``in-process``: the server's WSGI app (its no-op layer, ``sync_server.noop_sync``) called in
  this process; CPU per pull of this process (the server's Python) and of the PostgreSQL backend
  (the scheduler's nanosecond account), and the wall p50;
- ``replay``: the no-op pull's statements as the server sends them (scope, statements, commit;
  prepared), recorded from a real no-op pull, on one connection: the backend's CPU per pull;
- ``loop``: the same statements executed in a PL/pgSQL loop inside one transaction under the
  request's scope: the backend's CPU per execution (the statements alone, no protocol);

then each store's tables as the no-op pull sees them: pages, all-visible pages, dead rows, the
b-tree levels of their indexes, and the settings that bound the working set.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
from werkzeug.test import EnvironBuilder

from bench.scale_by_org import KEEP_ENV
from bench.sync_setup import PASSWORD, PG_ADMIN, BenchServer
from common.commands import rowaccess
from common.schema import SCHEMA_VERSION
from sync_server.app import create_app
from sync_server.config import ServerConfig, normalize_database_url

TABLES = ("app_user", "refresh_token", "membership", "employee", "org_sequence", "change_log")
SETTINGS = ("shared_buffers", "effective_cache_size", "work_mem", "random_page_cost", "autovacuum")


def _cpu_s(pid: int) -> float:
    """Seconds ``pid`` has run on a CPU, every thread (Linux schedstat, nanoseconds)."""
    return sum(int(t.read_text().split()[0]) for t in Path(f"/proc/{pid}/task").glob("*/schedstat")) / 1e9


class Store:
    """One kept store's measured organization, signed in and synced in this process."""

    def __init__(self, home: Path, orgs: int) -> None:
        facts = json.loads((home / f"orgs-{orgs}" / "ready.json").read_text())
        self.orgs, self.org = orgs, facts["measured"]
        self.url = PG_ADMIN.rsplit("/", 1)[0] + f"/ops_bench_scale_{orgs}"
        config = ServerConfig(
            data_dir=home / f"orgs-{orgs}" / "server", database_url=normalize_database_url(self.url)
        )
        bench = BenchServer(config, None, self.org, facts["email"])  # type: ignore[arg-type]
        self.config = ServerConfig.from_env(bench.env())
        self.app = create_app(self.config)
        web = self.app.test_client()
        answer = web.post("/api/v1/auth/login", json={"email": facts["email"], "password": PASSWORD})
        assert answer.status_code == 200 and answer.json, answer.json
        self.user = answer.json["user"]["id"]
        headers = [("Authorization", f"Bearer {answer.json['access_token']}")]
        cursor, rows = None, 0
        while True:  # the initial download, to the cursor of a no-op pull
            query: dict[str, Any] = {"limit": 2000, "schema_version": SCHEMA_VERSION}
            if cursor:
                query["cursor"] = cursor
            page = web.get(f"/api/v1/orgs/{self.org}/sync/pull", query_string=query, headers=headers).json
            assert page is not None and "changes" in page, page
            rows += len(page["changes"])
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        assert rows >= 10_000, f"{orgs} organizations: the measured organization pulled {rows} rows"
        self.environ = EnvironBuilder(
            path=f"/api/v1/orgs/{self.org}/sync/pull",
            query_string=urlencode({"cursor": cursor, "schema_version": SCHEMA_VERSION}),
            headers=headers,
        ).get_environ()
        self.backend_pid = self._backends()
        self.statements = self._record()
        self.replay = psycopg.connect(self.url)
        self.replay_pid = self.replay.info.backend_pid

    def pull(self) -> None:
        statuses: list[str] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(status)

        body = b"".join(self.app(dict(self.environ), start_response))
        assert statuses == ["200 OK"] and b'"changes":[]' in body, (statuses, body[:200])

    def _backends(self) -> int:
        """The backend of this process's store connection (its pool keeps one: pulls in turn)."""
        self.pull()
        with psycopg.connect(self.url, autocommit=True) as admin:
            pids = [
                pid
                for (pid,) in admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ]
        assert len(pids) == 1, f"expected one pooled connection, found {pids}"
        return pids[0]

    def _record(self) -> list[tuple[str, Any]]:
        seen: list[tuple[str, Any]] = []
        original = rowaccess.RawStatement.rows

        def rows(self: rowaccess.RawStatement, dbapi_connection: Any, params: Any) -> list[Any]:
            seen.append((self.sql, params))
            return original(self, dbapi_connection, params)

        rowaccess.RawStatement.rows = rows  # type: ignore[method-assign]
        try:
            self.pull()
        finally:
            rowaccess.RawStatement.rows = original  # type: ignore[method-assign]
        assert len(seen) >= 3, seen
        return seen

    def in_process(self, n: int) -> tuple[float, float, float]:
        """µs per pull: this process's CPU, the backend's CPU, the wall p50."""
        walls = []
        backend, cpu = _cpu_s(self.backend_pid), time.process_time()
        for _ in range(n):
            start = time.perf_counter()
            self.pull()
            walls.append(time.perf_counter() - start)
        return (
            (time.process_time() - cpu) / n * 1e6,
            (_cpu_s(self.backend_pid) - backend) / n * 1e6,
            statistics.median(walls) * 1e6,
        )

    def replayed(self, n: int) -> float:
        """The backend's CPU per replayed pull, µs."""
        before = _cpu_s(self.replay_pid)
        for _ in range(n):
            for sql, params in self.statements:
                self.replay.execute(sql, params, prepare=True)  # type: ignore[arg-type]
            self.replay.commit()
        return (_cpu_s(self.replay_pid) - before) / n * 1e6

    def looped(self, n: int) -> float:
        """The backend's CPU per execution of the no-op pull's statements in a PL/pgSQL loop, µs."""
        body = []
        for sql, params in self.statements:
            if "set_config" in sql:
                continue
            literal = psycopg.ClientCursor(self.replay).mogrify(sql, params)
            body.append(f"PERFORM * FROM ({literal}) AS q;")
        block = f"DO $$ BEGIN FOR i IN 1..{n} LOOP {' '.join(body)} END LOOP; END $$"
        scope, params = self.statements[0]
        assert "set_config" in scope, scope
        self.replay.execute(scope, params)  # type: ignore[arg-type]
        before = _cpu_s(self.replay_pid)
        self.replay.execute(block)  # type: ignore[arg-type]
        used = _cpu_s(self.replay_pid) - before
        self.replay.rollback()
        return used / n * 1e6

    def tables(self) -> list[str]:
        lines = []
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
            for table in TABLES:
                pages, visible = conn.execute(
                    "SELECT relpages, relallvisible FROM pg_class WHERE relname = %s", (table,)
                ).fetchone() or (0, 0)
                live, dead = conn.execute(
                    "SELECT n_live_tup, n_dead_tup FROM pg_stat_user_tables WHERE relname = %s", (table,)
                ).fetchone() or (0, 0)
                indexes = [
                    f"{name} level {level}"
                    for name, level in conn.execute(
                        "SELECT i.indexrelid::regclass::text, (bt_metap(i.indexrelid::regclass::text)).level "
                        "FROM pg_index i WHERE i.indrelid = %s::regclass ORDER BY 1",
                        (table,),
                    )
                ]
                lines.append(
                    f"  {table}: {live:,} rows ({dead:,} dead); at its last VACUUM {pages:,} pages, {visible:,} all-visible; "
                    + ", ".join(indexes)
                )
        return lines


def _interleaved(stores: list[Store], rounds: int, measure: Any) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {s.orgs: [] for s in stores}
    for n in range(rounds):
        for store in stores if n % 2 == 0 else stores[::-1]:
            found[store.orgs].append(measure(store))
    return found


def _row(name: str, found: dict[int, list[float]]) -> str:
    small, large = found[10], found[1000]
    ratios = [a / b for a, b in zip(large, small, strict=True)]
    return (
        f"{name}: 1,000 orgs {statistics.median(large):.1f}, 10 orgs {statistics.median(small):.1f}; "
        f"ratio {statistics.median(ratios):.3f} ({min(ratios):.3f}..{max(ratios):.3f})"
    )


def main() -> None:
    keep = os.environ.get(KEEP_ENV)
    if not keep:
        raise SystemExit(f"set {KEEP_ENV} to the directory of a make bench-scale run that kept its stores")
    home = Path(keep).resolve()
    stores = [Store(home, 10), Store(home, 1000)]
    rounds = int(os.environ.get("PROBE_ROUNDS", "6"))
    print(f"load average {os.getloadavg()[0]:.1f}")
    for store in stores:
        store.in_process(200)
        store.replayed(50)
    pulls = _interleaved(stores, rounds, lambda s: s.in_process(2000))
    for n, name in enumerate(
        ("in-process: Python CPU µs/pull", "in-process: backend CPU µs/pull", "in-process: wall p50 µs")
    ):
        print(_row(name, {k: [v[n] for v in vs] for k, vs in pulls.items()}))
    print(_row("replay: backend CPU µs/pull", _interleaved(stores, rounds, lambda s: s.replayed(3000))))
    print(_row("loop: backend CPU µs/execution", _interleaved(stores, rounds, lambda s: s.looped(20000))))
    print(f"load average {os.getloadavg()[0]:.1f}")
    for store in stores:
        print(f"{store.orgs:,} organizations, statements of a no-op pull: {len(store.statements)}")
        print("\n".join(store.tables()))
    with psycopg.connect(stores[0].url) as conn:
        print(", ".join(f"{name} {conn.execute(f'SHOW {name}').fetchone()[0]}" for name in SETTINGS))  # type: ignore[index]


if __name__ == "__main__":
    main()

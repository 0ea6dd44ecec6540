"""The no-op rows of ``bench_sync`` alone, A/B: the no-op round trip and 50 clients doing no-op
incremental pulls, with the no-op layer (``sync_server.noop_sync``: no-op pulls and empty pushes
answered before Flask, "fast") and without it (every request through Flask, "flask"), each
against the bare Flask endpoint of the same round.

``python -m bench.sync_noop [--rounds N] [--seconds S]`` (a few minutes; ``bench_sync`` takes far
longer because of its other rows). Beside the wall figures it reports the server's CPU per
request (user + system time of the server processes over the requests wrk counted), which the
load of other work on the machine changes far less than requests/s, and the load average.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import psutil

from bench.bench_sync import _engine, noop_round_trip
from bench.harness import median
from bench.http_load import bare_flask, load
from bench.sync_setup import BenchServer, bench_server, client, seed_inventory, wait_up
from common.schema import SCHEMA_VERSION
from desktop.sync.local import saved_cursor
from sync_server.serve import DEFAULT_THREADS

# ``ops-server run`` without the no-op layer: every pull goes through Flask.
_WITHOUT_LAYER = (
    "import sys; import sync_server.noop_sync as n; n.install = lambda app: None; "
    "from sync_server.cli import main; sys.exit(main(sys.argv[1:]))"
)


def start(server: BenchServer, variant: str, workers: int, port: int) -> None:
    """(Re)start the bench server as ``variant`` on ``port``."""
    server.stop()
    server.port = port
    args = ["run", "--port", str(port), "--threads", str(DEFAULT_THREADS), "--workers", str(workers)]
    if variant == "fast":
        command = [str(Path(sys.executable).with_name("ops-server")), *args]
    else:
        command = [sys.executable, "-c", _WITHOUT_LAYER, *args]
    server.process = subprocess.Popen(
        command, env=server.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_up(port, "/healthz", server.process)


def _cpu(pid: int) -> float:
    """User + system seconds of ``pid`` and its children (the worker processes)."""
    proc = psutil.Process(pid)
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        times = p.cpu_times()
        total += times.user + times.system
    return total


def timed_load(pid: int, port: int, path: str, token: str | None, seconds: float) -> dict[str, Any]:
    before = _cpu(pid)
    found = load(port, path, token, seconds)
    used = _cpu(pid) - before
    served = found.rps * max(1, round(seconds))
    return {
        "rps": found.rps,
        "p50_ms": found.p50_ms,
        "p99_ms": found.p99_ms,
        "errors": found.errors,
        "cpu_us": used / served * 1e6 if served else float("nan"),
    }


def in_process(rounds: int, requests: int) -> None:
    """Server CPU per no-op pull and per empty push through the real WSGI app in this process (no
    HTTP, no server): with the layer, without it, and the bare Flask endpoint, interleaved rounds
    of ``time.process_time`` over ``requests`` calls each."""
    from flask import Flask
    from werkzeug.test import EnvironBuilder

    from sync_server import noop_sync
    from sync_server.app import create_app
    from sync_server.config import ServerConfig

    with tempfile.TemporaryDirectory(prefix="bench-noop-") as tmp, bench_server() as server:
        seed_inventory(server, 2000)
        session = client(server, Path(tmp) / "client")
        _engine(session).run()
        query = f"cursor={saved_cursor(session.store)}&schema_version={SCHEMA_VERSION}"
        headers = {"Authorization": f"Bearer {session.api._access_token}"}
        session.close()
        config = ServerConfig.from_env(server.env())  # the bench's request limit, never reached
        fast = create_app(config)
        saved = noop_sync.install
        noop_sync.install = lambda app: None  # type: ignore[assignment]
        try:
            full = create_app(config)
        finally:
            noop_sync.install = saved  # type: ignore[assignment]
        bare = Flask("bare")
        bare.get("/noop")(lambda: {"ok": True})
        path = f"/api/v1/orgs/{server.org_id}/sync/pull"
        push = f"/api/v1/orgs/{server.org_id}/sync/push"
        body = orjson.dumps({"client_id": "bench", "schema_version": SCHEMA_VERSION, "mutations": []})

        def posted(app: Any) -> tuple[Any, dict[str, Any], bytes]:
            built = EnvironBuilder(path=push, method="POST", data=body, headers=headers)
            built.content_type = "application/json"
            return app, built.get_environ(), body

        environs: dict[str, tuple[Any, dict[str, Any], bytes]] = {
            "pull, fast": (
                fast,
                EnvironBuilder(path=path, query_string=query, headers=headers).get_environ(),
                b"",
            ),
            "pull, flask": (
                full,
                EnvironBuilder(path=path, query_string=query, headers=headers).get_environ(),
                b"",
            ),
            "empty push, fast": posted(fast),
            "empty push, flask": posted(full),
            "bare": (bare, EnvironBuilder(path="/noop").get_environ(), b""),
        }

        def per_request(name: str) -> float:
            app, environ, data = environs[name]
            statuses: list[str] = []

            def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
                statuses.append(status)

            began = time.process_time()
            for _ in range(requests):
                b"".join(app({**environ, "wsgi.input": io.BytesIO(data)}, start_response))
            used = time.process_time() - began
            assert set(statuses) == {"200 OK"}, set(statuses)
            return used / requests * 1e6

        for name in environs:
            per_request(name)  # warm up
        found: dict[str, list[float]] = {name: [] for name in environs}
        for n in range(rounds):
            for name in list(environs)[:: 1 if n % 2 == 0 else -1]:
                found[name].append(per_request(name))
        for name, values in found.items():
            print(f"in-process CPU per request, {name}: median {median(values):.0f} us ({_list(values, 0)})")
        print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--in-process", action="store_true", help="only the in-process CPU per request")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--samples", type=int, default=300)
    opts = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if opts.in_process:
        in_process(opts.rounds, 3000)
        return
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-noop-") as tmp, bench_server() as server:
        seed_inventory(server, 2000)
        session = client(server, Path(tmp) / "client")
        _engine(session).run()
        port = server.port
        cursor = saved_cursor(session.store)
        token = session.api._access_token
        path = f"/api/v1/orgs/{session.org_id}/sync/pull?cursor={cursor}&schema_version={SCHEMA_VERSION}"
        for n in range(opts.rounds):
            order = ["fast", "flask"] if n % 2 == 0 else ["flask", "fast"]
            for variant in order:
                start(server, variant, 1, port)
                figure = noop_round_trip(session, opts.samples)
                results.setdefault(("roundtrip", variant), []).append(figure.value)
        for workers in (1, 2):
            with bare_flask(server.env(), workers=workers) as bare_port:
                bare_proc = _bare_pid(bare_port)
                for n in range(opts.rounds):
                    order = ["fast", "flask"] if n % 2 == 0 else ["flask", "fast"]
                    for variant in order:
                        start(server, variant, workers, port)
                        assert server.process is not None
                        bare = timed_load(bare_proc, bare_port, "/noop", None, opts.seconds)
                        ours = timed_load(server.process.pid, port, path, token, opts.seconds)
                        row = {**ours, "ratio": ours["rps"] / bare["rps"], "bare": bare}
                        results.setdefault((workers, variant), []).append(row)
                        print(workers, variant, _fmt(row), f"load {os.getloadavg()[0]:.1f}", flush=True)
        session.close()
        server.port = port
    print()
    for variant in ("fast", "flask"):
        values = results[("roundtrip", variant)]
        print(f"no-op round trip p50, {variant}: median {median(values):.2f} ms, rounds {_list(values)}")
    for workers in (1, 2):
        for variant in ("fast", "flask"):
            rows = results[(workers, variant)]
            print(
                f"{workers} worker(s), {variant}: ratio {median([r['ratio'] for r in rows]):.3f} "
                f"({_list([r['ratio'] for r in rows], 3)}), rps {_list([r['rps'] for r in rows], 0)}, "
                f"p99 {_list([r['p99_ms'] for r in rows])} ms, errors {sum(r['errors'] for r in rows)}, "
                f"server CPU/request {median([r['cpu_us'] for r in rows]):.0f} us "
                f"(bare {median([r['bare']['cpu_us'] for r in rows]):.0f} us, "
                f"bare rps {_list([r['bare']['rps'] for r in rows], 0)})"
            )
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def _bare_pid(port: int) -> int:
    """The bare Flask server's process (``bench.http_load.bare_flask``), by its arguments."""
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if len(cmdline) >= 5 and cmdline[1] == "-c" and cmdline[-3] == str(port) and "/noop" in cmdline[2]:
            return int(proc.info["pid"])
    raise RuntimeError("bare Flask server not found")


def _fmt(row: dict[str, Any]) -> str:
    return (
        f"ratio {row['ratio']:.3f} rps {row['rps']:.0f} p50 {row['p50_ms']:.2f} p99 {row['p99_ms']:.1f} "
        f"cpu {row['cpu_us']:.0f}us | bare rps {row['bare']['rps']:.0f} cpu {row['bare']['cpu_us']:.0f}us"
    )


def _list(values: list[float], digits: int = 2) -> str:
    return ", ".join(f"{v:.{digits}f}" for v in values)


if __name__ == "__main__":
    main()

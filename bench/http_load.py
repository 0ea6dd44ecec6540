"""HTTP load for the server benchmarks: 50 keep-alive clients repeating one request for a while,
and the bare Flask endpoint that DESIGN §9's concurrency target is measured against.

The load comes from ``wrk`` (C, epoll) when it is on PATH. On a two-core machine a Python load
generator is a poor instrument: measured against the bare endpoint it burns about 4.5 CPU-seconds
in a 5-second run (wrk: 0.5), taking a core from the server it measures, and its own thread
scheduling adds to the latencies it reports. Without wrk the Python generator (two processes of
25 ``http.client`` threads) is used, and every figure names the instrument that measured it.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing as mp
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import median, percentile
from bench.sync_setup import free_port, wait_up
from sync_server.serve import DEFAULT_THREADS

CLIENTS = 50
WRK_THREADS = 2
# Served exactly as ``ops-server run [--workers N]`` serves the app (sync_server.serve.make_server,
# sync_server.workers.serve_workers).
BARE_APP = """
import sys
from flask import Flask
from sync_server.serve import make_server
from sync_server.workers import serve_workers
def make_app():
    app = Flask("bare")
    @app.get("/noop")
    def noop():
        return {"ok": True}
    return app
port, threads, workers = (int(a) for a in sys.argv[1:4])
if workers == 1:
    make_server(make_app(), "127.0.0.1", port, threads=threads).safe_start()
else:
    serve_workers(make_app, "127.0.0.1", port, workers=workers, threads=threads)
"""


@dataclass(frozen=True)
class Load:
    """What the clients saw: requests per second, latency percentiles, failed requests."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    instrument: str


@contextmanager
def bare_flask(env: dict[str, str], threads: int = DEFAULT_THREADS, workers: int = 1) -> Iterator[int]:
    """The bare Flask endpoint ``GET /noop`` served the way ``ops-server run`` serves; its port."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", BARE_APP, str(port), str(threads), str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_up(port, "/noop", proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def load(port: int, path: str, token: str | None, seconds: float) -> Load:
    """``CLIENTS`` keep-alive clients sending ``GET path`` for ``seconds``, with wrk if it is installed."""
    wrk = shutil.which("wrk")
    if wrk is not None:
        return _wrk(wrk, port, path, token, seconds)
    return _python_load(port, path, token, seconds)


# -- wrk --------------------------------------------------------------------------------------------

_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _wrk(wrk: str, port: int, path: str, token: str | None, seconds: float) -> Load:
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        args = [wrk, f"-t{WRK_THREADS}", f"-c{CLIENTS}", f"-d{max(1, round(seconds))}s", "--latency"]
        args += ["--timeout", "30s"]  # the server's own socket timeout: slower is a failure
        if token is not None:
            # The token goes in a script file, not on the command line (visible to ps).
            script = Path(tmp) / "auth.lua"
            script.write_text(f'wrk.headers["Authorization"] = "Bearer {token}"\n')
            script.chmod(0o600)
            args += ["-s", str(script)]
        done = subprocess.run(
            [*args, f"http://127.0.0.1:{port}{path}"],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
    return parse_wrk(done.stdout, f"wrk -t{WRK_THREADS} -c{CLIENTS}")


def _latency_ms(text: str, pct: str) -> float:
    found = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.MULTILINE)
    if found is None:
        raise ValueError(f"no {pct}% latency in wrk's output:\n{text}")
    return float(found.group(1)) * _UNITS_MS[found.group(2)]


def parse_wrk(text: str, instrument: str) -> Load:
    """wrk's ``--latency`` report as a :class:`Load`; errors are non-2xx/3xx answers and socket
    errors (connect, read, write, timeout)."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if rate is None:
        raise ValueError(f"no Requests/sec in wrk's output:\n{text}")
    errors = 0
    bad_status = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if bad_status:
        errors += int(bad_status.group(1))
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    return Load(
        rps=float(rate.group(1)),
        p50_ms=_latency_ms(text, "50"),
        p99_ms=_latency_ms(text, "99"),
        errors=errors,
        instrument=instrument,
    )


# -- the Python fallback -----------------------------------------------------------------------------

_PROCESSES = 2


def _client(args: tuple[int, str, str | None, float, int]) -> tuple[list[float], int]:
    """One load process: ``threads`` keep-alive clients repeating one request until ``seconds`` pass."""
    port, path, token, seconds, threads = args
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                json.loads(response.read() or b"null")
                if response.status != 200:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            errors += bad

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies, errors


def _python_load(port: int, path: str, token: str | None, seconds: float) -> Load:
    jobs: list[Any] = [(port, path, token, seconds, CLIENTS // _PROCESSES)] * _PROCESSES
    with mp.get_context("spawn").Pool(_PROCESSES) as pool:
        results = pool.map(_client, jobs)
    latencies = [x for found, _ in results for x in found]
    return Load(
        rps=len(latencies) / seconds,
        p50_ms=median(latencies) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        errors=sum(bad for _, bad in results),
        instrument=(
            f"python http.client ({_PROCESSES} processes x {CLIENTS // _PROCESSES} threads; "
            "wrk not on PATH: the generator shares the server's CPU)"
        ),
    )

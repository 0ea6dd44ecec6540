"""The initial-sync row of ``bench_sync`` alone, as an interleaved A/B of two code trees.

    .venv/bin/python -m bench.initial_sync_ab [--rows 300000] [--rounds 5] [--base DIR]

Each side is a long-lived worker process (``--worker``) that runs a bench server seeded once with
``--rows`` rows (``bench.sync_setup``, as ``bench_sync`` does) and, per round, downloads it into a
new empty encrypted client through the real sync engine. ``--base DIR``: the other side's code is
the tree at ``DIR`` (e.g. ``git archive main | tar -x -C DIR``), put first on ``PYTHONPATH`` for
its worker and for its server. Rounds alternate A B, B A …; each reports the wall time, the CPU
time of the client process and of the server process (load-independent beside the wall time),
and how long the download took until the sync returned.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _written_mib() -> float:
    """Bytes this process has written (``wchar``: every write call, the log's and the
    database file's), in MiB."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1]) / 2**20
    return 0.0


def worker(rows: int) -> None:
    from bench.sync_setup import bench_server, client, seed_inventory
    from desktop.sync import SyncEngine

    with tempfile.TemporaryDirectory(prefix="bench-initial-ab-") as tmp, bench_server() as server:
        seed_inventory(server, rows)
        assert server.process is not None
        print("ready", flush=True)
        for n, line in enumerate(sys.stdin):
            if line.strip() != "go":
                break
            session = client(server, Path(tmp) / f"c{n}")
            engine = SyncEngine(session.store, session.api, session.org_id)
            written = _written_mib()
            server_cpu, cpu, wall = _cpu_of(server.process.pid), time.process_time(), time.perf_counter()
            report = engine.run()
            wall = time.perf_counter() - wall
            cpu = time.process_time() - cpu
            written = _written_mib() - written
            server_cpu = _cpu_of(server.process.pid) - server_cpu
            assert report.pulled == rows, (report.pulled, rows)
            builder = getattr(session.store, "search_indexes", None)  # absent in older trees
            settle = time.perf_counter()
            if builder is not None:
                builder.wait()
            settle = time.perf_counter() - settle
            session.close()
            result = {
                "wall": wall,
                "client_cpu": cpu,
                "server_cpu": server_cpu,
                "rate": rows / wall,
                "background_s": settle,
                "written_mib": written,
                "load": os.getloadavg()[0],
            }
            print(json.dumps(result), flush=True)


def _answer(proc: subprocess.Popen[str], name: str) -> str:
    """The worker's next answer (``ready`` or a JSON line), passing over anything else it prints."""
    assert proc.stdout is not None
    for line in proc.stdout:
        text = line.strip()
        if text == "ready" or text.startswith("{"):
            return text
        if text:
            print(f"[{name}] {text[:200]}", file=sys.stderr)
    raise RuntimeError(f"the {name} worker ended (exit code {proc.wait()})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--base", type=Path)
    parser.add_argument("--worker", action="store_true")
    args = parser.parse_args()
    if args.worker:
        worker(args.rows)
        return
    here = Path(__file__).resolve().parent.parent
    sides = {"this": here}
    if args.base is not None:
        sides = {"base": args.base.resolve(), "this": here}
    procs: dict[str, subprocess.Popen[str]] = {}
    for name, tree in sides.items():
        env = dict(os.environ, PYTHONPATH=str(tree), QT_QPA_PLATFORM="offscreen")
        procs[name] = subprocess.Popen(
            # This file runs the worker; every module it imports comes from ``tree``.
            [sys.executable, __file__, "--worker", "--rows", str(args.rows)],
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
    for name, proc in procs.items():
        assert _answer(proc, name) == "ready"
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in procs}
    names = list(procs)
    for n in range(args.rounds):
        for name in names if n % 2 == 0 else list(reversed(names)):
            proc = procs[name]
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
            found = json.loads(_answer(proc, name))
            results[name].append(found)
            print(
                f"round {n} {name:5}: {found['rate']:9,.0f} rows/s  wall {found['wall']:.2f} s  "
                f"client CPU {found['client_cpu']:.2f} s  server CPU {found['server_cpu']:.2f} s  "
                f"background {found['background_s']:.2f} s  written {found['written_mib']:.0f} MiB  "
                f"load {found['load']:.1f}",
                flush=True,
            )
    for proc in procs.values():
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=120)
    for name, found in results.items():
        summary = {
            key: (
                statistics.median(r[key] for r in found),
                min(r[key] for r in found),
                max(r[key] for r in found),
            )
            for key in ("rate", "wall", "client_cpu", "server_cpu", "background_s", "written_mib")
        }
        print(name, " ".join(f"{k} {m:,.2f} ({lo:,.2f}..{hi:,.2f})" for k, (m, lo, hi) in summary.items()))
    if "base" in results:
        wall = [b["wall"] / t["wall"] for b, t in zip(results["base"], results["this"], strict=True)]
        cpu = [
            b["client_cpu"] / t["client_cpu"] for b, t in zip(results["base"], results["this"], strict=True)
        ]
        print(
            f"speed-up this/base by wall: {statistics.median(wall):.3f} ({min(wall):.3f}..{max(wall):.3f}); "
            f"client CPU base/this {statistics.median(cpu):.3f} ({min(cpu):.3f}..{max(cpu):.3f})"
        )


if __name__ == "__main__":
    main()

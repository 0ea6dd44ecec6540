"""CPU per no-op sync, client and server, load-independently (issue 19, branch ``noop3``).

``python -m bench.noop_cpu [--cycles N] [--rounds R]``: a bench server (``ops-server``, a store
of 500 inventory rows) and a synced desktop client; then per round ``N`` no-op round trips as
``bench_sync``'s ``noop_round_trip`` makes them (an empty push, then ``SyncEngine.run``) and
``N`` calls of each part alone. It prints the client's CPU (``time.process_time``) and the
server's (psutil user + system of ``ops-server``) per round trip, and the client's per part, in
µs. For an A/B, run it with ``PYTHONPATH`` set to each tree in turn (``git archive main | tar -x -C
/tmp/base``), interleaved: the server is started from the same tree.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.bench_sync import _engine
from bench.sync_noop import _cpu
from bench.sync_setup import bench_server, client, seed_inventory
from common.schema import SCHEMA_VERSION
from desktop.session import LAST_SYNC_KEY
from desktop.sync.local import saved_cursor


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    opts = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="bench-noop-cpu-") as tmp, bench_server() as server:
        seed_inventory(server, 500)
        session = client(server, Path(tmp) / "client")
        engine = _engine(session)
        engine.run()
        cursor = saved_cursor(session.store)
        assert server.process is not None
        pid = server.process.pid

        def push() -> None:
            session.api.push(session.org_id, [], client_id="bench", schema_version=SCHEMA_VERSION)

        def pull() -> None:
            session.api.pull(session.org_id, cursor, limit=1000, schema_version=SCHEMA_VERSION, blocks=True)

        def cycle() -> None:
            push()
            assert engine.run().pulled == 0

        parts: dict[str, Callable[[], object]] = {
            "push": push,
            "pull": pull,
            "engine.run": engine.run,
            "finish_cycle": lambda: session.store.finish_cycle(LAST_SYNC_KEY, "2026-01-01T00:00:00+00:00"),
        }
        for f in [cycle, *parts.values()]:
            for _ in range(100):
                f()  # warm up
        found: dict[str, list[int]] = {"client": [], "server": [], **{name: [] for name in parts}}
        for _ in range(opts.rounds):
            server_before, began = _cpu(pid), time.process_time()
            for _ in range(opts.cycles):
                cycle()
            found["client"].append(round((time.process_time() - began) / opts.cycles * 1e6))
            found["server"].append(round((_cpu(pid) - server_before) / opts.cycles * 1e6))
            for name, f in parts.items():
                began = time.process_time()
                for _ in range(opts.cycles):
                    f()
                found[name].append(round((time.process_time() - began) / opts.cycles * 1e6))
        session.close()
    print(json.dumps({"tree": os.environ.get("PYTHONPATH", ""), "us": found, "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()

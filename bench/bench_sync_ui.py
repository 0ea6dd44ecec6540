"""The desktop stays responsive while it syncs (DESIGN §9: UI thread never blocked > 100 ms).

The real main window runs offscreen over a real encrypted store; "Sync now" downloads a
100k-row snapshot (30k in quick mode) from ``ops-server run`` over HTTP through the real sync
controller (``desktop.background``). A 10 ms ``QTimer`` heartbeat on the GUI thread records the
gaps between its ticks: the longest gap beyond the interval is the longest stall the user could
feel — progress updates, the status bar and the screens refreshing afterwards included.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import tempfile
import time
from pathlib import Path

from bench.harness import Figure, at_most, info, percentile
from bench.sync_setup import bench_server, client, seed_inventory

HEARTBEAT_MS = 10
STALL_TARGET_MS = 100


def run(quick: bool) -> list[Figure]:
    from desktop.qt import QApplication, QTimer
    from desktop.ui.main_window import MainWindow

    rows = 30_000 if quick else 100_000
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="bench-sync-ui-") as tmp, bench_server() as server:
        seed_inventory(server, rows)
        session = client(server, Path(tmp))
        window = MainWindow(session)
        window.resize(1280, 800)
        window.show()
        window.open_page("products")
        app.processEvents()
        gaps: list[float] = []
        last = time.perf_counter()

        def beat() -> None:
            nonlocal last
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

        heartbeat = QTimer()
        heartbeat.setInterval(HEARTBEAT_MS)
        heartbeat.timeout.connect(beat)
        app.setQuitOnLastWindowClosed(False)
        window.sync.finished.connect(lambda _report: QTimer.singleShot(500, app.quit))
        window.sync.message.connect(lambda _text: app.quit())
        QTimer.singleShot(300_000, app.quit)  # bounded: five minutes at most
        heartbeat.start()
        started = time.perf_counter()
        window.sync.sync_now()
        app.exec()
        heartbeat.stop()
        seconds = time.perf_counter() - started
        error = window.sync.last_error
        synced = session.store.pending_count() == 0 and session.last_sync_at() is not None
        window.close()
        session.close()
    if error or not synced:
        raise RuntimeError(f"the sync did not complete: {error}")
    stalls = [max(0.0, gap * 1000 - HEARTBEAT_MS) for gap in gaps]
    return [
        at_most(
            f"longest UI-thread stall while a {rows:,}-row sync runs",
            max(stalls),
            STALL_TARGET_MS,
            "ms",
            p99_ms=round(percentile(stalls, 99), 1),
            ticks=len(gaps),
            sync_seconds=round(seconds, 1),
        ),
        info(f"{rows:,}-row initial sync under the running interface", rows / seconds, "rows/s"),
    ]


if __name__ == "__main__":
    import sys

    from bench.harness import render

    print(render([f.as_dict() for f in run(quick="--quick" in sys.argv)], {}))

"""SQLCipher vs plain SQLite on the same workload, and opening with a raw key (DESIGN §9).

Both databases are opened the way the desktop opens its store (``desktop.local_store.open_engine``:
same pragmas, page cache and checkpoint policy, the real schema through its migrations), one with a
random raw key, one without. The workload is the desktop's: product rows written the way a full
download writes them (``desktop.rows``, secondary indexes set aside and built at the end), point
lookups by id, a LIKE search over names and a range scan.

The machine is shared, so every phase runs in interleaved rounds (plain then encrypted, then
encrypted then plain, ...) and each figure is the median round's ratio with the lowest and highest
round beside it. Each measured insert writes a new file that is deleted right after: otherwise
the kernel would still be writing one side's 140 MB back to disk while the other side runs (with
all plain runs first, the encrypted ones paid for that: the "54 % slower" of one quiet run).
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bench.harness import (
    Figure,
    at_most,
    best_of,
    info,
    interleaved,
    median,
    percent_slower,
    rounds_row,
    timed,
)
from common import migrate
from common.db import new_key
from common.ids import new_id
from desktop import deferred_indexes, search_index
from desktop.local_store import LocalStore, open_engine
from desktop.profiles import Profile
from desktop.rows import WRITERS

WORDS = [
    "bolt",
    "nut",
    "washer",
    "screw",
    "hinge",
    "bracket",
    "flange",
    "gasket",
    "valve",
    "pipe",
    "cable",
    "relay",
    "fuse",
    "switch",
    "panel",
]


def _rows(count: int, org_id: str) -> list[dict[str, Any]]:
    """Product rows in wire form, as an initial sync delivers them."""
    rng = random.Random(7)
    return [
        {
            "org_id": org_id,
            "id": f"{i:08d}-0000-7000-8000-{rng.getrandbits(48):012x}",
            "version": i + 1,
            "updated_at": "2026-11-01T08:00:00+00:00",
            "updated_by": None,
            "deleted": False,
            "sku": f"SKU-{i:07d}",
            "name": f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.randint(1, 999)} mm",
            "description": None,
            "barcode": f"{rng.getrandbits(40):013d}",
            "unit": "pcs",
            "sale_price": rng.randint(10, 100_000),
            "cost_price": None,
            "currency": "EUR",
            "reorder_point": str(rng.randint(0, 50)),
            "archived": False,
        }
        for i in range(count)
    ]


def _open(path: Path, key: bytes | None) -> Engine:
    engine = open_engine(path, key, pool_size=1)
    migrate.upgrade(engine)
    return engine


def _remove(path: Path) -> None:
    """Delete a database file and its -wal/-shm at once: pages written but not yet on disk are
    dropped with it, so the next measure does not pay for writing them back."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _flush(path: Path) -> None:
    """Write a kept file's pages to disk now. Left to the kernel, the two stores the reads use
    (~2 x 140 MB at 300k rows, written just before) were written back 30 s later, during the
    first measured round, whose commit and checkpoint then waited for the disk behind them: the
    first round's insert was 26.9 % slower, the others 9-11 % (stop 23's run)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _dirty_mib() -> float | None:
    """Data waiting to be written to disk, machine-wide (Linux), in MiB."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("Dirty:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _insert(path: Path, key: bytes | None, rows: list[dict[str, Any]], keep: bool) -> float:
    """Seconds to write ``rows`` into the real product table (schema made beforehand), the way a
    full download writes them: secondary indexes set aside and built once at the end."""
    engine = _open(path, key)
    with timed() as t, engine.begin() as connection:
        deferred_indexes.defer(connection)
        WRITERS["product"].upsert(connection, rows)
        deferred_indexes.restore(connection)
        # The search indexes (built after a download, in the background) are part of the
        # store's work for the rows: measured here as before.
        search_index.ensure(connection)
    engine.dispose()
    if not keep:
        _remove(path)
    return t.seconds


class _Side:
    """One database (plain or encrypted) and its phases, each measured once per call."""

    def __init__(self, workdir: Path, key: bytes | None, rows: list[dict[str, Any]], lookups: int) -> None:
        self.workdir, self.key, self.rows = workdir, key, rows
        self.label = "cipher" if key else "plain"
        self.inserts = 0
        self.dirty_mib: list[float | None] = []
        _insert(workdir / f"{self.label}.db", key, rows, keep=True)  # the one the reads use
        _flush(workdir / f"{self.label}.db")
        self.engine = _open(workdir / f"{self.label}.db", key)
        self.conn = self.engine.raw_connection()
        self.cur = self.conn.cursor()
        picks = random.Random(3).sample(range(len(rows)), lookups)
        self.keys = [(rows[i]["org_id"], rows[i]["id"]) for i in picks]
        # Warm the page cache first, as a user's second look would: a cold cache measures the disk.
        self.point_selects()
        self.like_scan()
        self.range_scan()

    def insert(self) -> float:
        self.inserts += 1
        self.dirty_mib.append(_dirty_mib())
        return _insert(self.workdir / f"{self.label}-{self.inserts}.db", self.key, self.rows, keep=False)

    def point_selects(self) -> None:
        for key in self.keys:
            self.cur.execute(
                "SELECT sku, name, sale_price FROM product WHERE org_id = ? AND id = ?", key
            ).fetchone()

    def like_scan(self) -> None:
        self.cur.execute("SELECT count(*) FROM product WHERE name LIKE ?", ("%flange%",)).fetchone()

    def range_scan(self) -> None:
        self.cur.execute(
            "SELECT sum(sale_price) FROM product WHERE sale_price BETWEEN 1000 AND 20000"
        ).fetchone()

    def timed(self, phase: str) -> Callable[[], float]:
        if phase == "insert":
            return self.insert
        run = getattr(self, phase)
        return lambda: best_of(3, run)

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


def _open_times(root: Path, rows: list[dict[str, Any]], repeats: int) -> list[float]:
    """Seconds for the desktop to open a populated store with its raw key (the keyring path:
    key check, engine, schema-version check, first query), Argon2 unwrapping excluded."""
    profile = Profile("https://bench.example", "bench@example.test", rows[0]["org_id"])
    store = LocalStore.create(root, profile, "bench-password")
    with store.write_session() as session:
        WRITERS["product"].upsert(session.connection(), rows)
    raw_key = store.key
    store.close()
    samples = []
    for _ in range(repeats):
        with timed() as t:
            store = LocalStore.open_with_key(root, profile, raw_key)
            store.pending_count()
        samples.append(t.seconds)
        store.close()
    return samples


PHASES = ("insert", "point_selects", "like_scan", "range_scan")


def run(quick: bool) -> list[Figure]:
    count = 50_000 if quick else 300_000
    lookups = 5_000 if quick else 20_000
    rounds = 3 if quick else 5
    rows = _rows(count, new_id())
    key = new_key()
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        workdir = Path(tmp)
        plain, cipher = _Side(workdir, None, rows, lookups), _Side(workdir, key, rows, lookups)
        # Each phase in interleaved rounds: plain, cipher, then cipher, plain, ...
        samples = {phase: interleaved(rounds, plain.timed(phase), cipher.timed(phase)) for phase in PHASES}
        plain.close()
        cipher.close()
        opens = _open_times(workdir / "profiles", rows, 10 if quick else 30)
    figures: list[Figure] = []
    whole_plain = [sum(samples[p][0][n] for p in PHASES) for n in range(rounds)]
    whole_cipher = [sum(samples[p][1][n] for p in PHASES) for n in range(rounds)]
    figures.append(
        rounds_row(
            f"sqlcipher vs sqlite: whole workload ({count:,} rows)",
            percent_slower(whole_cipher, whole_plain),
            unit="% slower",
            at_most=15,
        )
    )
    for phase in PHASES:
        plain_s, cipher_s = samples[phase]
        figures.append(
            rounds_row(
                f"sqlcipher vs sqlite: {phase} ({count:,} rows)",
                percent_slower(cipher_s, plain_s),
                unit="% slower",
                at_most=15,
                sqlcipher_s=[round(x, 4) for x in cipher_s],
                sqlite_s=[round(x, 4) for x in plain_s],
                **(
                    {"dirty_mib_at_start": {"sqlcipher": cipher.dirty_mib, "sqlite": plain.dirty_mib}}
                    if phase == "insert"
                    else {}
                ),
            )
        )
    figures.append(
        info("sqlcipher insert rate (median round)", round(count / median(samples["insert"][1])), "rows/s")
    )
    figures.append(
        at_most(
            f"open encrypted store with raw key ({count:,} rows, median)",
            round(median(opens) * 1000, 2),
            50,
            "ms",
        )
    )
    return figures

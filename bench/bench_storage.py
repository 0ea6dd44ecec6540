"""SQLCipher vs plain SQLite on the same workload, and opening with a raw key (DESIGN §9).

Both databases are opened the way the product opens them (common.db: same pragmas, same page
cache, the real schema through its migrations), one with a random raw key, one without. The workload
is the desktop's: product rows written the way initial sync writes them (desktop.rows), point
lookups by id, a LIKE search over names and a range scan; each side runs it in the same process.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bench.harness import Figure, at_most, best_of, info, median, timed
from common import migrate
from common.db import create_sqlite_engine, new_key
from common.ids import new_id
from desktop.local_store import LOCAL_CACHE_KIB, LocalStore
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
    engine = create_sqlite_engine(path, key, foreign_keys=False, pool_size=1, cache_kib=LOCAL_CACHE_KIB)
    migrate.upgrade(engine)
    return engine


def _insert(path: Path, key: bytes | None, rows: list[dict[str, Any]]) -> float:
    """Seconds to write ``rows`` into the real product table (schema made beforehand)."""
    engine = _open(path, key)
    with timed() as t, engine.begin() as connection:
        WRITERS["product"].upsert(connection, rows)
    engine.dispose()
    return t.seconds


def _workload(workdir: Path, key: bytes | None, rows: list[dict[str, Any]], lookups: int) -> dict[str, float]:
    label = "cipher" if key else "plain"
    insert_s = min(_insert(workdir / f"{label}-{n}.db", key, rows) for n in range(3))
    engine = _open(workdir / f"{label}-0.db", key)
    conn = engine.raw_connection()
    cur = conn.cursor()
    keys = [(rows[i]["org_id"], rows[i]["id"]) for i in random.Random(3).sample(range(len(rows)), lookups)]

    def point_selects() -> None:
        for key in keys:
            cur.execute(
                "SELECT sku, name, sale_price FROM product WHERE org_id = ? AND id = ?", key
            ).fetchone()

    def like_scan() -> None:
        cur.execute("SELECT count(*) FROM product WHERE name LIKE ?", ("%flange%",)).fetchone()

    def range_scan() -> None:
        cur.execute("SELECT sum(sale_price) FROM product WHERE sale_price BETWEEN 1000 AND 20000").fetchone()

    # Warm the page cache first, as a user's second look would: a cold cache measures the disk.
    point_selects()
    like_scan()
    range_scan()
    select_s = best_of(3, point_selects)
    like_s = best_of(5, like_scan)
    range_s = best_of(5, range_scan)
    conn.close()
    engine.dispose()
    return {"insert": insert_s, "select": select_s, "like_scan": like_s, "range_scan": range_s}


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


def run(quick: bool) -> list[Figure]:
    count = 50_000 if quick else 300_000
    lookups = 5_000 if quick else 20_000
    rows = _rows(count, new_id())
    key = new_key()
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        workdir = Path(tmp)
        plain = _workload(workdir, None, rows, lookups)
        cipher = _workload(workdir, key, rows, lookups)
        opens = _open_times(workdir / "profiles", rows, 10 if quick else 30)
    figures: list[Figure] = []
    total_plain, total_cipher = sum(plain.values()), sum(cipher.values())
    figures.append(
        at_most(
            f"sqlcipher vs sqlite: whole workload ({count:,} rows)",
            round((total_cipher / total_plain - 1) * 100, 1),
            15,
            "% slower",
            sqlcipher_s=round(total_cipher, 4),
            sqlite_s=round(total_plain, 4),
        )
    )
    for phase in ("insert", "select", "like_scan", "range_scan"):
        ratio = cipher[phase] / plain[phase]
        figures.append(
            at_most(
                f"sqlcipher vs sqlite: {phase} ({count:,} rows)",
                round((ratio - 1) * 100, 1),
                15,
                "% slower",
                sqlcipher_s=round(cipher[phase], 4),
                sqlite_s=round(plain[phase], 4),
            )
        )
    figures.append(info("sqlcipher insert rate", round(count / cipher["insert"]), "rows/s"))
    figures.append(
        at_most(
            f"open encrypted store with raw key ({count:,} rows, median)",
            round(median(opens) * 1000, 2),
            50,
            "ms",
        )
    )
    return figures

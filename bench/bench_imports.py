"""Import 50k products (DESIGN §9: ≤ 30 s including validation) into a real encrypted store.

Part of ``make bench`` (``run``; quick mode: 10k rows, judged against the target scaled to
them), or ``python -m bench.bench_imports [rows]``: reads a CSV, plans (validation against the
args models and the stored SKUs), applies every row as an ordinary command in one transaction,
then plans the same file again (must change nothing). Prints seconds per step.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench.harness import Figure, at_most, info
from common.imports import KINDS, match_columns, read_table
from desktop.importing import apply_import, plan_file
from tests.desktop.seed import offline_session


def main(count: int = 50_000) -> dict[str, float]:
    lines = ["SKU,Name,Unit,Sale price,Currency,Reorder point,Barcode"]
    lines += [f"B-{n:06d},Bench product {n},pcs,{n % 500}.{n % 100:02d},EUR,{n % 20},{4000000000000 + n}"
              for n in range(count)]  # fmt: skip
    data = ("\n".join(lines) + "\n").encode()
    with tempfile.TemporaryDirectory() as root:
        session = offline_session(Path(root))
        try:
            figures: dict[str, float] = {}
            start = time.perf_counter()
            table = read_table(data, "bench.csv")
            plan = plan_file(session, "products", table, match_columns(table.header, KINDS["products"]))
            figures["read_and_plan_s"] = time.perf_counter() - start
            assert plan.ok and plan.created == count, plan.summary()
            start = time.perf_counter()
            result = apply_import(session, plan, dry_run=False)
            figures["apply_s"] = time.perf_counter() - start
            assert result.ok and result.applied == count
            start = time.perf_counter()
            again = plan_file(session, "products", table, match_columns(table.header, KINDS["products"]))
            figures["replan_s"] = time.perf_counter() - start
            assert again.unchanged == count and not again.commands
        finally:
            session.close()
    figures["total_first_import_s"] = figures["read_and_plan_s"] + figures["apply_s"]
    for key, value in figures.items():
        print(f"{key}: {value:.1f}")
    return figures


def run(quick: bool) -> list[Figure]:
    count = 10_000 if quick else 50_000
    figures = main(count)
    limit = 30.0 * count / 50_000
    return [
        at_most(
            f"import {count:,} products from CSV into the encrypted store, validation included",
            figures["total_first_import_s"],
            limit,
            "s",
            read_and_plan_s=round(figures["read_and_plan_s"], 2),
            apply_s=round(figures["apply_s"], 2),
        ),
        info(
            f"import the same {count:,} products again (plan only, nothing to change)",
            figures["replan_s"],
            "s",
        ),
    ]


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)

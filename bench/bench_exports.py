"""Exports (DESIGN §9): 100k list rows to XLSX and CSV, a 1,000-line report to PDF.

Part of ``make bench`` (``run``; quick mode: 20k list rows, judged against the targets scaled
to them), or ``python -m bench.bench_exports``, which prints seconds per format (median of
three rounds) and writes ``bench/results/exports.json``. The rows are product-list rows as the desktop reads them
(text, money in minor units with a currency, a quantity), so the figures include the engine's
formatting, not just the libraries'.
"""

from __future__ import annotations

import io
import json
import statistics
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.harness import Figure, at_most
from common.exports import ExportColumn, ExportTable, export, report_table

COLUMNS = [
    ExportColumn("sku", "SKU"),
    ExportColumn("name", "Name"),
    ExportColumn("unit", "Unit"),
    ExportColumn("sale_price", "Sale price", kind="money"),
    ExportColumn("currency", "Currency", companion=True),
    ExportColumn("reorder_point", "Reorder at", kind="quantity"),
    ExportColumn("on_hand", "On hand", kind="quantity"),
]


def _rows(count: int) -> list[dict[str, Any]]:
    return [
        {"sku": f"SKU-{n:06d}", "name": f"Product number {n}", "unit": "pcs", "sale_price": 1000 + n,
         "currency": "EUR", "reorder_point": Decimal(10), "on_hand": Decimal(n % 97)}
        for n in range(count)
    ]  # fmt: skip


def _time(make: Any, fmt: str, rounds: int = 3) -> list[float]:
    found = []
    for _ in range(rounds):
        table = make()
        start = time.perf_counter()
        export(table, fmt, io.BytesIO())
        found.append(time.perf_counter() - start)
    return found


def _measure(count: int, rounds: int) -> dict[str, list[float]]:
    rows = _rows(count)
    lines = [{"code": f"{4000 + n}", "name": f"Account {n}", "type": "income", "amount": f"{n * 13}.50",
              "previous": f"{n}.00"} for n in range(1000)]  # fmt: skip
    report = {"report": "profit_and_loss", "params": {"from": "2031-01-01", "to": "2031-12-31"},
              "currency": "EUR", "columns": ["code", "name", "type", "amount", "previous"], "rows": lines,
              "totals": {"income": "1.00", "expenses": "0.00", "result": "1.00"}}  # fmt: skip
    return {
        "xlsx": _time(lambda: ExportTable("Products", COLUMNS, rows, total=len(rows)), "xlsx", rounds),
        "csv": _time(lambda: ExportTable("Products", COLUMNS, rows, total=len(rows)), "csv", rounds),
        "pdf": _time(lambda: report_table(report), "pdf", rounds),
    }


def run(quick: bool) -> list[Figure]:
    count = 20_000 if quick else 100_000
    found = _measure(count, 3)
    scale = count / 100_000

    def row(fmt: str, what: str, limit: float) -> Figure:
        times = found[fmt]
        return at_most(
            what, statistics.median(times), limit, "s", min_s=round(min(times), 3), max_s=round(max(times), 3)
        )

    return [
        row("xlsx", f"export {count:,} list rows to XLSX", 5.0 * scale),
        row("csv", f"export {count:,} list rows to CSV", 1.0 * scale),
        row("pdf", "export a 1,000-line report to PDF", 3.0),
    ]


def main() -> dict[str, Any]:
    results = {
        f"{k}_{'report_1000_lines' if k == 'pdf' else '100k'}_s": v for k, v in _measure(100_000, 3).items()
    }
    summary = {k: {"median": statistics.median(v), "min": min(v), "max": max(v)} for k, v in results.items()}
    for key, value in summary.items():
        print(f"{key}: {value['median']:.2f} s (min {value['min']:.2f}, max {value['max']:.2f})")
    out = Path(__file__).parent / "results" / "exports.json"
    out.write_text(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()

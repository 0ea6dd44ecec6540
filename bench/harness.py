"""The bench harness: figures, targets, one subprocess per benchmark module, a report.

A benchmark module is ``bench/bench_<name>.py`` with ``run(quick: bool) -> list[Figure]``. Each module
runs in its own process (so peak memory is its own and a crash is contained); the harness collects the
figures, prints one row per target and writes ``bench/results/<date>[-quick].json``.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"


@dataclass
class Figure:
    """One measured figure and the DESIGN §9 target it is judged against."""

    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None  # None: informational, no target
    detail: dict[str, Any] = field(default_factory=dict)
    # A figure measured in rounds: the value is their median, these the lowest and highest round.
    low: float | None = None
    high: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def at_most(name: str, value: float, limit: float, unit: str, **detail: Any) -> Figure:
    return Figure(name, value, unit, f"<= {limit:g} {unit}", value <= limit, detail)


def at_least(name: str, value: float, floor: float, unit: str, **detail: Any) -> Figure:
    return Figure(name, value, unit, f">= {floor:g} {unit}", value >= floor, detail)


def info(name: str, value: float, unit: str, **detail: Any) -> Figure:
    return Figure(name, value, unit, "", None, detail)


def interleaved(rounds: int, *measures: Callable[[], T]) -> list[list[T]]:
    """Run every measure once per round, in alternating order (A B, B A, A B …), and return
    each measure's samples by round: ``[[a1, a2, …], [b1, b2, …]]``.

    The machine is shared: a burst of someone else's work, or the disk writing back what the
    previous measure wrote, lands on whichever measure runs then. Alternating spreads such
    disturbances over both sides, and a ratio taken within one round compares like with like.
    """
    samples: list[list[T]] = [[] for _ in measures]
    for n in range(rounds):
        order = list(range(len(measures)))
        if n % 2:
            order.reverse()
        for index in order:
            samples[index].append(measures[index]())
    return samples


def rounds_row(
    name: str,
    per_round: list[float],
    *,
    unit: str,
    at_most: float | None = None,
    at_least: float | None = None,
    **detail: Any,
) -> Figure:
    """A figure measured in rounds (usually a ratio of interleaved measures): met on the
    median round, reported with the lowest and highest round."""
    value = median(per_round)
    if at_most is not None:
        target, met = f"<= {at_most:g} {unit}", value <= at_most
    elif at_least is not None:
        target, met = f">= {at_least:g} {unit}", value >= at_least
    else:
        target, met = "", None
    detail["rounds"] = [round(x, 4) for x in per_round]
    return Figure(name, value, unit, target, met, detail, low=min(per_round), high=max(per_round))


def ratios(numerators: list[float], denominators: list[float]) -> list[float]:
    """Round-by-round ratios of two interleaved measures."""
    return [a / b for a, b in zip(numerators, denominators, strict=True)]


def percent_slower(slow: list[float], fast: list[float]) -> list[float]:
    """Round-by-round ``(slow / fast - 1) * 100``: how much slower, in per cent."""
    return [(a / b - 1) * 100 for a, b in zip(slow, fast, strict=True)]


class Timer:
    def __init__(self) -> None:
        self.seconds = 0.0


@contextmanager
def timed() -> Iterator[Timer]:
    timer = Timer()
    start = time.perf_counter()
    try:
        yield timer
    finally:
        timer.seconds = time.perf_counter() - start


def best_of(repeats: int, fn: Callable[[], Any]) -> float:
    """Fastest of ``repeats`` runs of ``fn`` in seconds (least disturbed by the machine)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def percentile(samples: list[float], pct: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> bool:
    """Start the peak memory figure afresh (Linux: VmHWM), so setup work is not counted;
    False where the platform cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def current_peak_rss_mib() -> float:
    """Peak resident memory since the last :func:`reset_peak_rss` (Linux), else since start."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mib()


def discover() -> list[str]:
    """The modules of ``make bench``: each ``bench_*.py`` with a ``run(quick)``. Others run
    with ``--only`` (``scale_by_org``)."""
    return sorted(
        p.stem
        for p in BENCH_DIR.glob("bench_*.py")
        if "\ndef run(quick: bool)" in p.read_text(encoding="utf-8")
    )


def run_module(module: str, quick: bool, timeout: float) -> tuple[list[dict[str, Any]], str | None]:
    """Run one benchmark module in a subprocess; returns its figures and an error, if any."""
    cmd = [sys.executable, "-m", "bench.run_one", module, "--quick" if quick else "--full"]
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=BENCH_DIR.parent, env={**os.environ}
        )
    except subprocess.TimeoutExpired:
        return [], f"timed out after {timeout:.0f} s"
    marker = "BENCH-RESULT "
    for line in done.stdout.splitlines():
        if line.startswith(marker):
            return json.loads(line[len(marker) :]), None
    tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
    return [], f"exit {done.returncode}: " + " | ".join(tail)


def _fmt(value: float) -> str:
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def render(figures: list[dict[str, Any]], errors: dict[str, str]) -> str:
    rows = [("benchmark", "figure", "target", "result")]
    for fig in figures:
        status = "" if fig["met"] is None else ("met" if fig["met"] else "MISSED")
        shown = f"{_fmt(fig['value'])} {fig['unit']}"
        if fig.get("low") is not None and fig.get("high") is not None:
            shown += f" ({_fmt(fig['low'])}..{_fmt(fig['high'])})"
        rows.append((fig["name"], shown, fig["target"], status))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for module, error in errors.items():
        lines.append(f"{module}: FAILED ({error})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="same rows on smaller data (under two minutes)")
    parser.add_argument("--only", nargs="*", help="benchmark modules to run (e.g. bench_storage)")
    args = parser.parse_args(argv)
    modules = args.only or discover()
    timeout = 600 if args.quick else 1800
    figures: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    started = time.perf_counter()
    for module in modules:
        print(f"running {module} ({'quick' if args.quick else 'full'}) ...", flush=True)
        found, error = run_module(module, args.quick, timeout)
        figures.extend(found)
        if error:
            errors[module] = error
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC)
    only = "-" + "-".join(args.only) if args.only else ""
    out = RESULTS_DIR / f"{stamp:%Y-%m-%d}{only}{'-quick' if args.quick else ''}.json"
    report = {
        "at": stamp.isoformat(),
        "mode": "quick" if args.quick else "full",
        "seconds": round(time.perf_counter() - started, 1),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "figures": figures,
        "errors": errors,
    }
    out.write_text(json.dumps(report, indent=2))
    print()
    print(render(figures, errors))
    print(f"\nwritten to {out.relative_to(BENCH_DIR.parent)} in {report['seconds']} s")
    return 1 if errors else 0

"""Run one benchmark module and print its figures as one JSON line (used by the harness)."""

from __future__ import annotations

import importlib
import json
import sys

from bench.harness import render


def main() -> None:
    module_name, mode = sys.argv[1], sys.argv[2]
    module = importlib.import_module(f"bench.{module_name}")
    figures = [f.as_dict() for f in module.run(quick=mode == "--quick")]
    print(render(figures, {}), file=sys.stderr)
    print("BENCH-RESULT " + json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()

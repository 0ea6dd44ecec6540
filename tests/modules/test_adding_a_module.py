"""Adding a module touches no core file: the gadgets module (``tests/modules/gadgets``), a spec,
one entity, one command, one page and one report, shows in navigation, permissions, pull, the
console's catalogue, the reports and the endpoint matrix.

The registries are built once per process, so the module is registered in a pytest of its own,
by a plugin loaded before anything reads them (that is the point of the subprocess).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_throwaway_module_is_found_everywhere_without_editing_the_core(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            # Only the plugins the scenario uses: autoloading every installed one would also
            # assertion-rewrite whole packages (hypothesis, schemathesis) this run never uses.
            "--disable-plugin-autoload",
            "-p",
            "pytestqt.plugin",
            "-p",
            "tests.modules.gadgets.plugin",
            "-p",
            "no:cacheprovider",
            "-q",
            f"--basetemp={tmp_path / 'inner'}",
            "tests/modules/gadgets/gadgets_scenario.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "8 passed" in done.stdout, done.stdout[-2000:]

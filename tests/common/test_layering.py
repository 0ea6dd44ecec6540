"""common/ is the shared domain: it must never depend on Qt or Flask (DESIGN §2)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("PySide6", "flask", "sync_server", "desktop")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_no_module_in_common_imports_qt_flask_or_an_outer_layer() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & set(FORBIDDEN))
        for path in (ROOT / "common").rglob("*.py")
        if _imports(path) & set(FORBIDDEN)
    }
    assert offenders == {}


def test_importing_all_of_common_loads_neither_qt_nor_flask() -> None:
    code = (
        "import sys, pkgutil, importlib, common\n"
        "for m in pkgutil.walk_packages(common.__path__, 'common.'):\n"
        "    if '.migrations.' not in m.name: importlib.import_module(m.name)\n"
        "bad = [n for n in sys.modules if n.split('.')[0] in ('PySide6', 'flask', 'desktop', 'sync_server')]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == ""


def test_desktop_and_server_do_not_import_each_other() -> None:
    for package, other in (("desktop", "sync_server"), ("sync_server", "desktop")):
        for path in (ROOT / package).rglob("*.py"):
            assert other not in _imports(path), f"{path.relative_to(ROOT)} imports {other}"


def test_the_domain_tests_run_without_the_desktop() -> None:
    """tests/common tries every command on a client's copy (common.local) and on the server's
    store: the desktop package is not needed to know what a command does."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & {"desktop", "PySide6"})
        for path in (ROOT / "tests" / "common").rglob("*.py")
        if _imports(path) & {"desktop", "PySide6"}
    }
    assert offenders == {}

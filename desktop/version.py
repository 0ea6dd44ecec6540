"""The program's version: one source, the package version in ``pyproject.toml``.

An installed package answers through its metadata (``importlib.metadata``). A frozen build
(PyInstaller, ``installers/``) ships that metadata too; in case a build lost it, the spec also
writes the version into ``desktop/VERSION`` inside the bundle, read here as a fallback.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from common.version import package_version

PRODUCT_NAME = "Operations"
_FROZEN_VERSION_FILE = Path(__file__).with_name("VERSION")


def is_frozen() -> bool:
    """True inside a PyInstaller build."""
    return bool(getattr(sys, "frozen", False))


@lru_cache(maxsize=1)
def app_version() -> str:
    """``0.1.0``: the version of this program (``unknown`` only for a damaged build)."""
    found = package_version()
    if found is not None:
        return found
    try:
        return _FROZEN_VERSION_FILE.read_text("utf-8").strip() or "unknown"
    except OSError:
        return "unknown"


def user_agent() -> str:
    """What the desktop calls itself in HTTP requests."""
    return f"ops-desktop/{app_version()}"


def sqlcipher_version() -> str:
    """The SQLCipher library's version (``PRAGMA cipher_version`` on an in-memory database)."""
    import sqlcipher3

    conn = sqlcipher3.connect(":memory:")
    try:
        conn.execute("PRAGMA key = 'version probe'")
        row = conn.execute("PRAGMA cipher_version").fetchone()
    finally:
        conn.close()
    return str(row[0]) if row and row[0] else "not SQLCipher"


def build_details() -> dict[str, str]:
    """Version facts for the About dialog and the self-check (no personal data)."""
    import platform

    return {
        "version": app_version(),
        "build": "installed package" if not is_frozen() else "installer build",
        "python": platform.python_version(),
        "sqlcipher": sqlcipher_version(),
        "system": f"{platform.system()} {platform.release()} ({platform.machine()})",
    }

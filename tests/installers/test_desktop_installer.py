"""The Linux installer as built by ``make installer``: unpacked, its program passes
``--self-check`` (its own Qt, SQLCipher, CA bundle and keyring backend; the main window opened
offscreen over a fresh encrypted store, and on a real X server under Xvfb), reaches a server over
HTTPS with a private CA, holds nothing of the server, and installs and uninstalls per user
keeping the user's databases."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from installers.build import linux_arch
from sync_server.serve import BackgroundServer
from tests.sync_server.conftest import (  # noqa: F401
    app,
    server_config,
    services,
    sqlite_template,
    tls_files,
)

pytestmark = pytest.mark.installer

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
ARCHIVE = ROOT / "dist" / f"ops-desktop-{VERSION}-linux-{linux_arch()}.tar.gz"
TOP = f"ops-desktop-{VERSION}"


@pytest.fixture
def store_kind() -> str:
    return "sqlite"


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert ARCHIVE.is_file(), f"{ARCHIVE} is missing: run make installer first"
    target = tmp_path_factory.mktemp("installer")
    with tarfile.open(ARCHIVE) as tar:
        tar.extractall(target, filter="data")
    return target / TOP


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """A user's environment: none of this machine's CA overrides (the bundle's own certifi is
    what must load), a HOME of its own."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "OPS_CA_BUNDLE", "QT_QPA_PLATFORM", "DISPLAY")
        and not k.startswith(("OPS_", "XDG_"))
    }
    env.update({"HOME": str(home), **extra})
    return env


def run(command: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_the_archive_holds_the_program_its_menu_entry_and_icon(unpacked: Path) -> None:
    names = {p.relative_to(unpacked).as_posix() for p in unpacked.rglob("*")}
    assert {
        "app/ops-desktop",
        "ops-desktop.desktop",
        "install.sh",
        "uninstall.sh",
        "icons/ops-desktop.png",
    } <= names
    entry = (unpacked / "ops-desktop.desktop").read_text("utf-8")
    assert "Exec=ops-desktop\n" in entry and "Icon=ops-desktop\n" in entry and "Type=Application" in entry
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(
            ["desktop-file-validate", str(unpacked / "ops-desktop.desktop")], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
    # The migrations travel as files, and nothing of the server does.
    internal = unpacked / "app" / "_internal"
    assert sorted(p.name for p in (internal / "common" / "migrations" / "versions").glob("0*.py"))
    for server_part in ("sync_server", "flask", "cheroot", "psycopg", "prometheus_client"):
        assert not (internal / server_part).exists(), server_part
    assert not list(internal.rglob("libgtk-3*"))


def test_the_built_program_passes_its_self_check_offscreen(unpacked: Path, tmp_path: Path) -> None:
    env = clean_env(tmp_path, QT_QPA_PLATFORM="offscreen")
    version = run([str(unpacked / "app" / "ops-desktop"), "--version"], env)
    assert version.stdout.strip() == f"ops-desktop {VERSION}"
    result = run([str(unpacked / "app" / "ops-desktop"), "--self-check"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"Operations {VERSION} self-check (installer build)" in out
    assert "CA certificates from certifi (" + str(unpacked / "app" / "_internal") in out
    assert "ok   keyring    SecretService backend loads" in out
    assert "Qt offscreen: the main window opened over a fresh encrypted store" in out
    assert "all checks passed" in out


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")
def test_the_built_program_starts_on_a_real_x_server(unpacked: Path, tmp_path: Path) -> None:
    result = run(
        ["xvfb-run", "-a", str(unpacked / "app" / "ops-desktop"), "--self-check"], clean_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok   qt plugin  xcb (" + str(unpacked / "app" / "_internal") in result.stdout
    assert "Qt xcb: the main window opened" in result.stdout


def test_the_built_program_without_a_display_says_so(unpacked: Path, tmp_path: Path) -> None:
    result = run([str(unpacked / "app" / "ops-desktop"), "--self-check"], clean_env(tmp_path))
    assert result.returncode == 1
    assert "FAIL interface  There is no display" in result.stdout


@pytest.fixture
def https_server(app: Flask, tls_files: tuple[Path, Path]) -> Iterator[tuple[str, Path]]:  # noqa: F811
    cert, key = tls_files
    with BackgroundServer(app, cert=cert, key=key) as server:
        yield server.url, cert


def test_the_built_program_reaches_a_server_over_https_with_a_private_ca(
    unpacked: Path, tmp_path: Path, https_server: tuple[str, Path]
) -> None:
    url, ca = https_server
    env = clean_env(tmp_path, QT_QPA_PLATFORM="offscreen")
    program = str(unpacked / "app" / "ops-desktop")
    trusted = run([program, "--self-check", "--server", url, "--ca-bundle", str(ca)], env)
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    assert f"ok   server     {url} answers" in trusted.stdout
    untrusted = run([program, "--self-check", "--server", url], env)
    assert (
        untrusted.returncode == 1 and "FAIL server" in untrusted.stdout and "certificate" in untrusted.stdout
    )


def test_install_and_uninstall_for_one_user_keep_the_databases(unpacked: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home, PATH="/usr/bin:/bin")
    installed = run(["sh", str(unpacked / "install.sh")], env)
    assert installed.returncode == 0, installed.stderr
    program = home / ".local" / "lib" / "ops-desktop" / "ops-desktop"
    assert (
        run([str(home / ".local" / "bin" / "ops-desktop"), "--version"], env).stdout.strip()
        == f"ops-desktop {VERSION}"
    )
    entry = (home / ".local" / "share" / "applications" / "ops-desktop.desktop").read_text("utf-8")
    assert f"Exec={program}\n" in entry
    assert (
        home / ".local" / "share" / "icons" / "hicolor" / "scalable" / "apps" / "ops-desktop.svg"
    ).is_file()
    # Installing again (an upgrade) replaces the program and keeps the data.
    data = home / ".local" / "share" / "OpsManagement" / "profiles" / "x" / "ops.db"
    data.parent.mkdir(parents=True)
    data.write_bytes(b"encrypted database")
    assert run(["sh", str(unpacked / "install.sh")], env).returncode == 0
    removed = run(["sh", str(unpacked / "uninstall.sh")], env)
    assert removed.returncode == 0 and "databases are kept" in removed.stdout
    assert not program.exists() and data.read_bytes() == b"encrypted database"
    assert run(["sh", str(unpacked / "uninstall.sh"), "--delete-data"], env).returncode == 0
    assert not data.exists()

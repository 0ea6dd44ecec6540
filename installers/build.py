"""Build the desktop installer for the machine this runs on (``make installer``).

    python3 installers/build.py            # Linux: dist/ops-desktop-<version>-linux-<arch>.tar.gz
                                           # macOS: dist/Operations-<version>.dmg
                                           # Windows: dist/ops-desktop-<version>-setup.exe

1. a clean virtual environment, ``build/installer-venv``, with only ``.[desktop,installer]``
   (so nothing of the server can slip into the bundle), made again when pyproject.toml changes;
2. PyInstaller with ``installers/desktop/ops-desktop.spec`` → ``dist/ops-desktop/`` (onedir);
3. the platform's package around it: a ``.tar.gz`` with a ``.desktop`` entry, an icon and an
   installer script (Linux), a signed ``.app`` in a ``.dmg`` (``installers/macos/make-dmg.sh``),
   or an Inno Setup installer (``installers/windows/ops-desktop.iss``).

Prints each step's time and the result's size.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALLERS = ROOT / "installers"
BUILD = ROOT / "build"
DIST = ROOT / "dist"
VENV = BUILD / "installer-venv"
STAMP = VENV / ".installed-from"


def version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"])


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def step(what: str, command: list[str]) -> None:
    started = time.monotonic()
    print(f"==> {what}", flush=True)
    subprocess.run(command, check=True, cwd=ROOT)
    print(f"    {what}: {time.monotonic() - started:.0f} s", flush=True)


def ensure_venv() -> None:
    """The build environment: made from nothing, again whenever pyproject.toml changed."""
    wanted = (ROOT / "pyproject.toml").read_bytes()
    if STAMP.is_file() and STAMP.read_bytes() == wanted:
        return
    shutil.rmtree(VENV, ignore_errors=True)
    step("virtual environment", [sys.executable, "-m", "venv", str(VENV)])
    python = str(venv_python())
    step("pip", [python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    # Not editable: the bundle takes the package (and its metadata, for the version) as installed.
    step("install .[desktop,installer]", [python, "-m", "pip", "install", "--quiet", ".[desktop,installer]"])
    STAMP.write_bytes(wanted)


def pyinstaller() -> Path:
    step(
        "PyInstaller",
        [
            str(venv_python()),
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(DIST),
            "--workpath",
            str(BUILD / "pyinstaller"),
            str(INSTALLERS / "desktop" / "ops-desktop.spec"),
        ],
    )
    return DIST / "ops-desktop"


def linux_arch() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "aarch64": "arm64"}.get(machine, machine)


def linux_package(bundle: Path) -> Path:
    """``ops-desktop-<v>-linux-<arch>.tar.gz``: the onedir build, its .desktop entry, icon and
    ``install.sh`` (per-user install into ~/.local, no root needed)."""
    started = time.monotonic()
    top = f"ops-desktop-{version()}"
    archive = DIST / f"{top}-linux-{linux_arch()}.tar.gz"
    linux = INSTALLERS / "linux"
    extras = {
        f"{top}/ops-desktop.desktop": linux / "ops-desktop.desktop",
        f"{top}/install.sh": linux / "install.sh",
        f"{top}/uninstall.sh": linux / "uninstall.sh",
        f"{top}/README.txt": linux / "README.txt",
        f"{top}/icons/ops-desktop.svg": INSTALLERS / "icons" / "ops-desktop.svg",
        f"{top}/icons/ops-desktop.png": INSTALLERS / "icons" / "ops-desktop.png",
    }

    def normalized(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    print("==> tar.gz", flush=True)
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=f"{top}/app", filter=normalized)
        for name, source in extras.items():
            tar.add(source, arcname=name, filter=normalized)
    print(f"    tar.gz: {time.monotonic() - started:.0f} s", flush=True)
    return archive


def macos_package(bundle_dir: Path) -> Path:
    dmg = DIST / f"Operations-{version()}.dmg"
    step("dmg", ["bash", str(INSTALLERS / "macos" / "make-dmg.sh"), str(DIST / "Operations.app"), str(dmg)])
    return dmg


def windows_package(bundle: Path) -> Path:
    iscc = shutil.which("iscc") or shutil.which("ISCC")
    default = (
        Path(os.environ.get("PROGRAMFILES(X86)", r"C:\Program Files (x86)")) / "Inno Setup 6" / "ISCC.exe"
    )
    if iscc is None and default.is_file():
        iscc = str(default)
    if iscc is None:
        raise SystemExit(
            "Inno Setup 6 (ISCC.exe) is needed to build the Windows installer: https://jrsoftware.org/isinfo.php"
        )
    command = [iscc, f"/DAppVersion={version()}", f"/DSourceDir={bundle}", f"/O{DIST}"]
    sign = os.environ.get(
        "OPS_SIGNTOOL"
    )  # e.g. signtool sign /fd sha256 /tr <timestamp URL> /td sha256 /a $f
    if sign:
        command += [f"/Sopssign={sign}", "/DSignTool=opssign"]
    step("Inno Setup", [*command, str(INSTALLERS / "windows" / "ops-desktop.iss")])
    return DIST / f"ops-desktop-{version()}-setup.exe"


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    started = time.monotonic()
    ensure_venv()
    bundle = pyinstaller()
    if sys.platform.startswith("linux"):
        result = linux_package(bundle)
    elif sys.platform == "darwin":
        result = macos_package(bundle)
    elif sys.platform == "win32":
        result = windows_package(bundle)
    else:
        raise SystemExit(f"no installer is defined for {sys.platform}")
    print(
        f"built {result.relative_to(ROOT)}: {size_of(result) / 2**20:.0f} MiB "
        f"(the program: {size_of(bundle) / 2**20:.0f} MiB) in {time.monotonic() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

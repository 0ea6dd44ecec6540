"""``make run``: the embedded server with demo data, and the desktop app pointed at it.

1. ``ops-server init`` and, the first time, ``ops-server demo --password …`` in ``.ops-data/``
   of the repository (``OPS_DATA_DIR`` overrides it);
2. ``ops-server run --port 8750`` as a subprocess (``OPS_DEMO_PORT`` overrides the port), waiting
   for ``/healthz`` to answer;
3. the app in demo mode, signed in as the Acme administrator (after signing out, the sign-in
   window shows the demo accounts and their password);
4. the server is stopped when the app quits.

With no display it stops at once and says how to run it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import requests

DEMO_PASSWORD = "demo-2026!"  # noqa: S105 (the demo accounts' published password)
DEMO_ADMIN = "admin@acme.test"  # make run opens signed in as this user (OPS_DEMO_AUTO_SIGN_IN=0: don't)
DEFAULT_PORT = 8750
HEALTH_DEADLINE_S = 60.0
SEEDED_MARKER = ".demo-seeded"
REPO = Path(__file__).resolve().parents[1]


class LaunchError(Exception):
    """The demo could not be started; the message says why and what to do."""


def server_command() -> list[str]:
    """The ``ops-server`` console script next to this interpreter (or the module, if not installed)."""
    script = shutil.which("ops-server", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "sync_server.cli"]


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the server binds (cheroot sets SO_REUSEADDR): a port left in TIME_WAIT by the last
        # run is free to use again at once; only a port someone listens on is taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def run_step(args: Sequence[str], env: dict[str, str], what: str, *, show_progress: bool = False) -> None:
    """Run an ``ops-server`` step; with ``show_progress`` its output is passed on line by line as
    it comes (the first demo seeding takes a while: the user sees what happens)."""
    if not show_progress:
        result = subprocess.run(
            [*server_command(), *args], env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise LaunchError(f"{what} failed:\n{(result.stderr or result.stdout).strip()}")
        return
    lines: list[str] = []
    with subprocess.Popen(
        [*server_command(), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip())
            print(f"  {line.rstrip()}", flush=True)
    if process.returncode != 0:
        raise LaunchError(f"{what} failed:\n" + "\n".join(lines[-20:]))


def prepare_data(data_dir: Path, env: dict[str, str], password: str) -> None:
    """Create the store and, the first time only, the demo organizations."""
    data_dir.mkdir(parents=True, exist_ok=True)
    run_step(["init"], env, "ops-server init")
    marker = data_dir / SEEDED_MARKER
    if not marker.exists():
        print("Creating the demo organizations (first run only)…", flush=True)
        run_step(["demo", "--password", password], env, "ops-server demo", show_progress=True)
        marker.write_text("ops-server demo done\n", encoding="utf-8")


def wait_for_health(url: str, process: subprocess.Popen[bytes], log_path: Path, deadline_s: float) -> None:
    """Poll ``/healthz`` until it answers, the server exits, or the deadline passes."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LaunchError(f"the server stopped at start (exit {process.returncode}); see {log_path}")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)  # polling an external process: there is no signal to wait on
    raise LaunchError(f"the server did not answer {url}/healthz within {deadline_s:.0f} s; see {log_path}")


def start_server(data_dir: Path, port: int, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    if not port_free(port):
        raise LaunchError(
            f"port {port} is already in use (another ops-server?). Stop it, or choose another port "
            "with OPS_DEMO_PORT=8751 make run"
        )
    log_path = data_dir / "server.log"
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [*server_command(), "run", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_health(url, process, log_path, HEALTH_DEADLINE_S)
    except BaseException:
        stop_server(process)
        raise
    return process, url


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


QT_LINUX_PACKAGES = (
    "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 "
    "libxcb-randr0 libxcb-xinerama0 libxkbcommon-x11-0 libegl1 libfontconfig1"
)


def qt_problem() -> str | None:
    """Start Qt once in a throw-away process: when its platform plugin cannot load, Qt aborts the
    process, and it must not be this one (the server would be left running)."""
    probe = "from PySide6.QtWidgets import QApplication; QApplication([])"
    try:
        result = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
        )
    except subprocess.TimeoutExpired:
        return None  # slow, not broken
    if result.returncode == 0:
        return None
    details = "\n".join(line for line in result.stderr.splitlines() if line.strip())[-1500:]
    hint = (
        f"\nOn Debian or Ubuntu the libraries Qt needs are: sudo apt-get install {QT_LINUX_PACKAGES}"
        if sys.platform.startswith("linux")
        else ""
    )
    return f"the desktop app cannot start Qt on this display:\n{details}{hint}"


def main(argv: Sequence[str] | None = None) -> int:
    from desktop.app import display_problem

    problem = display_problem("make run") or qt_problem()
    if problem is not None:
        print(problem if problem.startswith("make run") else f"make run: {problem}", file=sys.stderr)
        return 2
    data_dir = Path(os.environ.get("OPS_DATA_DIR") or REPO / ".ops-data").resolve()
    port = int(os.environ.get("OPS_DEMO_PORT") or DEFAULT_PORT)
    env = {**os.environ, "OPS_DATA_DIR": str(data_dir)}
    try:
        prepare_data(data_dir, env, DEMO_PASSWORD)
        process, url = start_server(data_dir, port, env)
    except LaunchError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 1
    print(f"Demo server on {url} (data in {data_dir}). Sign in with the demo accounts shown.", flush=True)
    try:
        from desktop.app import run
        from desktop.ui.signin import DemoInfo

        root = Path(os.environ.get("OPS_DESKTOP_DATA_DIR") or data_dir / "desktop")
        auto = None if os.environ.get("OPS_DEMO_AUTO_SIGN_IN") == "0" else DEMO_ADMIN
        return run(server_url=url, demo=DemoInfo(DEMO_PASSWORD), root=root, auto_sign_in=auto)
    finally:
        stop_server(process)


if __name__ == "__main__":
    sys.exit(main())

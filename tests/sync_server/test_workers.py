"""``ops-server run --workers N``: worker processes on one port, over TLS, sharing only the store."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import requests

from sync_server import admin_ops
from sync_server.config import ServerConfig
from sync_server.services import Services
from sync_server.store import prepare_store
from tests.sync_server.ops_server import OPS_SERVER
from tests.sync_server.ops_server import shell_env as _env
from tests.sync_server.test_cli import _free_port

PASSWORD = "workers password 1"
DEADLINE_S = 60


def _poll(condition: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.1)  # polling a subprocess with a deadline


def _workers(parent: psutil.Process, port: int) -> set[int]:
    """The parent's children that listen on ``port``."""
    found = set()
    for child in parent.children():
        try:
            if any(c.laddr.port == port and c.status == psutil.CONN_LISTEN for c in child.net_connections()):
                found.add(child.pid)
        except psutil.NoSuchProcess:
            continue
    return found


def test_workers_serve_one_port_over_tls_and_a_dead_one_is_replaced(
    tmp_path: Path,
    tls_files: tuple[Path, Path],
) -> None:
    data_dir = tmp_path / "server"
    config = ServerConfig(data_dir=data_dir)
    store = prepare_store(config)
    org = admin_ops.create_org(store, "Workers Trading")
    admin_ops.create_user(store, Services.build(config, store).passwords, "ann@workers.test", "Ann", PASSWORD)
    admin_ops.grant(store, "ann@workers.test", org, "admin")
    store.dispose()

    cert, key = tls_files
    port = _free_port()
    server = subprocess.Popen(
        [OPS_SERVER, "run", "--port", str(port), "--workers", "2", "--cert", str(cert), "--key", str(key)],
        env=_env(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"https://127.0.0.1:{port}"
    parent = psutil.Process(server.pid)

    def healthy() -> bool:
        assert server.poll() is None, server.communicate()
        try:
            return requests.get(f"{base}/healthz", verify=str(cert), timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        _poll(lambda: len(_workers(parent, port)) == 2 and healthy(), "two workers listening")
        first = _workers(parent, port)
        login = requests.post(
            f"{base}/api/v1/auth/login",
            json={"email": "ann@workers.test", "password": PASSWORD},
            verify=str(cert),
            timeout=30,
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        # Fresh connections land on either worker: every one accepts a token the other signed.
        for _ in range(20):
            with requests.Session() as fresh:
                me = fresh.get(
                    f"{base}/api/v1/me",
                    headers={"Authorization": f"Bearer {token}"},
                    verify=str(cert),
                    timeout=30,
                )
                assert me.status_code == 200, me.text

        dead = sorted(first)[0]
        psutil.Process(dead).send_signal(signal.SIGKILL)
        _poll(lambda: len(_workers(parent, port) - first) == 1 and healthy(), "a new worker in its place")
        assert dead not in _workers(parent, port)
    finally:
        server.terminate()
        assert server.wait(timeout=60) == 0
    assert not parent.is_running() or parent.status() == psutil.STATUS_ZOMBIE
    assert not any(
        psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in first
    )


@pytest.mark.parametrize("workers", ["0"])
def test_workers_must_be_at_least_one(tmp_path: Path, workers: str) -> None:
    done = subprocess.run(
        [OPS_SERVER, "run", "--port", str(_free_port()), "--workers", workers],
        env=_env(tmp_path / "server"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0 and "--workers" in done.stderr

"""``make run``: the demo launcher starts the real server CLI, and refuses to run without a display."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from desktop import launch_demo
from desktop.api_client import ApiClient


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_without_a_display_it_says_how_to_run_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["OPS_DATA_DIR"] = str(tmp_path / "data")
    result = subprocess.run(
        [sys.executable, "-m", "desktop.launch_demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "no display" in result.stderr and "xvfb-run" in result.stderr
    assert not (tmp_path / "data").exists()  # nothing was started or created


def test_the_demo_server_starts_with_demo_data_and_stops(tmp_path: Path) -> None:
    data_dir = tmp_path / "ops-data"
    env = {**os.environ, "OPS_DATA_DIR": str(data_dir)}
    launch_demo.prepare_data(data_dir, env, launch_demo.DEMO_PASSWORD)
    assert (data_dir / launch_demo.SEEDED_MARKER).exists()
    port = free_port()
    process, url = launch_demo.start_server(data_dir, port, env)
    try:
        assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
        me = ApiClient(url).login("warehouse@acme.test", launch_demo.DEMO_PASSWORD)
        assert [m.org_name for m in me.memberships] == ["Acme Trading"]
        with pytest.raises(launch_demo.LaunchError, match="already in use"):
            launch_demo.start_server(data_dir, port, env)
    finally:
        launch_demo.stop_server(process)
    assert process.returncode is not None
    assert launch_demo.port_free(port)


def test_a_port_left_by_the_last_run_is_free_again_at_once() -> None:
    """Relaunching within a minute: the last run's connections leave the port in TIME_WAIT."""
    import socket

    from desktop.launch_demo import port_free

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    assert not port_free(port)  # someone listens: taken
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server side closes first: its end of the connection waits in TIME_WAIT
    server.close()
    client.recv(1)
    client.close()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as plain:  # what the old probe did
        refused = plain.connect_ex(("127.0.0.1", port)) != 0
    assert refused and port_free(port)

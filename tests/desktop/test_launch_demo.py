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

"""The server process is killed in the middle of a sync and started again: nothing is lost,
nothing is applied twice, and the next sync completes. The server is a real ``ops-server run``
subprocess over the embedded encrypted store."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from common.ids import new_id
from common.schema import ProcessedMutation, StockMove
from desktop.api_client import OfflineError
from sync_server.config import ServerConfig
from sync_server.services import Services
from sync_server.store import prepare_store
from tests.e2e.conftest import Client, ClientFactory, OrgInfo
from tests.e2e.test_long_offline import record_moves
from tests.sync_server.conftest import JWT_KEY, make_org

ENV_KEYS = ("OPS_DATA_DIR", "OPS_JWT_KEY")


class ServerProcess:
    """``ops-server run`` on a fixed port; can be killed (SIGKILL) and started again."""

    def __init__(self, data_dir: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_")}
        self.env.update({"OPS_DATA_DIR": str(data_dir), "OPS_JWT_KEY": JWT_KEY.hex()})
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        ops = str(Path(sys.executable).with_name("ops-server"))
        self.process = subprocess.Popen(
            [ops, "run", "--port", str(self.port), "--threads", "4"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "ops-server exited"
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.05)  # polling a starting process, with a deadline
        raise AssertionError("ops-server did not start within 60 s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture
def real_server(tmp_path: Path) -> Iterator[tuple[ServerProcess, Services, OrgInfo]]:
    data_dir = tmp_path / "ops-data"
    config = ServerConfig(data_dir=data_dir, jwt_key=JWT_KEY).for_tests()
    prepare_store(config).dispose()
    services = Services.build(config)
    org = make_org(services, "Acme")
    process = ServerProcess(data_dir)
    process.start()
    try:
        yield process, services, org
    finally:
        process.kill()
        services.store.dispose()


def _count(services: Services, org: OrgInfo, model: type) -> int:
    with services.store.session(org.id) as db:
        return int(db.execute(select(func.count()).select_from(model)).scalar() or 0)


def _sync_killing_the_server(client: Client, server: ServerProcess, when: str, after: int) -> None:
    """Run a sync; once its progress shows ``when`` ("Sending"/"Receiving") past ``after``, kill
    the server from another thread (so the kill may land in the middle of a request)."""
    killer: list[threading.Thread] = []

    def progress(done: int, total: int | None, text: str) -> None:
        if not killer and text.startswith(when) and done >= after:
            killer.append(threading.Thread(target=server.kill))
            killer[0].start()

    with pytest.raises(OfflineError):
        client.engine.run(progress)
    assert killer, "the sync finished before the server could be killed"
    killer[0].join()


def test_server_killed_mid_push_and_mid_pull(
    real_server: tuple[ServerProcess, Services, OrgInfo], clients: ClientFactory
) -> None:
    server, services, org = real_server
    depot = clients("warehouse@acme.test", org, url=server.url)
    main, chair = new_id(), new_id()
    depot.apply("inventory.create_warehouse", id=main, code="MAIN", name="Main")
    depot.apply("inventory.create_product", id=chair, sku="CHAIR", name="Chair", sale_price=1, currency="EUR")
    record_moves(depot, [chair], main, 4000)

    _sync_killing_the_server(depot, server, "Sending", 1000)
    left = depot.store.pending_count()
    assert 0 < left < 4002, "the kill should leave part of the outbox unsent"
    server.start()
    report = depot.sync()
    assert report.pending_left == 0 and depot.outbox_count() == 0
    assert _count(services, org, StockMove) == 4000
    assert _count(services, org, ProcessedMutation) == 4002

    # A second workstation's first download, page by page, loses its server half-way.
    office = clients("admin@acme.test", org, url=server.url)
    office.engine.page_limit = 500
    _sync_killing_the_server(office, server, "Receiving", 1000)
    halfway = len(office.rows("stock_move"))
    assert 0 < halfway < 4000
    server.start()
    resumed = office.sync()
    assert not resumed.resynced and resumed.pulled < 4002  # went on from the saved cursor
    assert office.snapshot() == depot.snapshot()

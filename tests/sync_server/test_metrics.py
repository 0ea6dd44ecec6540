"""``/metrics`` read back with Prometheus' own text parser: requests by rule and status, latency,
push and pull counts, audit chain lengths, store size; who may read it; several processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from common.schema import AuditEvent
from sync_server.app import create_app
from sync_server.config import ConfigError, ServerConfig
from sync_server.serve import BackgroundServer
from sync_server.services import Services
from tests.sync_server.conftest import JWT_KEY, World, mutation, product, warehouse
from tests.sync_server.pulling import pull_all

PUSH_RULE = "/api/v1/orgs/<org_id>/sync/push"
PULL_RULE = "/api/v1/orgs/<org_id>/sync/pull"
TOKEN = "t" * 40


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition: (name, labels) → value."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(parsed: dict, name: str, **labels: str) -> float:
    return parsed[(name, frozenset(labels.items()))]


def scrape(world: World, **kwargs: object) -> dict:
    response = world.client.get("/metrics", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return samples(response.get_data(as_text=True))


def _chain_length(world: World, org_id: str) -> int:
    with world.services.store.session(org_id) as db:
        return int(db.execute(select(func.count()).where(AuditEvent.org_id == org_id)).scalar() or 0)


def test_metrics_count_requests_sync_work_and_read_the_store(world: World) -> None:
    email = world.a.email("warehouse")
    before = scrape(world)
    ok = world.push(email, world.a, [warehouse(), product("A"), product("A")])  # the second "A" is refused
    assert [r["status"] for r in ok.get_json()["results"]] == ["applied", "applied", "rejected"]
    pulled = pull_all(world, email, world.a, limit=1)
    assert world.client.get("/no/such/path").status_code == 404
    assert world.push(email, world.a, [mutation("nope.nothing")], schema_version=999).status_code == 409

    parsed = scrape(world)
    assert value(parsed, "ops_http_requests_total", endpoint=PUSH_RULE, method="POST", status="200") == 1
    assert value(parsed, "ops_http_requests_total", endpoint=PUSH_RULE, method="POST", status="409") == 1
    assert (
        value(parsed, "ops_http_requests_total", endpoint=PULL_RULE, method="GET", status="200")
        == pulled.pages
    )
    assert value(parsed, "ops_http_requests_total", endpoint="unmatched", method="GET", status="404") == 1
    assert value(parsed, "ops_http_request_duration_seconds_count", endpoint=PUSH_RULE, method="POST") == 2
    assert (
        value(
            parsed, "ops_http_request_duration_seconds_bucket", endpoint=PUSH_RULE, method="POST", le="+Inf"
        )
        == 2
    )
    assert value(parsed, "ops_http_request_duration_seconds_sum", endpoint=PUSH_RULE, method="POST") > 0
    assert value(parsed, "ops_sync_pushes_total") == 1
    assert value(parsed, "ops_sync_push_mutations_total", status="applied") == 2
    assert value(parsed, "ops_sync_push_mutations_total", status="rejected") == 1
    snapshot_pages = value(parsed, "ops_sync_pulls_total", kind="snapshot")
    assert (
        snapshot_pages >= 2
        and snapshot_pages + value(parsed, "ops_sync_pulls_total", kind="incremental") == pulled.pages
    )
    assert value(parsed, "ops_sync_pull_changes_total") == len(pulled.changes) > 0
    assert value(parsed, "ops_audit_chain_events", org_id=world.a.id) == _chain_length(world, world.a.id)
    assert value(parsed, "ops_audit_chain_events", org_id=world.b.id) == _chain_length(world, world.b.id)
    assert value(parsed, "ops_organizations") == 2
    assert value(parsed, "ops_store_up") == 1
    assert value(parsed, "ops_store_size_bytes") > 100_000
    assert ("ops_build_info", frozenset({("version", "0.1.0")})) in parsed
    # The previous scrape itself was counted; labels are rules, never paths with ids in them.
    assert value(parsed, "ops_http_requests_total", endpoint="/metrics", method="GET", status="200") == 1
    assert (
        "ops_http_requests_total",
        frozenset({("endpoint", "/metrics"), ("method", "GET"), ("status", "200")}),
    ) not in before
    assert not any(world.a.id in dict(labels).get("endpoint", "") for _, labels in parsed)


def test_metrics_are_for_loopback_only_unless_a_token_is_set(world: World, services: Services) -> None:
    elsewhere = {"REMOTE_ADDR": "203.0.113.9"}
    refused = world.client.get("/metrics", environ_base=elsewhere)
    assert refused.status_code == 403 and "OPS_METRICS_TOKEN" in refused.get_json()["error"]["message"]
    # A proxy on this machine forwards outside requests from loopback: refused too.
    forwarded = world.client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert forwarded.status_code == 403

    with_token = create_app(replace(services.config, metrics_token=TOKEN), services).test_client()
    assert with_token.get("/metrics").status_code == 401  # a token is set: loopback needs it too
    assert with_token.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    good = with_token.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, environ_base=elsewhere)
    assert good.status_code == 200 and "ops_http_requests_total" in good.get_data(as_text=True)


def test_a_short_metrics_token_is_refused() -> None:
    with pytest.raises(ConfigError, match="OPS_METRICS_TOKEN"):
        ServerConfig.from_env({"OPS_DATA_DIR": "/tmp/x", "OPS_METRICS_TOKEN": "short"})
    assert (
        ServerConfig.from_env({"OPS_DATA_DIR": "/tmp/x", "OPS_METRICS_TOKEN": TOKEN}).metrics_token == TOKEN
    )


def test_metrics_over_real_http(live_server: BackgroundServer) -> None:
    for _ in range(3):
        assert requests.get(f"{live_server.url}/healthz", timeout=10).status_code == 200
    parsed = samples(requests.get(f"{live_server.url}/metrics", timeout=10).text)
    assert value(parsed, "ops_http_requests_total", endpoint="/healthz", method="GET", status="200") == 3


# -- several worker processes: PROMETHEUS_MULTIPROC_DIR ----------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def two_workers(tmp_path: Path, sqlite_template: Path) -> Iterator[list[str]]:
    """Two ``ops-server run`` processes on one store, sharing a multiprocess metrics directory."""
    import shutil

    data_dir = tmp_path / "data"
    shutil.copytree(sqlite_template, data_dir)
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPS_", "PROMETHEUS_"))}
    env.update(
        {"OPS_DATA_DIR": str(data_dir), "OPS_JWT_KEY": JWT_KEY.hex(), "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    )
    ops = str(Path(sys.executable).with_name("ops-server"))
    ports = [_free_port(), _free_port()]
    processes = [
        subprocess.Popen(
            [ops, "run", "--port", str(port), "--threads", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 60
        for url, process in zip(urls, processes, strict=True):
            while True:
                assert process.poll() is None, "ops-server exited"
                try:
                    if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline, "ops-server did not start"
                time.sleep(0.05)  # polling a starting process, with a deadline
        yield urls
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


def test_with_several_workers_each_scrape_sums_them_all(two_workers: list[str]) -> None:
    first, second = two_workers
    for url, times in ((first, 3), (second, 4)):
        for _ in range(times):
            requests.get(f"{url}/healthz", timeout=10)
    for url in (first, second):
        parsed = samples(requests.get(f"{url}/metrics", timeout=10).text)
        # Each started with one /healthz answered while waiting for it to come up (at least one).
        assert (
            value(parsed, "ops_http_requests_total", endpoint="/healthz", method="GET", status="200")
            >= 3 + 4 + 2
        )
        assert value(parsed, "ops_store_up") == 1

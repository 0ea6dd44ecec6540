"""``GET /metrics``: the server's figures in Prometheus text format (installers/README.md,
"Monitoring").

- ``ops_http_requests_total{endpoint, method, status}`` and the latency histogram
  ``ops_http_request_duration_seconds{endpoint, method}``: every request, labelled by its URL
  *rule* (``/api/v1/orgs/<org_id>/sync/pull``), never its path, so organization ids and other
  values never become labels; unmatched paths count as ``unmatched``;
- ``ops_sync_pushes_total``, ``ops_sync_push_mutations_total{status}``,
  ``ops_sync_pulls_total{kind}`` and ``ops_sync_pull_changes_total``;
- read from the store when scraped: ``ops_audit_chain_events{org_id}`` (each chain's length),
  ``ops_organizations``, ``ops_store_size_bytes``; and ``ops_build_info{version}``.

Cost per request: one ``perf_counter`` pair, one dict lookup of the (rule, method, status)
children and two increments; the store figures cost nothing until scraped.

Several worker processes (``--workers N``): each process counts its own requests. Set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory, writable by the server and emptied at each
start, before the workers start: prometheus_client then keeps the counts in files there and every
worker answers ``/metrics`` with the sum over all of them (its multiprocess mode). Without it,
each scrape sees the one worker that answered it.

Who may read it: with ``OPS_METRICS_TOKEN`` set, a request carrying
``Authorization: Bearer <token>``; without it, only a request from this machine's loopback that
no proxy forwarded (no ``X-Forwarded-For``/``Forwarded`` header: a proxy on the same machine would
otherwise make every outside request look local).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from common.schema import Organization, OrgSequence
from sync_server.audit import AUDIT_SEQUENCE
from sync_server.config import ServerConfig
from sync_server.errors import ApiError
from sync_server.store import SYSTEM_ORG_ID, Store

EXTENSION = "ops_metrics"
RULE_KEY = "ops.rule"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# From a no-op sync (about 1 ms here) to a large push or snapshot page.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

bp = Blueprint("metrics", __name__)


class ServerMetrics:
    """The request and sync counters of one app (one worker process)."""

    def __init__(self, config: ServerConfig, store: Store, version: str) -> None:
        self.config = config
        self.store = store
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "ops_http_requests",
            "HTTP requests answered, by URL rule, method and status",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ops_http_request_duration_seconds",
            "Time to answer a request, by URL rule and method",
            ["endpoint", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.pushes = Counter("ops_sync_pushes", "Push requests applied", registry=self.registry)
        self.mutations = Counter(
            "ops_sync_push_mutations", "Pushed commands, by result", ["status"], registry=self.registry
        )
        self.pulls = Counter(
            "ops_sync_pulls", "Pull pages answered, by kind", ["kind"], registry=self.registry
        )
        self.pulled = Counter("ops_sync_pull_changes", "Changes sent in pull pages", registry=self.registry)
        self.store_figures = StoreCollector(store, version)
        self.registry.register(self.store_figures)
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def observe(self, rule: str, method: str, status: str, seconds: float) -> None:
        key = (rule, method, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(rule, method, status),
                self.latency.labels(rule, method),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def count_push(self, statuses: Iterable[str]) -> None:
        self.pushes.inc()
        for status in statuses:
            self.mutations.labels(status).inc()

    def count_pull(self, kind: str, changes: int) -> None:
        self.pulls.labels(kind).inc()
        if changes:
            self.pulled.inc(changes)

    def exposition(self) -> bytes:
        """The text a scrape gets: this process's counters, or every worker's in multiprocess mode."""
        if os.environ.get(MULTIPROC_ENV):
            from prometheus_client import multiprocess

            combined = CollectorRegistry()
            multiprocess.MultiProcessCollector(combined)
            combined.register(self.store_figures)
            return generate_latest(combined)
        return generate_latest(self.registry)


class StoreCollector(Collector):
    """Figures read from the store at scrape time (each worker reads the same store)."""

    def __init__(self, store: Store, version: str) -> None:
        self.store = store
        self.version = version

    def describe(self) -> list[Metric]:
        return []  # collected on demand: nothing to read at registration

    def collect(self) -> Iterator[Metric]:
        info = InfoMetricFamily("ops_build", "The server's version")
        info.add_metric([], {"version": self.version})
        yield info
        chains = GaugeMetricFamily("ops_audit_chain_events", "Events in each audit chain", labels=["org_id"])
        organizations = GaugeMetricFamily("ops_organizations", "Organizations in the store")
        size = GaugeMetricFamily("ops_store_size_bytes", "Size of the store on disk")
        up = GaugeMetricFamily("ops_store_up", "1 when the store answered this scrape")
        try:
            lengths = self._chain_lengths()
            size.add_metric([], float(self._size()))
        except SQLAlchemyError:
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        for org_id, length in lengths:
            chains.add_metric([org_id], float(length))
        organizations.add_metric([], float(sum(1 for org_id, _ in lengths if org_id != SYSTEM_ORG_ID)))
        yield from (up, chains, organizations, size)

    def _chain_lengths(self) -> list[tuple[str, int]]:
        # Each chain's counter row, read in a session scoped to its organization: on PostgreSQL
        # the counters are under row-level security even for the schema's owner, so one unscoped
        # query would see none of them. One transaction, re-scoped per organization.
        with self.store.admin_session() as session:
            org_ids = [
                SYSTEM_ORG_ID,
                *session.execute(select(Organization.id).order_by(Organization.id)).scalars(),
            ]
        lengths = []
        with self.store.session(SYSTEM_ORG_ID) as session:
            for org_id in org_ids:
                self.store.rescope(session, org_id)
                value = session.execute(
                    select(OrgSequence.value).where(
                        OrgSequence.org_id == org_id, OrgSequence.name == AUDIT_SEQUENCE
                    )
                ).scalar()
                if value is not None:
                    lengths.append((str(org_id), int(value)))
        return lengths

    def _size(self) -> int:
        if self.store.is_postgres:
            with self.store.engine.connect() as connection:
                return int(
                    connection.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0
                )
        path = self.store.config.db_path
        files = (path, path.with_name(path.name + "-wal"))
        return sum(f.stat().st_size for f in files if f.exists())


def _from_loopback_directly() -> bool:
    environ = request.environ
    original = environ.get("werkzeug.proxy_fix.orig", {})
    peer = original.get("REMOTE_ADDR", environ.get("REMOTE_ADDR", ""))
    if "HTTP_X_FORWARDED_FOR" in environ or "HTTP_FORWARDED" in environ:
        return False
    try:
        return ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False


def check_access(config: ServerConfig) -> None:
    if config.metrics_token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), config.metrics_token):
            raise ApiError(401, "unauthenticated", "send the metrics token: Authorization: Bearer <token>")
        return
    if not _from_loopback_directly():
        raise ApiError(
            403,
            "forbidden",
            "metrics are served to this machine's loopback only; set OPS_METRICS_TOKEN to scrape from elsewhere",
        )


@bp.get("/metrics")
def metrics() -> Response:
    found = current_app.extensions[EXTENSION]
    assert isinstance(found, ServerMetrics)
    check_access(found.config)
    return Response(found.exposition(), status=200, content_type=CONTENT_TYPE)


def _rule_recorder(response: Response) -> Response:
    rule = request.url_rule
    request.environ[RULE_KEY] = rule.rule if rule is not None else "unmatched"
    return response


def install(app: Flask, config: ServerConfig, store: Store, version: str) -> ServerMetrics:
    """Count every request of ``app`` and serve ``/metrics``."""
    server_metrics = ServerMetrics(config, store, version)
    app.extensions[EXTENSION] = server_metrics
    app.register_blueprint(bp)
    app.after_request(_rule_recorder)
    inner: Callable[..., Any] = app.wsgi_app
    observe = server_metrics.observe
    clock = time.perf_counter

    def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = clock()
        status = ["500"]

        def start(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[0] = code[:3]
            return start_response(code, headers, exc_info)

        try:
            return inner(environ, start)
        finally:
            observe(
                environ.get(RULE_KEY, "unmatched"),
                environ.get("REQUEST_METHOD", ""),
                status[0],
                clock() - started,
            )

    app.wsgi_app = counted  # type: ignore[method-assign]
    return server_metrics


def server_metrics() -> ServerMetrics | None:
    """The app's metrics, for handlers that count sync work."""
    found = current_app.extensions.get(EXTENSION)
    return found if isinstance(found, ServerMetrics) else None

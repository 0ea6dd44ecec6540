"""End-to-end fixtures: the real server over real HTTP on loopback, real encrypted client stores.

``server`` serves a fresh store (embedded SQLCipher by default; tests parametrize ``store_kind``
to run on PostgreSQL too) with two organizations and one user per built-in role. ``clients``
makes signed-in desktop sessions: a real SQLCipher database per client (opened with a random
raw key, as a remembered sign-in does), a real API client that signed in over HTTP, and the
real sync engine with short retry waits.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from common.db import new_key
from common.schema import ENTITIES, OutboxEntry
from common.schema.base import table_of
from desktop.api_client import ApiClient
from desktop.local_store import LocalStore
from desktop.profiles import Profile
from desktop.session import UserSession, save_session_facts
from desktop.sync import SyncEngine, SyncReport, engine_for
from desktop.sync.retry import RetryPolicy
from sync_server.serve import BackgroundServer
from sync_server.services import Services
from tests.sync_server.conftest import (  # noqa: F401 - fixtures re-used from the server suite
    PASSWORD,
    OrgInfo,
    app,
    make_org,
    pg_clone,
    pg_template,
    server_config,
    services,
    sqlite_template,
)

FAST_RETRY = RetryPolicy(attempts=4, base_s=0.01, factor=2.0, cap_s=0.05, jitter=0.5, budget_s=1.0)


@pytest.fixture
def store_kind() -> str:
    """The embedded store unless a test parametrizes ``store_kind`` itself."""
    return "sqlite"


@dataclass
class Server:
    services: Services
    http: BackgroundServer
    a: OrgInfo
    b: OrgInfo

    @property
    def url(self) -> str:
        return self.http.url


@pytest.fixture
def server(app: Flask, services: Services) -> Iterator[Server]:  # noqa: F811
    a, b = make_org(services, "Acme"), make_org(services, "Globex")
    with BackgroundServer(app, threads=8) as http:
        yield Server(services, http, a, b)


@dataclass
class Client:
    """One desktop installation signed in to one organization."""

    session: UserSession
    engine: SyncEngine
    reports: list[SyncReport] = field(default_factory=list)

    @property
    def store(self) -> LocalStore:
        return self.session.store

    def sync(self) -> SyncReport:
        report = self.engine.run()
        self.reports.append(report)
        return report

    def apply(self, command: str, **args: Any) -> str:
        entry_id, _ = self.session.apply(command, args)
        return entry_id

    def rows(self, entity: str) -> list[dict[str, Any]]:
        table = table_of(ENTITIES[entity])
        with self.store.read_session() as db:
            return [dict(r) for r in db.execute(select(table).order_by(table.c.id)).mappings()]

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every entity table, row by row (what two converged clients must agree on)."""
        return {entity: self.rows(entity) for entity in ENTITIES}

    def outbox(self, *statuses: str) -> list[dict[str, Any]]:
        return self.store.outbox(*statuses)

    def outbox_count(self) -> int:
        with self.store.read_session() as db:
            return len(db.execute(select(OutboxEntry.id)).all())


ClientFactory = Callable[..., Client]


@pytest.fixture
def clients(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ClientFactory]:
    """``clients(email, org=server.a, url=server.url)``: a signed-in client of ``org``."""
    made: list[Client] = []
    numbers = itertools.count()

    def make(email: str, org: OrgInfo | None = None, *, url: str | None = None) -> Client:
        if org is None or url is None:
            server: Server = request.getfixturevalue("server")
            org, url = org or server.a, url or server.url
        root = tmp_path / f"client-{next(numbers)}"
        server_url = url
        api = ApiClient(server_url)
        me = api.login(email, PASSWORD)
        membership = me.membership(org.id)
        assert membership is not None, f"{email} is not a member of {org.name}"
        profile = Profile(server_url, email, org.id)
        profile.directory(root).mkdir(parents=True, mode=0o700)
        store = LocalStore.open_with_key(root, profile, new_key())
        save_session_facts(store, me.user, membership, me.memberships)
        session = UserSession(
            root=root,
            server_url=server_url,
            user=me.user,
            membership=membership,
            memberships=me.memberships,
            store=store,
            api=api,
            online=True,
        )
        client = Client(session, engine_for(session, policy=FAST_RETRY))
        made.append(client)
        return client

    yield make
    for client in made:
        client.session.close()

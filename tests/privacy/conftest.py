"""Privacy fixtures: one real server per module and store (embedded SQLCipher, PostgreSQL),
over real HTTP, with the two organizations of one user per built-in role.

Module-scoped to stay fast: each test makes its own subjects (customers, employees) with fresh
ids, so the tests of a module share a server without depending on each other.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from common.db import new_key
from common.ids import new_id
from common.schema import SCHEMA_VERSION
from desktop.api_client import ApiClient
from desktop.local_store import LocalStore
from desktop.profiles import Profile
from desktop.session import UserSession, save_session_facts
from desktop.sync import engine_for
from sync_server.app import create_app
from sync_server.config import ServerConfig, normalize_database_url
from sync_server.serve import BackgroundServer
from sync_server.services import Services
from tests.e2e.conftest import FAST_RETRY, Client
from tests.sync_server.conftest import (  # noqa: F401 - fixtures re-used from the server suite
    JWT_KEY,
    PASSWORD,
    OrgInfo,
    make_org,
    pg_template,
    sqlite_template,
)


@dataclass
class PrivacyServer:
    services: Services
    http: BackgroundServer
    a: OrgInfo
    b: OrgInfo
    tokens: dict[str, str]

    @property
    def url(self) -> str:
        return self.http.url

    @property
    def config(self) -> ServerConfig:
        return self.services.config

    def token(self, email: str) -> str:
        if email not in self.tokens:
            answer = requests.post(
                f"{self.url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
            )
            assert answer.status_code == 200, answer.text
            self.tokens[email] = answer.json()["access_token"]
        return self.tokens[email]

    def call(self, method: str, email: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token(email)}"}
        return requests.request(method, f"{self.url}/api/v1{path}", headers=headers, timeout=60, **kwargs)

    def push(self, user: str, org: OrgInfo, command: str, **args: Any) -> dict[str, Any]:
        body = {
            "client_id": "privacy-tests",
            "schema_version": SCHEMA_VERSION,
            "mutations": [{"id": new_id(), "name": command, "args": args}],
        }
        answer = self.call("POST", user, f"/orgs/{org.id}/sync/push", json=body)
        assert answer.status_code == 200, answer.text
        result = answer.json()["results"][0]
        assert result["status"] == "applied", result
        return dict(result)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def privacy_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrivacyServer]:
    data_dir = tmp_path_factory.mktemp("privacy-server")
    database: str | None = None
    admin_url = ""
    if request.param == "sqlite":
        shutil.rmtree(data_dir)
        shutil.copytree(request.getfixturevalue("sqlite_template"), data_dir)
        config = ServerConfig(data_dir=data_dir, jwt_key=JWT_KEY).for_tests()
    else:
        admin_url = request.getfixturevalue("pg_admin_url")
        template = request.getfixturevalue("pg_template")
        database = f"ops_privacy_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
        base = admin_url.rsplit("/", 1)[0]
        config = ServerConfig(
            data_dir=data_dir,
            database_url=normalize_database_url(f"{base}/{database}"),
            jwt_key=JWT_KEY,
            pool_size=4,
        ).for_tests()
    services = Services.build(config)
    try:
        a, b = make_org(services, "Acme"), make_org(services, "Globex")
        with BackgroundServer(create_app(config, services), threads=8) as http:
            yield PrivacyServer(services, http, a, b, {})
    finally:
        services.store.dispose()
        if database is not None:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def open_and_complete(server: PrivacyServer, subject_type: str, subject_id: str, kind: str) -> str:
    """The admin opens a data subject request and completes it at once; its id."""
    request_id = new_id()
    admin = server.a.email("admin")
    server.push(
        admin,
        server.a,
        "privacy.open_data_subject_request",
        id=request_id,
        subject_type=subject_type,
        subject_id=subject_id,
        kind=kind,
    )
    server.push(admin, server.a, "privacy.complete_data_subject_request", id=request_id)
    return request_id


def new_subject_name() -> str:
    return f"Ada Lovelace {uuid.uuid4().hex[:8]}"


def make_client(server: PrivacyServer, email: str, org: OrgInfo, root: Path) -> Client:
    """A signed-in desktop installation: a real SQLCipher store, the real sync engine."""
    api = ApiClient(server.url)
    me = api.login(email, PASSWORD)
    membership = me.membership(org.id)
    assert membership is not None
    profile = Profile(server.url, email, org.id)
    profile.directory(root).mkdir(parents=True, mode=0o700)
    store = LocalStore.open_with_key(root, profile, new_key())
    save_session_facts(store, me.user, membership, me.memberships)
    session = UserSession(
        root=root,
        server_url=server.url,
        user=me.user,
        membership=membership,
        memberships=me.memberships,
        store=store,
        api=api,
        online=True,
    )
    return Client(session, engine_for(session, policy=FAST_RETRY))

"""Server fixtures: a fresh store per test on BOTH stores, an app, a world of two organizations.

``store_kind`` is parametrized over the embedded SQLCipher store and PostgreSQL. To stay fast,
each store is prepared (migrated, app role, RLS) once per session and cloned per test: the
SQLCipher file is copied, the PostgreSQL database is created from a template database. A test
of the ``world`` (two organizations, one user per built-in role) gets a copy of a store where
that world was made once per session, through the same admin functions (``world_template``).
Argon2 runs with the cheap test parameters, chosen explicitly with ``ServerConfig.for_tests()``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from flask.testing import FlaskClient

from common.ids import new_id
from common.permissions import BUILTIN_ROLES
from common.schema import SCHEMA_VERSION
from sync_server import admin_ops
from sync_server.app import create_app
from sync_server.config import RateLimits, ServerConfig, normalize_database_url
from sync_server.serve import BackgroundServer
from sync_server.services import Services
from sync_server.store import prepare_store

PASSWORD = "correct horse battery"
JWT_KEY = bytes(range(32))


@dataclass
class _Template:
    kind: str
    data_dir: Path | None = None
    pg_admin: str | None = None
    pg_name: str | None = None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("server-template")
    store = prepare_store(ServerConfig(data_dir=data_dir))
    store.dispose()
    return data_dir


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str) -> Iterator[str]:
    name = f"ops_tmpl_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = pg_admin_url.rsplit("/", 1)[0]
    store = prepare_store(
        ServerConfig(data_dir=Path("/nonexistent"), database_url=normalize_database_url(f"{base}/{name}"))
    )
    store.dispose()
    yield name
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _config(data_dir: Path, pg_url: str | None = None) -> ServerConfig:
    if pg_url is None:
        return ServerConfig(data_dir=data_dir, jwt_key=JWT_KEY).for_tests()
    return ServerConfig(
        data_dir=data_dir, database_url=normalize_database_url(pg_url), jwt_key=JWT_KEY, pool_size=4
    ).for_tests()


@pytest.fixture
def server_config(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ServerConfig]:
    """A configuration over a fresh, prepared store of ``store_kind``; a copy of the world's
    store (``world_template``) when the test asks for the ``world``."""
    data_dir = tmp_path / "server"
    if "world" in request.fixturenames:
        template: WorldTemplate = request.getfixturevalue(f"{store_kind}_world_template")
        shutil.copytree(template.data_dir, data_dir)  # its key files: the audit chain's signing key
        request.node.stash[_WORLD_ORGS] = template.orgs()
        if template.pg_name is None:
            yield _config(data_dir)
            return
        with _pg_cloned(request.getfixturevalue("pg_admin_url"), template.pg_name) as url:
            yield _config(data_dir, url)
        return
    if store_kind == "sqlite":
        shutil.copytree(request.getfixturevalue("sqlite_template"), data_dir)
        yield _config(data_dir)
        return
    data_dir.mkdir()
    yield _config(data_dir, request.getfixturevalue("pg_clone"))


@contextmanager
def _pg_cloned(pg_admin_url: str, template: str) -> Iterator[str]:
    name = f"ops_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield f"{pg_admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_clone(pg_admin_url: str, pg_template: str) -> Iterator[str]:
    """A prepared PostgreSQL store (migrated, app role, RLS) of its own, cloned from the
    template; dropped afterwards. Yields its URL."""
    with _pg_cloned(pg_admin_url, pg_template) as url:
        yield url


@pytest.fixture
def services(server_config: ServerConfig) -> Iterator[Services]:
    svc = Services.build(server_config)
    yield svc
    svc.store.dispose()


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services.config, services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def live_server(app: Flask) -> Iterator[BackgroundServer]:
    """The app on a real port, served by the production server (cheroot) in a thread."""
    with BackgroundServer(app, threads=8) as server:
        yield server


# -- a world of two organizations with one user per built-in role -----------------------------


@dataclass
class OrgInfo:
    id: str
    name: str
    users: dict[str, str] = field(default_factory=dict)  # role → user id

    def email(self, role: str) -> str:
        return f"{role}@{self.name.lower()}.test"


@dataclass
class World:
    services: Services
    client: FlaskClient
    a: OrgInfo
    b: OrgInfo
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)

    def login(self, email: str, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/auth/login", json={"email": email, "password": password, **extra}
        )
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert isinstance(body, dict)
        return body

    def token(self, email: str) -> str:
        if email not in self.tokens:
            self.tokens[email] = self.login(email)
        return str(self.tokens[email]["access_token"])

    def headers(self, email: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(email)}"}

    def push(self, email: str, org: OrgInfo, mutations: list[dict[str, Any]], **extra: Any) -> Any:
        body = {"client_id": "tests", "schema_version": SCHEMA_VERSION, "mutations": mutations, **extra}
        return self.client.post(f"/api/v1/orgs/{org.id}/sync/push", json=body, headers=self.headers(email))


def make_org(services: Services, name: str, *, books: bool = False) -> OrgInfo:
    """An organization with one user per built-in role. Without ``books`` it is as organizations
    were before the books (nothing posts): the sync tests count its rows and changes from zero;
    the books' own tests set them up (``set_up_books``)."""
    org = OrgInfo(id=admin_ops.create_org(services.store, name, books=books), name=name)
    for role in BUILTIN_ROLES:
        user_id = admin_ops.create_user(
            services.store, services.passwords, org.email(role), f"{role} {name}", PASSWORD
        )
        admin_ops.grant(services.store, org.email(role), org.id, role)
        org.users[role] = user_id
    return org


@dataclass
class WorldTemplate:
    """A store (its data directory and, on PostgreSQL, its template database) where the world's
    two organizations were made, and who they are."""

    data_dir: Path
    pg_name: str | None
    a: OrgInfo
    b: OrgInfo

    def orgs(self) -> tuple[OrgInfo, OrgInfo]:
        """Copies a test may change."""
        return replace(self.a, users=dict(self.a.users)), replace(self.b, users=dict(self.b.users))


_WORLD_ORGS = pytest.StashKey[tuple[OrgInfo, OrgInfo]]()


def _make_world(config: ServerConfig) -> tuple[OrgInfo, OrgInfo]:
    services = Services.build(config)
    try:
        return make_org(services, "Acme"), make_org(services, "Globex")
    finally:
        services.store.dispose()


@pytest.fixture(scope="session")
def sqlite_world_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> WorldTemplate:
    data_dir = tmp_path_factory.mktemp("server-world") / "server"
    shutil.copytree(sqlite_template, data_dir)
    return WorldTemplate(data_dir, None, *_make_world(_config(data_dir)))


@pytest.fixture(scope="session")
def postgres_world_template(
    pg_admin_url: str, pg_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorldTemplate]:
    data_dir = tmp_path_factory.mktemp("server-world-pg")
    name = f"ops_tmpl_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    try:
        orgs = _make_world(_config(data_dir, f"{pg_admin_url.rsplit('/', 1)[0]}/{name}"))
        yield WorldTemplate(data_dir, name, *orgs)
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def world(services: Services, client: FlaskClient, request: pytest.FixtureRequest) -> World:
    """Two organizations with one user per built-in role: made once a session and copied with
    the store (``server_config``), or made here over a store that is not a copy of it."""
    orgs = request.node.stash.get(_WORLD_ORGS, None)
    if orgs is None:
        orgs = make_org(services, "Acme"), make_org(services, "Globex")
    return World(services, client, *orgs)


def set_up_books(world: World, org: OrgInfo, currency: str = "EUR") -> None:
    """The default chart and posting settings, pushed by the organization's accountant."""
    response = world.push(org.email("accountant"), org, [mutation("finance.set_up_books", currency=currency)])
    assert response.get_json()["results"][0]["status"] == "applied", response.get_json()


def mutation(command: str, **args: Any) -> dict[str, Any]:
    return {"id": new_id(), "name": command, "args": args}


def warehouse(code: str = "MAIN") -> dict[str, Any]:
    return mutation("inventory.create_warehouse", id=new_id(), code=code, name=f"Warehouse {code}")


def product(sku: str = "SKU-1", **extra: Any) -> dict[str, Any]:
    return mutation(
        "inventory.create_product",
        id=new_id(),
        sku=sku,
        name=f"Product {sku}",
        sale_price=1000,
        currency="EUR",
        **extra,
    )


def strict_limits(config: ServerConfig, per_account: int = 3, per_address: int = 1000) -> ServerConfig:
    return replace(
        config, rate_limits=RateLimits(window_seconds=600, per_account=per_account, per_address=per_address)
    )


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path

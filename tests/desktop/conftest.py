"""Desktop fixtures: real Qt widgets offscreen, real encrypted stores, a real server over HTTP."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import pytest
from jaraco.classes import properties

from common.permissions import BUILTIN_ROLES
from desktop import background
from desktop.session import UserSession
from sync_server import admin_ops
from sync_server.app import create_app
from sync_server.config import ServerConfig
from sync_server.serve import BackgroundServer
from sync_server.services import Services
from sync_server.store import prepare_store
from tests.desktop.seed import offline_session, seed_inventory

PASSWORD = "correct horse battery staple"
JWT_KEY = bytes(range(32))


@pytest.fixture(autouse=True)
def _no_leftover_background_work(qapp: Any) -> Iterator[None]:
    """Every test ends with its background operations delivered (none leaks into the next)."""
    yield
    from pytestqt.qtbot import QtBot

    if background.active_count():
        QtBot(qapp).waitUntil(lambda: background.active_count() == 0, timeout=30_000)


@pytest.fixture(scope="session")
def server_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("desktop-server-template")
    prepare_store(ServerConfig(data_dir=data_dir)).dispose()
    return data_dir


@dataclass
class LiveServer:
    """A real sync server on a free loopback port, with organizations and users."""

    services: Services
    http: BackgroundServer
    orgs: dict[str, str] = field(default_factory=dict)  # name → id
    password: str = PASSWORD

    @property
    def url(self) -> str:
        return self.http.url

    def add_user(self, email: str, *grants: tuple[str, str]) -> None:
        admin_ops.create_user(
            self.services.store, self.services.passwords, email, email.split("@")[0], self.password
        )
        for org, role in grants:
            admin_ops.grant(self.services.store, email, self.orgs[org], role)

    def stop(self) -> None:
        self.http.stop()


@pytest.fixture
def live_server(server_template: Path, tmp_path: Path) -> Iterator[LiveServer]:
    data_dir = tmp_path / "server"
    shutil.copytree(server_template, data_dir)
    config = ServerConfig(data_dir=data_dir, jwt_key=JWT_KEY).for_tests()
    services = Services.build(config)
    http = BackgroundServer(create_app(config, services), threads=4).start()
    server = LiveServer(services, http)
    for name in ("Acme Trading", "Globex Manufacturing"):
        # As organizations were before the books: the sync tests count rows from zero.
        server.orgs[name] = admin_ops.create_org(services.store, name, books=False)
    for role in ("admin", "warehouse", "hr"):
        server.add_user(f"{role}@acme.test", ("Acme Trading", role))
    server.add_user("multi@acme.test", ("Acme Trading", "warehouse"), ("Globex Manufacturing", "admin"))
    assert set(BUILTIN_ROLES) >= {"admin", "warehouse", "hr"}
    try:
        yield server
    finally:
        http.stop()
        services.store.dispose()


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "desktop"
    root.mkdir()
    return root


@pytest.fixture
def session(data_root: Path) -> Iterator[UserSession]:
    """An admin's session on a real encrypted store, with no server reachable."""
    s = offline_session(data_root)
    yield s
    s.close()


@pytest.fixture
def seeded(session: UserSession) -> tuple[UserSession, dict[str, Any]]:
    return session, seed_inventory(session)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """Stands in for the OS keyring of a desktop session (this machine has none).

    Only the ``os_keyring`` fixture installs it: keyring discovers every backend class, so its
    priority stays below "no keyring" unless installed.
    """

    installed = False

    @properties.classproperty
    def priority(cls) -> float:
        return 1 if cls.installed else -1

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


@pytest.fixture
def os_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    MemoryKeyring.installed = True
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        MemoryKeyring.installed = False
        keyring.set_keyring(previous)


@pytest.fixture
def window(qtbot: Any, seeded: tuple[UserSession, dict[str, Any]]) -> Any:
    """The main window over the seeded inventory, shown offscreen."""
    from desktop import background
    from desktop.ui.main_window import MainWindow

    win = MainWindow(seeded[0])
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: background.active_count() == 0, timeout=30_000)  # the landing page has loaded
    return win


@pytest.fixture
def use_locale(qapp: Any) -> Iterator[Any]:
    """``use_locale("de_DE")`` makes QLocale's default that locale for the test; restored after."""
    from desktop.qt import QLocale

    previous = QLocale()

    def use(name: str) -> None:
        QLocale.setDefault(QLocale(name))

    yield use
    QLocale.setDefault(previous)

"""Console fixtures: the real server over real HTTP, driven by real headless Chromium.

Why Playwright rather than Selenium: it drives Debian's ``/usr/bin/chromium`` directly over the
DevTools protocol (no chromedriver of the exact same version to install and keep in step), and
its locators and ``expect`` wait for the element or state a test names, so the tests never
sleep. One browser serves the whole session (``launch`` gives it a fresh, throw-away profile
directory); each test gets its own context (no shared tokens, storage or cache) at 1280x800.

Chromium missing: a failure under ``CI=true``, a skip with the reason elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
import requests

from sync_server.serve import BackgroundServer
from tests.conftest import IN_CI
from tests.sync_server.conftest import (  # noqa: F401 - fixtures re-used from the server suite
    PASSWORD,
    World,
    app,
    client,
    live_server,
    pg_clone,
    pg_template,
    server_config,
    services,
    sqlite_template,
    sqlite_world_template,
    world,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = os.environ.get("OPS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path("/tmp/ops-screenshots")
TIMEOUT_MS = 10_000


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"the console tests need Chromium under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def store_kind() -> str:
    """The console is the same on both stores (the API tests cover PostgreSQL): embedded only."""
    return "sqlite"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS, timeout=30_000
        )
        yield launched
        launched.close()


@dataclass
class ServerApi:
    """The real HTTP API of the server under test, for arranging and checking what the console did."""

    url: str
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)

    def login(self, email: str, password: str = PASSWORD) -> requests.Response:
        return requests.post(
            f"{self.url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=30
        )

    def token(self, email: str) -> str:
        if email not in self.tokens:
            response = self.login(email)
            assert response.status_code == 200, response.text
            self.tokens[email] = response.json()
        return str(self.tokens[email]["access_token"])

    def call(self, email: str, method: str, path: str, body: Any = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token(email)}"}
        return requests.request(method, f"{self.url}{path}", json=body, headers=headers, timeout=30)

    def get(self, email: str, path: str) -> requests.Response:
        return self.call(email, "GET", path)

    def refresh(self, refresh_token: str) -> requests.Response:
        return requests.post(
            f"{self.url}/api/v1/auth/refresh", json={"refresh_token": refresh_token}, timeout=30
        )

    def roles_of(self, admin: str, org_id: str) -> dict[str, list[str]]:
        response = self.get(admin, f"/api/v1/orgs/{org_id}/members")
        assert response.status_code == 200, response.text
        return {m["email"]: m["roles"] for m in response.json()["members"]}


@dataclass
class Console:
    """One browser tab on the console of a live server."""

    page: Page
    server: BackgroundServer
    world: World
    api: ServerApi

    @property
    def url(self) -> str:
        return f"{self.server.url}/console"

    def open(self) -> Page:
        self.page.goto(self.url)
        self.page.get_by_label("E-mail address").wait_for()
        return self.page

    def sign_in(self, email: str, password: str = PASSWORD) -> Page:
        page = self.open()
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        return page

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), full_page=False)


@pytest.fixture
def console(browser: Browser, live_server: BackgroundServer, world: World) -> Iterator[Console]:  # noqa: F811
    """A fresh browser context on the console; afterwards, checks that the page never reached
    beyond the server's origin and that the Content-Security-Policy never had to refuse anything."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB", timezone_id="UTC")
    context.set_default_timeout(TIMEOUT_MS)
    from playwright.sync_api import expect

    # ``expect``'s own default is 5 s: a loaded CI machine missed it (issue 11's suite runs).
    expect.set_options(timeout=TIMEOUT_MS)
    page = context.new_page()
    origin = urlsplit(live_server.url).netloc
    elsewhere: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: None if urlsplit(r.url).netloc == origin else elsewhere.append(r.url))
    page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    try:
        yield Console(page, live_server, world, ServerApi(live_server.url))
        assert elsewhere == [], f"the console reached beyond its server: {elsewhere}"
        assert problems == [], problems
    finally:
        context.close()

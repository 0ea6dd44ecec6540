"""Sign-in rate limits hold under parallel requests over real HTTP (DESIGN §6).

Each attempt is counted before its password is checked, in one atomic step per bucket, so a
burst of parallel guesses gets exactly as many password checks as the limit allows.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
import requests

from sync_server import admin_ops
from sync_server.app import create_app
from sync_server.serve import BackgroundServer
from sync_server.services import Services
from tests.sync_server.conftest import PASSWORD, strict_limits

BURST = 12


@pytest.fixture
def strict_server(services: Services) -> Iterator[BackgroundServer]:
    config = strict_limits(services.config, per_account=3, per_address=5)
    app = create_app(config, Services.build(config, services.store))
    with BackgroundServer(app, threads=BURST + 2) as server:
        yield server


def _burst(request: Callable[[int], int]) -> Counter[int]:
    """``BURST`` requests released at the same instant; the count of each status."""
    start = threading.Barrier(BURST)
    statuses: list[int] = []

    def worker(n: int) -> None:
        start.wait(timeout=30)
        statuses.append(request(n))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(statuses) == BURST
    return Counter(statuses)


def _login(server: BackgroundServer, email: str, password: str) -> int:
    with requests.Session() as http:
        response = http.post(
            f"{server.url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=60
        )
    return response.status_code


def test_parallel_guesses_at_one_account_get_only_the_allowed_password_checks(
    services: Services, strict_server: BackgroundServer
) -> None:
    admin_ops.create_user(services.store, services.passwords, "victim@x.test", "Victim", PASSWORD)
    statuses = _burst(lambda n: _login(strict_server, "victim@x.test", f"guess-{n}"))
    assert statuses == Counter({401: 3, 429: BURST - 3})
    assert _login(strict_server, "victim@x.test", PASSWORD) == 429


def test_parallel_guesses_from_one_address_get_only_the_allowed_password_checks(
    strict_server: BackgroundServer,
) -> None:
    statuses = _burst(lambda n: _login(strict_server, f"someone{n}@x.test", "guess"))
    assert statuses == Counter({401: 5, 429: BURST - 5})


def test_parallel_password_change_guesses_are_limited_too(
    services: Services, strict_server: BackgroundServer
) -> None:
    admin_ops.create_user(services.store, services.passwords, "stolen@x.test", "Stolen", PASSWORD)
    token = requests.post(
        f"{strict_server.url}/api/v1/auth/login",
        json={"email": "stolen@x.test", "password": PASSWORD},
        timeout=60,
    ).json()["access_token"]

    def change(n: int) -> int:
        response = requests.post(
            f"{strict_server.url}/api/v1/auth/password",
            json={"current_password": f"guess-{n}", "new_password": "a brand new secret"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        return response.status_code

    statuses = _burst(change)
    assert statuses == Counter({403: 3, 429: BURST - 3})


def test_successful_sign_ins_do_not_use_up_the_address_limit(
    services: Services, strict_server: BackgroundServer
) -> None:
    admin_ops.create_user(services.store, services.passwords, "daily@x.test", "Daily", PASSWORD)
    for _ in range(8):
        assert _login(strict_server, "daily@x.test", PASSWORD) == 200
    assert _login(strict_server, "other@x.test", "wrong") == 401


def test_ipv6_addresses_share_a_bucket_per_64_bit_network(services: Services) -> None:
    """One host gets a whole /64: counting single IPv6 addresses would let it dodge the limit."""
    config = strict_limits(services.config, per_account=100, per_address=4)
    client = create_app(config, Services.build(config, services.store)).test_client()

    def login(address: str) -> int:
        response = client.post(
            "/api/v1/auth/login",
            json={"email": f"x{address}@x.test".replace(":", ""), "password": "guess"},
            environ_base={"REMOTE_ADDR": address},
        )
        return response.status_code

    assert [login(f"2001:db8:5:7::{n}") for n in range(1, 5)] == [401] * 4
    assert login("2001:db8:5:7:ffff::1") == 429
    assert login("2001:db8:5:8::1") == 401  # the next /64 is someone else
    assert login("::ffff:192.0.2.7") == 401  # an IPv4-mapped address is its IPv4 address
    for _ in range(3):
        login("192.0.2.7")
    assert login("::ffff:192.0.2.7") == 429

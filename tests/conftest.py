"""Fixtures shared by every part of the suite."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("OPS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_connect(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """The PostgreSQL service of this machine. Under CI a missing database fails, never skips."""
    try:
        with _pg_connect(PG_ADMIN_URL) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI but {PG_ADMIN_URL} is not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    return PG_ADMIN_URL


@pytest.fixture
def pg_database(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards. Yields its URL."""
    name = f"ops_test_{uuid.uuid4().hex[:12]}"
    with _pg_connect(pg_admin_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = pg_admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with _pg_connect(pg_admin_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pytest_configure(config: pytest.Config) -> None:
    """Desktop key wrappings made here use cheap Argon2 parameters, as the server's test
    configuration does (``ServerConfig.for_tests``): the production cost is checked on its own in
    tests/desktop/test_local_store.py. New desktop stores are copies of one migrated once a
    process (``local_store.use_template``); the migrations themselves are tested on their own.

    Qt waits allow 30 s, not pytest-qt's 5: a wait that passes on a quiet machine must not fail
    when the machine is loaded (CI shares its cores). A wait that times out is still a failure."""
    from desktop import keywrap, local_store

    keywrap.use_cost(keywrap.TEST_COST)
    templates = Path(tempfile.mkdtemp(prefix="ops-store-template-"))
    local_store.use_template(templates)
    config.add_cleanup(lambda: shutil.rmtree(templates, ignore_errors=True))
    try:
        from pytestqt.qtbot import QtBot
    except ImportError:  # pragma: no cover - pytest-qt is a dev dependency
        return
    for name in ("waitUntil", "waitSignal", "waitSignals", "waitCallback", "waitExposed", "waitActive"):
        defaults = getattr(QtBot, name).__kwdefaults__
        if defaults and defaults.get("timeout") == 5000:
            defaults["timeout"] = 30_000

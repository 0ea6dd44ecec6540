"""``ops-server`` as a user runs it, over a real data directory.

The commands run in this process (:func:`cli`: ``sync_server.cli.main`` with the environment,
stdin, stdout and stderr a user's shell would give it); ``ops-server run`` runs as a real
subprocess, as serving is the point there.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pytest
import requests

from sync_server import admin_ops
from sync_server.config import ServerConfig
from sync_server.store import prepare_store
from tests.sync_server.ops_server import OPS_SERVER, ops_server, shell_env

UUID = re.compile(r"^[0-9a-f-]{36}$")


def test_the_embedded_store_is_encrypted_on_disk(tmp_path: Path) -> None:
    env = shell_env(tmp_path)
    assert ops_server(env, "init").returncode == 0
    assert ops_server(env, "create-org", "Secretive Corp").returncode == 0
    db = tmp_path / "server.db"
    raw = db.read_bytes()
    assert not raw.startswith(b"SQLite format 3")
    assert b"Secretive Corp" not in raw
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(db).execute("SELECT count(*) FROM sqlite_master").fetchone()
    for key_file in ("server.key", "jwt.key", "audit.key"):
        mode = stat.S_IMODE((tmp_path / key_file).stat().st_mode)
        assert mode == 0o600, (key_file, oct(mode))
        assert len(bytes.fromhex((tmp_path / key_file).read_text())) == 32


def test_the_store_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual default: new files would be world-readable
    try:
        store = prepare_store(ServerConfig(data_dir=tmp_path).for_tests())
        try:
            admin_ops.create_org(store, "Private Co")  # the pool keeps the WAL and SHM files open
            modes = {
                name: stat.S_IMODE((tmp_path / name).stat().st_mode)
                for name in ("server.db", "server.db-wal", "server.db-shm")
            }
        finally:
            store.dispose()
    finally:
        os.umask(previous)
    assert modes == dict.fromkeys(modes, 0o600), {k: oct(v) for k, v in modes.items()}


def test_a_wrong_key_is_refused_and_the_file_left_untouched(tmp_path: Path) -> None:
    env = shell_env(tmp_path)
    assert ops_server(env, "init").returncode == 0
    before = hashlib.sha256((tmp_path / "server.db").read_bytes()).hexdigest()
    result = ops_server({**env, "OPS_DB_KEY": "ab" * 32}, "create-org", "X")
    assert result.returncode == 2
    assert "key does not open" in result.stderr
    assert hashlib.sha256((tmp_path / "server.db").read_bytes()).hexdigest() == before
    bad = ops_server({**env, "OPS_DB_KEY": "not-hex"}, "init")
    assert bad.returncode == 2 and "OPS_DB_KEY" in bad.stderr


def test_organizations_users_and_grants(tmp_path: Path) -> None:
    env = shell_env(tmp_path)
    org = ops_server(env, "create-org", "Initech")
    assert org.returncode == 0 and UUID.match(org.stdout.strip())
    again = ops_server(env, "create-org", "Initech")
    assert again.returncode == 1 and "already exists" in again.stderr
    user = ops_server(
        env, "create-user", "--email", "Peter@Initech.test", "--name", "Peter", stdin="tps reports 4ever\n"
    )
    assert user.returncode == 0 and UUID.match(user.stdout.strip())
    weak = ops_server(env, "create-user", "--email", "bob@initech.test", "--name", "Bob", stdin="short\n")
    assert weak.returncode == 1 and "at least" in weak.stderr
    granted = ops_server(env, "grant", "--email", "peter@initech.test", "--org", "Initech", "--role", "sales")
    assert granted.returncode == 0 and "sales" in granted.stdout
    granted = ops_server(
        env, "grant", "--email", "peter@initech.test", "--org", org.stdout.strip(), "--role", "hr"
    )
    assert granted.returncode == 0 and "hr, sales" in granted.stdout
    unknown_role = ops_server(
        env, "grant", "--email", "peter@initech.test", "--org", "Initech", "--role", "king"
    )
    assert unknown_role.returncode == 1 and "neither a built-in role" in unknown_role.stderr
    unknown_org = ops_server(
        env, "grant", "--email", "peter@initech.test", "--org", "Nowhere", "--role", "hr"
    )
    assert unknown_org.returncode == 1 and "no organization" in unknown_org.stderr
    verify = ops_server(env, "audit", "verify", "--org", "Initech")
    assert verify.returncode == 0 and "intact" in verify.stdout
    # The password was never written anywhere in clear.
    for path in tmp_path.iterdir():
        assert b"tps reports 4ever" not in path.read_bytes()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_demo_is_idempotent_and_run_serves_it(tmp_path: Path) -> None:
    env = shell_env(tmp_path)
    first = ops_server(env, "demo", "--password", "demo password 1")
    assert first.returncode == 0, first.stderr
    assert "Acme Trading" in first.stdout and "Globex Manufacturing" in first.stdout
    applied = [int(n) for n in re.findall(r"(\d+) commands applied", first.stdout)]
    assert len(applied) == 2 and min(applied) > 50
    second = ops_server(env, "demo", "--password", "demo password 1")
    assert second.returncode == 0, second.stderr
    assert re.findall(r"(\d+) commands applied", second.stdout) == ["0", "0"]
    assert re.findall(r"(\d+) users created", second.stdout) == ["0", "0"]
    for org in ("Acme Trading", "Globex Manufacturing"):
        assert ops_server(env, "audit", "verify", "--org", org).returncode == 0

    port = _free_port()
    server = subprocess.Popen(
        [OPS_SERVER, "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert server.poll() is None, server.communicate()
            assert time.monotonic() < deadline, "ops-server run did not answer in time"
            time.sleep(0.1)  # polling a subprocess with a deadline
        for role in ("admin", "hr", "employee", "auditor"):
            login = requests.post(
                f"{base}/api/v1/auth/login",
                json={"email": f"{role}@globex.test", "password": "demo password 1"},
                timeout=30,
            )
            assert login.status_code == 200, login.text
            [membership] = login.json()["memberships"]
            assert membership["org_name"] == "Globex Manufacturing" and membership["roles"] == [role]
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.postgres
def test_init_on_postgres_creates_the_app_role_and_schema(pg_database: str, tmp_path: Path) -> None:
    env = shell_env(tmp_path, OPS_DATABASE_URL=pg_database)
    result = ops_server(env, "init")
    assert result.returncode == 0, result.stderr
    assert "PostgreSQL" in result.stdout and "@" not in result.stdout.split("(")[0]
    assert ops_server(env, "init").returncode == 0  # idempotent
    assert ops_server(env, "create-org", "Umbrella").returncode == 0
    assert ops_server(env, "audit", "verify", "--org", "Umbrella").returncode == 0


def _serve(env: dict[str, str], *args: str) -> tuple[int, str]:
    """``ops-server run ARGS`` until it answers /healthz (0) or exits (its code); and its stderr."""
    port = _free_port()
    server = subprocess.Popen(
        [OPS_SERVER, "run", "--port", str(port), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while server.poll() is None:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                    server.terminate()
                    return 0, server.communicate(timeout=30)[1]
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "ops-server run neither answered nor exited"
            time.sleep(0.1)  # polling a subprocess with a deadline
        return server.returncode, server.communicate(timeout=30)[1]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)


EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 - the case refused; when allowed, served for a moment only


def test_run_refuses_plain_http_off_loopback(tmp_path: Path) -> None:
    env = shell_env(tmp_path)
    assert ops_server(env, "init").returncode == 0
    # The refusal comes before anything is served: run in this process, as the other commands.
    refused = ops_server(env, "run", "--port", str(_free_port()), "--host", EVERY_INTERFACE)
    stderr = refused.stderr
    assert refused.returncode == 2 and "refusing to serve plain HTTP on 0.0.0.0" in stderr, stderr
    assert "--cert and --key" in stderr and "OPS_TRUSTED_PROXIES" in stderr
    code, stderr = _serve(env, "--host", EVERY_INTERFACE, "--insecure-http")
    assert code == 0 and "SERVING PLAIN HTTP ON 0.0.0.0" in stderr, stderr
    code, stderr = _serve({**env, "OPS_TRUSTED_PROXIES": "1"}, "--host", EVERY_INTERFACE)
    assert code == 0 and "plain HTTP" not in stderr, stderr
    code, stderr = _serve(env, "--host", "127.0.0.1")
    assert code == 0, stderr


def test_init_warns_when_the_key_file_sits_beside_the_database(tmp_path: Path) -> None:
    beside = ops_server(shell_env(tmp_path / "one"), "init")
    assert beside.returncode == 0
    assert "is in the same directory as the database" in beside.stderr and "OPS_DB_KEY_FILE" in beside.stderr
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    apart_env = shell_env(tmp_path / "two", OPS_DB_KEY_FILE=str(keys / "server.key"))
    apart = ops_server(apart_env, "init")
    assert apart.returncode == 0 and "same directory" not in apart.stderr, apart.stderr
    assert (keys / "server.key").is_file() and not (tmp_path / "two" / "server.key").exists()
    assert stat.S_IMODE((keys / "server.key").stat().st_mode) == 0o600
    assert ops_server(apart_env, "create-org", "Apart Ltd").returncode == 0
    # The key file is the database's: without it the store does not open.
    assert ops_server(shell_env(tmp_path / "two"), "create-org", "Other").returncode == 2


def test_the_embedded_store_syncs_every_commit_to_disk(tmp_path: Path) -> None:
    store = prepare_store(ServerConfig(data_dir=tmp_path).for_tests())
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        store.dispose()

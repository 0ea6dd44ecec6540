"""The encrypted local store: unreadable without its key, unlocked by the password, never damaged."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlcipher3
from sqlalchemy import select

from common.commands import CommandError
from common.db import new_key
from common.ids import new_id
from common.permissions import BUILTIN_ROLES
from common.schema import Product
from desktop import keywrap, local_store
from desktop.keywrap import DamagedKeyFileError, WrongPasswordError
from desktop.local_store import LocalStore, LocalStoreError
from desktop.profiles import Profile, known_organizations

WAREHOUSE = BUILTIN_ROLES["warehouse"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(root: Path, profile: Profile) -> dict[str, str]:
    return {p.name: _digest(p) for p in profile.directory(root).iterdir() if p.is_file()}


@pytest.fixture
def profile() -> Profile:
    return Profile("https://ops.example.test", "Clerk@Example.test", new_id())


@pytest.fixture
def store_with_data(tmp_path: Path, profile: Profile) -> tuple[Path, Profile]:
    store = LocalStore.create(tmp_path, profile, "correct horse", org_name="Acme Trading")
    store.apply(
        "inventory.create_product",
        {
            "id": new_id(),
            "sku": "SECRET-SKU-1",
            "name": "Confidential widget",
            "sale_price": 5,
            "currency": "EUR",
        },
        actor_id=new_id(),
        permissions=WAREHOUSE,
    )
    store.close()
    return tmp_path, profile


def test_database_file_is_encrypted_on_disk(store_with_data: tuple[Path, Profile]) -> None:
    root, profile = store_with_data
    raw = profile.db_path(root).read_bytes()
    assert not raw.startswith(b"SQLite format 3")
    assert b"SECRET-SKU-1" not in raw and b"Confidential widget" not in raw
    with pytest.raises(sqlite3.DatabaseError):
        plain = sqlite3.connect(profile.db_path(root))
        try:
            plain.execute("SELECT count(*) FROM sqlite_master").fetchall()
        finally:
            plain.close()


def test_the_right_password_opens_it_and_data_is_there(store_with_data: tuple[Path, Profile]) -> None:
    root, profile = store_with_data
    store = LocalStore.unlock(root, profile, "correct horse")
    with store.read_session() as session:
        assert session.execute(select(Product.sku)).scalars().all() == ["SECRET-SKU-1"]
    assert store.pending_count() == 1
    store.close()


def test_wrong_password_is_a_clear_error_and_changes_no_byte(store_with_data: tuple[Path, Profile]) -> None:
    root, profile = store_with_data
    before = _files(root, profile)
    with pytest.raises(WrongPasswordError, match="password does not unlock"):
        LocalStore.unlock(root, profile, "Correct horse")
    assert _files(root, profile) == before


def test_a_key_file_moved_to_another_profile_does_not_open_it(store_with_data: tuple[Path, Profile]) -> None:
    root, profile = store_with_data
    other = Profile(profile.server_url, "someone.else@example.test", profile.org_id)
    other.directory(root).mkdir(parents=True)
    (other.key_path(root)).write_bytes(profile.key_path(root).read_bytes())
    with pytest.raises(WrongPasswordError):
        LocalStore.unlock(root, other, "correct horse")


def test_password_change_rewraps_the_key_without_reencrypting(store_with_data: tuple[Path, Profile]) -> None:
    root, profile = store_with_data
    db_before = _digest(profile.db_path(root))
    key_before = profile.key_path(root).read_text()
    store = LocalStore.unlock(root, profile, "correct horse")
    store.close()
    db_before = _digest(profile.db_path(root))
    store = LocalStore.unlock(root, profile, "correct horse")
    store.change_password("correct horse", "battery staple")
    store.close()
    assert _digest(profile.db_path(root)) == db_before  # same bytes: not re-encrypted
    assert profile.key_path(root).read_text() != key_before
    with pytest.raises(WrongPasswordError):
        LocalStore.unlock(root, profile, "correct horse")
    LocalStore.unlock(root, profile, "battery staple").close()


def test_key_file_is_private_and_names_no_secret(store_with_data: tuple[Path, Profile]) -> None:
    root, profile = store_with_data
    key_path = profile.key_path(root)
    assert key_path.stat().st_mode & 0o077 == 0
    content = json.loads(key_path.read_text())
    assert content["kdf"] == "argon2id" and content["memory_kib"] == keywrap.TEST_COST.memory_kib
    assert "correct horse" not in key_path.read_text()
    # The e-mail address is not written in any path or file name.
    assert "clerk" not in str(profile.directory(root)).lower()


def test_offline_sign_in_lists_the_organizations_known_on_this_computer(
    store_with_data: tuple[Path, Profile],
) -> None:
    root, profile = store_with_data
    orgs = known_organizations(root, "https://OPS.example.test/", "clerk@example.test")
    assert orgs == [{"org_id": profile.org_id, "org_name": "Acme Trading"}]
    assert known_organizations(root, "https://other.example.test", "clerk@example.test") == []


def test_a_damaged_database_is_reported_and_left_untouched(store_with_data: tuple[Path, Profile]) -> None:
    root, profile = store_with_data
    db_path = profile.db_path(root)
    data = bytearray(db_path.read_bytes())
    data[0:64] = b"\x00" * 64  # smash the first page (salt and header)
    db_path.write_bytes(bytes(data))
    before = _files(root, profile)
    with pytest.raises(LocalStoreError, match="left untouched"):
        LocalStore.unlock(root, profile, "correct horse")
    assert _files(root, profile) == before


def test_missing_or_damaged_key_file_is_reported_without_touching_the_database(
    store_with_data: tuple[Path, Profile],
) -> None:
    root, profile = store_with_data
    db_digest = _digest(profile.db_path(root))
    profile.key_path(root).write_text("{not json")
    with pytest.raises(DamagedKeyFileError):
        LocalStore.unlock(root, profile, "correct horse")
    profile.key_path(root).unlink()
    with pytest.raises(LocalStoreError, match=r"key file .* is missing"):
        LocalStore.unlock(root, profile, "correct horse")
    with pytest.raises(LocalStoreError, match="already exists"):
        LocalStore.create(root, profile, "new password")
    assert _digest(profile.db_path(root)) == db_digest


def test_a_store_made_by_an_earlier_version_opens_in_its_own_format(
    tmp_path: Path, profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Earlier versions wrote SQLCipher 4's defaults (4 KiB pages, HMAC-SHA512); new stores use
    # 8 KiB pages and HMAC-SHA256. An existing store is opened as it is, never rewritten.
    with monkeypatch.context() as patched:
        patched.setattr(local_store, "STORE_FORMAT", local_store.LEGACY_FORMAT)
        old = LocalStore.create(tmp_path, profile, "correct horse")
        old.apply(
            "inventory.create_product",
            {"id": new_id(), "sku": "OLD-1", "name": "Old widget", "sale_price": 5, "currency": "EUR"},
            actor_id=new_id(),
            permissions=WAREHOUSE,
        )
        old.close()
    before = _files(tmp_path, profile)
    with pytest.raises(WrongPasswordError):
        LocalStore.unlock(tmp_path, profile, "Correct horse")
    assert _files(tmp_path, profile) == before
    store = LocalStore.unlock(tmp_path, profile, "correct horse")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA cipher_hmac_algorithm").scalar() == "HMAC_SHA512"
    store.apply(
        "inventory.create_product",
        {"id": new_id(), "sku": "NEW-1", "name": "New widget", "sale_price": 6, "currency": "EUR"},
        actor_id=new_id(),
        permissions=WAREHOUSE,
    )
    store.close()
    store = LocalStore.unlock(tmp_path, profile, "correct horse")
    with store.read_session() as session:
        assert sorted(session.execute(select(Product.sku)).scalars()) == ["NEW-1", "OLD-1"]
    store.close()
    # A key that is not this store's is refused in either format, and nothing is written.
    before = _files(tmp_path, profile)
    with pytest.raises(LocalStoreError, match="left untouched"):
        LocalStore.open_with_key(tmp_path, profile, new_key())
    assert _files(tmp_path, profile) == before


def test_a_new_store_uses_the_current_format(tmp_path: Path, profile: Profile) -> None:
    store = LocalStore.create(tmp_path, profile, "correct horse")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA cipher_hmac_algorithm").scalar() == "HMAC_SHA256"
        assert int(connection.exec_driver_sql("PRAGMA page_size").scalar()) == local_store.PAGE_BYTES
    store.close()
    with pytest.raises(LocalStoreError, match="left untouched"):
        LocalStore.open_with_key(tmp_path, profile, new_key())


def test_outbox_entry_is_written_with_the_change_or_not_at_all(tmp_path: Path, profile: Profile) -> None:
    store = LocalStore.create(tmp_path, profile, "pw")
    product_id = new_id()
    command_id, _ = store.apply(
        "inventory.create_product",
        {"id": product_id, "sku": "A-1", "name": "Widget", "sale_price": 5, "currency": "EUR"},
        actor_id=new_id(),
        permissions=WAREHOUSE,
    )
    (entry,) = store.outbox()
    assert (entry["id"], entry["name"], entry["status"]) == (
        command_id,
        "inventory.create_product",
        "pending",
    )
    assert entry["undo"] == [{"entity": "product", "id": product_id, "before": None}]
    # A refused command leaves neither data nor an outbox entry.
    with pytest.raises(CommandError):
        store.apply(
            "inventory.create_product",
            {"id": new_id(), "sku": "A-1", "name": "Duplicate", "sale_price": 5, "currency": "EUR"},
            actor_id=new_id(),
            permissions=WAREHOUSE,
        )
    assert len(store.outbox()) == 1
    with store.read_session() as session:
        assert session.execute(select(Product.name)).scalars().all() == ["Widget"]
    store.close()


def test_undo_images_put_a_rejected_change_back(tmp_path: Path, profile: Profile) -> None:
    store = LocalStore.create(tmp_path, profile, "pw")
    actor, product_id = new_id(), new_id()
    store.apply(
        "inventory.create_product",
        {"id": product_id, "sku": "A-1", "name": "Widget", "sale_price": 5, "currency": "EUR"},
        actor_id=actor,
        permissions=WAREHOUSE,
    )
    store.apply(
        "inventory.update_product",
        {
            "id": product_id,
            "changes": {"name": "Renamed", "sale_price": 7},
            "base": {"name": "Widget", "sale_price": 5},
        },
        actor_id=actor,
        permissions=WAREHOUSE,
    )
    create, rename = store.outbox()
    with store.write_session() as session:
        store.undo_entry(session, rename)
    with store.read_session() as session:
        assert session.execute(select(Product.name, Product.sale_price)).one() == ("Widget", 5)
    with store.write_session() as session:
        store.undo_entry(session, create)
    with store.read_session() as session:
        assert session.execute(select(Product.id)).first() is None
    store.close()


def test_undoing_an_employee_change_undoes_its_directory_row(tmp_path: Path, profile: Profile) -> None:
    """What a rejected command leaves behind on the workstation: nothing, directory included."""
    from common.permissions import ALL_PERMISSIONS
    from common.schema import Employee, EmployeeDirectory

    store = LocalStore.create(tmp_path, profile, "pw")
    try:
        actor = new_id()

        def apply(name: str, args: dict[str, object]) -> None:
            store.apply(name, args, actor_id=actor, permissions=ALL_PERMISSIONS)

        employee_id, created_id = new_id(), new_id()
        apply("hr.create_employee", {"id": employee_id, "name": "Cy", "job_title": "Clerk"})
        apply("hr.update_employee", {"id": employee_id, "changes": {"name": "Cyrus"}, "base": {"name": "Cy"}})
        apply("hr.create_employee", {"id": created_id, "name": "Dee"})
        *_, renamed, created = store.outbox()
        assert {image["entity"] for image in renamed["undo"]} == {"employee", "employee_directory"}
        with store.write_session() as session:
            store.undo_entry(session, created)
            store.undo_entry(session, renamed)
        with store.read_session() as session:
            names = dict(session.execute(select(EmployeeDirectory.id, EmployeeDirectory.name)).all())
            assert names == {employee_id: "Cy"}
            assert session.execute(select(Employee.id).where(Employee.id == created_id)).first() is None
    finally:
        store.close()


def test_a_key_is_wrapped_at_the_production_cost_unless_a_test_suite_says_otherwise() -> None:
    """RFC 9106's second recommendation (3 passes, 64 MiB, 4 lanes) is what a fresh process uses;
    the suite's cheap cost (tests/conftest.py) is recorded in each file, so either unwraps."""
    fresh = subprocess.run(
        [
            sys.executable,
            "-c",
            "from desktop import keywrap; print(keywrap.wrap_key(bytes(32), 'pw', 'b').to_json())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "'time_cost': 3, 'memory_kib': 65536, 'parallelism': 4" in fresh.stdout
    previous = keywrap.use_cost(keywrap.PRODUCTION_COST)
    try:
        wrapped = keywrap.wrap_key(b"k" * 32, "pw", "profile")
    finally:
        keywrap.use_cost(previous)
    assert (wrapped.time_cost, wrapped.memory_kib, wrapped.parallelism) == (3, 65536, 4)
    assert keywrap.unwrap_key(wrapped, "pw", "profile") == b"k" * 32
    with pytest.raises(WrongPasswordError):
        keywrap.unwrap_key(wrapped, "pw", "another profile")


def test_a_store_copied_from_the_suites_template_is_the_migrated_schema(tmp_path: Path) -> None:
    """The suite makes new stores from an empty migrated one (tests/conftest.py): each is the
    schema every migration makes, with the same rows, under its own key."""
    from sqlalchemy import text

    from common import migrate
    from common.db import new_key
    from desktop import local_store, search_index

    def schema(engine: Any) -> list[tuple[Any, ...]]:
        with engine.connect() as c:
            rows = c.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master")).all()
            counts = {
                name: c.execute(text(f'SELECT count(*) FROM "{name}"')).scalar()
                for (kind, name, _, _) in rows
                if kind == "table" and name != "sync_state"  # the store has since named its device
            }
        # Batch migrations may list a table's constraints in another order: compare the lines.
        lines = sorted(
            (k, n, t, tuple(sorted(line.strip(" ,") for line in (q or "").split("\n"))))
            for k, n, t, q in rows
        )
        return [*lines, tuple(sorted(counts.items()))]

    migrated = local_store.open_engine(tmp_path / "migrated.db", new_key())
    migrate.upgrade(migrated)
    search_index.ensure_engine(migrated)
    profile = Profile("http://127.0.0.1:9", "clerk@acme.test", new_id())
    store = LocalStore.create(tmp_path / "root", profile, "pw")
    try:
        assert schema(store.engine) == schema(migrated)
        assert migrate.upgrade(store.engine) is False  # already at the newest revision
    finally:
        store.close()
        migrated.dispose()
    with pytest.raises(LocalStoreError):  # encrypted under its own key, not the template's none
        LocalStore.open_with_key(tmp_path / "root", profile, new_key())


def test_sync_state_reads_and_writes_work_from_two_threads_at_once_and_follow_the_checkpoint_setting(
    tmp_path: Path, profile: Profile
) -> None:
    """The sync-state statements run on a connection the store keeps (``_driver``): another
    thread meanwhile gets its own, and the kept one takes the log-copy setting a full download
    sets and clears, as every connection from the pool does."""
    store = LocalStore.create(tmp_path, profile, "pw")
    try:
        store.set_state("cursor", "c1")
        seen: list[str | None] = []
        with store._driver() as cursor:  # this thread holds the kept connection
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('cursor', 'c2')")
            other = threading.Thread(target=lambda: seen.append(store.get_state("cursor")))
            other.start()
            other.join(timeout=10)
            cursor.execute("COMMIT")
        assert seen == ["c1"]  # read at once, on another connection, before the commit
        assert store.get_state("cursor") == "c2"

        def autocheckpoint() -> int:
            with store._driver() as cursor:
                return int(cursor.execute("PRAGMA wal_autocheckpoint").fetchone()[0])

        usual = autocheckpoint()
        store.defer_checkpoints(True)
        assert autocheckpoint() == 0
        assert store.finish_cycle("last_sync_at", "2026-12-05T00:00:00+00:00") == 0
        store.defer_checkpoints(False)
        assert usual > 0 and autocheckpoint() == usual
        with pytest.raises(sqlcipher3.OperationalError), store._driver() as cursor:
            cursor.execute("SELECT no_such_column FROM sync_state")
        assert store.get_state("last_sync_at") == "2026-12-05T00:00:00+00:00"  # a new kept connection
    finally:
        store.close()

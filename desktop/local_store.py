"""The encrypted local database of one profile, and local application of commands.

A command is applied optimistically and its outbox entry written in the same transaction
(:func:`common.local.apply_and_queue`, the client's side of the command layer); the outbox entry
keeps the before-images of the rows the command touched, so a command the server rejects can be
undone exactly.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlcipher3
from sqlalchemy import Engine, delete, event, insert, select, update
from sqlalchemy.orm import Session

from common import migrate
from common.commands import CommandOutcome
from common.db import WrongKeyError, check_key, create_sqlite_engine, new_key
from common.ids import DERIVED_IDS, LEGACY_DERIVED_IDS, new_id
from common.local import apply_and_queue, device_tag
from common.schema import OutboxEntry, SyncState
from desktop import deferred_indexes, search_index, store_state
from desktop.keywrap import DamagedKeyFileError, WrappedKey, WrongPasswordError, unwrap_key, wrap_key
from desktop.profiles import Profile, write_private_json
from desktop.rows import WRITERS
from desktop.search_build import SearchIndexBuilder

__all__ = ["DamagedKeyFileError", "LocalStore", "LocalStoreError", "WrongPasswordError"]


# Decrypted pages stay in this cache: a 300k-row store (~150 MB) then answers repeated lookups
# and scans without decrypting pages again. Only pages actually read take memory.
LOCAL_CACHE_KIB = 262144

# sync_state key: "2" once the server has said it derives ids of scheme 2 (LocalStore.derived_ids).
DERIVED_IDS_STATE = "server_derived_ids"

# Let the write-ahead log grow to 64 MiB before it is copied into the database file. SQLite's
# default (1,000 pages) copies it after almost every page of a download, so each page would be
# written twice and synced; measured here, 100k products wrote 15-25 % faster.
WAL_AUTOCHECKPOINT_BYTES = 64 * 1024 * 1024


# The file format of a new store. Every page is encrypted (AES-256-CBC) and authenticated with an
# HMAC, and both cost per page as well as per byte: 8 KiB pages (SQLCipher's default is 4 KiB)
# halve the pages a download writes, and HMAC-SHA256 (SQLCipher 4 defaults to SHA-512) is a
# 256-bit authenticator that CPUs with SHA extensions compute several times faster (valgrind
# hides those extensions, so callgrind counts the slow path). Measured in process CPU,
# interleaved: a 300k-row initial sync 5.0 -> 4.4 s of the client's CPU; 50k products
# inserted, the cost over plain SQLite (same page size) 18 % -> 13 %.
PAGE_BYTES = 8192
STORE_FORMAT = (f"PRAGMA cipher_page_size = {PAGE_BYTES}", "PRAGMA cipher_hmac_algorithm = HMAC_SHA256")
# Stores created before keep SQLCipher 4's defaults (4 KiB pages, HMAC-SHA512): they open as
# they are, never rewritten; the format is told by which settings open the file.
LEGACY_FORMAT: tuple[str, ...] = ()
# Plain SQLite (no key; for comparisons) with the same page size.
PLAIN_FORMAT = (f"PRAGMA page_size = {PAGE_BYTES}",)


def _tune_connection(dbapi_conn: Any) -> None:
    page_bytes = int(dbapi_conn.execute("PRAGMA page_size").fetchone()[0])  # 4 or 8 KiB (formats below)
    dbapi_conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_BYTES // page_bytes}")
    # A pulled row is written with INSERT OR REPLACE (desktop.rows), which deletes the row it
    # replaces; SQLite fires that deletion's triggers only with recursive triggers on. Without
    # them the search indexes (desktop.search_index) kept every replaced row's old text: an
    # erased customer's e-mail stayed findable in the trigram index.
    dbapi_conn.execute("PRAGMA recursive_triggers = ON")


def store_format(db_path: Path, key: bytes | None) -> tuple[str, ...]:
    """The settings that open the file at ``db_path``: :data:`STORE_FORMAT` for a new (or empty)
    file, else whichever format opens it. Read-only; :class:`WrongKeyError` when none does."""
    if key is None:
        return PLAIN_FORMAT
    if not db_path.exists() or db_path.stat().st_size == 0:
        return STORE_FORMAT
    # A format that does not fit is refused like a wrong key, and SQLCipher would log that as an
    # error; the refusal that matters is raised (WrongKeyError) and said by the caller.
    with _cipher_log_quiet():
        try:
            check_key(db_path, key, STORE_FORMAT)
        except WrongKeyError:
            check_key(db_path, key, LEGACY_FORMAT)
            return LEGACY_FORMAT
    return STORE_FORMAT


@contextmanager
def _cipher_log_quiet() -> Iterator[None]:
    """SQLCipher's log (process-wide) silenced for a read that is expected to be refused."""
    conn = sqlcipher3.connect(":memory:")
    try:
        level = str(conn.execute("PRAGMA cipher_log_level").fetchone()[0])
        conn.execute("PRAGMA cipher_log_level = NONE")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA cipher_log_level = {level}")
    finally:
        conn.close()


def open_engine(db_path: Path, key: bytes | None, *, pool_size: int = 2) -> Engine:
    """An engine on a profile's database file with the desktop's settings (not migrated; no key:
    plain SQLite with the same settings, for comparison).

    Client databases hold what the server sends, which may reference rows this user may not
    read; the server enforces references, so foreign keys are off here.
    """
    return create_sqlite_engine(
        db_path,
        key,
        foreign_keys=False,
        pool_size=pool_size,
        cache_kib=LOCAL_CACHE_KIB,
        connect_hook=_tune_connection,
        first_pragmas=store_format(db_path, key),
    )


# Test suites only (``use_template``): where an empty migrated store is kept to copy new stores from.
_template_dir: Path | None = None


def use_template(directory: Path | None) -> None:
    """Make each new store a copy of an empty store migrated once a process, kept in ``directory``
    (``None``: migrate every new store, as the application always does).

    For test suites, which make hundreds of stores: running every migration on each costs tenths
    of a second. The copy is SQLCipher's own ``sqlcipher_export`` into the new encrypted file, so
    the store is the same schema with the same rows, encrypted under its own key.
    """
    global _template_dir
    _template_dir = directory


def _empty_template() -> Path:
    assert _template_dir is not None
    template = _template_dir / f"empty-{migrate.head_revision()}.db"
    if not template.exists():
        building = template.with_suffix(".building")
        engine = open_engine(building, None)
        migrate.upgrade(engine)
        search_index.ensure_engine(engine)
        engine.dispose()
        building.replace(template)
    return template


def _copy_template_into(engine: Engine) -> None:
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("ATTACH DATABASE ? AS template KEY ''", (str(_empty_template()),))
        cursor.execute("SELECT sqlcipher_export('main', 'template')")
        connection.commit()
        cursor.execute("DETACH DATABASE template")
    finally:
        connection.close()
    engine.dispose()  # the virtual tables written into the schema are read by new connections


_SQL_COUNT_PENDING = "SELECT count(*) FROM outbox WHERE status = 'pending'"


# Undo images of rows that are no longer rows of their own, and the entity whose row holds them
# now: a command queued before revision 0019 recorded an image per journal line it created; the
# lines are in their entry's row since (``journal_entry.lines_json``), and the entry's own image
# (always there: the command created the entry with its lines) deletes them with it.
FOLDED_INTO = {"journal_line": "journal_entry"}


def undo_images(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """An outbox entry's undo images of rows that are rows of their own (:data:`FOLDED_INTO`)."""
    return [image for image in entry.get("undo") or [] if image["entity"] not in FOLDED_INTO]


class LocalStoreError(Exception):
    """The local data cannot be opened; the message says why and what to do."""


class LocalStore:
    """One profile's SQLCipher database."""

    def __init__(self, root: Path, profile: Profile, engine: Engine, key: bytes) -> None:
        self.root = root
        self.profile = profile
        self.engine = engine
        self._key = key
        self.path = profile.db_path(root)
        self._device_id: str | None = None
        # Builds the search indexes a full download dropped, in the background (desktop.search_build).
        self.search_indexes = SearchIndexBuilder(engine)
        self._checkpoints_deferred = False
        event.listen(engine, "checkout", self._on_checkout)
        # The pooled connection :meth:`_driver` keeps, and whether a thread is using it.
        self._kept: Any = None
        self._kept_lock = threading.Lock()
        self._derived_ids: int | None = None  # read from sync_state when first needed

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def exists(cls, root: Path, profile: Profile) -> bool:
        return profile.key_path(root).is_file()

    @classmethod
    def create(cls, root: Path, profile: Profile, password: str, *, org_name: str = "") -> LocalStore:
        """Create the profile's encrypted database with a fresh random key, wrapped by ``password``."""
        db_path, key_path = profile.db_path(root), profile.key_path(root)
        if db_path.exists() or key_path.exists():
            raise LocalStoreError(f"local data already exists in {profile.directory(root)}; sign in instead")
        profile.directory(root).mkdir(parents=True, exist_ok=True, mode=0o700)
        key = new_key()
        write_private_json(key_path, wrap_key(key, password, profile.binding).to_json())
        write_private_json(
            profile.directory(root) / "org.json", {"org_id": profile.org_id, "org_name": org_name}
        )
        return cls._open(root, profile, key)

    @classmethod
    def unlock(cls, root: Path, profile: Profile, password: str) -> LocalStore:
        """Open with the password. A wrong password raises :class:`WrongPasswordError` and
        leaves every file exactly as it was."""
        return cls._open(root, profile, cls._unwrap(root, profile, password))

    @classmethod
    def open_with_key(cls, root: Path, profile: Profile, key: bytes) -> LocalStore:
        """Open with a key remembered in the OS keyring."""
        return cls._open(root, profile, key)

    @classmethod
    def _unwrap(cls, root: Path, profile: Profile, password: str) -> bytes:
        key_path = profile.key_path(root)
        if not key_path.is_file():
            if profile.db_path(root).exists():
                raise LocalStoreError(
                    f"the key file {key_path} is missing, so the local data cannot be opened; "
                    "it was left untouched"
                )
            raise LocalStoreError(
                "there is no local data for this account on this computer; sign in online first"
            )
        try:
            wrapped = WrappedKey.from_json(json.loads(key_path.read_text("utf-8")))
        except (OSError, ValueError) as exc:
            raise DamagedKeyFileError(f"the key file {key_path} is damaged: {exc}") from exc
        return unwrap_key(wrapped, password, profile.binding)

    @classmethod
    def _open(cls, root: Path, profile: Profile, key: bytes) -> LocalStore:
        db_path = profile.db_path(root)
        try:
            new = not db_path.exists()
            engine = open_engine(db_path, key)  # the key is checked first
            if new and _template_dir is not None:
                _copy_template_into(engine)
            # Before migrating: a download stopped half-way left indexes aside (their text is
            # the schema's as it was then), and a migration may expect them.
            deferred_indexes.restore_pending(engine)
            migrate.upgrade(engine)
            search_index.ensure_engine(engine)  # one read once they exist
        except WrongKeyError as exc:
            raise LocalStoreError(
                f"the local database {db_path.name} could not be opened with its key (damaged or "
                "replaced file); it was left untouched"
            ) from exc
        store = cls(root, profile, engine, key)
        if store.get_state("device_id") is None:
            store.set_state("device_id", new_id())
        return store

    @property
    def key(self) -> bytes:
        return self._key

    def change_password(self, old_password: str, new_password: str) -> None:
        """Re-wrap the key under the new password (the database itself is not re-encrypted)."""
        key = self._unwrap(self.root, self.profile, old_password)
        write_private_json(
            self.profile.key_path(self.root), wrap_key(key, new_password, self.profile.binding).to_json()
        )

    def rewrap(self, new_password: str) -> None:
        """Wrap the open database's key under ``new_password`` (after a server-side password change)."""
        write_private_json(
            self.profile.key_path(self.root),
            wrap_key(self._key, new_password, self.profile.binding).to_json(),
        )

    @property
    def search_ready(self) -> bool:
        """Whether the search indexes are complete: a list may search through them (else with
        ``LIKE``, while a background build runs after a full download)."""
        return self.search_indexes.ready

    def close(self) -> None:
        self.search_indexes.cancel()
        with self._kept_lock:
            if self._kept is not None:
                self._kept.close()  # back to the pool, which the engine's dispose closes
                self._kept = None
        self.engine.dispose()

    def defer_checkpoints(self, deferred: bool) -> None:
        """While a full download is written and its sync ends (``True`` until ``False``), commits
        do not copy the write-ahead log into the database file (SQLite's automatic checkpoint,
        every 64 MiB): at 300k rows that copied ~140 MB and synced it inside the sync. The log
        keeps the download, and the background search index build copies it once, after the sync
        (:mod:`desktop.search_build`); a store closed first copies it then. Each connection takes
        the setting at its next checkout."""
        self._checkpoints_deferred = deferred

    def _on_checkout(self, dbapi_conn: Any, record: Any, proxy: Any) -> None:
        self._checkpoint_setting(dbapi_conn, record.info)

    def _checkpoint_setting(self, dbapi_conn: Any, info: dict[str, Any]) -> None:
        # One dict read a checkout; a PRAGMA only when the connection's setting must change.
        wanted = self._checkpoints_deferred
        if info.get("checkpoints_deferred", False) != wanted:
            if wanted:
                dbapi_conn.execute("PRAGMA wal_autocheckpoint = 0")
            else:
                _tune_connection(dbapi_conn)
            info["checkpoints_deferred"] = wanted

    # -- sessions and state ----------------------------------------------------------------------
    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A session in one write transaction (``BEGIN IMMEDIATE``), committed on success."""
        with Session(self.engine.execution_options(sqlite_begin="IMMEDIATE")) as session, session.begin():
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        with Session(self.engine) as session:
            yield session

    # -- sync state and the pending count: the one place the desktop reads them ----------------
    # Without a session they go straight to the driver on a pooled connection: a no-op sync is
    # nothing but this bookkeeping and two requests, and SQLAlchemy's statement machinery
    # (compile cache, events, BEGIN/ROLLBACK around each read) costs more than the queries.

    @contextmanager
    def _driver(self) -> Iterator[Any]:
        """A cursor on a pooled connection in autocommit mode (each statement its own transaction).

        The store keeps one pooled connection for these: a checkout and its return through
        SQLAlchemy's pool (events, reset on return) cost ~20 µs against ~4 µs for a one-row
        read, and a no-op sync runs five. A thread that finds it in use by another takes one
        from the pool as before, so none waits behind another's statement (``finish_cycle``
        may wait for the write lock). The kept connection takes the checkpoint setting a
        checkout would give it (:meth:`defer_checkpoints`) and goes back to the pool after a
        failed statement, as any other; :meth:`close` returns it before the engine closes."""
        if self._kept_lock.acquire(blocking=False):
            try:
                kept = self._kept
                if kept is None:
                    kept = self._kept = self.engine.raw_connection()
                else:
                    self._checkpoint_setting(kept.dbapi_connection, kept.info)
                cursor = kept.cursor()
                try:
                    yield cursor
                except BaseException:
                    self._kept = None
                    kept.close()  # the pool rolls back whatever was left open
                    raise
                finally:
                    cursor.close()
            finally:
                self._kept_lock.release()
            return
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
        finally:
            connection.close()  # back to the pool

    def get_state(self, key: str, *, session: Session | None = None) -> str | None:
        """The ``sync_state`` value of ``key`` (``None`` when unset)."""
        if session is not None:
            return session.execute(select(SyncState.value).where(SyncState.key == key)).scalar()
        with self._driver() as cursor:
            found = cursor.execute(store_state.SQL_READ, (key,)).fetchone()
        return None if found is None or found[0] is None else str(found[0])

    def set_state(self, key: str, value: str | None, *, session: Session | None = None) -> None:
        if session is None:
            with self._driver() as cursor:
                cursor.execute(store_state.SQL_PUT, (key, value))
            return
        session.execute(delete(SyncState).where(SyncState.key == key))
        session.execute(insert(SyncState).values(key=key, value=value))

    def pending_count(self) -> int:
        """Commands waiting to be sent."""
        with self._driver() as cursor:
            return int(cursor.execute(_SQL_COUNT_PENDING).fetchone()[0])

    def blocks_stale(self) -> bool:
        """Whether the search walk blocks need summing again (:func:`search_index.blocks_stale`)."""
        with self._driver() as cursor:
            return bool(cursor.execute(search_index.BLOCKS_STALE_SQL).fetchone()[0])

    def finish_cycle(self, key: str, value: str) -> int:
        """Record the end of a sync (``key`` = ``value``) and count the commands still pending,
        in one write transaction."""
        with self._driver() as cursor:
            cursor.execute("BEGIN IMMEDIATE")
            try:
                cursor.execute(store_state.SQL_PUT, (key, value))
                pending = int(cursor.execute(_SQL_COUNT_PENDING).fetchone()[0])
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")
        return pending

    @property
    def device_id(self) -> str:
        # Set once when the store is first opened and never changed: read it once.
        if self._device_id is None:
            value = self.get_state("device_id")
            assert value is not None
            self._device_id = value
        return self._device_id

    @property
    def device_tag(self) -> str:
        """Short device tag used in provisional document numbers."""
        return device_tag(self.device_id)

    # -- commands --------------------------------------------------------------------------------
    def apply(
        self,
        name: str,
        args: dict[str, Any],
        *,
        actor_id: str,
        permissions: frozenset[str],
        command_id: str | None = None,
        now: datetime | None = None,
        session: Session | None = None,
    ) -> tuple[str, CommandOutcome]:
        """Apply a command locally and queue it for the server, atomically.

        Raises :class:`common.commands.CommandError` (and writes nothing) when it is refused.
        With ``session`` the command joins the caller's write transaction (which then owns
        commit and rollback), so several steps can be one atomic change.
        """
        if session is None:
            with self.write_session() as own:
                return self.apply(
                    name,
                    args,
                    actor_id=actor_id,
                    permissions=permissions,
                    command_id=command_id,
                    now=now,
                    session=own,
                )
        return apply_and_queue(
            session,
            name,
            args,
            org_id=self.profile.org_id,
            device_id=self.device_id,
            actor_id=actor_id,
            permissions=permissions,
            command_id=command_id,
            now=now,
            derived_ids=self.derived_ids(),
        )

    def derived_ids(self) -> int:
        """The scheme of derived ids new commands are applied with: scheme 2 once the server
        has said it derives them so (:meth:`server_derives_ids`), else scheme 1, which every
        server derives (one of an older version ignores the push's ``Ops-Derived-Ids``)."""
        if self._derived_ids is None:
            known = self.get_state(DERIVED_IDS_STATE)
            self._derived_ids = DERIVED_IDS if known == str(DERIVED_IDS) else LEGACY_DERIVED_IDS
        return self._derived_ids

    def server_derives_ids(self) -> None:
        """Record that the server answered a push with ``Ops-Derived-Ids: 2``: commands applied
        from now on derive ids of scheme 2 (those queued before keep theirs)."""
        if self.derived_ids() != DERIVED_IDS:
            self.set_state(DERIVED_IDS_STATE, str(DERIVED_IDS))
            self._derived_ids = DERIVED_IDS

    def outbox(self, *statuses: str) -> list[dict[str, Any]]:
        """Outbox entries in order, optionally only those with the given statuses."""
        stmt = select(*OutboxEntry.__table__.columns).order_by(OutboxEntry.seq)
        if statuses:
            stmt = stmt.where(OutboxEntry.status.in_(statuses))
        with self.read_session() as session:
            return [dict(row) for row in session.execute(stmt).mappings()]

    def undo_entry(self, session: Session, entry: dict[str, Any]) -> None:
        """Put back the before-images of an outbox entry's rows (newest command first is the
        caller's job), deleting rows the command created."""
        connection = session.connection()
        for image in reversed(undo_images(entry)):
            writer = WRITERS[image["entity"]]
            if image["before"] is None:
                writer.delete(connection, self.profile.org_id, [image["id"]])
            else:
                writer.upsert(connection, [image["before"]])

    def mark(self, session: Session, command_id: str, **values: Any) -> None:
        session.execute(update(OutboxEntry).where(OutboxEntry.id == command_id).values(**values))

"""Opening SQLite and SQLCipher databases the same way on both sides.

SQLCipher files are opened with a raw 256-bit key (no passphrase KDF on open: the key is already
random), checked by reading the schema so a wrong key fails at once with :class:`WrongKeyError`
and never writes to the file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlcipher3
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

KEY_BYTES = 32
# 64 MiB page cache: decrypted pages stay cached, so repeated scans are not decrypted again.
DEFAULT_CACHE_KIB = 65536
# Prepared statements kept per connection. sqlcipher3's cache keeps the statements used most
# often and, once full, evicts the newest: after migrations and start-up had filled the default
# 128, every statement of a push was prepared again at each use (a fifth of a push's work, counted
# with callgrind; bench/README.md, "Books (issue 12)").
STATEMENT_CACHE = 1024

# ``None`` bound as NULL without the driver's fallback: sqlcipher3 binds str, int, float and
# bytearray directly and passes anything else (``None`` too) through its adapter registry, which
# for a type with no adapter tries two attribute look-ups that fail, each building an
# ``AttributeError`` (~4 µs a parameter; 9 % of a pushed invoice's instructions, with the entity
# names of ``common.commands.framework.entity_name``). Registered, ``None``
# takes the registry's one dict hit instead; the adapter is an empty dict's ``get``, which
# answers ``None`` for any key without running Python code. What is stored does not change.
sqlcipher3.register_adapter(type(None), {}.get)


class WrongKeyError(Exception):
    """The key does not open this database file (or the file is not a database)."""


def _configure(dbapi_conn: Any, *, foreign_keys: bool, cache_kib: int, wal: bool, synchronous: str) -> None:
    dbapi_conn.isolation_level = None  # SQLAlchemy's begin event issues BEGIN itself
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
        cursor.execute("PRAGMA temp_store = MEMORY")
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        if wal:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
        cursor.execute("PRAGMA busy_timeout = 30000")
    finally:
        cursor.close()


def check_key(path: Path, key: bytes, first_pragmas: Sequence[str] = ()) -> None:
    """Raise :class:`WrongKeyError` unless ``key`` (with the SQLCipher settings
    ``first_pragmas``) opens the SQLCipher file at ``path``.

    Read-only: the file is not modified whether or not the key is right.
    """
    conn = sqlcipher3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        for pragma in first_pragmas:
            conn.execute(pragma)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError as exc:
        raise WrongKeyError(f"{path.name}: the key does not open this database") from exc
    finally:
        conn.close()


def _install_begin_hooks(engine: Engine) -> None:
    """Take over transaction start: ``BEGIN`` or, for writers, ``BEGIN IMMEDIATE``.

    A writer that asks for the write lock up front never fails half-way with SQLITE_BUSY when
    it upgrades from reading to writing.
    """

    dbapi_error = sqlcipher3.dbapi2.Error

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # On the DB-API connection, not through ``exec_driver_sql``: every transaction of both
        # programs starts here, and SQLAlchemy's statement execution was a third of the cost of
        # opening and committing a short read transaction (a server request's). Errors are
        # raised as ``exec_driver_sql`` would raise them (``OperationalError`` when locked).
        sql = f"BEGIN {conn.get_execution_options().get('sqlite_begin', 'DEFERRED')}"
        try:
            conn.connection.dbapi_connection.execute(sql)
        except dbapi_error as exc:
            raise DBAPIError.instance(
                sql, None, exc, dbapi_error, hide_parameters=True, dialect=conn.dialect
            ) from exc


def create_sqlite_engine(
    path: Path | str,
    key: bytes | None,
    *,
    foreign_keys: bool = True,
    cache_kib: int = DEFAULT_CACHE_KIB,
    wal: bool = True,
    synchronous: str = "NORMAL",
    pool_size: int = 5,
    connect_hook: Callable[[Any], None] | None = None,
    first_pragmas: Sequence[str] = (),
) -> Engine:
    """An engine on the SQLite file at ``path``; SQLCipher-encrypted when ``key`` is given.

    A new file is created encrypted. An existing file is checked against the key first.
    ``synchronous`` (with WAL): ``NORMAL`` survives a crash of the program but may lose the last
    commits on power loss; ``FULL`` syncs the WAL at every commit, so a commit survives that too.
    ``first_pragmas`` run on every connection right after the key, before the file is read:
    settings of the file format (``cipher_page_size``, ``cipher_hmac_algorithm``, ``page_size``).
    """
    if synchronous not in ("NORMAL", "FULL"):
        raise ValueError("synchronous is NORMAL or FULL")
    path = Path(path)
    if key is not None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"SQLCipher keys are {KEY_BYTES} bytes")
        if path.exists() and path.stat().st_size > 0:
            check_key(path, key, first_pragmas)
    pragma_key = f"PRAGMA key = \"x'{key.hex()}'\"" if key is not None else None

    def connect() -> Any:
        conn = sqlcipher3.connect(str(path), check_same_thread=False, cached_statements=STATEMENT_CACHE)
        if pragma_key is not None:
            conn.execute(pragma_key)
        for pragma in first_pragmas:
            conn.execute(pragma)
        _configure(conn, foreign_keys=foreign_keys, cache_kib=cache_kib, wal=wal, synchronous=synchronous)
        if connect_hook is not None:
            connect_hook(conn)
        return conn

    engine = create_engine(
        "sqlite://",
        creator=connect,
        module=sqlcipher3.dbapi2,  # so driver errors are wrapped as sqlalchemy.exc.* like any other
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=False,
        # Errors never repeat a statement's values (they may be personal data or key material).
        hide_parameters=True,
    )
    _install_begin_hooks(engine)
    return engine


def new_key() -> bytes:
    """A fresh random 256-bit database key."""
    return os.urandom(KEY_BYTES)

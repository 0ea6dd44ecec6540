"""The server's canonical store: embedded SQLCipher or PostgreSQL, one way to open sessions.

Every request works in a session opened by :meth:`Store.session`, which names the organization
(and user) it works for. Tenant criteria come from :mod:`sync_server.tenancy`. On PostgreSQL each
transaction starts with ``SET LOCAL ROLE <app role>`` and ``SET LOCAL app.org_id/app.user_id``
(one ``set_config`` round trip), so row-level security applies even when the URL names the
owner of the schema. Writers on SQLite begin ``IMMEDIATE``: one writer at a time, which is also
the per-organization write lock the change sequence needs.

On SQLite the writers of this process also take turns in arrival order (:class:`WriterTurns`)
before they begin: SQLite's own wait for the write lock polls with growing sleeps, so a writer
that commits and begins again at once (a large push committed slice by slice) would nearly always
win the lock back from one that has been waiting.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, create_engine, event, inspect, select, text
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from common import migrate
from common.commands.rowaccess import raw_statement
from common.db import create_sqlite_engine
from common.schema import Organization
from sync_server import tenancy
from sync_server.audit import AUDIT_KEY_INFO, sign_unsigned_head
from sync_server.config import ServerConfig

# The audit chain of events that belong to no organization (sign-in attempts for unknown
# e-mail addresses, requests for organizations the caller is not a member of).
SYSTEM_ORG_ID = "00000000-0000-0000-0000-000000000000"
# Session info: the session runs in a transaction its connection's owner scoped already.
_SCOPED = "ops_connection_scoped"

_SET_SCOPE = text(
    "SELECT set_config('role', :role, true), set_config('app.org_id', :org_id, true), "
    "set_config('app.user_id', :user_id, true)"
)


class WriterTurns:
    """A first-come, first-served lock: the embedded store's writers in this process take turns
    in the order they asked. Re-entrant for the thread that holds it."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self._owner: int | None = None
        self._depth = 0

    @property
    def waiting(self) -> int:
        """Writers waiting for their turn (not counting the one writing)."""
        with self._changed:
            return max(0, self._next_ticket - self._serving - (1 if self._owner is not None else 0))

    def acquire(self) -> None:
        me = threading.get_ident()
        with self._changed:
            if self._owner == me:
                self._depth += 1
                return
            ticket = self._next_ticket
            self._next_ticket += 1
            while ticket != self._serving:
                self._changed.wait()
            self._owner, self._depth = me, 1

    def release(self) -> None:
        with self._changed:
            assert self._owner == threading.get_ident(), "released by a thread that does not hold it"
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._serving += 1
                self._changed.notify_all()

    @contextmanager
    def turn(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()


class StatementConnections:
    """SQLite connections of the engine kept aside for reads of one statement
    (``Store.raw_reads(one_statement=True)``: a no-op sync, many a second).

    Taking one from SQLAlchemy's pool and giving it back costs more than the indexed statement
    itself (its checkout and checkin: the proxy object and its finalizer, the pool's queue and
    events, the rollback on return; ~64k instructions a time here). A statement that is its own
    read transaction leaves nothing on its connection to reset, so these are kept apart: made by
    the engine (its pool's ``raw_connection``, then ``detach``: configured as every other),
    taken from a deque (an atomic ``pop``) and given back under a lock shared with :meth:`close`, at most ``keep`` of them
    idle, closed by :meth:`close` (and any still out when they come back). A connection whose
    statement failed is closed, never given back."""

    def __init__(self, engine: Engine, keep: int) -> None:
        self._engine = engine
        self._keep = keep
        self._idle: deque[tuple[Any, int]] = deque()
        self._generation = 0
        # Giving back and closing under one lock: a connection given back while the store is
        # disposed is either closed by close() or, its generation old, by give_back itself.
        self._lock = threading.Lock()

    def take(self) -> tuple[Any, int]:
        """A DB-API connection and the generation to give it back with."""
        try:
            return self._idle.pop()
        except IndexError:
            pooled = self._engine.raw_connection()
            dbapi = pooled.dbapi_connection
            pooled.detach()
            return dbapi, self._generation

    def give_back(self, connection: Any, generation: int) -> None:
        with self._lock:
            if generation == self._generation and len(self._idle) < self._keep:
                self._idle.append((connection, generation))
                return
        connection.close()

    def close(self) -> None:
        """Close the idle connections; those in use are closed as they come back."""
        with self._lock:
            self._generation += 1
            idle = list(self._idle)
            self._idle.clear()
        for connection, _ in idle:
            connection.close()


@dataclass(frozen=True)
class RawReads:
    """A pooled DB-API connection in a read transaction (:meth:`Store.raw_reads`), shaped as
    compiled statements use a Core connection: ``connection`` is the DB-API connection (as
    ``Connection.connection`` is) and ``dialect`` the engine's."""

    connection: Any
    dialect: Dialect


class Store:
    """Engine plus session factory of the server store."""

    def __init__(self, config: ServerConfig, engine: Engine) -> None:
        self.config = config
        self.engine = engine
        self.dialect = engine.dialect.name
        self._write_engine = (
            engine.execution_options(sqlite_begin="IMMEDIATE") if self.dialect == "sqlite" else engine
        )
        self._audit_key: bytes | None = None
        self.writer_turns: WriterTurns | None = WriterTurns() if self.dialect == "sqlite" else None
        self._statement_connections = StatementConnections(engine, config.pool_size)
        # Every session can sign the audit chain head (sync_server.audit); the key is read lazily.
        info = {AUDIT_KEY_INFO: self.audit_key}
        self._read = sessionmaker(engine, expire_on_commit=False, info=info)
        self._write = sessionmaker(self._write_engine, expire_on_commit=False, info=info)
        for factory in (self._read, self._write):
            tenancy.install(factory)
            if self.dialect == "postgresql":
                event.listen(factory, "after_begin", self._pg_scope)

    @classmethod
    def open(cls, config: ServerConfig) -> Store:
        """Open (creating if needed) the configured store. Does not migrate."""
        if config.database_url is not None:
            engine = create_engine(
                config.database_url,
                pool_size=config.pool_size,
                max_overflow=config.pool_size,
                pool_pre_ping=True,
                # Errors never repeat a statement's values: they may be personal data.
                hide_parameters=True,
            )
        else:
            config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            _owner_only(config.db_path)
            # synchronous=FULL: a push the server acknowledged survives a power loss (with the
            # default NORMAL, WAL commits since the last checkpoint could be lost). The cost,
            # one fsync per commit, is measured in bench/ (README, "Durability").
            engine = create_sqlite_engine(
                config.db_path,
                config.database_key(),
                pool_size=config.pool_size,
                synchronous=config.sqlite_synchronous,
            )
        return cls(config, engine)

    def audit_key(self) -> bytes:
        """The key that signs audit chain heads (read or created on first use)."""
        if self._audit_key is None:
            self._audit_key = self.config.audit_signing_key()
        return self._audit_key

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def migrate(self) -> bool:
        """Bring the schema to the newest revision (as the connecting, owning role)."""
        return migrate.upgrade(self.engine)

    def dispose(self) -> None:
        self._statement_connections.close()
        self.engine.dispose()

    # -- sessions --------------------------------------------------------------------------------
    def _pg_scope(self, session: Session, transaction: SessionTransaction, connection: Any) -> None:
        if session.info.get("unscoped") or session.info.get(_SCOPED) or transaction.nested:
            return  # a savepoint (or a session on a scoped connection) inherits the SET LOCALs
        connection.execute(
            _SET_SCOPE,
            {
                "role": self.config.app_role,
                "org_id": session.info.get("org_id") or "",
                "user_id": session.info.get("user_id") or "",
            },
        )

    @contextmanager
    def session(
        self, org_id: str | None = None, *, user_id: str | None = None, write: bool = False
    ) -> Iterator[Session]:
        """A session in one transaction, scoped to ``org_id`` (and ``user_id``); committed on
        success, rolled back on error. ``write=True`` takes the write lock up front on SQLite."""
        factory = self._write if write else self._read
        with (
            self._turn(write),
            factory(info={"org_id": org_id, "user_id": user_id}) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def read_connection(
        self, org_id: str | None = None, *, user_id: str | None = None
    ) -> Iterator[Connection]:
        """A read transaction on a Core connection, scoped as :meth:`session` scopes (on
        PostgreSQL the same ``SET LOCAL`` role and organization): committed on success, rolled
        back on error. A request that only reads through compiled statements (the caller's
        checks, a pull) needs no ORM session, which costs more than those statements; one that
        does gets it from :meth:`session_on`."""
        with self.engine.connect() as connection, connection.begin():
            if self.is_postgres:
                connection.execute(
                    _SET_SCOPE,
                    {"role": self.config.app_role, "org_id": org_id or "", "user_id": user_id or ""},
                )
            yield connection

    @contextmanager
    def raw_reads(self, org_id: str, user_id: str, *, one_statement: bool = False) -> Iterator[RawReads]:
        """A read transaction on a pooled DB-API connection, scoped as :meth:`read_connection`
        scopes (on PostgreSQL the same ``SET LOCAL`` role, organization and user, so row-level
        security applies): committed on success, rolled back on error. For the few compiled
        statements of a no-op pull (:mod:`sync_server.noop_sync`), where SQLAlchemy's connection
        and transaction objects cost more than the statements.

        ``one_statement``: the caller runs a single statement, which on SQLite is its own read
        transaction (one snapshot, ended when its cursor is closed): no ``BEGIN`` and ``COMMIT``
        around it, which cost more than the indexed reads of a no-op sync, each a release and
        retake of the interpreter lock under load. On PostgreSQL the ``SET LOCAL`` scope needs
        the transaction, so it is there either way. On SQLite the connection is one of
        :class:`StatementConnections`, not the pool's."""
        if one_statement and not self.is_postgres:
            connection, generation = self._statement_connections.take()
            try:
                yield RawReads(connection, self.engine.dialect)
            except BaseException:
                connection.close()
                raise
            self._statement_connections.give_back(connection, generation)
            return
        pooled = self.engine.raw_connection()
        try:
            dbapi: Any = pooled.dbapi_connection
            reads = RawReads(dbapi, self.engine.dialect)
            if self.is_postgres:
                scope = raw_statement(_SET_SCOPE, reads.dialect)
                params = {"role": self.config.app_role, "org_id": org_id, "user_id": user_id}
                scope.rows(dbapi, scope.parameters(params))  # begins the transaction (psycopg)
            else:
                # The engine's connections run without the driver's own transaction handling
                # (common.db): begin as the engine's ``begin`` hook does for readers.
                dbapi.execute("BEGIN DEFERRED")
            try:
                yield reads
            except BaseException:
                dbapi.rollback()
                raise
            dbapi.commit()
        finally:
            pooled.close()  # back to the pool (which rolls back whatever is left)

    def session_on(self, connection: Connection, org_id: str | None, user_id: str | None) -> Session:
        """A session in ``connection``'s transaction (:meth:`read_connection`), scoped to
        ``org_id`` like any other (the tenant hook); its commit leaves the transaction to the
        connection's owner."""
        return self._read(
            bind=connection,
            info={"org_id": org_id, "user_id": user_id, _SCOPED: True},
            join_transaction_mode="rollback_only",
        )

    @contextmanager
    def admin_session(self) -> Iterator[Session]:
        """An unscoped session as the connecting role: CLI maintenance only, never a request."""
        with self._turn(True), self._write(info={"unscoped": True}) as session, session.begin():
            yield session

    @contextmanager
    def _turn(self, write: bool) -> Iterator[None]:
        if write and self.writer_turns is not None:
            with self.writer_turns.turn():
                yield
        else:
            yield

    def rescope(self, session: Session, org_id: str | None, user_id: str | None = None) -> None:
        """Point an open session at another organization (sign-in reads each membership's org)."""
        session.info["org_id"] = org_id
        if user_id is not None:
            session.info["user_id"] = user_id
        if self.is_postgres and not session.info.get("unscoped"):
            session.execute(
                _SET_SCOPE,
                {
                    "role": self.config.app_role,
                    "org_id": org_id or "",
                    "user_id": session.info.get("user_id") or "",
                },
            )


def _owner_only(db_path: Path) -> None:
    """The store file (created empty if new) and its -wal/-shm files readable by the owner only.

    SQLite creates -wal and -shm with the database file's mode, so a 0600 database keeps them
    0600 too; existing files (from before) are tightened.
    """
    os.close(os.open(db_path, os.O_CREAT | os.O_RDWR, 0o600))
    for path in (db_path, db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-shm")):
        if path.exists() and path.stat().st_mode & 0o077:
            path.chmod(0o600)


def prepare_store(config: ServerConfig) -> Store:
    """Open the store, bring the schema up to date and, on PostgreSQL, set up the application
    role, its grants and row-level security (``ops-server init``; idempotent)."""
    store = Store.open(config)
    unsigned = _heads_unsigned(store.engine)
    store.migrate()
    if store.is_postgres:
        from sync_server import pg_security

        pg_security.prepare(store.engine, config.app_role)
    if unsigned:
        _sign_legacy_heads(store)
    return store


def _heads_unsigned(engine: Engine) -> bool:
    """True for a store from before audit chain heads were signed (it needs them signed once)."""
    inspector = inspect(engine)
    if not inspector.has_table("org_sequence"):
        return False
    return "mac" not in {c["name"] for c in inspector.get_columns("org_sequence")}


def _sign_legacy_heads(store: Store) -> None:
    """Sign every chain head once, right after the migration that added signatures.

    Only here: a head found unsigned later is reported by ``audit verify``, never signed, or
    deleting a signature would be a way to have a truncated chain signed.
    """
    with store.admin_session() as session:
        org_ids = list(session.execute(select(Organization.id)).scalars())
    for org_id in [SYSTEM_ORG_ID, *org_ids]:
        with store.session(org_id, write=True) as session:
            sign_unsigned_head(session, org_id)

"""``ops-server backup --to FILE`` and ``ops-server restore FILE`` (installers/README.md, "Backups").

**Backup** is online and consistent: the server keeps serving meanwhile.

- Embedded store: SQLite's online backup API (through sqlcipher3) copies the database as of one
  read transaction into a new file, page by page, encrypted with the same key: the file is as
  secret as the store and needs ``server.key`` (or ``OPS_DB_KEY``) to be read. Written next to
  its name and renamed into place when complete.
- PostgreSQL: ``pg_dump --format=custom``, which reads one snapshot. Connection settings go to
  it through ``PG*`` environment variables, never its command line (where ``ps`` shows them).
  The tenant tables FORCE row-level security even on their owner, and pg_dump refuses to read
  a table whose rows a policy would hide; so it connects as ``OPS_BACKUP_DATABASE_URL`` when
  set: a read-only role that bypasses row-level security (installers/README.md, section 3).

**Restore** needs every ``ops-server`` process stopped; it refuses while the store is in use.
It checks the backup first (this server's key opens it; its schema revision is one this version
knows), then replaces the store, and gives every organization a new store epoch, in one
transaction: the embedded store is staged in a scratch copy beside it, which takes the new
epochs, and is then copied into the held store through the backup API; PostgreSQL runs the dump
through ``psql --single-transaction``, after dropping the old schema and before setting the
epochs, in that same transaction. Then it brings the schema up to date as ``init`` does, records
``store.restored`` in each audit chain, and verifies every chain.

Why a new epoch: pull cursors name change sequence numbers, and the restored store hands out
again the numbers issued after the backup, for other changes. Clients also hold rows they pushed
after the backup. A cursor of the old epoch is therefore answered ``resync_required``
(``store_restored``): the client downloads the restored data again and keeps its pending changes
(``sync_server.pull``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlcipher3
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from common import migrate
from common.db import WrongKeyError, check_key
from common.schema import Organization, OrgSequence
from sync_server.audit import PendingEvent, append_events, verify_chain
from sync_server.config import ConfigError, ServerConfig
from sync_server.pull_cursor import EPOCH_SEQUENCE
from sync_server.store import SYSTEM_ORG_ID, Store, prepare_store
from sync_server.writes import lock_organization

PG_DUMP_MAGIC = b"PGDMP"
# A new random epoch (1 .. 2**62) for every organization, in the restore's own transaction.
_NEW_EPOCHS_SQLITE = (
    "INSERT INTO org_sequence (org_id, name, value) "
    f"SELECT id, '{EPOCH_SEQUENCE}', 1 + abs(random() % 4611686018427387903) FROM organization "
    "WHERE true ON CONFLICT (org_id, name) DO UPDATE SET value = excluded.value"
)
# pg_dump's script empties search_path, hence the schema; org_sequence forces row-level security
# even on its owner, who restores: lifted for this one statement, inside the transaction.
_NEW_EPOCHS_POSTGRES = (
    "ALTER TABLE public.org_sequence NO FORCE ROW LEVEL SECURITY; "
    "INSERT INTO public.org_sequence (org_id, name, value) "
    f"SELECT id, '{EPOCH_SEQUENCE}', 1 + floor(random() * 4611686018427387903)::bigint "
    "FROM public.organization ON CONFLICT (org_id, name) DO UPDATE SET value = excluded.value; "
    "ALTER TABLE public.org_sequence FORCE ROW LEVEL SECURITY"
)
# libpq settings a URL's query may carry, and the environment variable each goes to.
_LIBPQ_QUERY = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
}


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    kind: str  # "sqlcipher" | "pg_dump"
    size: int
    seconds: float
    revision: str | None


@dataclass
class RestoreReport:
    kind: str
    revision_restored: str | None
    revision_now: str
    organizations: int = 0
    chains: dict[str, tuple[int, str | None]] = field(default_factory=dict)  # name → (events, problem)

    @property
    def intact(self) -> bool:
        return all(problem is None for _, problem in self.chains.values())


# -- backup ---------------------------------------------------------------------------------------


def backup(config: ServerConfig, target: Path) -> BackupReport:
    """Write a consistent backup of the configured store to ``target`` (replaced if it exists)."""
    target = target.expanduser().resolve()
    if target.is_dir():
        raise BackupError(f"{target} is a directory: give the backup file's name")
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if config.embedded:
        revision = _backup_sqlite(config, target)
        kind = "sqlcipher"
    else:
        revision = _backup_postgres(config, target)
        kind = "pg_dump"
    return BackupReport(target, kind, target.stat().st_size, time.monotonic() - started, revision)


def _open_sqlcipher(path: Path, key: bytes, *, timeout: float = 30.0) -> sqlcipher3.Connection:
    conn = sqlcipher3.connect(str(path), timeout=timeout, isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return conn


def _sqlite_revision(conn: sqlcipher3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlcipher3.DatabaseError:
        return None
    return str(row[0]) if row else None


@contextmanager
def _partial_file(target: Path) -> Iterator[Path]:
    """A temporary file beside ``target``, renamed onto it only when the block succeeds."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        yield partial
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        partial.chmod(0o600)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _backup_sqlite(config: ServerConfig, target: Path) -> str | None:
    if not config.db_path.is_file():
        raise BackupError(f"there is no store at {config.db_path}: run ops-server init first")
    key = config.database_key()
    check_key(config.db_path, key)
    with _partial_file(target) as partial:
        # Created owner-only before SQLite writes a byte into it.
        os.close(os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
        with (
            closing(_open_sqlcipher(config.db_path, key)) as source,
            closing(_open_sqlcipher(partial, key)) as copy,
        ):
            # One step: the whole copy is read in one read transaction of the source, so it is
            # the store as of one moment, while writers go on (WAL).
            source.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            problems = copy.execute("PRAGMA quick_check").fetchone()
            if not problems or problems[0] != "ok":
                raise BackupError(f"the backup copy failed its integrity check: {problems}")
            revision = _sqlite_revision(copy)
    return revision


def libpq_environment(database_url: str) -> dict[str, str]:
    """``PG*`` variables for the client tools, from ``OPS_DATABASE_URL`` (password included)."""
    url = make_url(database_url)
    env = {
        "PGHOST": url.host or "",
        "PGPORT": str(url.port or ""),
        "PGUSER": url.username or "",
        "PGPASSWORD": url.password or "",
        "PGDATABASE": url.database or "",
    }
    for name, value in url.query.items():
        variable = _LIBPQ_QUERY.get(name)
        if variable is None:
            raise ConfigError(
                f"OPS_DATABASE_URL option {name!r} cannot be passed to pg_dump; set the PG* variable instead"
            )
        env[variable] = value if isinstance(value, str) else value[-1]
    return {k: v for k, v in env.items() if v}


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools of your server's major "
            "version or newer (Debian: postgresql-client-15)"
        )
    return found


def _run_tool(command: list[str], database_url: str, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(libpq_environment(database_url))
    result = subprocess.run(command, env=env, capture_output=True, check=False, **kwargs)
    if result.returncode != 0:
        said = result.stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise BackupError(f"{Path(command[0]).name} failed (exit {result.returncode}): " + " | ".join(said))
    return result


ROW_SECURITY_ADVICE = (
    "the role pg_dump connects as is subject to row-level security, so it cannot read the tenant "
    "tables: create a read-only backup role once, as a superuser (CREATE ROLE ops_backup LOGIN "
    "BYPASSRLS PASSWORD '…'; GRANT pg_read_all_data TO ops_backup;), and set "
    "OPS_BACKUP_DATABASE_URL to its URL"
)


def _backup_postgres(config: ServerConfig, target: Path) -> str | None:
    url = config.backup_database_url or config.database_url
    assert url is not None
    try:
        with _partial_file(target) as partial:
            _run_tool(
                [_tool("pg_dump"), "--format=custom", "--compress=6", "--no-password", f"--file={partial}"],
                url,
            )
    except BackupError as exc:
        if "row-level security" in str(exc):
            raise BackupError(f"{ROW_SECURITY_ADVICE} ({exc})") from None
        raise
    return _dump_revision(url, target)


def _dump_revision(database_url: str, dump: Path) -> str | None:
    """The Alembic revision recorded in a ``pg_dump`` file (its ``alembic_version`` table)."""
    result = _run_tool(
        [_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(dump)], database_url
    )
    lines = result.stdout.decode("utf-8", "replace").splitlines()
    for index, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and index + 1 < len(lines):
            value = lines[index + 1].strip()
            return None if value == "\\." else value
    return None


# -- restore --------------------------------------------------------------------------------------


def _check_revision(revision: str | None) -> None:
    """Refuse a backup made by a newer ops-server (its schema is one this version cannot read)."""
    if revision is None:
        raise BackupError("the backup holds no schema revision: it is not an ops-server backup")
    known = {
        script.revision for script in ScriptDirectory.from_config(migrate.alembic_config()).walk_revisions()
    }
    if revision not in known:
        raise BackupError(
            f"the backup is at schema revision {revision}, which this ops-server does not know "
            f"(newest here: {migrate.head_revision()}): restore it with the version that made it, or newer"
        )


def restore(config: ServerConfig, source: Path) -> RestoreReport:
    """Replace the configured store with the backup at ``source`` (every server stopped)."""
    source = source.expanduser().resolve()
    if not source.is_file():
        raise BackupError(f"there is no backup file {source}")
    with open(source, "rb") as handle:
        is_dump = handle.read(len(PG_DUMP_MAGIC)) == PG_DUMP_MAGIC
    if config.embedded:
        if is_dump:
            raise BackupError("this is a PostgreSQL backup (pg_dump): set OPS_DATABASE_URL to restore it")
        revision = _restore_sqlite(config, source)
        kind = "sqlcipher"
    else:
        if not is_dump:
            raise BackupError(
                "this is not a pg_dump file: an embedded-store backup restores without OPS_DATABASE_URL"
            )
        revision = _restore_postgres(config, source)
        kind = "pg_dump"
    store = prepare_store(config)  # migrates a backup from an older version, as init does
    try:
        report = RestoreReport(kind, revision, migrate.head_revision())
        orgs = _record_restore(store, revision)
        report.organizations = len(orgs)
        for org_id, name in [(SYSTEM_ORG_ID, "system"), *orgs]:
            with store.session(org_id) as session:
                count, problem = verify_chain(session, org_id)
            report.chains[name] = (
                count,
                None if problem is None else f"sequence {problem.seq}: {problem.reason}",
            )
    finally:
        store.dispose()
    return report


def _restore_sqlite(config: ServerConfig, source: Path) -> str | None:
    key = config.database_key()
    try:
        check_key(source, key)
    except WrongKeyError:
        raise BackupError(
            f"{source.name} does not open with this server's database key (server.key or OPS_DB_KEY): "
            "restore it with the key of the server that made it"
        ) from None
    with closing(_open_sqlcipher(source, key)) as backup_file:
        revision = _sqlite_revision(backup_file)
        _check_revision(revision)
        check = backup_file.execute("PRAGMA quick_check").fetchone()
        if not check or check[0] != "ok":
            raise BackupError(f"{source.name} is damaged: {check}")
        with _held_store(config, key) as live:
            staged = config.db_path.with_name(f".{config.db_path.name}.restoring")
            for leftover in (staged, staged.with_name(staged.name + "-journal")):
                leftover.unlink(missing_ok=True)
            os.close(os.open(staged, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
            try:
                with closing(_open_sqlcipher(staged, key)) as staging:
                    backup_file.backup(staging)
                    staging.execute("PRAGMA journal_mode = DELETE")
                    staging.execute(_NEW_EPOCHS_SQLITE)  # in the staged copy: swapped in with it
                    # One transaction of the live store: a crash leaves the old store or the new, whole.
                    staging.backup(live)
            finally:
                staged.unlink(missing_ok=True)
    return revision


@contextmanager
def _held_store(config: ServerConfig, key: bytes) -> Iterator[sqlcipher3.Connection]:
    """The live embedded store, locked against every other connection until the block ends;
    :class:`BackupError` when another one is open (a running server keeps some)."""
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if config.db_path.exists() and config.db_path.stat().st_size > 0:
        check_key(config.db_path, key)
    else:
        os.close(os.open(config.db_path, os.O_CREAT | os.O_WRONLY, 0o600))
    with closing(_open_sqlcipher(config.db_path, key, timeout=1.0)) as live:
        # Exclusive locking mode: the lock is refused while any other connection is open, and
        # is then kept until this connection closes.
        live.execute("PRAGMA locking_mode = EXCLUSIVE")
        try:
            live.execute("BEGIN EXCLUSIVE")
            live.execute("COMMIT")
        except sqlcipher3.OperationalError:
            raise BackupError(
                f"the store {config.db_path} is in use: stop every ops-server process, then restore"
            ) from None
        yield live


def _restore_postgres(config: ServerConfig, source: Path) -> str | None:
    assert config.database_url is not None
    revision = _dump_revision(config.database_url, source)
    _check_revision(revision)
    store = Store.open(config)
    try:
        with store.admin_session() as session:
            others = session.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar()
    finally:
        store.dispose()
    if others:
        raise BackupError(
            f"{others} other connection(s) use the database (ops-server processes, psql sessions…): "
            "close them, then restore"
        )
    # The dump as SQL (objects owned by, and grants remade for, this server: init's grants follow),
    # run after dropping the old schema and before the new epochs, all in one transaction: it
    # applies whole or not at all.
    script = _run_tool(
        [_tool("pg_restore"), "--no-owner", "--no-acl", "--file=-", str(source)], config.database_url
    ).stdout
    _run_tool(
        [
            _tool("psql"),
            "--no-psqlrc",
            "--quiet",
            "--no-password",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            "--command=DROP SCHEMA public CASCADE",
            "--command=CREATE SCHEMA public",
            "--file=-",
            f"--command={_NEW_EPOCHS_POSTGRES}",
        ],
        config.database_url,
        input=script,
    )
    return revision


def _record_restore(store: Store, revision: str | None) -> list[tuple[str, str]]:
    """``store.restored`` in every organization's audit chain (the epochs are already new)."""
    with store.admin_session() as session:
        orgs = [(row.id, row.name) for row in session.execute(select(Organization.id, Organization.name))]
    for org_id, _name in orgs:
        with store.session(org_id, write=True) as session:
            lock = lock_organization(session, org_id)
            epoch = session.execute(
                select(OrgSequence.value).where(
                    OrgSequence.org_id == org_id, OrgSequence.name == EPOCH_SEQUENCE
                )
            ).scalar()
            append_events(
                session,
                org_id,
                [
                    PendingEvent(
                        action="store.restored",
                        entity="organization",
                        entity_id=org_id,
                        after={"revision": revision, "last_change": lock.change_seq, "epoch": str(epoch)},
                    )
                ],
                head=lock.audit_head,
            )
    return orgs

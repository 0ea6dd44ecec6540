"""A scratch PostgreSQL database owned by a role that is neither a superuser nor bypasses row-level
security, as a production store's owner is: the tests that check what such an owner can and cannot
do (back up, migrate across forced row security) share it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg


@dataclass(frozen=True)
class OwnedDatabase:
    name: str
    owner: str
    app_role: str
    reader: str | None  # a role that reads everything (backups), when asked for
    admin_url: str

    def url_of(self, role: str) -> str:
        """The database's SQLAlchemy URL for ``role`` (trust authentication)."""
        parts = urlsplit(self.admin_url)
        netloc = f"{role}@{parts.hostname}:{parts.port}"
        return urlunsplit(parts._replace(scheme="postgresql+psycopg", netloc=netloc, path=f"/{self.name}"))

    @property
    def superuser_url(self) -> str:
        return self.url_of(urlsplit(self.admin_url).username or "postgres")


@contextmanager
def owned_database(pg_admin_url: str, *, backup_reader: bool = False) -> Iterator[OwnedDatabase]:
    """The database and its roles (the app role is made by the store's first migration), dropped
    afterwards."""
    tag = uuid.uuid4().hex[:10]
    owner, app_role, reader, name = (f"ops_{kind}_{tag}" for kind in ("owner", "app", "backup", "test"))
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {owner} LOGIN NOSUPERUSER NOBYPASSRLS CREATEROLE")  # type: ignore[arg-type]
        if backup_reader:
            conn.execute(f"CREATE ROLE {reader} LOGIN NOSUPERUSER BYPASSRLS")  # type: ignore[arg-type]
            conn.execute(f"GRANT pg_read_all_data TO {reader}")  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}" OWNER {owner}')  # type: ignore[arg-type]
    try:
        yield OwnedDatabase(name, owner, app_role, reader if backup_reader else None, pg_admin_url)
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
            for role in (app_role, reader, owner):
                conn.execute(f"DROP ROLE IF EXISTS {role}")  # type: ignore[arg-type]

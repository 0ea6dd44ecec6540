"""The server's :class:`CommandContext`: the same reads and writes, through cached statements.

Building an ORM ``SELECT`` of every column for each ``ctx.get`` costs several hundred
microseconds; the push target (DESIGN §9: ≥ 2,000 commands/s per organization) leaves about
500 µs per command for everything. These overrides use statements built once per table (and
per set of changed columns) with the organization as a bound parameter: primary-key lookups
run on the DBAPI cursor with SQLAlchemy's own type processing, an insert is one
``INSERT … ON CONFLICT DO NOTHING RETURNING`` (an existing id, tombstones included, is refused
as before), an update returns its row. The same rows, the same scoping to ``ctx.org_id``
(PostgreSQL's row-level security still applies), a fraction of the round trips. Semantics are
those of :class:`common.commands.framework.CommandContext`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Dialect, Select, Table, Update, bindparam, false, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from common.commands.framework import CommandContext, CommandError, Row, entity_name, invalid
from common.schema.base import SyncedEntity, table_of


@cache
def _get_statement(table: Table, include_deleted: bool) -> Select[Any]:
    stmt = select(*table.c).where(table.c.org_id == bindparam("_org_id"), table.c.id == bindparam("_id"))
    if not include_deleted:
        stmt = stmt.where(table.c.deleted == false())
    return stmt


@dataclass(frozen=True)
class _RowReader:
    """A primary-key lookup compiled once for one dialect, run on the DBAPI cursor directly.

    The values go through SQLAlchemy's own result processors for each column type, so rows are
    exactly what a ``Connection.execute`` would return, at a tenth of the cost.
    """

    sql: str
    positional: tuple[str, ...] | None  # parameter order for qmark drivers; None: named
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]

    def fetch(self, dbapi_connection: Any, org_id: str, entity_id: str) -> Row | None:
        params: Any = {"_org_id": org_id, "_id": entity_id}
        if self.positional is not None:
            params = tuple(params[name] for name in self.positional)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(self.sql, params)
            found = cursor.fetchone()
        finally:
            cursor.close()
        if found is None:
            return None
        return {
            name: (proc(value) if proc is not None else value)
            for name, proc, value in zip(self.names, self.processors, found, strict=True)
        }


@cache
def _reader(table: Table, include_deleted: bool, dialect: Dialect) -> _RowReader:
    compiled = _get_statement(table, include_deleted).compile(dialect=dialect)
    return _RowReader(
        sql=compiled.string,
        positional=tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None,
        names=tuple(c.name for c in table.c),
        processors=tuple(c.type._cached_result_processor(dialect, None) for c in table.c),
    )


@cache
def _insert_statement(table: Table, dialect_name: str) -> Insert:
    """INSERT that reports the new row, or nothing when the id is taken (one round trip)."""
    make = pg_insert if dialect_name == "postgresql" else sqlite_insert
    return make(table).on_conflict_do_nothing(index_elements=[table.c.org_id, table.c.id]).returning(*table.c)


@cache
def _update_statement(table: Table, keys: tuple[str, ...]) -> Update:
    return (
        table.update()
        .where(table.c.org_id == bindparam("_org_id"), table.c.id == bindparam("_id"))
        .values({key: bindparam(key) for key in keys})
        .returning(*table.c)
    )


def session_connection(session: Session) -> tuple[Connection, Any]:
    """The session's connection and its DBAPI connection, looked up once per transaction."""
    found = session.info.get("_ops_connection")
    if found is None or found[0].closed:
        connection = session.connection()
        found = session.info["_ops_connection"] = (connection, connection.connection.dbapi_connection)
    return found  # type: ignore[no-any-return]


class ServerCommandContext(CommandContext):
    """:class:`CommandContext` with cached Core statements for the hot reads and writes."""

    def get(self, model: type[SyncedEntity], entity_id: str, *, include_deleted: bool = False) -> Row | None:
        connection, dbapi = session_connection(self.session)
        reader = _reader(table_of(model), include_deleted, connection.dialect)
        return reader.fetch(dbapi, self.org_id, entity_id)

    def insert(self, model: type[SyncedEntity], values: Mapping[str, Any]) -> Row:
        name = entity_name(model)
        entity_id = values["id"]
        row: Row = {
            **values,
            "org_id": self.org_id,
            "version": self.recorder.version_for_write(name, entity_id, None),
            "updated_at": self.now,
            "updated_by": self.actor_id,
            "deleted": False,
        }
        connection, _ = session_connection(self.session)
        stmt = _insert_statement(table_of(model), connection.dialect.name)
        inserted = connection.execute(stmt, row).mappings().first()
        if inserted is None:  # the id exists (perhaps as a tombstone): nothing was written
            raise invalid("id", f"a {name.replace('_', ' ')} with id {entity_id} already exists")
        after = dict(inserted)
        self.recorder.record_write(name, entity_id, None, after)
        return after

    def update(self, model: type[SyncedEntity], entity_id: str, changes: Mapping[str, Any]) -> Row:
        name = entity_name(model)
        before = self.get(model, entity_id, include_deleted=True)
        if before is None:
            raise CommandError("not_found", f"no {name.replace('_', ' ')} with id {entity_id}")
        stamped = {
            **changes,
            "version": self.recorder.version_for_write(name, entity_id, before["version"]),
            "updated_at": self.now,
            "updated_by": self.actor_id,
        }
        if "org_id" in stamped or "id" in stamped:
            raise CommandError("invalid", "a row's organization and id never change")
        stmt = _update_statement(table_of(model), tuple(sorted(stamped)))
        connection, _ = session_connection(self.session)
        updated = (
            connection.execute(stmt, {**stamped, "_org_id": self.org_id, "_id": entity_id}).mappings().first()
        )
        assert updated is not None
        after = dict(updated)
        self.recorder.record_write(name, entity_id, before, after)
        return after

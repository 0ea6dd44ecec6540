"""Fast row access for commands: statements built once per table, run with the org bound.

Building an ORM ``SELECT`` of every column for each ``ctx.get`` costs several hundred
microseconds; the push target (DESIGN §9: ≥ 2,000 commands/s per organization on the embedded
store) leaves about 500 µs per command for everything. These statements are built once per table (and per set of
changed columns) with the organization as a bound parameter: primary-key lookups run on the DBAPI
cursor with SQLAlchemy's own type processing, an insert is one ``INSERT … ON CONFLICT DO NOTHING
RETURNING`` (an existing id, tombstones included, is refused), an update returns its row. Every
statement names ``org_id``; on PostgreSQL row-level security applies to them as to any other.
Used by :class:`common.commands.framework.CommandContext` on both sides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Connection, Dialect, Select, Table, Update, bindparam, false, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

Row = dict[str, Any]


@cache
def _get_statement(table: Table, include_deleted: bool) -> Select[Any]:
    stmt = select(*table.c).where(table.c.org_id == bindparam("_org_id"), table.c.id == bindparam("_id"))
    if not include_deleted:
        stmt = stmt.where(table.c.deleted == false())
    return stmt


@dataclass(frozen=True)
class RawStatement:
    """A Core statement compiled once for one dialect and run on the DB-API cursor: no result
    processing, no per-call statement building. The one way the hot, simple queries (a
    command's primary-key lookups, a pull's pages) skip SQLAlchemy's per-call work."""

    sql: str
    positional: tuple[str, ...] | None  # parameter order for qmark drivers; None: named
    compiled: Any

    @classmethod
    def of(cls, stmt: Any, dialect: Dialect) -> RawStatement:
        compiled = stmt.compile(dialect=dialect)
        positional = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        return cls(compiled.string, positional, compiled)

    def parameters(self, params: dict[str, Any], *, complete: bool = True) -> Any:
        """The DB-API parameters; ``complete`` fills in the statement's own bound values too
        (not needed when ``params`` names every parameter)."""
        values: Any = self.compiled.construct_params(params) if complete else params
        if self.positional is not None:
            return tuple(values[name] for name in self.positional)
        return values

    def rows(self, dbapi_connection: Any, params: Any) -> list[Any]:
        """Every row, for DB-API ``params`` (see :meth:`parameters`)."""
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(self.sql, params)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def all(self, connection: Connection, params: dict[str, Any]) -> list[Any]:
        """Every row, on the DB-API connection under ``connection``."""
        return self.rows(connection.connection, self.parameters(params))


@lru_cache(maxsize=256)
def raw_statement(stmt: Any, dialect: Dialect) -> RawStatement:
    """``stmt`` (built once, at import) compiled for ``dialect``."""
    return RawStatement.of(stmt, dialect)


@dataclass(frozen=True)
class RowReader:
    """A primary-key lookup compiled once for one dialect (a :class:`RawStatement`).

    The values go through SQLAlchemy's own result processors for each column type, so rows are
    exactly what a ``Connection.execute`` would return, at a tenth of the cost.
    """

    statement: RawStatement
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]

    def fetch(self, dbapi_connection: Any, org_id: str, entity_id: str) -> Row | None:
        params = self.statement.parameters({"_org_id": org_id, "_id": entity_id}, complete=False)
        found = self.statement.rows(dbapi_connection, params)
        if not found:
            return None
        return {
            name: (proc(value) if proc is not None else value)
            for name, proc, value in zip(self.names, self.processors, found[0], strict=True)
        }


@cache
def row_reader(table: Table, include_deleted: bool, dialect: Dialect) -> RowReader:
    return RowReader(
        statement=RawStatement.of(_get_statement(table, include_deleted), dialect),
        names=tuple(c.name for c in table.c),
        processors=tuple(c.type._cached_result_processor(dialect, None) for c in table.c),
    )


@cache
def insert_statement(table: Table, dialect_name: str) -> Insert:
    """INSERT that reports the new row, or nothing when the id is taken (one round trip)."""
    make = pg_insert if dialect_name == "postgresql" else sqlite_insert
    return make(table).on_conflict_do_nothing(index_elements=[table.c.org_id, table.c.id]).returning(*table.c)


@cache
def update_statement(table: Table, keys: tuple[str, ...]) -> Update:
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

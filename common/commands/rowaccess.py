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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Date,
    Dialect,
    Integer,
    Select,
    SmallInteger,
    String,
    Table,
    Text,
    Update,
    bindparam,
    false,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from common.schema.types import UTCDateTime

Row = dict[str, Any]


@cache
def _get_statement(table: Table, include_deleted: bool) -> Select[Any]:
    stmt = select(*table.c).where(table.c.org_id == bindparam("_org_id"), table.c.id == bindparam("_id"))
    if not include_deleted:
        stmt = stmt.where(table.c.deleted == false())
    return stmt


def as_sqlalchemy_error(exc: Exception, sql: str, dialect: Dialect) -> Exception:
    """A driver's error as SQLAlchemy would raise it from ``Connection.execute``
    (``IntegrityError``, ``DataError``…, parameters hidden), so that statements run on the DB-API
    cursor fail the way every caller expects; anything else unchanged."""
    dbapi = dialect.loaded_dbapi
    if not isinstance(exc, dbapi.Error):
        return exc
    return DBAPIError.instance(sql, None, exc, dbapi.Error, hide_parameters=True, dialect=dialect)


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
            return [values[name] for name in self.positional]
        return values

    def rows(self, dbapi_connection: Any, params: Any) -> list[Any]:
        """Every row, for DB-API ``params`` (see :meth:`parameters`)."""
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(self.sql, params)
            return list(cursor.fetchall())
        except Exception as exc:
            raise as_sqlalchemy_error(exc, self.sql, self.compiled.dialect) from exc
        finally:
            cursor.close()

    def count(self, dbapi_connection: Any, params: Any) -> int:
        """Run a statement that returns no rows; the number of rows it changed."""
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(self.sql, params)
            return int(cursor.rowcount)
        except Exception as exc:
            raise as_sqlalchemy_error(exc, self.sql, self.compiled.dialect) from exc
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


@dataclass(frozen=True)
class RowsReader:
    """Rows by id, many at once, in the form :class:`RowReader` gives them (PostgreSQL: the
    ids joined as a relation, one round trip for a batch's worth of ids)."""

    statement: RawStatement
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]

    def fetch(self, dbapi_connection: Any, org_id: str, ids: list[str]) -> dict[str, Row]:
        found = self.statement.rows(dbapi_connection, {"_org_id": org_id, "_ids": ids})
        rows = (
            {
                name: (proc(value) if proc is not None else value)
                for name, proc, value in zip(self.names, self.processors, values, strict=True)
            }
            for values in found
        )
        return {row["id"]: row for row in rows}


@cache
def rows_reader(table: Table, dialect: Dialect) -> RowsReader:
    """Every row (tombstones included) of the organization among ``:_ids``, PostgreSQL only.

    The ids are a relation joined to the table (``unnest``), not a list each row is tested
    against (``id = ANY(…)``): planned from statistics older than the table (a connection's
    generic plan, made while it was small), ``ANY`` became a scan testing every row against
    every id, 190 ms a read of 500 invoice lines among 20,000; a join is at worst a hash join,
    one pass over each."""
    ids = bindparam("_ids", type_=ARRAY(table.c.id.type))
    wanted = func.unnest(ids).table_valued("id").render_derived(name="wanted")
    stmt = (
        select(*table.c)
        .select_from(table.join(wanted, table.c.id == wanted.c.id))
        .where(table.c.org_id == bindparam("_org_id"))
    )
    return RowsReader(
        statement=RawStatement.of(stmt, dialect),
        names=tuple(c.name for c in table.c),
        processors=tuple(c.type._cached_result_processor(dialect, None) for c in table.c),
    )


@lru_cache(maxsize=256)
def unique_probe(table: Table, column: str, excluding: bool, dialect: Dialect) -> RawStatement:
    """Whether a live row of the organization has ``:_value`` in ``column`` (other than
    ``:_id`` when ``excluding``): what a unique field is checked with before a write."""
    stmt = select(table.c.id).where(
        table.c.org_id == bindparam("_org_id"),
        table.c.deleted == false(),
        table.c[column] == bindparam("_value", type_=table.c[column].type),
    )
    if excluding:
        stmt = stmt.where(table.c.id != bindparam("_id"))
    return RawStatement.of(stmt.limit(1), dialect)


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


# Where :func:`session_connection` keeps its answer in ``session.info``: the server's held writes
# put there a DB-API connection of their own (``sync_server.deferred``, ``sync_server.held_ledger``).
CONNECTION_KEY = "_ops_connection"


def session_connection(session: Session) -> tuple[Connection, Any]:
    """The session's connection and its DBAPI connection, looked up once per transaction."""
    found = session.info.get(CONNECTION_KEY)
    if found is None or found[0].closed:
        connection = session.connection()
        found = session.info[CONNECTION_KEY] = (connection, connection.connection.dbapi_connection)
    return found  # type: ignore[no-any-return]


# -- writes ---------------------------------------------------------------------------------------
# Inserts and updates of entity rows, compiled once per table (and per number of rows or set of
# changed columns) and run on the DB-API cursor, values through each column type's own bind
# processing and the returned rows through its result processing, as ``Connection.execute``
# would: through SQLAlchemy each statement cost ~0.2 ms of Python, more than SQLite's own work,
# and a posted invoice is six of them. Statements run here bypass SQLAlchemy's execution events:
# :func:`count_write` is what tells the server's write path that a command wrote.

_WRITES = "_ops_raw_writes"
# Rows per multi-row INSERT: well within SQLite's 32,766 and PostgreSQL's 65,535 parameters.
_MAX_ROWS = 256
_MAX_PARAMETERS = 30_000
# Up to this many rows a statement is compiled for the exact count; beyond, in steps of it.
_EXACT = 32


def count_write(session: Session) -> None:
    session.info[_WRITES] = session.info.get(_WRITES, 0) + 1


def writes_counted(session: Session) -> int:
    """Statements run by :class:`RowWriter` in this session (see :func:`count_write`)."""
    return int(session.info.get(_WRITES, 0))


@lru_cache(maxsize=1024)
def _insert_rows_statement(
    table: Table, dialect: Dialect, count: int, returning: bool = True
) -> tuple[RawStatement, bool]:
    """The multi-row insert of ``count`` rows (reporting the rows written unless not
    ``returning``), and whether it takes its parameters by position, row by row in the table's
    column order (then they go to the driver as one list)."""
    make = pg_insert if dialect.name == "postgresql" else sqlite_insert
    stmt = (
        make(table)
        .values([{c.name: bindparam(f"r{n}_{c.name}") for c in table.c} for n in range(count)])
        .on_conflict_do_nothing(index_elements=[table.c.org_id, table.c.id])
    )
    statement = RawStatement.of(stmt.returning(*table.c) if returning else stmt, dialect)
    names = tuple(c.name for c in table.c)
    row_major = statement.positional == tuple(key for n in range(count) for key in _row_keys(names, n))
    return statement, row_major


@lru_cache(maxsize=1024)
def _update_statement(table: Table, keys: tuple[str, ...], dialect: Dialect) -> RawStatement:
    return RawStatement.of(update_statement(table, keys), dialect)


@lru_cache(maxsize=4096)
def _row_keys(names: tuple[str, ...], n: int) -> tuple[str, ...]:
    """The parameter names of row ``n`` of a multi-row insert (:func:`_insert_rows_statement`)."""
    return tuple(f"r{n}_{name}" for name in names)


def _chunks(total: int, per_statement: int) -> list[int]:
    """Row counts of the statements inserting ``total`` rows (few distinct counts, so few
    statements to compile: full chunks, then a multiple of :data:`_EXACT`, then the rest)."""
    sizes = [per_statement] * (total // per_statement)
    rest = total % per_statement
    if rest > _EXACT:
        sizes.append(rest - rest % _EXACT)
        rest %= _EXACT
    if rest:
        sizes.append(rest)
    return sizes


@dataclass(frozen=True)
class RowWriter:
    """Inserts and updates of one table's rows for one dialect, on the DB-API connection."""

    table: Table
    dialect: Dialect
    names: tuple[str, ...]
    binders: dict[str, Callable[[Any], Any] | None]
    readers: tuple[Callable[[Any], Any] | None, ...]
    # The value of a column an insert does not name (its scalar default, else NULL)...
    missing: dict[str, Any]
    # ...except these (a callable or server-side default): an insert must name them.
    required: frozenset[str]
    # (index, name, bind processor) of the columns whose type converts values when binding.
    bind_at: tuple[tuple[int, str, Callable[[Any], Any]], ...]
    # Per column, the Python types the store gives back exactly as bound (:func:`_as_given`);
    # ``None``: not known for this dialect (every insert reads its rows back).
    as_given: tuple[frozenset[type], ...] | None
    # Indexes of the UTC timestamp columns: given back as given only if already in UTC.
    utc_at: tuple[int, ...]

    def can_insert(self, keys: Any) -> bool:
        """Whether rows naming ``keys`` can be inserted here (else: through SQLAlchemy)."""
        named = keys.keys() if isinstance(keys, dict) else set(keys)
        return self.required <= named and named <= self.every_name

    # Column → (the last value bound, its bound form): a command stamps the same time object on
    # every row it writes, and converting a timestamp is the dearest bind of a row.
    last: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    # The Python types of a row's values, in column order → whether :meth:`_as_given` holds.
    shapes: dict[tuple[type, ...], bool] = field(default_factory=dict)
    # Worked out from ``names``: a row's values in column order (one ``operator.itemgetter``
    # call), the names as a set, a dict of every column in order (copied, then filled: a row
    # in column order), and how many rows one statement inserts.
    every: Callable[[Row], tuple[Any, ...]] = field(init=False, repr=False, compare=False)
    every_name: frozenset[str] = field(init=False, repr=False, compare=False)
    ordered: Row = field(init=False, repr=False, compare=False)
    per_statement: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "every", _getter(self.names))
        object.__setattr__(self, "every_name", frozenset(self.names))
        object.__setattr__(self, "ordered", dict.fromkeys(self.names))
        object.__setattr__(self, "per_statement", max(1, min(_MAX_ROWS, _MAX_PARAMETERS // len(self.names))))

    def _bound(self, name: str, value: Any) -> Any:
        binder = self.binders[name]
        if binder is None:
            return value
        found = self.last.get(name)
        if found is not None and found[0] is value:
            return found[1]
        bound = binder(value)
        self.last[name] = (value, bound)
        return bound

    def _row(self, values: Any) -> Row:
        return {
            name: (proc(value) if proc is not None else value)
            for name, proc, value in zip(self.names, self.readers, values, strict=True)
        }

    def insert(self, dbapi_connection: Any, rows: list[Row]) -> list[Row]:
        """Insert ``rows`` (each naming the same columns, :meth:`can_insert`); returns the rows
        inserted as stored, in the order given. A row whose ``(org_id, id)`` exists already is
        skipped (``INSERT … ON CONFLICT DO NOTHING``): it is missing from the answer.

        On SQLite, a statement whose every value is of a type the store gives back exactly as
        given (:data:`AS_GIVEN`: text, integers, booleans, dates, UTC timestamps, ``NULL``) is
        run without ``RETURNING``: its rows are answered as given, which is what reading them
        back would give, without the read (a journal entry and its lines are such rows)."""
        kinds = self.as_given
        answered: list[Row] = []
        in_order = True  # every row answered as given, in the order given
        start = 0
        for size in _chunks(len(rows), self.per_statement):
            chunk = rows[start : start + size]
            given, exact = self._values(chunk)
            start += size
            known = kinds is not None and self._as_given(given)
            statement, row_major = _insert_rows_statement(self.table, self.dialect, size, not known)
            params = self._parameters(statement, row_major, given)
            if not known:
                in_order = False
                for found in statement.rows(dbapi_connection, params):
                    answered.append(self._row(found))
                continue
            written = statement.count(dbapi_connection, params)
            images = self._images(chunk, given, exact)
            if written == len(images):
                answered.extend(images)
            else:
                in_order = False
                if written:  # some ids were taken: keep the rows that are stored as given
                    reader = row_reader(self.table, True, self.dialect)
                    answered.extend(
                        image
                        for image in images
                        if reader.fetch(dbapi_connection, image["org_id"], image["id"]) == image
                    )
        if in_order:
            return answered
        # In the order given, each row once (a statement answers in its own order).
        by_id = {row["id"]: row for row in answered}
        return [by_id[row["id"]] for row in rows if row["id"] in by_id]

    def as_stored(self, rows: list[Row]) -> tuple[list[Row], list[tuple[Any, ...]]] | None:
        """``rows`` as :meth:`insert` would answer them, were they all written, and their values
        in column order (for :meth:`insert_values`), when the store gives back every value
        exactly as given (:meth:`_as_given`); ``None`` when only reading them back would tell
        (or on PostgreSQL)."""
        if self.as_given is None:
            return None
        given, exact = self._values(rows)
        if not self._as_given(given):
            return None
        return self._images(rows, given, exact), given

    def insert_values(self, dbapi_connection: Any, given: list[tuple[Any, ...]]) -> int:
        """Insert rows given as their values in column order, each stored as given
        (:meth:`as_stored`), skipping any whose ``(org_id, id)`` exists; the number written."""
        written = 0
        start = 0
        for size in _chunks(len(given), self.per_statement):
            chunk = given[start : start + size]
            start += size
            statement, row_major = _insert_rows_statement(self.table, self.dialect, size, False)
            written += statement.count(dbapi_connection, self._parameters(statement, row_major, chunk))
        return written

    def _images(self, rows: list[Row], given: list[tuple[Any, ...]], exact: bool) -> list[Row]:
        """The rows as stored, from the rows and their values in column order (``_values``),
        for rows stored as given."""
        if exact:
            # Rows naming exactly the columns, each answered as a copy of the columns in order
            # filled with it: a copied dict's values replaced costs a fraction of a dict built
            # key by key (four such rows a posted invoice).
            images = []
            for row in rows:
                image = self.ordered.copy()
                image.update(row)
                images.append(image)
            return images
        # Each values tuple holds one value per name (``_values``): zip needs no check (and a
        # keyword argument makes it a slow call).
        names = self.names
        return [dict(zip(names, values)) for values in given]  # noqa: B905

    def _values(self, rows: list[Row]) -> tuple[list[tuple[Any, ...]], bool]:
        """Each row's values in column order, a column the row does not name at its default,
        and whether every row names exactly the table's columns (every row a command writes
        through :class:`~common.commands.framework.CommandContext` but a few): such a row is
        read in one C call."""
        names, missing, every = self.names, self.missing, self.every
        width = len(names)
        out: list[tuple[Any, ...]] = []
        exact = True
        for row in rows:
            if len(row) == width:
                try:
                    out.append(every(row))
                    continue
                except KeyError:  # a key that is not a column: the row is read name by name
                    pass
            exact = False
            out.append(tuple([row[name] if name in row else missing[name] for name in names]))
        return out, exact

    def _as_given(self, given: list[tuple[Any, ...]]) -> bool:
        """Whether the store gives back every value of the rows ``given`` exactly as given: each
        of a type :data:`AS_GIVEN` lists for its column (judged once per row shape), each
        timestamp in UTC."""
        assert self.as_given is not None
        shapes, kinds = self.shapes, self.as_given
        for values in given:
            if not of_kinds(shapes, kinds, values):
                return False
            for i in self.utc_at:
                value = values[i]
                if value is not None and value.tzinfo is not UTC:
                    return False
        return True

    def _parameters(self, statement: RawStatement, row_major: bool, given: list[tuple[Any, ...]]) -> Any:
        """The DB-API parameters of a multi-row insert of the rows ``given`` (values in column
        order), each through its column type's bind processing."""
        last = self.last
        values: list[Any] = []
        for row_values in given:
            bound = list(row_values)
            for i, name, binder in self.bind_at:
                value = bound[i]
                found = last.get(name)
                if found is not None and found[0] is value:
                    bound[i] = found[1]
                else:
                    bound[i] = result = binder(value)
                    last[name] = (value, result)
            values.extend(bound)
        if row_major:
            # Row by row, column by column: the order of a qmark statement's parameters
            # (checked once per statement, :func:`_insert_rows_statement`).
            return values
        # Named parameters (PostgreSQL): each value under its key.
        width = len(self.names)
        return statement.parameters(
            {
                key: values[n * width + i]
                for n in range(len(given))
                for i, key in enumerate(_row_keys(self.names, n))
            },
            complete=False,
        )

    def update(self, dbapi_connection: Any, org_id: str, entity_id: str, changes: Row) -> Row | None:
        """Set ``changes`` on the row; returns it as stored, ``None`` if there is no such row."""
        statement = _update_statement(self.table, tuple(sorted(changes)), self.dialect)
        params = {name: self._bound(name, value) for name, value in changes.items()}
        params.update(_org_id=org_id, _id=entity_id)
        found = statement.rows(dbapi_connection, statement.parameters(params, complete=False))
        return self._row(found[0]) if found else None


# Column types whose values SQLite gives back exactly as given, for the Python types listed
# (and NULL): text in a TEXT-affinity column, integers in an INTEGER one, booleans stored as 0/1
# and read back as booleans, dates as ISO text read back as dates. A subclass (``bool`` of
# ``int``, ``datetime`` of ``date``, a ``str`` subclass) is not listed, so it is read back.
AS_GIVEN: dict[type[Any], frozenset[type]] = {
    String: frozenset({str}),
    Text: frozenset({str}),
    Integer: frozenset({int}),
    BigInteger: frozenset({int}),
    SmallInteger: frozenset({int}),
    Boolean: frozenset({bool}),
    Date: frozenset({date}),
}


# Row shapes remembered per table (:func:`of_kinds`); more are judged each time.
_SHAPES = 256


def of_kinds(
    shapes: dict[tuple[type, ...], bool], kinds: tuple[frozenset[type], ...], values: Sequence[Any]
) -> bool:
    """Whether each of ``values`` is of a Python type ``kinds`` lists for its column, judged
    once per row shape (the values' types) and remembered in ``shapes`` (up to ``_SHAPES``)."""
    shape = tuple(map(type, values))
    plain = shapes.get(shape)
    if plain is None:
        plain = all(kind in allowed for kind, allowed in zip(shape, kinds, strict=True))
        if len(shapes) < _SHAPES:
            shapes[shape] = plain
    return plain


def _as_given(table: Table, dialect: Dialect) -> tuple[tuple[frozenset[type], ...] | None, tuple[int, ...]]:
    """Per column of ``table``, the Python types ``dialect`` stores and gives back unchanged
    (``NULL`` always), and the indexes of its UTC timestamp columns (a ``datetime`` in UTC is
    given back equal: ISO text with ``+00:00``, read back in UTC). ``None`` but on SQLite."""
    if dialect.name != "sqlite":
        return None, ()
    kinds: list[frozenset[type]] = []
    utc_at: list[int] = []
    for index, column in enumerate(table.c):
        kind = column.type
        found = AS_GIVEN.get(type(kind))
        if isinstance(kind, UTCDateTime):
            found = frozenset({datetime})
            utc_at.append(index)
        elif (
            found is not None
            and found == AS_GIVEN[String]
            and (
                kind._cached_bind_processor(dialect) is not None
                or kind._cached_result_processor(dialect, None) is not None
            )
        ):
            found = None  # text converted on its way (none of SQLite's are)
        kinds.append((found or frozenset()) | {type(None)})
    return tuple(kinds), tuple(utc_at)


@cache
def row_writer(table: Table, dialect: Dialect) -> RowWriter:
    missing: dict[str, Any] = {}
    required = set()
    for column in table.c:
        default = column.default
        if column.server_default is not None or (default is not None and not default.is_scalar):  # type: ignore[attr-defined]
            required.add(column.name)
        else:
            missing[column.name] = default.arg if default is not None else None  # type: ignore[attr-defined]
    binders: dict[str, Callable[[Any], Any] | None] = {
        c.name: c.type._cached_bind_processor(dialect) for c in table.c
    }
    as_given, utc_at = _as_given(table, dialect)
    return RowWriter(
        table=table,
        dialect=dialect,
        names=tuple(c.name for c in table.c),
        binders=binders,
        readers=tuple(c.type._cached_result_processor(dialect, None) for c in table.c),
        missing=missing,
        required=frozenset(required),
        bind_at=tuple(
            (index, c.name, binder)
            for index, c in enumerate(table.c)
            if (binder := binders[c.name]) is not None
        ),
        as_given=as_given,
        utc_at=utc_at,
    )


def _getter(names: tuple[str, ...]) -> Callable[[Row], tuple[Any, ...]]:
    """A row's values of ``names`` as a tuple (``itemgetter`` answers a bare value for one)."""
    if len(names) == 1:
        (name,) = names
        return lambda row: (row[name],)
    return itemgetter(*names)


@dataclass(frozen=True)
class PlainInsert:
    """``INSERT`` of one row naming ``columns``, run on the DB-API cursor with each value through
    its column type's bind processing (JSON, timestamps), as ``Connection.execute`` would."""

    statement: RawStatement
    binders: tuple[tuple[str, Callable[[Any], Any] | None], ...]

    def run(self, dbapi_connection: Any, values: Row) -> None:
        params = {name: values[name] if bind is None else bind(values[name]) for name, bind in self.binders}
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(self.statement.sql, self.statement.parameters(params, complete=False))
        except Exception as exc:
            raise as_sqlalchemy_error(exc, self.statement.sql, self.statement.compiled.dialect) from exc
        finally:
            cursor.close()


@lru_cache(maxsize=64)
def plain_insert(table: Table, columns: tuple[str, ...], dialect: Dialect) -> PlainInsert:
    stmt = table.insert().values({name: bindparam(name, type_=table.c[name].type) for name in columns})
    return PlainInsert(
        RawStatement.of(stmt, dialect),
        tuple((name, table.c[name].type._cached_bind_processor(dialect)) for name in columns),
    )

"""Entity writes held and sent together: the optimistic write path on PostgreSQL.

On PostgreSQL every statement is a round trip to the database server, and a pushed command
writes a row or two (a stock move inserts the move and updates the product's cost): one round
trip per row was most of a push's time. During the optimistic first try of a slice
(``sync_server.writes.apply_in_slices``, no savepoints) the commands' inserts and updates are
held here instead, answered at once with the row as it will be stored, and sent together: one
multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` per table (in foreign-key order) and one
``UPDATE … FROM unnest(…) RETURNING`` per table and set of columns, a row updated several times
sent once with its last values.

Nothing the commands read may miss a held write, so everything held is sent before any other
statement runs on the transaction's connection: SQLAlchemy's (an execution event) and those run
on the DB-API connection (the session's DB-API connection is replaced by one whose cursors send
first). A read by id is the exception: ``CommandContext.get`` asks the store only for a row that
is not among the batch's shared rows (``CommandContext.rows``), and every row written is there,
as written; so a batch of stock moves over 200 products sends its moves and cost updates once,
not before each product's first read.

A long batch does not wait for the end to send: every ``SEND_AHEAD_EVERY`` commands
(``sync_server.writes``) what is held is sent in pipeline mode (:meth:`DeferredWrites.send_ahead`)
and the commands go on while the database stores it; the answers are read, and checked as
below, before the next statement (or the next send) runs on the connection, and at the block's
end, which never leaves the connection in pipeline mode. A push of 500 posted invoices waited
65-99 ms for its held statements after its commands; sent ahead every 100 commands, 8-14 ms.

The store has the last word: when a held insert finds its id taken, a value is refused, a
constraint fails, or a row comes back other than it was answered (a type that does not store a
value as given), :class:`sync_server.writes.NeedsSavepoints` is raised and the slice is applied
again from its start with savepoints, one statement per write, as it always was. The answers and
everything recorded are therefore those of the one-by-one path.

Rows whose every value is of a type PostgreSQL stores and gives back exactly as bound
(:func:`_plain`: text within its column's length, integers, booleans, dates, and the quantities
and UTC timestamps as held) are sent without ``RETURNING``: reading them back would give what was
answered, so only the row count is checked (an insert's rows skipped had their id taken, an
update's rows missing were not there). A journal entry is such a row (its lines are JSON text,
``lines_json``, stored as given); a row with any other value (a JSON image, a ``Numeric``, whose
scale is the column's) is read back and compared. That rests on the entity tables having no
trigger that changes a row on its way in: their only triggers are the foreign keys' (AFTER
triggers that refuse and never change a row) and ``journal_entry``'s statement triggers that keep
``journal_balance`` (revision 0019: AFTER triggers that write that table alone, which nothing
held references; a statement reading it or the ``journal_line`` view runs after everything held
was sent, as any statement does). The audit log's guards are on a table never held here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Dialect,
    Table,
    event,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from common.commands.rowaccess import AS_GIVEN, CONNECTION_KEY, RowWriter, row_reader, session_connection
from common.schema.base import Base
from common.schema.types import Quantity, UTCDateTime
from sync_server.bulk import send_insert_new_rows_postgres, send_update_rows_postgres

Row = dict[str, Any]


class DeferredRefused(Exception):
    """The store refused what was held, or stored it otherwise than answered."""


@cache
def _table_order() -> dict[str, int]:
    """Tables in foreign-key order (parents first): held inserts go in this order."""
    return {table.name: n for n, table in enumerate(Base.metadata.sorted_tables)}


@cache
def _normalizers(table: Table, dialect: Dialect) -> dict[str, Callable[[Any], Any]]:
    """Per column whose type converts values (quantities, UTC timestamps): the value as the
    store will give it back (bind, then read). Other columns come back as given."""
    found: dict[str, Callable[[Any], Any]] = {}
    for column in table.c:
        kind = column.type
        if isinstance(kind, TypeDecorator):
            bind, read = kind.process_bind_param, kind.process_result_value

            def normalize(value: Any, bind: Any = bind, read: Any = read) -> Any:
                return None if value is None else read(bind(value, dialect), dialect)

            found[column.name] = normalize
    return found


@cache
def _normalizing(
    table: Table, dialect: Dialect
) -> tuple[tuple[str, Callable[[Any], Any], tuple[str, str]], ...]:
    """:func:`_normalizers` as (column, normalizer, the key of its last value normalized)."""
    return tuple(
        (column, normalize, (table.name, column))
        for column, normalize in _normalizers(table, dialect).items()
    )


# Column types whose values PostgreSQL stores and gives back exactly as bound, for the Python
# types listed (and NULL): a ``str`` in a text column (within its length: a longer one is cut by
# the array's cast to ``varchar(n)``, trailing spaces even by an assignment; a NUL is refused),
# an ``int`` in an integer column (out of range: refused), a ``bool``, a ``date``. The exact type:
# a subclass (``bool`` of ``int``, ``datetime`` of ``date``, a ``str`` enum) is read back.
# Not listed, so read back and compared: ``Numeric`` (given back with the column's scale: 1.5 in
# a ``Numeric(12, 2)`` is 1.50), floats, JSON, and any type not named here.
# The same types as on SQLite (common.commands.rowaccess.AS_GIVEN), for the reasons above.
_AS_GIVEN = AS_GIVEN
# Types that convert, for the Python type of a value as held (:func:`_normalizers`: bound, then
# read): binding it again stores the same integer (a quantity, scaled) or instant (a UTC
# timestamp, ``timestamptz``), and reading that gives the value held again.
_HELD_AS_READ: dict[type[Any], frozenset[type]] = {
    Quantity: frozenset({Decimal}),
    UTCDateTime: frozenset({datetime}),
}


@dataclass(frozen=True)
class _Plain:
    """Which of a table's rows PostgreSQL stores exactly as held (:func:`_plain`)."""

    names: tuple[str, ...]
    # Per column (``table.c`` order), the Python types stored as given; always ``NoneType``.
    kinds: tuple[frozenset[type], ...]
    # (the column's position, its length) of the text columns with a length.
    bounded: tuple[tuple[int, int], ...]

    def rows(self, rows: list[Row]) -> bool:
        """Whether every value of ``rows`` (held rows, naming every column) is stored exactly
        as held: of a type listed for its column, text within the column's length."""
        return self.columns(rows) is not None

    def columns(self, rows: list[Row]) -> list[tuple[Any, ...]] | None:
        """The values of ``rows`` column by column (``table.c`` order) where :meth:`rows`
        holds, else ``None``. Judged column by column, each column's values gathered in C (a
        call per row was most of the cost: a batch sends a thousand rows at once);
        the insert then sends the columns gathered here (``columns`` of
        :func:`sync_server.bulk.send_insert_new_rows_postgres`), not gathered again."""
        if not rows:
            return []
        # Every held table has two columns at least (org_id, id): the getter gives tuples.
        columns = list(zip(*map(itemgetter(*self.names), rows), strict=True))
        for values, allowed in zip(columns, self.kinds, strict=True):
            if not set(map(type, values)) <= allowed:
                return None
        for position, length in self.bounded:
            # Text or None (the types above): the longest text within the length.
            if max(map(len, filter(None, columns[position])), default=0) > length:
                return None
        return columns


def _checks_bool(kind: Any, dialect: Dialect) -> bool:
    """A ``Boolean`` on a store with booleans: its bind processing refuses what is not a bool
    and keeps a ``bool`` as it is (SQLAlchemy's ``Boolean.bind_processor``)."""
    return type(kind) is Boolean and bool(dialect.supports_native_boolean)


@cache
def _plain(table: Table, dialect: Dialect) -> _Plain:
    kinds: list[frozenset[type]] = []
    bounded: list[tuple[int, int]] = []
    for position, column in enumerate(table.c):
        kind = column.type
        found = _HELD_AS_READ.get(type(kind))
        if found is None:
            found = _AS_GIVEN.get(type(kind))
            if found is not None and (
                (kind._cached_bind_processor(dialect) is not None and not _checks_bool(kind, dialect))
                or kind._cached_result_processor(dialect, None) is not None
            ):
                found = None  # converted on its way (none of psycopg's are)
            elif found is not None and str in found and getattr(kind, "length", None) is not None:
                bounded.append((position, kind.length))  # type: ignore[attr-defined]
        kinds.append((found or frozenset()) | {type(None)})
    return _Plain(names=tuple(c.name for c in table.c), kinds=tuple(kinds), bounded=tuple(bounded))


def _same(a: Any, b: Any) -> bool:
    """Equal and alike: a ``Decimal`` with the same digits, a timestamp with the same offset,
    JSON with the same number types (what the wire and the audit would show)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, Decimal):
        return a.as_tuple() == b.as_tuple()
    if isinstance(a, datetime):
        return a == b and a.utcoffset() == b.utcoffset()
    if isinstance(a, dict | list):
        return repr(a) == repr(b)
    return bool(a == b)


@cache
def _reads_by_id(dialect: Dialect) -> frozenset[str]:
    """The statements of ``CommandContext.get`` (a row by its id, :func:`row_reader`)."""
    return frozenset(
        row_reader(table, deleted, dialect).statement.sql
        for table in Base.metadata.sorted_tables
        if {"org_id", "id", "deleted"} <= set(table.c.keys())
        for deleted in (True, False)
    )


def prepare_held_writes(dialect: Dialect) -> None:
    """Compile now the statements the first push on ``dialect`` would (the server's start-up)."""
    _reads_by_id(dialect)


class AskingCursor:
    """A DB-API cursor that calls ``before(statement)`` before it runs a statement: held writes
    go to the store first when the statement may read them (:class:`DeferredWrites`,
    ``sync_server.held_ledger``)."""

    def __init__(self, cursor: Any, before: Callable[[str], None]) -> None:
        self._cursor = cursor
        self._before = before

    def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        self._before(query)
        return self._cursor.execute(query, *args, **kwargs)

    def executemany(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        self._before(query)
        return self._cursor.executemany(query, *args, **kwargs)

    # What the commands' statements ask of a cursor (``common.commands.rowaccess.RawStatement``),
    # named here rather than found by __getattr__ each time.
    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()  # type: ignore[no-any-return]

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount  # type: ignore[no-any-return]

    def close(self) -> None:
        self._cursor.close()

    def __enter__(self) -> AskingCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self._cursor.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class AskingConnection:
    """A DB-API connection whose cursors call ``before(statement)`` first (:class:`AskingCursor`)."""

    def __init__(self, dbapi: Any, before: Callable[[str], None]) -> None:
        self._dbapi = dbapi
        self._before = before

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        return AskingCursor(self._dbapi.cursor(*args, **kwargs), self._before)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dbapi, name)


class DeferredWrites:
    """Held inserts and updates of one organization's write transaction on PostgreSQL
    (:class:`common.commands.framework.DeferredWrites`). Use as a context manager around the
    commands; :meth:`flush` before the transaction's own writes."""

    def __init__(self, session: Session, org_id: str) -> None:
        self.session = session
        self.org_id = org_id
        self._connection, self._dbapi = session_connection(session)
        self._dialect = self._connection.dialect
        self._exempt = _reads_by_id(self._dialect)
        # table → id → the full row to insert (its last values)
        self._inserts: dict[str, dict[str, Row]] = {}
        # table → id → (the row as it will be after the update, the columns set)
        self._updates: dict[str, dict[str, tuple[Row, set[str]]]] = {}
        self._writers: dict[str, RowWriter] = {}
        self._templates: dict[str, Row] = {}  # table → a row of each column's default (insert)
        # (table, column) → (the last value normalized, its normalized value)
        self._normalized: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._flushing = False
        self.statements = 0  # statements sent by flush (for measuring)
        # What :meth:`send_ahead` sent in pipeline mode: the pipeline, and the checks of its
        # statements' answers, run once it is synced (:meth:`_settle`).
        self._pipeline: Any = None
        self._unchecked: list[Callable[[], None]] = []

    # -- installation ----------------------------------------------------------------------------
    def __enter__(self) -> DeferredWrites:
        self.session.info[CONNECTION_KEY] = (
            self._connection,
            AskingConnection(self._dbapi, self._before_statement),
        )
        event.listen(self._connection, "before_cursor_execute", self._before_execute)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            # Never leave the connection in pipeline mode: the caller commits or rolls back
            # next. What refused the sent writes is raised, unless an exception is on its way
            # already (the transaction is rolled back either way).
            self._settle(raising=exc[0] is None)
        finally:
            event.remove(self._connection, "before_cursor_execute", self._before_execute)
            self.session.info[CONNECTION_KEY] = (self._connection, self._dbapi)

    def _before_execute(self, conn: Connection, *args: Any) -> None:
        self.flush()

    def _before_statement(self, query: str) -> None:
        """Before a statement on the DB-API connection: send what is held, but for a read by id
        (the commands read a row by id only when it is not among the batch's rows,
        ``CommandContext.rows``, which every held write is, so no held write is that row)."""
        if query not in self._exempt:
            self.flush()
        else:
            self.settle()  # out of pipeline mode first: its answers checked

    # -- held writes -----------------------------------------------------------------------------
    def insert(self, writer: RowWriter, rows: list[Row]) -> list[Row]:
        name = writer.table.name
        self._writers[name] = writer
        held = self._inserts.setdefault(name, {})
        steps = _normalizing(writer.table, self._dialect)
        missing = writer.missing
        names = writer.names
        required = writer.required
        # Every column in the table's order, each with its value when a row does not name it
        # (the required ones: placeholders, every row names them).
        template = self._templates.get(name)
        if template is None:
            template = self._templates[name] = {n: missing.get(n) for n in names}
        last = self._normalized
        updated = self._updates.get(name, ())
        width = len(names)
        answered: list[Row] = []
        for values in rows:
            entity_id = values["id"]
            if entity_id in held or entity_id in updated:
                continue  # taken by a row written in this transaction: not inserted
            row = template.copy()
            row.update(values)
            if len(row) != width or not required <= values.keys():
                # A column the table has not, or a required one not named: as before, row by row.
                row = {n: values[n] if n in values else missing[n] for n in names}
            for column, normalize, key in steps:
                # The same object as the last one normalized (the command's time on every row):
                # the same value held, converted once.
                value = row[column]
                found = last.get(key)
                if found is not None and found[0] is value:
                    row[column] = found[1]
                else:
                    row[column] = normalized = normalize(value)
                    last[key] = (value, normalized)
            held[entity_id] = row
            answered.append(dict(row))
        return answered

    def update(self, writer: RowWriter, entity_id: str, changes: Row, before: Row) -> Row:
        name = writer.table.name
        self._writers[name] = writer
        normalizers = _normalizers(writer.table, self._dialect)
        after = dict(before)
        for column, value in changes.items():
            normalize = normalizers.get(column)
            after[column] = value if normalize is None or value is None else normalize(value)
        inserting = self._inserts.get(name)
        if inserting is not None and entity_id in inserting:
            inserting[entity_id] = dict(after)  # not stored yet: inserted with its last values
            return after
        held = self._updates.setdefault(name, {})
        found = held.get(entity_id)
        columns = set(changes) if found is None else found[1] | set(changes)
        held[entity_id] = (dict(after), columns)
        return after

    # -- sending ---------------------------------------------------------------------------------
    def flush(self) -> None:
        """Send what is held: inserts in foreign-key order, then updates. Raises
        :class:`DeferredRefused` (the transaction must be rolled back) when the store refuses
        any of it or stores a row otherwise than it was answered."""
        self._send_held(pipelined=False)

    def send_ahead(self) -> None:
        """Send what is held in pipeline mode and return without waiting for the answers: the
        database stores those rows while the commands after them run (they run no statement,
        their writes held in turn). The answers are checked when the next statement is about to
        run, at the next :meth:`flush` or :meth:`send_ahead`, or at the block's end; a refusal is
        raised there, as :meth:`flush` raises it."""
        self._send_held(pipelined=True)

    def _send_held(self, *, pipelined: bool) -> None:
        """:meth:`flush` (each statement's answers checked as it runs) or :meth:`send_ahead`
        (``pipelined``): one send at a time on the connection, what was sent ahead checked
        first."""
        if self._flushing:
            return
        self._flushing = True
        try:
            self._settle(raising=True)
            if not (self._inserts or self._updates):
                return
            work = self._take()

            def send() -> None:
                if not pipelined:
                    self._send(*work)
                    return
                pipeline = self._dbapi.pipeline()
                pipeline.__enter__()
                self._pipeline = pipeline
                self._send(*work, checks=self._unchecked)  # each check kept as its statement goes

            self._checked(send)
        finally:
            self._flushing = False

    def settle(self) -> None:
        """Check what :meth:`send_ahead` sent (waiting for the answers); held writes stay held."""
        if not self._flushing:
            self._settle(raising=True)

    def _settle(self, *, raising: bool) -> None:
        """Sync the pipeline :meth:`send_ahead` left open and check its answers; what refused
        them is raised (``raising``) or dropped (an exception is on its way)."""
        pipeline, checks = self._pipeline, self._unchecked
        if pipeline is None:
            return
        self._pipeline, self._unchecked = None, []

        def settle() -> None:
            # Every check runs (each closes its cursor), the first failure raised: the sync's
            # own (the first error of the pipeline), else the first check's.
            failures: list[Exception] = []
            try:
                pipeline.__exit__(None, None, None)  # sync: every answer is in
            except Exception as exc:
                failures.append(exc)
            for check in checks:
                try:
                    check()
                except Exception as exc:
                    failures.append(exc)
            if failures:
                raise failures[0]

        if raising:
            self._checked(settle)
            return
        with contextlib.suppress(Exception):  # the transaction is rolled back for another reason
            settle()

    @staticmethod
    def _checked(send: Callable[[], object]) -> None:
        try:
            send()
        except DeferredRefused:
            raise
        except Exception as exc:
            raise DeferredRefused(type(exc).__name__) from exc

    def _take(self) -> tuple[dict[str, dict[str, Row]], dict[str, dict[str, tuple[Row, set[str]]]]]:
        """What is held, no longer held (a later write of the same row is held anew: an update)."""
        taken = self._inserts, self._updates
        self._inserts, self._updates = {}, {}
        return taken

    def _send(
        self,
        inserts: dict[str, dict[str, Row]],
        updates: dict[str, dict[str, tuple[Row, set[str]]]],
        *,
        checks: list[Callable[[], None]] | None = None,
    ) -> None:
        """Run the statements of ``inserts`` and ``updates``, each statement's check of its
        answers (which closes its cursor) run at once, or kept in ``checks`` to run once the
        pipeline is synced."""
        keep: Callable[[Callable[[], None]], None] = checks.append if checks is not None else _run
        order = _table_order()
        for name in sorted(inserts, key=lambda n: order.get(n, len(order))):
            keep(self._send_inserts(self._writers[name], list(inserts[name].values())))
        for name, held in updates.items():
            self._send_updates(self._writers[name], held, keep)

    def _send_inserts(self, writer: RowWriter, rows: list[Row]) -> Callable[[], None]:
        columns = _plain(writer.table, self._dialect).columns(rows)
        # Stored as held (read back, they would be as answered): only the count to check.
        counted = columns is not None
        cursor = send_insert_new_rows_postgres(
            self._dbapi, self._dialect, writer.table, rows, returning=not counted, columns=columns
        )
        self.statements += 1
        return _answers(writer, cursor, rows, counted, "an id was taken")

    def _send_updates(
        self,
        writer: RowWriter,
        held: dict[str, tuple[Row, set[str]]],
        keep: Callable[[Callable[[], None]], None],
    ) -> None:
        groups: dict[tuple[str, ...], list[Row]] = {}
        for after, columns in held.values():
            groups.setdefault(tuple(sorted(columns)), []).append(after)
        plain = _plain(writer.table, self._dialect)
        for keys, rows in groups.items():
            # Every value of the rows as they will be is stored as held: only the count.
            counted = plain.rows(rows)
            cursor = send_update_rows_postgres(
                self._dbapi, self._dialect, writer.table, self.org_id, keys, rows, returning=not counted
            )
            self.statements += 1
            keep(_answers(writer, cursor, rows, counted, "a row to update is missing"))


def _run(check: Callable[[], None]) -> None:
    check()


def _answers(
    writer: RowWriter, cursor: Any, rows: list[Row], counted: bool, missing: str
) -> Callable[[], None]:
    """The check of a statement's answers once they are in (it closes the cursor): as many rows
    written as sent (else :class:`DeferredRefused` saying ``missing``) and, unless ``counted``,
    each given back as it was answered."""

    def check() -> None:
        try:
            if counted:
                if cursor.rowcount != len(rows):
                    raise DeferredRefused(missing)
                return
            found = cursor.fetchall()
        finally:
            cursor.close()
        if len(found) != len(rows):
            raise DeferredRefused(missing)
        expected = {row["id"]: row for row in rows}
        for values in found:
            got = writer._row(values)
            for name in writer.names:
                if not _same(expected[got["id"]][name], got[name]):
                    raise DeferredRefused(f"{writer.table.name}.{name} was stored otherwise than answered")

    return check

"""New journal entries held to the end of a slice: the optimistic write path on the embedded store.

Posting a document writes a journal entry, its lines inside its row (``lines_json``, revision
0019): an ``INSERT`` a statement of its own on SQLite, where every other write of the command is
one too. During the optimistic first try of a slice (``sync_server.writes.apply_in_slices``, no
savepoints) the new journal entries are held here instead, answered at once with the row as it
will be stored, and written at the slice's end in one multi-row statement (:data:`HELD`); the
entries' triggers then add their lines to ``journal_balance``. (Before revision 0019 the lines
were rows of their own, held the same way: bench/README.md, "Stop 34".)

Only this table: entries are append-only (an entry is reversed, never edited), many and written
together, and no other table references them (``journal_balance`` references the account, not
the entry), so holding them cannot make another row's foreign key fail. Every other write goes
to the store at once, as before.

Nothing a command reads may miss a held row: before any statement that names a table with rows
held, or what reads them (:data:`READ_AS`: the ``journal_line`` view over the entries, and
``journal_balance``, which the entries' triggers keep) the held rows are written first, whether
it runs through SQLAlchemy or on the DB-API connection (the session's DB-API connection is
replaced, once a row is held, by one whose cursors write first). A read by id rarely gets that
far: ``CommandContext.get`` answers a row the batch wrote from the batch's rows.

The store has the last word: when a held row's id is taken, or the store refuses a row, the
rows held are dropped with the transaction and :class:`sync_server.deferred.DeferredRefused`
sends the slice back to being applied with savepoints, one statement per write, as PostgreSQL's
held writes do (:mod:`sync_server.deferred`). The answers, the records and the refusals are
therefore those of the one-by-one path.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from common.commands.rowaccess import CONNECTION_KEY, RowWriter, session_connection
from sync_server.deferred import AskingConnection, DeferredRefused

Row = dict[str, Any]

# The tables whose new rows are held, in the order they are written (parents first), and the
# names in a statement that may read them: the entries' lines are the ``journal_line`` view and,
# through the entries' triggers, ``journal_balance`` (revision 0019).
HELD = ("journal_entry",)
READ_AS = ("journal_entry", "journal_line", "journal_balance")


class HeldLedgerRows:
    """New journal entries of one write transaction on the embedded store, held and
    written together (:class:`common.commands.framework.DeferredWrites`). Use as a context
    manager around the commands; :meth:`flush` before the transaction's own writes. Nothing
    changes on the connection until a row is held: a slice that posts nothing runs as before."""

    def __init__(self, session: Session, org_id: str) -> None:
        self.session = session
        self.org_id = org_id
        self._connection, self._dbapi = session_connection(session)
        # table → (its writer, the values of the rows held in column order, in the order given)
        self._held: dict[str, tuple[RowWriter, list[tuple[Any, ...]]]] = {}
        self._installed = False

    def __enter__(self) -> HeldLedgerRows:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self.flush()  # nothing held is left behind by a block that ends normally
        finally:
            # Rows still held when an exception leaves are dropped with the transaction.
            self._held = {}
            if self._installed:
                event.remove(self._connection, "before_cursor_execute", self._before_execute)
                self.session.info[CONNECTION_KEY] = (self._connection, self._dbapi)
                self._installed = False

    def _install(self) -> None:
        """From the first row held on, every statement asks first: SQLAlchemy's (an execution
        event) and those on the DB-API connection (``sync_server.deferred.AskingConnection``)."""
        event.listen(self._connection, "before_cursor_execute", self._before_execute)
        self.session.info[CONNECTION_KEY] = (self._connection, AskingConnection(self._dbapi, self.before))
        self._installed = True

    def _before_execute(self, conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        self.before(statement)

    def before(self, statement: str) -> None:
        """Write what is held if ``statement`` names a table with rows held (or what reads them)."""
        if self._held:
            for name in READ_AS:
                if name in statement:
                    self.flush()
                    return

    # -- held rows -------------------------------------------------------------------------------
    def insert(self, writer: RowWriter, rows: list[Row]) -> list[Row]:
        name = writer.table.name
        if name in HELD:
            stored = writer.as_stored(rows)
            if stored is not None:
                if not self._installed:
                    self._install()
                answered, given = stored
                held = self._held.get(name)
                if held is None:
                    self._held[name] = (writer, given)
                else:
                    held[1].extend(given)
                return answered
            self.flush()  # read back as stored: written now, after what is held
        return writer.insert(self._dbapi, rows)

    def update(self, writer: RowWriter, entity_id: str, changes: Row, before: Row) -> Row:
        if writer.table.name in self._held:
            self.flush()
        updated = writer.update(self._dbapi, self.org_id, entity_id, changes)
        assert updated is not None  # read in this transaction (CommandContext.update)
        return updated

    def flush(self) -> None:
        """Write what is held, a multi-row ``INSERT`` per table (:data:`HELD`). Raises
        :class:`~sync_server.deferred.DeferredRefused` (the transaction must be rolled back)
        when the store refuses a row or finds its id taken."""
        held, self._held = self._held, {}
        for name in HELD:
            found = held.get(name)
            if found is None:
                continue
            writer, given = found
            try:
                written = writer.insert_values(self._dbapi, given)
            except DBAPIError as exc:  # what the store refused; a fault of ours is raised as is
                raise DeferredRefused(type(exc).__name__) from exc
            if written != len(given):
                raise DeferredRefused("an id was taken")

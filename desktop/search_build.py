"""Building the desktop-local search indexes on a thread of their own, after a download.

A full download drops the search indexes (:mod:`desktop.search_index`: the trigram tables, their
triggers and the lists' local b-tree indexes; :func:`desktop.deferred_indexes.defer`) and the
sync ends without building them: building them took about an eighth of a 300k-row initial sync.
A :class:`SearchIndexBuilder` builds what is missing once the download is committed, off the GUI
thread and off the sync, and can be cancelled (a new download, closing the store).

Meanwhile the lists stay correct: :attr:`SearchIndexBuilder.ready` is false from before the
indexes are dropped until the transaction that builds them has committed, and a list whose
search index is not ready searches with ``LIKE`` (``desktop.lists``), which finds the same rows.
Each index is either absent or complete and maintained by its triggers: it is created, filled and
given its triggers in one transaction, so a build cancelled or killed half-way leaves nothing,
and the next sync's end (or the next opening of the store) builds it again.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine

from desktop import search_index

log = logging.getLogger(__name__)

# How often a cancel repeats its interrupt while the build is between two statements (an
# interrupt reaches only a statement that is running).
_CANCEL_POLL_S = 0.05


class SearchIndexBuilder:
    """Builds the missing search indexes of one store, one build at a time, in the background."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._ready = True
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._cancelled = threading.Event()
        self._connection: Any = None  # the build's DB-API connection, to interrupt it

    @property
    def ready(self) -> bool:
        """Whether the search indexes are complete (a list may use them)."""
        return self._ready

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def mark_missing(self) -> None:
        """Called before a transaction that drops the indexes: lists stop using them at once,
        before the drop commits, and until a build has committed them again."""
        self._ready = False

    def start(self) -> None:
        """Start a build in the background unless one runs (returns at once)."""
        with self._lock:
            if self.running:
                return
            self._cancelled.clear()
            self._thread = threading.Thread(target=self._run, name="ops-search-index", daemon=True)
            self._thread.start()

    def cancel(self) -> None:
        """Stop a running build and wait for it (nothing of it stays; ``ready`` stays false)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._cancelled.set()
        while thread.is_alive():
            connection = self._connection
            if connection is not None:
                connection.interrupt()
            thread.join(_CANCEL_POLL_S)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a running build to end; ``True`` when none runs any more."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.running

    def build(self) -> int:
        """Build what is missing here, in one write transaction (one read when nothing is),
        then copy the write-ahead log into the database file; returns how many indexes were built."""
        with self.engine.execution_options(sqlite_begin="IMMEDIATE").connect() as connection:
            self._connection = connection.connection.dbapi_connection
            try:
                if self._cancelled.is_set():
                    return 0
                with connection.begin():
                    built = search_index.ensure(connection)
                self._ready = True
                if not self._cancelled.is_set():
                    # The download and the build wrote the log; copying it here, off the
                    # interface's thread, spares the next writer (or the store's closing) from it.
                    # On the driver: outside any transaction (SQLAlchemy would begin one).
                    self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                return built
            finally:
                self._connection = None

    def _run(self) -> None:
        try:
            self.build()
        except Exception:
            if not self._cancelled.is_set():
                # The lists keep searching with LIKE; the next sync or opening tries again.
                log.exception("building the local search indexes failed")

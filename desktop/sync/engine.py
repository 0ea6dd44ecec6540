"""The sync cycle (DESIGN §5), with no Qt: push every pending command, then pull until done.

1. **Push** the outbox oldest first in batches of at most 1000, again and again until nothing is
   pending (the user may add commands meanwhile; bounded). ``applied`` removes an entry; a
   ``duplicate`` counts as its original status (a retried batch whose answer was lost);
   ``rejected``/``conflict`` stays in the outbox with the server's reason and values until the
   user resolves it (``desktop.attention``).
2. **Pull** pages until ``has_more`` is false, each page written in one local transaction with
   its cursor. A page is never written while a command is pending: the cycle pushes again first.
3. ``resync_required`` (rights changed, copy older than the server's history) → forget the cursor
   and download a fresh copy; its first page replaces every local row, so rows the user may no
   longer read disappear. Pending commands were pushed before, so none is lost.
   ``upgrade_required`` → stop; the outbox is kept. The message says which side to upgrade: this
   program, or (``client_newer``) the server.

Calls that fail because the server is unreachable or failing are retried with backoff
(:mod:`desktop.sync.retry`); when that runs out the sync ends with :class:`OfflineError`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from common.heap import collector_paused
from common.schema import SCHEMA_VERSION
from common.schema.types import utcnow
from common.wire import MAX_PULL_LIMIT, MAX_PUSH_MUTATIONS
from desktop.api_client import (
    ApiClient,
    ApiError,
    OfflineError,
    ResyncRequiredError,
    UpgradeRequiredError,
    names_field,
)
from desktop.formatting import count
from desktop.local_store import LocalStore
from desktop.session import LAST_SYNC_KEY
from desktop.sync.local import (
    apply_prepared,
    build_search_indexes,
    forget_cursor,
    indexes_set_aside,
    pending_batch,
    prepare_page,
    record_results,
    restore_indexes,
    saved_cursor,
)
from desktop.sync.retry import Retrier, RetryPolicy
from desktop.version import user_agent

Progress = Callable[[int, int | None, str], None]
MAX_ROUNDS = 5
MAX_RESYNCS = 2


def _no_progress(done: int, total: int | None, text: str) -> None:
    return None


@dataclass
class SyncReport:
    """What one sync did."""

    pushed: int = 0
    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    conflicts: int = 0
    pulled: int = 0
    pages: int = 0
    resynced: bool = False
    retries: int = 0
    pending_left: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = []
        if self.pushed:
            parts.append(f"sent {count(self.pushed)} change{'s' if self.pushed != 1 else ''}")
        if self.pulled:
            parts.append(f"received {count(self.pulled)}")
        refused = self.rejected + self.conflicts
        if refused:
            parts.append(f"{count(refused)} need{'s' if refused == 1 else ''} attention")
        if self.resynced:
            parts.append("downloaded a fresh copy")
        if self.pending_left:
            parts.append(f"{count(self.pending_left)} still waiting (made during the sync)")
        return ("Synced: " + ", ".join(parts)) if parts else "Synced: nothing new"


class SyncEngine:
    """Syncs one local store with its server organization. One run at a time."""

    def __init__(
        self,
        store: LocalStore,
        api: ApiClient,
        org_id: str,
        *,
        policy: RetryPolicy | None = None,
        push_batch: int = MAX_PUSH_MUTATIONS,
        page_limit: int = MAX_PULL_LIMIT,
        on_resync: Callable[[], None] | None = None,
        blocks: bool = True,
    ) -> None:
        if not 1 <= push_batch <= MAX_PUSH_MUTATIONS:
            raise ValueError(f"push batches hold 1 to {MAX_PUSH_MUTATIONS} commands")
        if not 1 <= page_limit <= MAX_PULL_LIMIT:
            raise ValueError(f"pull pages hold 1 to {MAX_PULL_LIMIT} changes")
        self.store = store
        self.api = api
        self.org_id = org_id
        self.retrier = Retrier(policy or RetryPolicy())
        self.push_batch = push_batch
        self.page_limit = page_limit
        self.on_resync = on_resync
        # Pull pages in the ``blocks`` format (column names once a run: less to send and to
        # decode); off for good once the server says it does not know it (an older server).
        self.blocks = blocks
        self._running = threading.Lock()

    def cancel(self) -> None:
        """Stop a running sync at its next step (committed pages and batches stay)."""
        self.retrier.cancel()

    def run(self, progress: Progress | None = None) -> SyncReport:
        """One full cycle; raises :class:`OfflineError` when the server stays unreachable,
        :class:`UpgradeRequiredError` when this program is too old, other ``ApiError``s as they come."""
        if not self._running.acquire(blocking=False):
            raise RuntimeError("a sync of this data is already running")
        started = time.perf_counter()
        report = SyncReport()
        self.retrier.reset()
        self.retrier.retries = 0
        try:
            self._cycle(report, progress or _no_progress)
        except OfflineError as exc:
            waiting = self.store.pending_count()
            note = (
                f"; {count(waiting)} change{'s' if waiting != 1 else ''} wait to be sent" if waiting else ""
            )
            raise OfflineError(
                f"The server cannot be reached ({exc.message}); working offline{note}.",
                code=exc.code,
                status=exc.status,
            ) from exc
        except UpgradeRequiredError as exc:
            waiting = self.store.pending_count()
            kept = (
                f"Your {count(waiting)} unsent change{'s are' if waiting != 1 else ' is'} kept and will be "
                "sent after the upgrade."
            )
            if exc.details.get("reason") == "client_newer":
                what = (
                    f"This program ({user_agent()}) is newer than the server: ask your administrator "
                    "to upgrade the server (ops-server)."
                )
            else:
                what = "This program is too old for the server: install the new version."
            raise UpgradeRequiredError(
                f"{what} {kept}", code=exc.code, status=exc.status, details=exc.details
            ) from exc
        finally:
            report.retries = self.retrier.retries
            report.seconds = time.perf_counter() - started
            # The search indexes a full download dropped are built in the background once the
            # sync is over (desktop.search_build), however it ended: the sync does not wait for
            # them (nor its last writes for their write lock), and lists search without them
            # meanwhile. The build also copies the log a full download left (defer_checkpoints).
            self.store.defer_checkpoints(False)
            with suppress(Exception):
                build_search_indexes(self.store)
            self._running.release()
        return report

    # -- the cycle ---------------------------------------------------------------------------------
    def _cycle(self, report: SyncReport, progress: Progress) -> None:
        for _ in range(MAX_ROUNDS):
            self._push_all(report, progress)
            if self._pull_all(report, progress):
                break
        report.pending_left = self.store.finish_cycle(LAST_SYNC_KEY, utcnow().isoformat())
        progress(1, 1, report.summary())

    def _push_all(self, report: SyncReport, progress: Progress) -> None:
        total = self.store.pending_count()
        if not total:
            return
        sent = 0
        # Bounded: what was pending at the start plus a few batches the user adds meanwhile
        # (and one where the entries queued before an upgrade, of the older scheme of derived
        # ids, end: a batch holds commands of one scheme).
        for _ in range(total // self.push_batch + 5):
            scheme, batch = pending_batch(self.store, self.push_batch)
            if not batch:
                break
            progress(sent, max(total, sent + len(batch)), f"Sending changes… {count(sent)} of {count(total)}")
            device = self.store.device_id
            results = self.retrier.call(
                lambda batch=batch, device=device, scheme=scheme: self.api.push(  # type: ignore[misc]
                    self.org_id, batch, client_id=device, schema_version=SCHEMA_VERSION, derived_ids=scheme
                )
            )
            if self.api.server_derives_ids:
                self.store.server_derives_ids()
            outcome = record_results(self.store, results)
            sent += len(batch)
            report.pushed += len(batch)
            report.applied += outcome.applied
            report.duplicates += outcome.duplicates
            report.rejected += outcome.rejected
            report.conflicts += outcome.conflicts
        progress(sent, max(total, sent), f"Sent {count(sent)} changes")

    def _pull_all(self, report: SyncReport, progress: Progress) -> bool:
        """Pull until done; ``False`` when a command became pending (push first, then again).

        While a page is written, the next one is requested on a helper thread: the server and
        the network work while the local database does.
        """
        # A full download sets indexes aside (desktop.deferred_indexes): they are back when the
        # pull ends, however it ends (if even that fails, the next sync or opening does it). The
        # search indexes it dropped are built when the sync has ended (see run).
        try:
            with collector_paused():
                done = self._pull_pages(report, progress)
        except BaseException:
            with suppress(Exception):
                restore_indexes(self.store)
            raise
        if indexes_set_aside(self.store):
            progress(report.pulled, None, "Indexing…")
            restore_indexes(self.store)
        return done

    def _pull_pages(self, report: SyncReport, progress: Progress) -> bool:
        resyncs = 0
        org_id = self.store.profile.org_id
        cursor = saved_cursor(self.store)
        fresh = cursor is None
        if fresh:  # a full download: the log is copied after the sync (see run)
            self.store.defer_checkpoints(True)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ops-pull") as fetcher:
            fetching: Future[dict[str, Any]] | None = None
            while True:
                try:
                    page = fetching.result() if fetching is not None else self._fetch(cursor)
                except ApiError as exc:
                    if not _needs_fresh_copy(exc) or resyncs >= MAX_RESYNCS:
                        raise
                    resyncs += 1
                    report.resynced = True
                    forget_cursor(self.store)
                    if self.on_resync is not None:
                        self.on_resync()
                    cursor, fresh, fetching = None, True, None
                    continue
                self.retrier.check()
                fetching = fetcher.submit(self._fetch, page["cursor"]) if page["has_more"] else None
                if page.get("changes") or page.get("blocks") or page["cursor"] != cursor or fresh:
                    prepared = prepare_page(page, org_id)
                    if not apply_prepared(self.store, prepared, fresh_start=fresh):
                        return False  # a page fetched meanwhile is dropped with the helper thread
                    report.pulled += prepared.count
                    progress(report.pulled, None, f"Receiving changes… {count(report.pulled)}")
                report.pages += 1
                cursor, fresh = page["cursor"], False
                if fetching is None:
                    return True

    def _fetch(self, cursor: str | None) -> dict[str, Any]:
        if self.blocks:
            try:
                return self.retrier.call(
                    lambda: self.api.pull(
                        self.org_id, cursor, limit=self.page_limit, schema_version=SCHEMA_VERSION, blocks=True
                    )
                )
            except ApiError as exc:
                if not names_field(exc, "format"):
                    raise
                self.blocks = False  # a server older than the format: DESIGN §5's changes
        return self.retrier.call(
            lambda: self.api.pull(self.org_id, cursor, limit=self.page_limit, schema_version=SCHEMA_VERSION)
        )


def _needs_fresh_copy(exc: ApiError) -> bool:
    """``resync_required``, or a cursor the server no longer accepts (its key was replaced)."""
    return isinstance(exc, ResyncRequiredError) or (exc.status == 400 and exc.code == "invalid_cursor")

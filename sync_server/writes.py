"""The server write path: apply a batch of pushed commands to the canonical store.

:func:`apply_mutations` runs in the caller's write transaction (one per batch):

1. take the organization's write lock first — PostgreSQL: ``SELECT … FOR UPDATE`` of the
   organization's ``change`` and ``audit`` counter rows; SQLite: the transaction already began
   ``IMMEDIATE`` — so change sequence numbers commit in order and a pull that has passed a
   sequence number never misses a lower one (DESIGN §5);
2. per command: a mutation id the same user already pushed answers ``duplicate`` with its
   original result (another user's id answers ``rejected``/``id_taken`` and tells nothing);
   otherwise a SAVEPOINT, then :func:`common.commands.execute` with a :class:`ServerRecorder`
   (version = next change sequence, one change-log row and one audit event per row written, but
   for a document's journal entry, audited inside the document's event:
   :data:`sync_server.audit.POSTINGS`) and
   :class:`ServerNumbering` (final gapless numbers, counted in memory and written once per
   batch); a refused command rolls back to the
   savepoint and is recorded ``rejected``, consuming no sequence and no document number. The
   commands of a batch share the rows they read and write (``CommandContext.rows``), forgotten
   whenever one is rolled back, so a batch of moves reads each product once (on PostgreSQL
   all of them before the first command, one statement per entity: :func:`_read_ahead`), and a
   row found missing (the ledger of an organization without books) is not asked for again;
3. bulk-insert the change-log rows, the audit events (hash-chained) and every result into
   ``processed_mutation``, and store the new counter values.

The caller commits. Nothing here knows about HTTP.

:func:`apply_in_slices` is what a push runs: the batch in slices, each slice in a write
transaction of its own. The embedded store has one writer at a time for every organization, so a
1,000-command batch in one transaction would hold every other tenant's push for its whole length;
between slices the writers waiting their turn go first (``sync_server.store.WriterTurns``). Each
command stays atomic (its savepoint, its slice), answers come back in order, and a batch cut off
between slices (a crash, a lost connection) is safe to send again: the committed slices answer
``duplicate`` with their results, the rest is applied. On PostgreSQL writers of different
organizations never wait for each other (the lock is the organization's counter rows), so a
slice there is the whole batch, and its first, optimistic try holds the commands' inserts and
updates and sends them together (:mod:`sync_server.deferred`): a statement per table instead of
a round trip per row, sent ahead in pipeline mode every :data:`SEND_AHEAD_EVERY` commands so
that the database stores them while the next commands run; anything the store refuses of them
reruns the slice with savepoints. On the embedded store the optimistic try holds only the new
journal entries (their lines inside them), written at the slice's end in one statement
(:mod:`sync_server.held_ledger`), with the same fallback.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from common.commands import DERIVED_IDS, CommandContext, CommandError, execute
from common.commands.rowaccess import rows_reader, session_connection, writes_counted
from common.heap import collector_paused
from common.heap import settle_heap as common_settle_heap
from common.ids import is_uuid
from common.numbering import final_number
from common.permissions import ALL_PERMISSIONS
from common.schema import ENTITIES, ChangeLog, Membership, OrgSequence, ProcessedMutation
from common.schema.base import table_of
from common.schema.types import utcnow
from common.subjects import SUBJECT_ENTITIES, SUBJECT_LINKS, erasable_columns, subject_of
from common.wire import Mutation, MutationResult
from sync_server.audit import (
    AUDIT_SEQUENCE,
    POSTING_DEFAULTS,
    POSTING_ENTITY,
    POSTING_HOLDERS,
    POSTING_IMPLIED_COLUMN,
    POSTINGS,
    SEQUENCES,
    AuditChainBroken,
    ChainHead,
    PendingEvent,
    append_events,
    audit_key,
    ensure_counter,
    identical,
    json_value,
    read_head,
)
from sync_server.bulk import insert_rows
from sync_server.deferred import DeferredRefused, DeferredWrites, prepare_held_writes
from sync_server.held_ledger import HeldLedgerRows
from sync_server.incidents import log_incident
from sync_server.subject_keys import SubjectKeys
from sync_server.tenancy import TenantScopeError

if TYPE_CHECKING:
    from sync_server.store import Store

log = logging.getLogger(__name__)

# Commands per write transaction on the embedded store: how long another tenant may wait for a
# large push (a slice takes ~15-25 ms on a quiet machine here, more with the GIL shared), against
# a commit (synced on the embedded store) per slice: 20 per 1,000-command batch.
EMBEDDED_SLICE = 50

# How long a batch whose writes are held (PostgreSQL) runs before it lets the server's other
# threads take the GIL (each time ~2-20 µs of CPU, a system call; see TIMER_SLACK_NS).
GIVE_WAY_S = 0.0005
# Every this many commands of a batch whose writes are held (PostgreSQL), what is held is sent in
# pipeline mode without waiting (``DeferredWrites.send_ahead``): the database stores those rows
# while the next commands run here, instead of storing the whole batch's after them. A push of
# 500 posted invoices ran its held statements for 65-99 ms after its commands; sent ahead, 8-14
# ms are left to wait for (bench/README.md, "Stop 32").
SEND_AHEAD_EVERY = 100

# Giving way is ``time.sleep(0)``, and Linux lets a sleep overrun by the thread's timer slack,
# 50 µs by default: measured here, a ``sleep(0)`` took 75 µs of wall time, 15-25 ms of a
# 1,000-command push of posted invoices on PostgreSQL (6-9 % of it). With 1 µs of slack it took
# ~17 µs (bench/README.md, stop 29). Set once the server is ready to serve (:func:`settle_heap`),
# before its serving threads start: threads take their creator's slack.
TIMER_SLACK_NS = 1000
_PR_SET_TIMERSLACK = 29

CHANGE_SEQUENCE = "change"

# Stamped by every write; not "changed fields" worth auditing.
_STAMPS = frozenset({"version", "updated_at", "updated_by"})
_IDENTITY = frozenset({"org_id", "id"})
_UNAUDITED = _STAMPS | _IDENTITY
_UNAUDITED_KEYS = tuple(sorted(_UNAUDITED))
_AS_IS = frozenset({str, int, bool, float, type(None)})


def _new_image(row: dict[str, Any]) -> dict[str, Any]:
    """A new row's audit image: every column but the stamps and the identity, as JSON values
    (:func:`_wire`'s). A copy of the row with those columns taken out and the few values that
    are not JSON already converted: copying a dict costs a fraction of building one key by key
    (a posting inserts four rows per document)."""
    image = dict(row)
    for key in _UNAUDITED_KEYS:
        image.pop(key, None)
    for key, value in image.items():
        if (t := type(value)) not in _AS_IS:
            # Replacing the value of a key being visited: the dict keeps its size and order.
            image[key] = _json_of(value, t)
    return image


# A date's ISO text by the date (a date, not a datetime, whose text also shows its offset):
# ``date.isoformat`` formats through printf, ~0.4 µs, and a pushed batch's rows share few dates
# (a document and the journal entry that posts it carry the same).
_DATE_TEXT: dict[date, str] = {}
_DATES_KEPT = 4096


def _date_text(day: date) -> str:
    """``day.isoformat()``, kept in :data:`_DATE_TEXT` (emptied when full)."""
    if len(_DATE_TEXT) >= _DATES_KEPT:
        _DATE_TEXT.clear()
    text = _DATE_TEXT[day] = day.isoformat()
    return text


def _json_of(value: Any, kind: type) -> Any:
    """A value of a type not JSON's (``kind``, its type) as its JSON value
    (:func:`sync_server.audit.json_value`'s answer): dates and times their ISO text (a date's is
    kept, :data:`_DATE_TEXT`: a document and the journal entry that posts it carry the same)."""
    if kind is date:
        return _DATE_TEXT.get(value) or _date_text(value)
    if kind is datetime:
        return value.isoformat()
    return json_value(value)


def _wire(values: dict[str, Any]) -> dict[str, Any]:
    """The values as JSON values, asking the common types inline (every row written): an audit
    image, not walked again when it is appended."""
    return {k: v if (t := type(v)) in _AS_IS else _json_of(v, t) for k, v in values.items()}


def _leave_out_defaults(image: dict[str, Any], defaults: Mapping[str, Any]) -> None:
    """Take out of a nested image the fields holding their default, the very value (of the same
    type: ``0 == False``): what readers put back."""
    for name, value in defaults.items():
        if name in image and identical(image[name], value):
            del image[name]


@cache
def _may_name_subject(entity: str) -> bool:
    """Whether a row of ``entity`` can be about a data subject (:func:`common.subjects.subject_of`
    finds one only in a subject entity or through a subject column the table has)."""
    if entity in SUBJECT_ENTITIES:
        return True
    model = ENTITIES.get(entity)
    if model is None:
        return True  # not an entity table: ask subject_of every time
    columns = set(table_of(model).c.keys())
    return bool(columns & ({"subject_type", "subject_id"} | {column for column, _ in SUBJECT_LINKS}))


class ServerRecorder:
    """Server side of :class:`common.commands.ChangeRecorder`.

    Hands out change sequence numbers and collects change-log rows and audit events in memory;
    :meth:`mark`/:meth:`restore` drop what a refused command recorded.
    """

    def __init__(self, org_id: str, last_seq: int, now: datetime) -> None:
        self.org_id = org_id
        self.seq = last_seq
        self.now = now
        self.changes: list[dict[str, Any]] = []
        self.events: list[PendingEvent] = []
        self.action = ""
        self.actor: str | None = None
        self.device: str | None = None
        # Data subjects erased by the commands applied: their audit keys are destroyed once the
        # batch's events (the erasure's own ``before`` included) are sealed and appended.
        self.erased_subjects: list[tuple[str, str]] = []
        # Index of the first event of the command being applied (set by :meth:`mark`).
        self._command_start = 0

    def forget_subject(self, subject_type: str, subject_id: str) -> None:
        self.erased_subjects.append((subject_type, subject_id))

    def version_for_write(self, entity: str, entity_id: str, current: int | None) -> int:
        self.seq += 1
        return self.seq

    def record_write(
        self, entity: str, entity_id: str, before: dict[str, Any] | None, after: dict[str, Any]
    ) -> None:
        self.changes.append(
            {
                "org_id": self.org_id,
                "seq": after["version"],
                "entity": entity,
                "entity_id": entity_id,
                "at": self.now,
            }
        )
        if before is None:
            image = _new_image(after)
            if entity == POSTING_ENTITY and self._nest_posting(entity_id, image):
                return
            old = None
            changed: Any = image
        else:
            changed = [k for k, v in after.items() if k not in _STAMPS and before.get(k) != v]
            old = _wire({k: before.get(k) for k in changed})
            image = _wire({k: after[k] for k in changed})
        self._event(entity, entity_id, old, image, changed, after)

    def _event(
        self,
        entity: str,
        entity_id: str,
        old: dict[str, Any] | None,
        image: dict[str, Any],
        changed: Any,
        after: dict[str, Any],
    ) -> None:
        """The audit event of a row written (``old`` ``None``: inserted), its images converted."""
        # Rows of an entity that can never name a data subject (journal entries…) skip
        # the subject look-up: the same answer (None), without walking the row.
        subject = subject_of(entity, after) if _may_name_subject(entity) else None
        personal = frozenset(erasable_columns(entity, after)) & frozenset(changed) if subject else frozenset()
        self.events.append(
            PendingEvent(
                action=self.action,
                actor=self.actor,
                device=self.device,
                entity=entity,
                entity_id=entity_id,
                before=old,
                after=image,
                at=self.now,
                subject=subject if personal else None,
                personal=personal,
                json_ready=True,
            )
        )

    def _nest_posting(self, entry_id: str, image: dict[str, Any]) -> bool:
        """Put a new journal entry's image into the event of the document it posts
        (``sync_server.audit.POSTINGS``), when this command wrote that document; ``False``: the
        entry needs its own event. The image is the entry's columns, its lines among them as
        stored (``lines_json``, revision 0019), with its ``id``; it leaves out the document's id
        and the defaults (``POSTING_DEFAULTS``); readers put them back
        (``sync_server.audit.full_posting``)."""
        source_id = image.get(POSTING_IMPLIED_COLUMN)
        if not isinstance(source_id, str):
            return False
        events = self.events
        for index in range(len(events) - 1, self._command_start - 1, -1):
            event = events[index]
            if event.entity_id == source_id and event.entity in POSTING_HOLDERS and event.after is not None:
                break
        else:
            return False
        del image[POSTING_IMPLIED_COLUMN]
        _leave_out_defaults(image, POSTING_DEFAULTS)
        image["id"] = entry_id
        event.after.setdefault(POSTINGS, []).append(image)
        return True

    def mark(self) -> tuple[int, int, int, int]:
        """Where a command starts (taken before each one): :meth:`restore` goes back to it."""
        self._command_start = len(self.events)
        return self.seq, len(self.changes), len(self.events), len(self.erased_subjects)

    def restore(self, mark: tuple[int, int, int, int]) -> None:
        self.seq = mark[0]
        del self.changes[mark[1] :]
        del self.events[mark[2] :]
        del self.erased_subjects[mark[3] :]

    def append_audit(self, session: Session, head: ChainHead | None) -> None:
        """Append the audit events, then destroy the keys of the subjects erased (after: the
        erasure's own events seal the erased values under the key being destroyed)."""
        append_events(session, self.org_id, self.events, head=head)
        if self.erased_subjects:
            keys = SubjectKeys(session, self.org_id, audit_key(session))
            for subject in self.erased_subjects:
                keys.destroy(subject)


_READ_NUMBER = select(SEQUENCES.c.value).where(
    SEQUENCES.c.org_id == bindparam("org"), SEQUENCES.c.name == bindparam("kind")
)
_WRITE_NUMBER = (
    update(SEQUENCES)
    .where(SEQUENCES.c.org_id == bindparam("org"), SEQUENCES.c.name == bindparam("kind"))
    .values(value=bindparam("value"))
)
_FIRST_NUMBER = insert(SEQUENCES)

# The statements every slice of a push runs, on the tables and the session's connection, each
# naming the organization itself (:func:`lock_organization` checks the session's scope first):
# through the ORM entities a statement paid the session's tenant criteria (and an update the ORM's
# bulk-update checks), ~0.5 ms each against ~30 µs, four a slice (bench/README.md, "Stop 33").
_LOCK_COUNTERS = (
    select(SEQUENCES.c.name, SEQUENCES.c.value, SEQUENCES.c.extra, SEQUENCES.c.mac)
    .where(SEQUENCES.c.org_id == bindparam("org"), SEQUENCES.c.name.in_((AUDIT_SEQUENCE, CHANGE_SEQUENCE)))
    .order_by(SEQUENCES.c.name)
)
_LOCK_COUNTERS_PG = _LOCK_COUNTERS.with_for_update()
_PROCESSED_TABLE = table_of(ProcessedMutation)
_PROCESSED = select(_PROCESSED_TABLE.c.id, _PROCESSED_TABLE.c.user_id, _PROCESSED_TABLE.c.result).where(
    _PROCESSED_TABLE.c.org_id == bindparam("org"), _PROCESSED_TABLE.c.id.in_(bindparam("ids", expanding=True))
)


class ServerNumbering:
    """Final, gapless per-organization document numbers (``INV-000042``).

    Each counter is read once per write transaction (the organization's write lock keeps it
    ours), counted on here, and written back once by :meth:`flush` before the batch's change log:
    posting an invoice takes three numbers, and one ``UPDATE`` each was a quarter of the
    statements of a pushed invoice. A refused command gives its numbers back (:meth:`restore`
    to the :meth:`mark` taken before it), as the savepoint gave back the counter row's update.
    """

    def __init__(self, session: Session, org_id: str) -> None:
        self.session = session
        self.org_id = org_id
        # kind → (last number given, whether its counter row exists in the store)
        self._values: dict[str, tuple[int, bool]] = {}
        self._stored: dict[str, int] = {}

    def next_number(self, kind: str) -> str:
        # Core statements on the connection: through the ORM a statement costs milliseconds.
        found = self._values.get(kind)
        if found is None:
            connection, _ = session_connection(self.session)
            value = connection.execute(_READ_NUMBER, {"org": self.org_id, "kind": kind}).scalar()
            found = (0, False) if value is None else (int(value), True)
            self._stored[kind] = found[0]
        value = found[0] + 1
        self._values[kind] = (value, found[1])
        return final_number(kind, value)

    def mark(self) -> dict[str, tuple[int, bool]]:
        return dict(self._values)

    def restore(self, mark: dict[str, tuple[int, bool]]) -> None:
        self._values = mark

    def flush(self) -> None:
        """Write back the counters that moved (call in the transaction that gave the numbers)."""
        connection, _ = session_connection(self.session)
        for kind, (value, exists) in self._values.items():
            if value == self._stored.get(kind):
                continue
            if exists:
                connection.execute(_WRITE_NUMBER, {"org": self.org_id, "kind": kind, "value": value})
            else:
                connection.execute(_FIRST_NUMBER, {"org_id": self.org_id, "name": kind, "value": value})
            self._values[kind] = (value, True)
            self._stored[kind] = value


class ServerMembers:
    """Server side of :class:`common.commands.MemberDirectory`: the organization's memberships.

    Commands that name a user (linking an employee record to an account) may only name a member
    of the organization; the client cannot know who that is, the server checks.
    """

    def __init__(self, session: Session, org_id: str) -> None:
        self.session = session
        self.org_id = org_id
        self._known: dict[str, bool] = {}

    def is_member(self, user_id: str) -> bool:
        found = self._known.get(user_id)
        if found is None:
            found = self._known[user_id] = (
                self.session.execute(
                    select(Membership.id).where(
                        Membership.org_id == self.org_id, Membership.user_id == user_id
                    )
                ).first()
                is not None
            )
        return found


@dataclass
class WriteLock:
    """The organization's counters as read under its write lock."""

    change_seq: int
    audit_head: ChainHead


def lock_organization(session: Session, org_id: str) -> WriteLock:
    """Take the organization's write lock and read its counters.

    The counters are made with the organization (:func:`create_counters`). A missing audit
    counter raises :class:`AuditChainBroken`: starting the chain afresh would hide the old one.
    """
    # The statements of a push's slices name the organization themselves, on the session's
    # connection, past the tenant hook (sync_server.tenancy): what it would refuse, a session of
    # another organization or of none, is refused here, before any of them runs.
    if not session.info.get("unscoped") and session.info.get("org_id") != org_id:
        raise TenantScopeError(f"organization {org_id} written through a session of another scope")
    stmt = _LOCK_COUNTERS_PG if _is_postgres(session) else _LOCK_COUNTERS
    rows = {row.name: row for row in session_connection(session)[0].execute(stmt, {"org": org_id})}
    audit = rows.get(AUDIT_SEQUENCE)
    if audit is None:
        raise AuditChainBroken(
            f"the audit chain head of organization {org_id} is missing; run ops-server audit verify"
        )
    change = rows.get(CHANGE_SEQUENCE)
    if change is None:
        session.execute(insert(OrgSequence).values(org_id=org_id, name=CHANGE_SEQUENCE, value=0))
    return WriteLock(
        change_seq=int(change.value) if change else 0,
        audit_head=read_head(org_id, audit_key(session), int(audit.value), audit.extra, audit.mac),
    )


def create_counters(session: Session, org_id: str) -> None:
    """The counter rows of a new organization (so the write lock always has a row to lock)."""
    session.execute(insert(OrgSequence).values(org_id=org_id, name=CHANGE_SEQUENCE, value=0))
    ensure_counter(session, org_id)


class NeedsSavepoints(Exception):
    """A command failed after it had written (or the store refused a statement): the slice must
    be applied again from its start, with a savepoint per command."""


class _Savepoints:
    """What undoes a refused command: one ``SAVEPOINT`` per command, in as few round trips as
    PostgreSQL allows — or none at all (``enabled=False``).

    With savepoints, a command that succeeds leaves its savepoint open; the next command's
    :meth:`begin` releases it and sets the new one in one round trip (PostgreSQL runs both in one
    simple query; SQLite, in process, runs them one by one). ``ROLLBACK TO`` keeps the savepoint,
    so the command after a refused one starts from it as is. :meth:`finish` releases the last one.
    Issued on the DBAPI connection: the write path holds no ORM objects for the session to track,
    and SQLAlchemy's nested-transaction bookkeeping costs more than the command itself.

    Without savepoints (the optimistic first try of a slice): commands are refused before they
    write (validation comes first), so a refusal with nothing written needs no undo. A refusal
    after a write, or any store error, raises :class:`NeedsSavepoints` and the caller applies the
    slice again with savepoints. On PostgreSQL a savepoint per command costs a round trip and a
    subtransaction; past 64 of them in a transaction every other session's visibility checks
    look up pg_subtrans, which slows the whole server down.
    """

    _SET = "SAVEPOINT ops_command"
    _RELEASE = "RELEASE SAVEPOINT ops_command"

    def __init__(self, session: Session, *, enabled: bool = True) -> None:
        connection, self._dbapi = session_connection(session)
        self._session = session
        self._combine = connection.dialect.name == "postgresql"
        self.enabled = enabled
        self._held = False  # a savepoint is set
        self._clean = False  # ...and nothing was done since it was set (or rolled back to)
        self._connection = connection
        self._statements = 0  # statements other than reads, run through SQLAlchemy since start
        if not enabled:
            event.listen(connection, "before_cursor_execute", self._count_write)

    def _count_write(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip()[:6].upper().startswith("SELECT"):
            self._statements += 1

    @property
    def writes(self) -> int:
        # The commands' own inserts and updates run on the DB-API cursor and count themselves.
        return self._statements + writes_counted(self._session)

    def _run(self, *statements: str) -> None:
        cursor = self._dbapi.cursor()
        try:
            if self._combine:
                cursor.execute("; ".join(statements))
            else:
                for sql in statements:
                    cursor.execute(sql)
        finally:
            cursor.close()

    def begin(self) -> None:
        if not self.enabled:
            return
        if not self._held:
            self._run(self._SET)
        elif not self._clean:
            self._run(self._RELEASE, self._SET)
        self._held, self._clean = True, False

    def rollback(self) -> None:
        if not self.enabled:
            raise NeedsSavepoints()
        self._run("ROLLBACK TO SAVEPOINT ops_command")
        self._clean = True

    def finish(self) -> None:
        if not self.enabled:
            event.remove(self._connection, "before_cursor_execute", self._count_write)
        elif self._held:
            self._run(self._RELEASE)
            self._held = False


@dataclass
class _Batch:
    results: list[MutationResult] = field(default_factory=list)
    processed: list[dict[str, Any]] = field(default_factory=list)


def _stored_result(result: MutationResult) -> dict[str, Any]:
    return result.model_dump(mode="json", exclude_none=True, exclude={"id"})


def _duplicate(mutation_id: str, stored: dict[str, Any]) -> MutationResult:
    details = dict(stored.get("details") or {})
    details["original_status"] = stored.get("status")
    return MutationResult(
        id=mutation_id,
        status="duplicate",
        code=stored.get("code"),
        message=stored.get("message"),
        server_values=stored.get("server_values"),
        details=details,
    )


def _id_taken(mutation_id: str) -> MutationResult:
    """Another user's command already has this id: neither a duplicate (its result is theirs)
    nor applied (the id stays theirs). Nothing of it is told."""
    return MutationResult(
        id=mutation_id,
        status="rejected",
        code="id_taken",
        message="id: another user's command already has this id; nothing was applied (send it with a new id)",
        details={"field": "id"},
    )


def apply_mutations(
    session: Session,
    org_id: str,
    user_id: str,
    device_id: str | None,
    permissions: frozenset[str],
    mutations: Sequence[Mutation],
    *,
    savepoints: bool = True,
    derived_ids: int = DERIVED_IDS,
) -> list[MutationResult]:
    """Apply ``mutations`` in order in the caller's transaction; one result per mutation.

    ``derived_ids``: how the commands derive the ids of rows they create
    (``CommandContext.derived_ids``): as the client that applied them did (a push says so).

    ``session`` must be a write session scoped to ``org_id``. Raises only for store failures
    (then the caller's transaction must roll back: nothing of the batch is kept). With
    ``savepoints=False`` it may also raise :class:`NeedsSavepoints`: roll back and apply the
    same mutations again with savepoints.
    """
    lock = lock_organization(session, org_id)
    now = utcnow()
    ids = list({m.id for m in mutations})
    # Mutation id → (who pushed it, its stored result). Only the same user's retry is a duplicate.
    seen: dict[str, tuple[str, dict[str, Any]]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session_connection(session)[0].execute(_PROCESSED, {"org": org_id, "ids": chunk})
        seen.update({row.id: (row.user_id, dict(row.result)) for row in rows})
    recorder = ServerRecorder(org_id, lock.change_seq, now)
    recorder.actor, recorder.device = user_id, device_id
    numbering = ServerNumbering(session, org_id)
    members = ServerMembers(session, org_id)
    batch = _Batch()
    known_rows: dict[tuple[str, str], dict[str, Any] | None] = {}
    if _is_postgres(session):
        _read_ahead(session, org_id, [m for m in mutations if m.id not in seen], known_rows)
    scopes = _Savepoints(session, enabled=savepoints)
    # The optimistic try on PostgreSQL holds the commands' inserts and updates and sends them
    # together (sync_server.deferred); on the embedded store it holds the new journal entries
    # (sync_server.held_ledger). Should the store refuse any of them, the slice is applied
    # again with savepoints, one statement per write.
    held: DeferredWrites | HeldLedgerRows | None = None
    if not savepoints:
        held = DeferredWrites(session, org_id) if _is_postgres(session) else HeldLedgerRows(session, org_id)
    # What is sent ahead in pipeline mode, and gives way to other threads (PostgreSQL's).
    pipelined = held if isinstance(held, DeferredWrites) else None
    give_way_at = 0.0
    try:
        with held if held is not None else nullcontext():
            for position, mutation in enumerate(mutations, start=1):
                if mutation.id in seen:
                    pusher, stored_result = seen[mutation.id]
                    if pusher == user_id:
                        batch.results.append(_duplicate(mutation.id, stored_result))
                    else:
                        batch.results.append(_id_taken(mutation.id))
                    continue
                ctx = CommandContext(
                    session=session,
                    org_id=org_id,
                    actor_id=user_id,
                    permissions=permissions,
                    command_id=mutation.id,
                    recorder=recorder,
                    numbering=numbering,
                    device_id=device_id,
                    now=now,
                    members=members,
                    rows=known_rows,
                    deferred=held,
                    derived_ids=derived_ids,
                )
                result = _apply_one(ctx, mutation, recorder, numbering, scopes)
                if pipelined is not None and position % SEND_AHEAD_EVERY == 0:
                    pipelined.send_ahead()
                if pipelined is not None and time.perf_counter() >= give_way_at:
                    # Give way to the server's other threads (another tenant's push, a pull):
                    # with its writes held a command runs no statement, so a batch would keep
                    # the GIL for whole switch intervals (5 ms), and a small push, which waits
                    # for it after each of its ~15 round trips, would take many times longer.
                    time.sleep(0)
                    give_way_at = time.perf_counter() + GIVE_WAY_S
                stored = _stored_result(result)
                seen[mutation.id] = (user_id, stored)
                batch.results.append(result)
                batch.processed.append(
                    {
                        "org_id": org_id,
                        "id": mutation.id,
                        "user_id": user_id,
                        "device_id": device_id,
                        "name": mutation.name[:64],
                        "status": result.status,
                        "result": stored,
                        "processed_at": now,
                    }
                )
            if held is not None:
                held.flush()
    except DeferredRefused as exc:
        # An id taken, a value or constraint refused, a value stored otherwise: names no value.
        log.debug("held writes refused (%s): the slice is applied again with savepoints", exc)
        raise NeedsSavepoints() from exc
    finally:
        scopes.finish()
    numbering.flush()
    _store_changes(session, org_id, recorder)
    insert_rows(session, table_of(ProcessedMutation), batch.processed)
    recorder.append_audit(session, lock.audit_head)
    return batch.results


def settle_heap(store: Store | None = None) -> None:
    """Take what start-up built (modules, mappers, compiled statements, schema: some 170,000
    objects) out of the cyclic garbage collector's sight, once the app is ready to serve.

    On PostgreSQL the held writes' statements by id (:mod:`sync_server.deferred`, every entity
    table's) are compiled first, so that the first push does not (~0.1 s).

    A pushed batch allocates enough rows, change-log rows and audit events to set off full
    collections, each walking every object start-up left; after ``gc.freeze()`` they walk only
    what requests made (bench/README.md, "Books (issue 12)"). Objects frozen here stay for the
    process's life, as start-up's objects do anyway."""
    if store is not None and store.is_postgres:
        prepare_held_writes(store.engine.dialect)
    common_settle_heap()
    shorten_timer_slack()


def shorten_timer_slack() -> bool:
    """Give this thread, and the threads it starts from now on, :data:`TIMER_SLACK_NS` of timer
    slack (Linux ``prctl``); ``False`` where there is no such setting (other systems), which
    changes nothing but the cost of giving way."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_TIMERSLACK, TIMER_SLACK_NS, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


SYSTEM_ACTOR = "system"


def apply_system_command(
    session: Session,
    org_id: str,
    name: str,
    args: dict[str, Any],
    command_id: str,
    *,
    now: datetime | None = None,
    actor: str = SYSTEM_ACTOR,
) -> None:
    """Apply one command done by the server itself (no user pushed it), such as setting up a new
    organization's books, or one done on behalf of ``actor`` (a request a person opens about
    themselves): versions, change-log rows and audit events as for any command, so clients pull
    what it wrote. Raises :class:`CommandError` when refused (nothing is kept then only if the
    caller rolls back: run it in the transaction that needs it)."""
    lock = lock_organization(session, org_id)
    now = now or utcnow()
    recorder = ServerRecorder(org_id, lock.change_seq, now)
    recorder.action, recorder.actor = name, actor
    numbering = ServerNumbering(session, org_id)
    ctx = CommandContext(
        session=session,
        org_id=org_id,
        actor_id=actor,
        permissions=ALL_PERMISSIONS,
        command_id=command_id,
        recorder=recorder,
        numbering=numbering,
        now=now,
        members=ServerMembers(session, org_id),
    )
    execute(ctx, name, args)
    numbering.flush()
    _store_changes(session, org_id, recorder)
    recorder.append_audit(session, lock.audit_head)


def _store_changes(session: Session, org_id: str, recorder: ServerRecorder) -> None:
    """The change-log rows of what was written, and the organization's new change sequence."""
    if recorder.changes:
        insert_rows(session, table_of(ChangeLog), recorder.changes)
        session_connection(session)[0].execute(
            _WRITE_NUMBER, {"org": org_id, "kind": CHANGE_SEQUENCE, "value": recorder.seq}
        )


@lru_cache(maxsize=1024)
def _named_entity(key: str) -> str | None:
    """The entity an argument names a row of by id, judged by its name: ``product_id`` a
    product, ``to_warehouse_id`` a warehouse, ``sales_order_id`` a sales order; else ``None``."""
    if not key.endswith("_id"):
        return None
    words = key[:-3].split("_")
    for n in range(len(words)):
        name = "_".join(words[n:])
        if name in ENTITIES:
            return name
    return None


@lru_cache(maxsize=1024)
def _line_entity(command: str, key: str) -> str | None:
    """The entity whose ids a command's ``lines`` list gives its items, judged by the command's
    name: ``sales.create_invoice`` → ``invoice_line``, ``sales.set_sales_order_lines`` →
    ``sales_order_line``; else ``None``. A new line's id is checked unused before it is written
    (a read each, which on PostgreSQL also sends the writes held so far)."""
    if key != "lines":
        return None
    words = command.partition(".")[2].split("_")[1:]  # without the verb
    if words and words[-1] == "lines":
        words = words[:-1]
    entity = "_".join((*words, "line"))
    return entity if entity in ENTITIES else None


def _read_ahead(
    session: Session,
    org_id: str,
    mutations: Sequence[Mutation],
    rows: dict[tuple[str, str], dict[str, Any] | None],
) -> None:
    """Read in one statement per entity the rows the batch's commands name by id (their
    arguments, their lines' arguments and the lines' own ids), into the batch's shared rows: a command then finds
    them there instead of asking PostgreSQL, a round trip each (a batch of stock moves over 200
    products asked 200 times). Under the organization's write lock, as every read of the batch:
    what is put there is what the store holds (``None``: no such row), whether or not a command
    asks for it, so a name judged wrongly costs a wasted read, never a wrong answer."""
    wanted: dict[str, set[str]] = {}
    for mutation in mutations:
        _scan(rows, wanted, mutation.name, mutation.args)
    if not wanted:
        return
    connection, dbapi = session_connection(session)
    for entity, ids in wanted.items():
        reader = rows_reader(table_of(ENTITIES[entity]), connection.dialect)
        listed = sorted(ids)
        for start in range(0, len(listed), 1000):
            chunk = listed[start : start + 1000]
            found = reader.fetch(dbapi, org_id, chunk)
            for entity_id in chunk:
                rows[(entity, entity_id)] = found.get(entity_id)


def _scan(
    rows: dict[tuple[str, str], dict[str, Any] | None],
    wanted: dict[str, set[str]],
    command: str,
    args: dict[str, Any],
    lines: str | None = None,
    depth: int = 0,
) -> None:
    """The ids ``args`` name (:func:`_read_ahead`) that ``rows`` lacks, added to ``wanted``;
    ``lines``: the entity of the items being scanned (their ``id``), ``None`` at the top. A
    function of its own, not one nested in :func:`_read_ahead`: a nested function calling itself
    is a reference cycle (it holds its own cell), which kept the batch's rows alive, every row
    the batch wrote, until the cycle collector ran (paused during a push: at its end, walking
    them all; 2,000 more rows in a push of 500 posted invoices)."""
    for key, value in args.items():
        if type(value) is str:
            entity = lines if key == "id" else _named_entity(key)
            if entity is not None and is_uuid(value) and (entity, value) not in rows:
                wanted.setdefault(entity, set()).add(value)
        elif type(value) is list and depth == 0:
            for item in value:
                if type(item) is dict:
                    _scan(rows, wanted, command, item, _line_entity(command, key), 1)


def _is_postgres(session: Session) -> bool:
    return session_connection(session)[0].dialect.name == "postgresql"


def _apply_one(
    ctx: CommandContext,
    mutation: Mutation,
    recorder: ServerRecorder,
    numbering: ServerNumbering,
    savepoints: _Savepoints,
) -> MutationResult:
    """Run one command in its own savepoint; a refused one leaves nothing behind (its numbers
    included)."""
    mark = recorder.mark()
    numbered = numbering.mark()
    recorder.action = mutation.name
    savepoints.begin()
    writes_before = savepoints.writes
    try:
        outcome = execute(ctx, mutation.name, mutation.args)
    except CommandError as exc:
        numbering.restore(numbered)
        if not savepoints.enabled and savepoints.writes == writes_before:
            # Refused before it wrote anything: nothing to undo (the rows it read are unchanged).
            recorder.restore(mark)
        else:
            _undo(ctx, savepoints, recorder, mark)
        return MutationResult(
            id=mutation.id,
            status="rejected",
            code=exc.code,
            message=exc.message,
            server_values=exc.server_values,
            details=exc.details or None,
        )
    except DataError as exc:
        if not savepoints.enabled:
            raise NeedsSavepoints() from exc  # answered, and logged, when applied with savepoints
        # A value the store refuses that validation let through: bad input, not a server fault.
        numbering.restore(numbered)
        incident = log_incident(log, f"the store refused a value of {mutation.name} ({mutation.id})", exc)
        _undo(ctx, savepoints, recorder, mark)
        return MutationResult(
            id=mutation.id,
            status="rejected",
            code="invalid",
            message=f"a value cannot be stored (a character or size the database refuses; incident {incident})",
            details={"incident": incident},
        )
    except Exception as exc:
        # A fault in one command must not block the queue behind it: it is rejected, and logged
        # without its arguments or the error's text (either may hold personal data). A dead
        # connection re-raises below.
        if not savepoints.enabled:
            raise NeedsSavepoints() from exc
        numbering.restore(numbered)
        incident = log_incident(log, f"command {mutation.name} ({mutation.id}) failed unexpectedly", exc)
        _undo(ctx, savepoints, recorder, mark)
        return MutationResult(
            id=mutation.id,
            status="rejected",
            code="server_error",
            message=f"the server could not apply this command; it was not applied (incident {incident})",
            details={"incident": incident},
        )
    extra = outcome.as_dict()
    return MutationResult(id=mutation.id, status="applied", details=extra or None)


def _undo(
    ctx: CommandContext, savepoints: _Savepoints, recorder: ServerRecorder, mark: tuple[int, int, int, int]
) -> None:
    """Forget everything a refused command did: its writes, its records, the rows it read."""
    savepoints.rollback()
    recorder.restore(mark)
    if ctx.rows is not None:
        ctx.rows.clear()


def apply_in_slices(
    store: Store,
    org_id: str,
    user_id: str,
    device_id: str | None,
    permissions: frozenset[str],
    mutations: Sequence[Mutation],
    *,
    slice_size: int | None = None,
    derived_ids: int = DERIVED_IDS,
) -> list[MutationResult]:
    """Apply a pushed batch a slice at a time, each slice committed in its own write transaction
    scoped to ``org_id``; one result per mutation, in order.

    ``slice_size`` defaults to :data:`EMBEDDED_SLICE` on the embedded store and the whole batch
    on PostgreSQL. A store failure raises after the slices before it were committed (a retry of
    the batch answers them ``duplicate``). ``derived_ids`` as for :func:`apply_mutations`.
    """
    size = slice_size or (len(mutations) if store.is_postgres else EMBEDDED_SLICE)
    results: list[MutationResult] = []
    # The batch's rows, change-log rows and audit events live until its slice is written: the
    # cycle collector would walk them again and again (common.heap.collector_paused).
    with collector_paused():
        for start in range(0, len(mutations), max(1, size)):
            results.extend(
                _apply_slice(
                    store,
                    org_id,
                    user_id,
                    device_id,
                    permissions,
                    mutations[start : start + size],
                    derived_ids,
                )
            )
    return results


def _apply_slice(
    store: Store,
    org_id: str,
    user_id: str,
    device_id: str | None,
    permissions: frozenset[str],
    part: Sequence[Mutation],
    derived_ids: int,
) -> list[MutationResult]:
    """One slice of :func:`apply_in_slices`, in its own write transaction."""
    try:
        with store.session(org_id, user_id=user_id, write=True) as session:
            found = apply_mutations(
                session,
                org_id,
                user_id,
                device_id,
                permissions,
                part,
                savepoints=False,
                derived_ids=derived_ids,
            )
    except NeedsSavepoints:
        # Rolled back: a command failed after writing. Again, each command in a savepoint.
        with store.session(org_id, user_id=user_id, write=True) as session:
            found = apply_mutations(
                session, org_id, user_id, device_id, permissions, part, derived_ids=derived_ids
            )
    return found

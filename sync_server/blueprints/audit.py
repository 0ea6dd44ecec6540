"""The organization's audit trail: its events masked for the caller, and its chain verified.

``GET /api/v1/orgs/<org_id>/audit`` lists events newest first, personal values opened with
their subject's key (``[erased]`` once the subject was erased) (filters: entity, entity id,
action, actor by id or e-mail); ``GET /api/v1/orgs/<org_id>/audit/verify`` runs the check of
``ops-server audit verify`` on the server and says whether the chain is intact.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import ColumnElement, Text, and_, cast, or_, select

from common.access import entity_access
from common.journal_lines import decode_lines
from common.schema import ENTITIES, FORMER_ENTITIES, AppUser, AuditEvent, JournalEntry
from common.schema.base import table_of
from common.wire import to_wire
from sync_server.api import ApiContext, endpoint
from sync_server.api_models import AuditQuery, AuditResponse, AuditVerifyResponse
from sync_server.audit import (
    AUDITED_WITH,
    HELD_ENTITIES,
    POSTING_ENTITY,
    POSTING_HOLDERS,
    POSTING_IMPLIED_COLUMN,
    POSTINGS,
    audit_key,
    full_event_images,
    held_rows,
    holders_of,
    verify_chain,
)
from sync_server.auth.service import normalize_email
from sync_server.subject_keys import SubjectKeys

bp = Blueprint("audit", __name__, url_prefix="/api/v1/orgs")
# Hashes and salts stay on the server: a hash over a masked value with its salt known would let
# a reader test guesses at that value. The chain is verified on the server (``/audit/verify``).
_HIDDEN = frozenset({"org_id", "prev_hash", "hash", "salt"})
_COLUMNS = [getattr(AuditEvent, c.key) for c in AuditEvent.__table__.columns if c.key not in _HIDDEN]


def _mask(event: dict[str, Any], permissions: frozenset[str]) -> dict[str, Any]:
    """Drop before/after fields of entity rows the caller may not read (listed in ``masked``).

    Rows audited inside the event (a journal entry's lines, a document's postings and their
    lines) are masked as rows of their own entity, their fields listed under the key holding
    them (``lines.debit``, ``postings.memo``, ``postings.lines.debit``): a reader of invoices who
    may not read the books sees the invoice's fields, and of its journal entry only the ids."""
    entity = event.get("entity")
    if not isinstance(entity, str) or (entity not in ENTITIES and entity not in FORMER_ENTITIES):
        return event
    masked: set[str] = set()
    for side in ("before", "after"):
        values = event.get(side)
        if values:
            event[side], hidden = _masked_image(entity, values, permissions, frozenset())
            masked |= hidden
    if masked:
        event["masked"] = sorted(masked)
    return event


def _masked_image(
    entity: str, image: dict[str, Any], permissions: frozenset[str], keep: frozenset[str]
) -> tuple[dict[str, Any], set[str]]:
    """``image`` (of an ``entity`` row) without the fields the caller may not read, and the names
    dropped; the rows it holds (``held_rows``) masked likewise, their names prefixed with the
    key holding them. ``keep``: names shown whatever the permissions (a held row's ``id``)."""
    allowed = entity_access(entity, permissions).columns | keep
    held = held_rows(entity)
    shown: dict[str, Any] = {}
    hidden: set[str] = set()
    for key, value in image.items():
        if key in held:
            if isinstance(value, list):
                value, hidden_in_held = _masked_rows(held[key], value, permissions)
                hidden |= {f"{key}.{name}" for name in hidden_in_held}
            shown[key] = value
        elif key in allowed:
            shown[key] = value
        else:
            hidden.add(key)
    return shown, hidden


_ROW_ID = frozenset({"id"})


def _masked_rows(entity: str, images: list[Any], permissions: frozenset[str]) -> tuple[list[Any], set[str]]:
    """Held row images (each with its ``id``, kept) masked as ``entity`` rows, and the names dropped."""
    hidden: set[str] = set()
    shown = []
    for image in images:
        if isinstance(image, dict):
            image, hidden_in_row = _masked_image(entity, image, permissions, _ROW_ID)
            hidden |= hidden_in_row
        shown.append(image)
    return shown, hidden


def _after_holds(text: str) -> ColumnElement[bool]:
    """Events whose ``after`` holds ``text`` in its JSON text: the text SQLite stores, and that
    PostgreSQL's ``json`` (not ``jsonb``) keeps as written, the writer's compact, sorted form
    (``sync_server.audit.append_events``)."""
    return cast(AuditEvent.after, Text).contains(text, autoescape=True)


# A journal line's id is derived from its command and entry (``CommandContext.derived_id``, every
# version of ``finance.post_entry_lines``): a UUID of version 8, the 15th character.
_DERIVED_VERSION = (14, "8")
# Held entities that are no table: a journal line, found in its entry (:func:`_entry_of_line`).
_LINE_OF = frozenset(FORMER_ENTITIES) & frozenset(AUDITED_WITH)


def _entry_of_line(ctx: ApiContext, org_id: str, line_id: str) -> str | None:
    """The id of the organization's journal entry whose lines (``lines_json``) hold the line
    ``line_id``, or ``None``. No index leads from a line to its entry since revision 0019: the
    entries' stored text is searched for the id (a scan of the organization's entries, without
    reading their JSON), and the few found are read to be sure it is a line's id."""
    entries = table_of(JournalEntry)
    found = ctx.db.execute(
        select(entries.c.id, entries.c.lines_json).where(
            entries.c.org_id == org_id, entries.c.lines_json.contains(f'"{line_id}"', autoescape=True)
        )
    )
    for entry_id, stored in found:
        try:
            lines = decode_lines(stored)
        except ValueError:
            continue
        if any(line["id"] == line_id for line in lines):
            return str(entry_id)
    return None


def _held_entity(ctx: ApiContext, org_id: str, entity_id: str) -> str | None:
    """The entity of the organization's row ``entity_id`` among those whose images other rows'
    events may hold (``HELD_ENTITIES``: a journal entry, a journal line), or ``None``. A line is
    looked for only when the id is of the form line ids have (:data:`_DERIVED_VERSION`): the
    search reads every entry's text (:func:`_entry_of_line`), and the console asks by the id
    alone for any row."""
    for name in HELD_ENTITIES:
        if name in ENTITIES:
            table = table_of(ENTITIES[name])
            found = ctx.db.execute(
                select(table.c.id).where(table.c.org_id == org_id, table.c.id == entity_id)
            )
            if found.first() is not None:
                return name
        elif name in _LINE_OF:
            index, version = _DERIVED_VERSION
            if entity_id[index : index + 1] == version and _entry_of_line(ctx, org_id, entity_id):
                return name
    return None


def _entity_clauses(ctx: ApiContext, org_id: str, query: AuditQuery) -> list[ColumnElement[bool]]:
    """The events of ``query.entity`` (and ``query.entity_id``). A row audited inside other rows'
    events (``holders_of``) is found there too: asked for a journal line, the answer holds its
    entry's events, whose images hold the line (its ``lines_json``, or, in events from before
    revision 0019, the line's image nested), besides any event of the line's own (lines posted
    before they were audited with their entry); asked for a document's journal entry, or one of
    its lines, the document's event that posted it (``POSTINGS``), besides the entry's own events
    (entries posted otherwise, or before postings were audited with their document). A line no
    entry holds now (a live entry's line deleted before revision 0019, which did not move it) is
    found in the events that name its id."""
    own: list[ColumnElement[bool]] = []
    if query.entity is not None:
        own.append(AuditEvent.entity == query.entity)
    if query.entity_id is not None:
        own.append(AuditEvent.entity_id == query.entity_id)
    entity = query.entity
    if entity is None and query.entity_id is not None:
        # Asked for an id alone: a journal entry or line is found where it is held too.
        entity = _held_entity(ctx, org_id, query.entity_id)
    if entity is None or not holders_of(entity):
        return own
    held: list[ColumnElement[bool]] = []
    if query.entity_id is None:
        parent = AUDITED_WITH.get(entity)
        if parent is not None:
            held.append(AuditEvent.entity == parent[0])
        held.append(and_(AuditEvent.entity.in_(sorted(POSTING_HOLDERS)), _after_holds(f'"{POSTINGS}":')))
        return [or_(and_(*own), *held)]
    # Up from the row to the entry it is or belongs to (a line's entry), whose events hold it;
    # then the entry's document, whose event holds the entry when it posted it.
    current, current_id = entity, query.entity_id
    if current in AUDITED_WITH:
        parent_entity = AUDITED_WITH[current][0]
        parent_id = _entry_of_line(ctx, org_id, current_id)
        if parent_id is None:
            held.append(and_(AuditEvent.entity.in_(sorted(holders_of(current))), _after_holds(current_id)))
            return [or_(and_(*own), *held)]
        held.append(and_(AuditEvent.entity == parent_entity, AuditEvent.entity_id == parent_id))
        current, current_id = parent_entity, parent_id
    if current == POSTING_ENTITY:
        entries = table_of(ENTITIES[POSTING_ENTITY])
        source_id = ctx.db.execute(
            select(entries.c[POSTING_IMPLIED_COLUMN]).where(
                entries.c.org_id == org_id, entries.c.id == current_id
            )
        ).scalar()
        if source_id is not None:
            # The document's events that hold this entry: not its others, nor the event of a
            # second entry posted for it by another command (a payroll run's payment).
            held.append(
                and_(
                    AuditEvent.entity.in_(sorted(POSTING_HOLDERS)),
                    AuditEvent.entity_id == source_id,
                    _after_holds(str(current_id)),
                )
            )
    if not held:
        return own
    return [or_(and_(*own), *held)]


@endpoint(
    bp,
    "GET",
    "/<org_id>/audit",
    summary="Audit events, newest first",
    auth="org",
    query=AuditQuery,
    response=AuditResponse,
    permission="admin.audit",
    errors=(400, 401, 403, 404),
)
def list_audit(ctx: ApiContext, org_id: str) -> dict[str, Any]:
    query: AuditQuery = ctx.query
    stmt = (
        select(*_COLUMNS, AppUser.email.label("actor_email"))
        .outerjoin(AppUser, AppUser.id == AuditEvent.actor)
        .where(AuditEvent.org_id == org_id)
    )
    stmt = stmt.where(*_entity_clauses(ctx, org_id, query))
    if query.action is not None:
        stmt = stmt.where(AuditEvent.action == query.action)
    if query.actor is not None:
        stmt = stmt.where(AuditEvent.actor == query.actor)
    if query.actor_email is not None:
        stmt = stmt.where(AppUser.email == normalize_email(query.actor_email))
    if query.before_seq is not None:
        stmt = stmt.where(AuditEvent.seq < query.before_seq)
    rows = ctx.db.execute(stmt.order_by(AuditEvent.seq.desc()).limit(query.limit + 1)).mappings().all()
    more = len(rows) > query.limit
    events = []
    keys = SubjectKeys(ctx.db, org_id, audit_key(ctx.db))
    page = [dict(row) for row in rows[: query.limit]]
    keys.prefetch(page)
    for event in page:
        event["at"] = to_wire(event["at"])
        # Rows nested in another row's event (an entry's lines, a document's postings) are
        # shown whole, slim as stored or not (``sync_server.audit.NESTED_IMPLIED``,
        # ``full_posting``), then masked like rows of their own.
        events.append(_mask(full_event_images(keys.reveal_event(event)), ctx.user.permissions))
    return {"events": events, "next_before_seq": events[-1]["seq"] if more else None}


@endpoint(
    bp,
    "GET",
    "/<org_id>/audit/verify",
    summary="Verify the organization's audit hash chain (as ops-server audit verify does)",
    auth="org",
    response=AuditVerifyResponse,
    permission="admin.audit",
    errors=(401, 403, 404),
)
def verify_audit(ctx: ApiContext, org_id: str) -> dict[str, Any]:
    count, problem = verify_chain(ctx.db, org_id)
    if problem is None:
        return {"intact": True, "events": count}
    return {"intact": False, "events": count, "broken_seq": problem.seq, "reason": problem.reason}

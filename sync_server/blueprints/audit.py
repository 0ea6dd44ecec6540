"""The organization's audit trail: its events masked for the caller, and its chain verified.

``GET /api/v1/orgs/<org_id>/audit`` lists events newest first, personal values opened with
their subject's key (``[erased]`` once the subject was erased) (filters: entity, entity id,
action, actor by id or e-mail); ``GET /api/v1/orgs/<org_id>/audit/verify`` runs the check of
``ops-server audit verify`` on the server and says whether the chain is intact.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import ColumnElement, and_, or_, select

from common.access import entity_access
from common.schema import ENTITIES, AppUser, AuditEvent
from common.schema.base import table_of
from common.wire import to_wire
from sync_server.api import ApiContext, endpoint
from sync_server.api_models import AuditQuery, AuditResponse, AuditVerifyResponse
from sync_server.audit import AUDITED_WITH, audit_key, full_event_images, verify_chain
from sync_server.auth.service import normalize_email
from sync_server.subject_keys import SubjectKeys

bp = Blueprint("audit", __name__, url_prefix="/api/v1/orgs")
# Hashes and salts stay on the server: a hash over a masked value with its salt known would let
# a reader test guesses at that value. The chain is verified on the server (``/audit/verify``).
_HIDDEN = frozenset({"org_id", "prev_hash", "hash", "salt"})
_COLUMNS = [getattr(AuditEvent, c.key) for c in AuditEvent.__table__.columns if c.key not in _HIDDEN]


def _mask(event: dict[str, Any], permissions: frozenset[str]) -> dict[str, Any]:
    """Drop before/after fields of entity rows the caller may not read (listed in ``masked``)."""
    entity = event.get("entity")
    if not isinstance(entity, str) or entity not in ENTITIES:
        return event
    allowed = entity_access(entity, permissions).columns
    # Children audited in this entity's events (a journal entry's lines): each masked as a row
    # of its own entity.
    children = {key: child for child, (parent, _, key) in AUDITED_WITH.items() if parent == entity}
    masked: set[str] = set()
    for side in ("before", "after"):
        values = event.get(side)
        if values:
            hidden = {k for k in values if k not in allowed and k not in children}
            masked |= hidden
            event[side] = {k: v for k, v in values.items() if k not in hidden}
            for key, child in children.items():
                if isinstance(event[side].get(key), list):
                    event[side][key], hidden_in_child = _mask_children(child, event[side][key], permissions)
                    masked |= {f"{key}.{name}" for name in hidden_in_child}
    if masked:
        event["masked"] = sorted(masked)
    return event


def _mask_children(entity: str, images: list[Any], permissions: frozenset[str]) -> tuple[list[Any], set[str]]:
    """Child images (each with its ``id``) with the fields of ``entity`` the caller may not read
    dropped, and the names dropped."""
    allowed = entity_access(entity, permissions).columns | {"id"}
    hidden: set[str] = set()
    shown = []
    for image in images:
        if isinstance(image, dict):
            hidden |= {k for k in image if k not in allowed}
            image = {k: v for k, v in image.items() if k in allowed}
        shown.append(image)
    return shown, hidden


def _entity_clauses(ctx: ApiContext, org_id: str, query: AuditQuery) -> list[ColumnElement[bool]]:
    """The events of ``query.entity`` (and ``query.entity_id``). A row audited inside its
    parent's events (``AUDITED_WITH``: a journal line in its entry's) is found there too: asked
    for a line, the answer holds its entry's events, whose images list the line, besides any event
    of the line's own (lines posted before they were audited with their entry)."""
    own: list[ColumnElement[bool]] = []
    if query.entity is not None:
        own.append(AuditEvent.entity == query.entity)
    if query.entity_id is not None:
        own.append(AuditEvent.entity_id == query.entity_id)
    entity = query.entity
    nested = AUDITED_WITH.get(entity) if entity is not None else None
    if entity is None or nested is None:
        return own
    parent, via, _key = nested
    if query.entity_id is None:
        return [or_(and_(*own), AuditEvent.entity == parent)]
    table = table_of(ENTITIES[entity])
    parent_id = ctx.db.execute(
        select(table.c[via]).where(table.c.org_id == org_id, table.c.id == query.entity_id)
    ).scalar()
    if parent_id is None:
        return own
    return [or_(and_(*own), and_(AuditEvent.entity == parent, AuditEvent.entity_id == parent_id))]


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
        # Children nested in their parent's event are shown whole, slim as stored or not
        # (``sync_server.audit.NESTED_IMPLIED``), then masked like rows of their own.
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

"""The audit trail: one hash chain per organization (DESIGN §6).

``hash = sha256(prev_hash + canonical JSON of the event)``; the canonical JSON is the event's
fields except the two hashes, with sorted keys and no whitespace. Each event has a random 128-bit
``salt`` among its fields: the hash covers values a reader may not see (a masked salary), and
without the salt a known hash would confirm a guess at them. Salts and hashes never leave the
server (the audit API omits them); ``ops-server audit verify`` checks them on the server.

Sequence numbers are gapless per organization; the last number and hash (the chain's head) live
in the organization's ``audit`` counter row, which the writer locks, with a MAC of
``(org, seq, hash)`` under the server's audit key (``OPS_AUDIT_KEY`` or ``audit.key``), which is
not in the store. The store refuses UPDATE and DELETE on ``audit_event`` (migration 0002 and, on
PostgreSQL, the grants of the application role).

What :func:`verify_chain` detects, for someone who can write to the store but does not hold the
audit key: an edited, removed, inserted or reordered event; events moved to another chain; the
tail cut off, whether or not the counter row is rewritten to match or deleted; every event of an
organization removed. What it cannot detect: the whole store (or one organization's events and
counter) put back to an earlier copy, since an old head carries a valid MAC; an organization
deleted together with its chain; anything done by someone holding the audit key (the server's
host). Keep backups of the key apart from backups of the store, and compare event counts with
an outside record (a log shipper, a periodic export) where rollback matters.

Events never hold a password or a token: callers pass only ids, names and changed fields.
Personal values an event holds about a data subject are sealed under that subject's key before
they are hashed (crypto-shredding, ``sync_server.subject_keys``): erasing the subject destroys
the key and the chain still verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

import orjson
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from common.commands.rowaccess import session_connection
from common.schema import AuditEvent, Organization, OrgSequence
from common.schema.base import table_of
from common.schema.types import utcnow
from common.wire import to_wire
from sync_server.bulk import insert_rows
from sync_server.subject_keys import SubjectKeys

GENESIS_HASH = "0" * 64
AUDIT_SEQUENCE = "audit"
_EVENT_FIELDS = ("org_id", "seq", "at", "actor", "device", "action", "entity", "entity_id", "before", "after")
SALT_BYTES = 16
# ``session.info`` key of a callable returning the audit key (sessions of sync_server.store have it).
AUDIT_KEY_INFO = "audit_key"


# Rows whose insert was audited inside the event of their parent's insert by the same command,
# as events written before revision 0019 hold them: child entity → (parent entity, the child's
# column naming the parent, the parent image's key holding the children's images, each with its
# ``id``). A journal entry's lines were rows of their own, nested in the entry's event (one event
# per entry said all that one event per line had said); older events still are a line's own
# (``journal_line``). For readers only: since revision 0019 the lines are a column of their entry
# (``lines_json``, :mod:`common.journal_lines`), in the entry's image like any other, and no row
# is nested any more. ``journal_line`` is a read-only view now, not in ``common.schema.ENTITIES``:
# whoever reads these images names it (the console's masking, ``verify --data``).
AUDITED_WITH: Mapping[str, tuple[str, str, str]] = MappingProxyType(
    {"journal_line": ("journal_entry", "journal_entry_id", "lines")}
)

# What a nested child image leaves out because its parent's event says it (the stored, slim
# form; :func:`full_child` puts it back): the column naming the parent, always (it is the
# event's ``entity_id``); child entity → (columns left out when the parent's image holds the
# same value, columns left out when they hold this value). A posted invoice's entry event was
# ~1,030 bytes, each line repeating its entry's id and date and ``"deleted":false``; what the
# chain hashes and the store holds is the slim form, what every reader sees is the full one.
# Events written before this hold their children whole (the column naming the parent is there)
# and are read as they are. Events written since revision 0019 nest no child (above).
NESTED_IMPLIED: Mapping[str, tuple[tuple[str, ...], Mapping[str, Any]]] = MappingProxyType(
    {"journal_line": (("entry_date",), MappingProxyType({"deleted": False}))}
)


# A document's posting is audited inside the document's own event. The journal entry a command
# posts for a document it wrote in the same command (the entry's ``source_id`` is the document's
# id: an invoice posted, a payment recorded, a bill, a credit note, a payroll run or its payment,
# a valued stock move) is not an event of its own: its image, with its ``id`` and its lines (the
# entry's ``lines_json`` since revision 0019; before, :data:`AUDITED_WITH` line images, slim), is
# listed under :data:`POSTINGS` in that event's ``after``, and
# leaves out what the event says (``source_id``, the event's ``entity_id``; ``deleted`` when
# false). Posting is part of what the command did to the document, and it is read so: the
# document's history shows its entry. One event per posted document instead of two: an event
# and its row were what a posting cost most on both stores after the lines (bench/README.md,
# "Stop 31"). Entries posted any other way (a manual entry, a reversal, opening balances, a
# year-end close, an entry whose document was written by an earlier command) keep events of
# their own, as do all entries audited before this. Readers see full images
# (:func:`with_full_children`, :func:`nested_images`).
POSTINGS = "postings"
POSTING_ENTITY = "journal_entry"
POSTING_HOLDERS = frozenset(
    {"invoice", "payment", "credit_note", "supplier_bill", "supplier_payment", "payroll_run", "stock_move"}
)
# What a nested posting leaves out: its column naming the document, and these defaults.
POSTING_IMPLIED_COLUMN = "source_id"
POSTING_DEFAULTS: Mapping[str, Any] = MappingProxyType({"deleted": False})


def full_posting(holder_id: Any, nested: dict[str, Any]) -> dict[str, Any]:
    """The full image of a journal entry nested in its document's event (with its ``id`` and its
    lines: ``lines_json`` as stored, or, in an event from before revision 0019, ``lines``, each
    line's image full): what :data:`POSTING_DEFAULTS` and the document's id left out, put back."""
    full = dict(nested)
    if isinstance(holder_id, str):
        full.setdefault(POSTING_IMPLIED_COLUMN, holder_id)
    for name, value in POSTING_DEFAULTS.items():
        full.setdefault(name, value)
    full = dict(sorted(full.items()))
    return with_full_children(POSTING_ENTITY, full.get("id"), full)


def full_child(
    child: str, parent_id: Any, parent_image: Mapping[str, Any], nested: dict[str, Any]
) -> dict[str, Any]:
    """The full image of a child nested in its parent's event (``nested``, with its ``id``): what
    :data:`NESTED_IMPLIED` left out filled in from the parent's event (keys sorted, as a stored
    image's), or ``nested`` itself when it is whole (an event from before slim images)."""
    column = AUDITED_WITH[child][1]
    if column in nested or not isinstance(parent_id, str):
        return nested
    full = dict(nested)
    full[column] = parent_id
    from_parent, defaults = NESTED_IMPLIED.get(child, ((), {}))
    for name in from_parent:
        if name not in full and name in parent_image:
            full[name] = parent_image[name]
    for name, value in defaults.items():
        full.setdefault(name, value)
    return dict(sorted(full.items()))


def with_full_children(entity: Any, entity_id: Any, image: Any) -> Any:
    """An event's image with the children it holds (:data:`AUDITED_WITH`) as full images
    (:func:`full_child`): a new mapping when any was slim, else ``image`` itself."""
    if not isinstance(image, dict):
        return image
    if entity in POSTING_HOLDERS and isinstance(image.get(POSTINGS), list):
        postings = [full_posting(entity_id, p) if isinstance(p, dict) else p for p in image[POSTINGS]]
        image = {**image, POSTINGS: postings}
    for child, (parent, _, key) in AUDITED_WITH.items():
        if parent != entity or not isinstance(image.get(key), list):
            continue
        children = [
            full_child(child, entity_id, image, nested) if isinstance(nested, dict) else nested
            for nested in image[key]
        ]
        if any(new is not old for new, old in zip(children, image[key], strict=True)):
            image = {**image, key: children}
    return image


def full_event_images(event: dict[str, Any]) -> dict[str, Any]:
    """The event (a mapping of its columns) with both images' children whole
    (:func:`with_full_children`): what the audit API and a privacy export show."""
    for side in ("before", "after"):
        if event.get(side):
            event[side] = with_full_children(event.get("entity"), event.get("entity_id"), event[side])
    return event


def nested_images(
    entity: str, entity_id: Any, image: Mapping[str, Any] | None
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(child entity, child id, full child image)`` of the rows an event of ``entity`` about
    ``entity_id`` holds besides its own: a document's postings (each entry's image with its
    ``lines_json``, as a column, when written since revision 0019), and the journal lines of an
    event from before revision 0019, nested in their entry's image (slim or whole:
    :func:`full_child`)."""
    if not image:
        return
    if entity in POSTING_HOLDERS:
        for nested in image.get(POSTINGS) or ():
            if isinstance(nested, dict) and isinstance(nested.get("id"), str):
                full = full_posting(entity_id, nested)
                yield (
                    POSTING_ENTITY,
                    nested["id"],
                    {k: v for k, v in full.items() if k not in _POSTING_NOT_FIELDS},
                )
                yield from nested_images(POSTING_ENTITY, nested["id"], full)
    for child, (parent, _, key) in AUDITED_WITH.items():
        if parent == entity:
            for nested in image.get(key) or ():
                if isinstance(nested, dict) and isinstance(nested.get("id"), str):
                    full = full_child(child, entity_id, image, nested)
                    yield child, nested["id"], {k: v for k, v in full.items() if k != "id"}


def held_rows(entity: str) -> dict[str, str]:
    """Keys of an ``entity`` event's image that hold images of other rows → those rows' entity:
    a journal entry's lines in events from before revision 0019 (:data:`AUDITED_WITH`; its
    ``lines_json`` since is a field), a document's postings (:data:`POSTINGS`). They are not
    fields of the row."""
    held = {key: child for child, (parent, _, key) in AUDITED_WITH.items() if parent == entity}
    if entity in POSTING_HOLDERS:
        held[POSTINGS] = POSTING_ENTITY
    return held


# Keys of a nested posting's image that are not columns of the entry: its id and its nested
# lines (events from before revision 0019).
_POSTING_NOT_FIELDS = frozenset({"id", *held_rows(POSTING_ENTITY)})


def holders_of(entity: str) -> frozenset[str]:
    """Entities whose events may hold images of ``entity``'s rows besides its own events: a
    journal entry's document (:data:`POSTING_HOLDERS`), a line's entry and the entry's document."""
    if entity == POSTING_ENTITY:
        return POSTING_HOLDERS
    nested = AUDITED_WITH.get(entity)
    if nested is None:
        return frozenset()
    return frozenset({nested[0]}) | holders_of(nested[0])


# Entities whose rows other rows' events may hold (a journal entry; a journal line, in events from
# before revision 0019, and in its entry's ``lines_json`` since): an id asked for alone is looked
# up among them (the audit API).
HELD_ENTITIES: tuple[str, ...] = tuple(
    sorted({POSTING_ENTITY, *(child for child in AUDITED_WITH if holders_of(child))})
)


class AuditChainBroken(RuntimeError):
    """The chain's head is missing where it must exist: the store was changed behind the server.

    Nothing is appended then (a new chain would hide the old one); ``ops-server audit verify``
    names the problem.
    """


@dataclass
class PendingEvent:
    """An audit event not yet given its place in the chain."""

    action: str
    actor: str | None = None
    device: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    at: datetime | None = None
    # The data subject the event is about and which of its before/after fields are that
    # person's data: those are sealed under the subject's key (``sync_server.subject_keys``).
    subject: tuple[str, str] | None = None
    personal: frozenset[str] = frozenset()
    # The images hold JSON values only (:func:`json_value` was applied): not walked again.
    json_ready: bool = False


_AS_IS = frozenset({str, int, bool, float, type(None)})


def json_value(value: Any) -> Any:
    """``value`` as JSON values: mappings with text keys, lists, and :func:`to_wire` scalars."""
    if type(value) in _AS_IS:  # most values, asked first: every event's images pass here
        return value
    if isinstance(value, dict):
        return {str(k): v if type(v) in _AS_IS else json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return to_wire(value)


def identical(a: Any, b: Any) -> bool:
    """The same JSON value of the same type: ``a == b``, but ``0`` is not ``False`` nor ``1``
    ``1.0`` (an image's default left out, a stored amount against the recorded one)."""
    return type(a) is type(b) and a == b


def canonical_json(event: Mapping[str, Any], *, json_ready: frozenset[str] = frozenset()) -> bytes:
    """The bytes that are hashed: the event's fields and its salt, sorted keys, compact.

    Events from before salts existed have none and hash without the key, as they always did.
    ``json_ready`` names fields already converted (:func:`json_value`), which are not walked
    again: the same bytes, since conversion leaves converted values as they are.
    """
    body = {}
    for name in _EVENT_FIELDS:
        value = event.get(name)
        body[name] = value if name in json_ready or type(value) in _AS_IS else json_value(value)
    if event.get("salt") is not None:
        body["salt"] = event["salt"]
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


_SHA256 = hashlib.sha256()  # copied, never updated: hashlib.sha256() looks the algorithm up each time


def chain_hash(prev_hash: str, event: Mapping[str, Any], *, json_ready: frozenset[str] = frozenset()) -> str:
    digest = _SHA256.copy()
    digest.update(prev_hash.encode("ascii") + canonical_json(event, json_ready=json_ready))
    return digest.hexdigest()


_IMAGES = frozenset({"before", "after"})


def head_mac(key: bytes, org_id: str, seq: int, head_hash: str) -> str:
    """The MAC that binds an organization's chain head ``(seq, hash)`` to the audit key."""
    message = f"ops-audit-head|{org_id}|{seq}|{head_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def audit_key(session: Session) -> bytes:
    """The audit key of a session opened through :class:`sync_server.store.Store`."""
    provider = session.info.get(AUDIT_KEY_INFO)
    if provider is None:
        raise RuntimeError("this session cannot sign the audit chain: open it through Store.session")
    key = provider()
    assert isinstance(key, bytes)
    return key


def ensure_counter(session: Session, org_id: str) -> None:
    """Create the chain's audit counter row unless it exists (concurrent first uses are safe)."""
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        make(table_of(OrgSequence))
        .values(
            org_id=org_id,
            name=AUDIT_SEQUENCE,
            value=0,
            extra=GENESIS_HASH,
            mac=head_mac(audit_key(session), org_id, 0, GENESIS_HASH),
        )
        .on_conflict_do_nothing(index_elements=["org_id", "name"])
    )


def _has_events(session: Session, org_id: str) -> bool:
    stmt = select(AuditEvent.seq).where(AuditEvent.org_id == org_id).limit(1)
    return session.execute(stmt).first() is not None


def _is_organization(session: Session, org_id: str) -> bool:
    return session.execute(select(Organization.id).where(Organization.id == org_id)).first() is not None


@dataclass(frozen=True)
class ChainHead:
    """The last link of a chain as the writer found it; ``signed``: its MAC was valid."""

    seq: int
    hash: str
    signed: bool


def read_head(org_id: str, key: bytes, value: int, extra: str | None, mac: str | None) -> ChainHead:
    """The chain head of a counter row, checking its MAC.

    A writer continues a head whose MAC is wrong but never signs what follows it: signing would
    launder a cut-and-rewritten chain, refusing every write would let tampering stop the business.
    ``audit verify`` keeps reporting it.
    """
    head_hash = extra or GENESIS_HASH
    signed = mac is not None and hmac.compare_digest(mac, head_mac(key, org_id, value, head_hash))
    return ChainHead(value, head_hash, signed)


def lock_chain_head(session: Session, org_id: str) -> ChainHead:
    """Lock the organization's audit counter and return its head.

    Creates the counter on first use of a chain that belongs to no organization (the system
    chain). An organization's counter is made with the organization; a missing one raises
    :class:`AuditChainBroken` rather than start the chain afresh.
    """
    stmt = select(OrgSequence.value, OrgSequence.extra, OrgSequence.mac).where(
        OrgSequence.org_id == org_id, OrgSequence.name == AUDIT_SEQUENCE
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = session.execute(stmt).first()
    if row is None:
        if not (_is_organization(session, org_id) or _has_events(session, org_id)):
            ensure_counter(session, org_id)  # first use of a chain that belongs to no organization
        # Ours, or that of a concurrent first writer which has committed meanwhile.
        row = session.execute(stmt).first()
        if row is None:
            raise AuditChainBroken(
                f"the audit chain head of {org_id} is missing; run ops-server audit verify"
            )
    return read_head(org_id, audit_key(session), int(row.value), row.extra, row.mac)


def sign_unsigned_head(session: Session, org_id: str) -> None:
    """Sign the chain head if it has no MAC yet: once, when upgrading a store from before MACs."""
    head = session.execute(
        select(OrgSequence.value, OrgSequence.extra, OrgSequence.mac).where(
            OrgSequence.org_id == org_id, OrgSequence.name == AUDIT_SEQUENCE
        )
    ).first()
    if head is None or head.mac is not None:
        return
    mac = head_mac(audit_key(session), org_id, int(head.value), head.extra or GENESIS_HASH)
    session.execute(
        update(OrgSequence)
        .where(OrgSequence.org_id == org_id, OrgSequence.name == AUDIT_SEQUENCE)
        .values(mac=mac)
    )


# The organizations' counters (the audit chain's head, the change sequence, document numbers).
SEQUENCES = table_of(OrgSequence)

# The new chain head, written by every slice of a push: a statement on the table, run on the
# session's connection, not through the ORM entity, whose statements pay the session's tenant
# criteria and the ORM's bulk-update checks (~0.5 ms a statement, against ~30 µs). It names the
# organization itself; the head it replaces was read under the session's scope (the push's
# ``sync_server.writes.lock_organization`` checks it, :func:`lock_chain_head` runs through it).
_WRITE_HEAD = (
    update(SEQUENCES)
    .where(SEQUENCES.c.org_id == bindparam("org"), SEQUENCES.c.name == AUDIT_SEQUENCE)
    .values(value=bindparam("value"), extra=bindparam("extra"), mac=bindparam("mac"))
)


def append_events(
    session: Session, org_id: str, events: list[PendingEvent], *, head: ChainHead | None = None
) -> int:
    """Chain and insert ``events`` for ``org_id`` in the caller's transaction. Returns the last seq.

    ``head`` is the already locked chain head, when the caller holds it.
    """
    if not events:
        return head.seq if head else 0
    if head is None:
        head = lock_chain_head(session, org_id)
    seq, prev = head.seq, head.hash
    now = utcnow()
    rows = []
    keys: SubjectKeys | None = None
    subjects = {event.subject for event in events if event.subject is not None and event.personal}
    if subjects:
        # Every subject's key read (or made) at once, stored in one insert below.
        keys = SubjectKeys(session, org_id, audit_key(session))
        keys.prepare(subjects)
    # Every event's salt from one read of the system's random source (SALT_BYTES each): a
    # ``secrets.token_hex`` per event was a system call per row written.
    salts = secrets.token_bytes(SALT_BYTES * len(events)).hex()
    width = 2 * SALT_BYTES
    for index, event in enumerate(events):
        seq += 1
        if event.json_ready:
            before, after = event.before, event.after
        else:
            before = json_value(event.before) if event.before is not None else None
            after = json_value(event.after) if event.after is not None else None
        if keys is not None and event.subject is not None and event.personal:
            before = keys.seal_fields(event.subject, before, event.personal)
            after = keys.seal_fields(event.subject, after, event.personal)
        # Each image serialized once, as the chain hashes it (sorted keys, compact): the same
        # bytes are the column's JSON text and, embedded whole, part of the hashed event.
        before_json = None if before is None else orjson.dumps(before, option=orjson.OPT_SORT_KEYS)
        after_json = None if after is None else orjson.dumps(after, option=orjson.OPT_SORT_KEYS)
        row = {
            "org_id": org_id,
            "seq": seq,
            "at": event.at or now,
            "actor": event.actor,
            "device": event.device,
            "action": event.action,
            "entity": event.entity,
            "entity_id": event.entity_id,
            "before": None if before_json is None else orjson.Fragment(before_json),
            "after": None if after_json is None else orjson.Fragment(after_json),
            "salt": salts[index * width : (index + 1) * width],
        }
        row["prev_hash"] = prev
        row["hash"] = prev = chain_hash(prev, row, json_ready=_IMAGES)
        # The column's text: JSON ``null`` for no image, as the JSON type itself stores it.
        row["before"] = "null" if before_json is None else before_json.decode()
        row["after"] = "null" if after_json is None else after_json.decode()
        rows.append(row)
    if keys is not None:
        keys.save_new()
    insert_rows(session, table_of(AuditEvent), rows, serialized=_IMAGES)
    mac = head_mac(audit_key(session), org_id, seq, prev) if head.signed else None
    session_connection(session)[0].execute(
        _WRITE_HEAD, {"org": org_id, "value": seq, "extra": prev, "mac": mac}
    )
    return seq


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


def iter_events(session: Session, org_id: str, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every event of the organization's chain, in sequence order."""
    after = 0
    columns = [getattr(AuditEvent, c.key) for c in AuditEvent.__table__.columns]
    while True:
        rows = (
            session.execute(
                select(*columns)
                .where(AuditEvent.org_id == org_id, AuditEvent.seq > after)
                .order_by(AuditEvent.seq)
                .limit(batch)
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield dict(row)
        after = rows[-1]["seq"]


def verify_chain(session: Session, org_id: str) -> tuple[int, ChainProblem | None]:
    """Check the organization's chain. Returns ``(events checked, first problem or None)``.

    Finds edited events (hash mismatch), removed or reordered events (sequence gap or a
    ``prev_hash`` that is not the previous hash), and a truncated tail: the head in the counter
    row ahead of the events, missing, or not signed with the audit key (rewritten to match the
    cut chain). An organization without a single event has lost its chain (its creation is the
    first event). See the module docstring for what cannot be detected.
    """
    expected_seq, prev, count = 1, GENESIS_HASH, 0
    for event in iter_events(session, org_id):
        count += 1
        if event["seq"] != expected_seq:
            return count, ChainProblem(expected_seq, f"event {expected_seq} is missing")
        if event["prev_hash"] != prev:
            return count, ChainProblem(event["seq"], "prev_hash does not match the previous event's hash")
        if chain_hash(prev, event) != event["hash"]:
            return count, ChainProblem(event["seq"], "the event's contents do not match its hash")
        prev = event["hash"]
        expected_seq += 1
    last = expected_seq - 1
    head = session.execute(
        select(OrgSequence.value, OrgSequence.extra, OrgSequence.mac).where(
            OrgSequence.org_id == org_id, OrgSequence.name == AUDIT_SEQUENCE
        )
    ).first()
    organization = _is_organization(session, org_id)
    if head is None:
        if count == 0 and not organization:
            return 0, None  # a chain never used (the system chain of a new store)
        return count, ChainProblem(
            expected_seq, f"the chain head is missing: events after {last} may have been removed"
        )
    if organization and count == 0:
        return 0, ChainProblem(1, "the organization has no audit events: its chain was removed")
    if int(head.value) != last or (head.extra or GENESIS_HASH) != prev:
        return count, ChainProblem(expected_seq, f"events after {last} were removed")
    expected_mac = head_mac(audit_key(session), org_id, last, prev)
    if head.mac is None or not hmac.compare_digest(head.mac, expected_mac):
        return count, ChainProblem(
            expected_seq,
            f"the chain head is not signed with this server's audit key: events after {last} may "
            "have been removed and the head rewritten (or the audit key is not this store's)",
        )
    return count, None

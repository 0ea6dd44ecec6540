"""The command framework: the one way data changes (DESIGN §4).

A command is declared once with :func:`command`: its name, its args model (size limits on every
string and list), the permission it needs and its effect. Both sides run it through
:func:`execute` against a :class:`CommandContext`; what differs per side is only the
:class:`ChangeRecorder` (server: versions, change log, audit; client: undo images) and the
:class:`DocumentNumbering` (server: final gapless numbers; client: provisional ``DRAFT-…``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from common.access import readable_columns
from common.commands.rowaccess import (
    RowWriter,
    count_write,
    insert_statement,
    row_reader,
    row_writer,
    session_connection,
    unique_probe,
)
from common.ids import DERIVED_IDS
from common.schema.base import SyncedEntity, table_of
from common.schema.types import utcnow
from common.wire import row_to_wire

Row = dict[str, Any]
ArgsT = TypeVar("ArgsT", bound=BaseModel)
BOOKKEEPING_COLUMNS = frozenset({"org_id", "id", "version", "updated_at", "updated_by", "deleted"})


class CommandError(Exception):
    """A command refused: ``code`` is machine-readable, ``message`` names the problem.

    Codes: ``unknown_command``, ``forbidden``, ``invalid`` (``field`` names the argument),
    ``not_found``, ``conflict`` (``server_values`` holds the current values), ``invalid_state``.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        server_values: Mapping[str, Any] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.server_values = dict(server_values) if server_values is not None else None
        self.details = dict(details or {})
        if field is not None:
            self.details.setdefault("field", field)


def invalid(field: str, problem: str) -> CommandError:
    """An ``invalid`` error whose message starts with the field it is about."""
    return CommandError("invalid", f"{field}: {problem}", field=field)


class ChangeRecorder(Protocol):
    """What each side does around a row write."""

    def version_for_write(self, entity: str, entity_id: str, current: int | None) -> int:
        """The ``version`` to stamp on the row being written."""
        ...

    def record_write(self, entity: str, entity_id: str, before: Row | None, after: Row) -> None:
        """Called after a row was inserted (``before`` is ``None``) or updated."""
        ...


class MemberDirectory(Protocol):
    """Who belongs to the organization: known to the server, not to a workstation."""

    def is_member(self, user_id: str) -> bool:
        """True when ``user_id`` is a member of the context's organization."""
        ...


class DocumentNumbering(Protocol):
    def next_number(self, kind: str) -> str:
        """The number of a new document of ``kind`` (``invoice``, ``purchase_order``…)."""
        ...


class DeferredWrites(Protocol):
    """Where a write transaction holds its entity writes to send them together (the server's
    optimistic write path: every insert and update on PostgreSQL, ``sync_server.deferred``; new
    journal entries and lines on the embedded store, ``sync_server.held_ledger``); each answers
    the rows as they will be stored, and what the store later refuses sends the caller back to
    writing one by one."""

    def insert(self, writer: RowWriter, rows: list[Row]) -> list[Row]: ...

    def update(self, writer: RowWriter, entity_id: str, changes: Row, before: Row) -> Row: ...


@dataclass
class CommandOutcome:
    """What a successful command reports back (warnings such as negative stock, assigned data)."""

    warnings: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.warnings:
            out["warnings"] = self.warnings
        if self.data:
            out["data"] = self.data
        return out


# A row not yet looked up in the batch's shared rows (``CommandContext.rows``): ``None`` there means
# the store has no such row.
_UNREAD: Any = object()

_COLUMNS: dict[type[SyncedEntity], tuple[InstrumentedAttribute[Any], ...]] = {}

# Rows kept in step with another entity's rows (the employee directory with employees): entity
# name → what runs after each insert or update of one of its rows, in the same command.
Follower = Callable[["CommandContext", Row], None]
_FOLLOWERS: dict[str, list[Follower]] = {}


def keeps_in_step_with(model: type[SyncedEntity]) -> Callable[[Follower], Follower]:
    """Register the decorated function to run after every write of a ``model`` row.

    It gets the context and the row as written, and writes the rows derived from it through the
    same context: on the server they get versions, change-log rows and audit events, on a
    workstation undo images, like any other write of the command. Registered on the entity
    rather than called by each command, so no command (nor a future one) can write the source
    row and forget the derived one.
    """

    def register(follower: Follower) -> Follower:
        _FOLLOWERS.setdefault(entity_name(model), []).append(follower)
        return follower

    return register


def _columns(model: type[SyncedEntity]) -> tuple[InstrumentedAttribute[Any], ...]:
    """The mapped attributes of every column (ORM-enabled, so tenant criteria apply)."""
    found = _COLUMNS.get(model)
    if found is None:
        found = _COLUMNS[model] = tuple(getattr(model, column.key) for column in table_of(model).columns)
    return found


def entity_name(model: type[SyncedEntity]) -> str:
    """The entity's name as a plain ``str``: a table's ``name`` is SQLAlchemy's ``quoted_name``,
    which the SQLite driver binds only after two failed attribute look-ups (a Python exception
    each) — and every change-log row and audit event binds the entity name."""
    found = _NAMES.get(model)
    if found is None:
        found = _NAMES[model] = str(table_of(model).name)
    return found


_NAMES: dict[type[SyncedEntity], str] = {}

_SHA256 = hashlib.sha256()  # copied, never updated
# A hex digit with its top two bits set to 10 (the RFC 4122 variant), by the digit.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
_HEX = frozenset("0123456789abcdef")


@lru_cache(maxsize=256)
def _id_head(command_id: str) -> str:
    """Scheme 2's first two groups of a derived id, from the command id (``"0193a1b2-c3d4-"``),
    asked once per command, not per derived id; ``""`` when the command id is not a canonical
    UUID (a test's or a tool's own id): its derived ids are the digest's digits, as scheme 1."""
    head = command_id[:8] + command_id[9:13]
    if command_id[8:9] == "-" and len(head) == 12 and _HEX.issuperset(head):
        return f"{command_id[:8]}-{command_id[9:13]}-"
    return ""


def _derived(text: str, head: str) -> str:
    """A derived id from its digest's hex digits (:meth:`CommandContext.derived_id`)."""
    rest = f"8{text[13:16]}-{_VARIANT[text[16]]}{text[17:20]}-{text[20:32]}"
    if head:
        return head + rest
    return f"{text[:8]}-{text[8:12]}-{rest}"


# Entities of which a batch may know every row under one parent (:meth:`CommandContext.
# remember_children`): entity → the column naming the parent.
_CHILD_SETS: dict[str, str] = {}


def _children_key(entity: str, parent_id: str) -> tuple[str, str]:
    return (entity, f"*of:{parent_id}")


@dataclass
class CommandContext:
    """Everything a command's effect may use. Every read and write here is scoped to ``org_id``."""

    session: Session
    org_id: str
    actor_id: str
    permissions: frozenset[str]
    command_id: str
    recorder: ChangeRecorder
    numbering: DocumentNumbering
    device_id: str | None = None
    now: datetime = field(default_factory=utcnow)
    outcome: CommandOutcome = field(default_factory=CommandOutcome)
    # The server always provides the organization's members; a workstation does not know them
    # (``None``), so checks against them are the server's alone.
    members: MemberDirectory | None = None
    # Rows already read or written in this write transaction, by (table, id), as the store holds
    # them (tombstones included). The server shares one across a pushed batch so that commands
    # naming the same product do not read it again: every write to an entity row goes through
    # :meth:`insert`/:meth:`update` (which refresh it) under the organization's write lock, and
    # the owner clears it when a command is rolled back. ``None``: always read the store.
    # A row the store does not hold is remembered as ``None``.
    rows: dict[tuple[str, str], Row | None] | None = None
    # What one command looked up once and may ask again (the organization's fiscal periods).
    memo: dict[str, Any] = field(default_factory=dict)
    # Set by the server's optimistic write path: writes held and sent together, a statement per
    # table (PostgreSQL: every insert and update; the embedded store: new journal entries and
    # lines). Needs ``rows``.
    deferred: DeferredWrites | None = None
    # How :meth:`derived_id` derives ids (``DERIVED_IDS`` or ``LEGACY_DERIVED_IDS``): the scheme
    # the command was first applied with, wherever it runs again.
    derived_ids: int = DERIVED_IDS

    # -- reads ---------------------------------------------------------------------------------
    def select(self, model: type[SyncedEntity], *where: ColumnElement[bool]) -> Select[Any]:
        """``SELECT`` of every column of ``model`` in this organization, live rows only."""
        return select(*_columns(model)).where(model.org_id == self.org_id, model.deleted.is_(False), *where)

    def get(self, model: type[SyncedEntity], entity_id: str, *, include_deleted: bool = False) -> Row | None:
        """The row with ``entity_id`` as a dict, or ``None``."""
        table = table_of(model)
        if self.rows is None:
            connection, dbapi = session_connection(self.session)
            return row_reader(table, include_deleted, connection.dialect).fetch(dbapi, self.org_id, entity_id)
        key = (table.name, entity_id)
        row = self.rows.get(key, _UNREAD)
        if row is _UNREAD:
            connection, dbapi = session_connection(self.session)
            row = self.rows[key] = row_reader(table, True, connection.dialect).fetch(
                dbapi, self.org_id, entity_id
            )
        if row is None:
            # No such row, not even a tombstone. Remembered too: a batch of stock moves in an
            # organization without books asks for its absent ledger once, not once per move
            # (on PostgreSQL a round trip each). A row inserted later replaces the answer.
            return None
        if row["deleted"] and not include_deleted:
            return None
        return dict(row)  # a copy: a command may change what it was given

    def peek(self, model: type[SyncedEntity], entity_id: str) -> Row | None:
        """The live row with ``entity_id``, or ``None``, as :meth:`get` gives it but not a copy
        where the batch holds it: for reading only (the settings and accounts every posting
        looks up, several times a document). Writes replace the batch's rows, never change them."""
        if self.rows is None:
            return self.get(model, entity_id)
        row = self.rows.get((_NAMES.get(model) or entity_name(model), entity_id), _UNREAD)
        if row is _UNREAD:
            return self.get(model, entity_id)
        if row is None or row["deleted"]:
            return None
        return row

    def _remember(self, entity: str, row: Row) -> None:
        """Keep a copy of ``row`` as the batch's row."""
        if self.rows is not None:
            self.rows[(entity, row["id"])] = dict(row)
            if entity == "fiscal_period":  # the periods a batch shares (common.commands.periods)
                self.rows.pop(("fiscal_period", "*"), None)
            parent = _CHILD_SETS.get(entity)
            if parent is not None:  # what the batch knew of its parent's rows may be out of date
                self.rows.pop(_children_key(entity, row[parent]), None)

    def remember_children(
        self, model: type[SyncedEntity], parent_column: str, parent_id: str, rows: list[Row]
    ) -> None:
        """Note that ``rows``, just inserted, are every row of ``model`` whose ``parent_column``
        is ``parent_id``, a parent inserted by this command (so no other can exist): later
        commands of the batch then get them from :meth:`known_children` without a query (on
        PostgreSQL a round trip, which also sends the writes held so far). Any later write of
        a ``model`` row of that parent drops what was noted."""
        if self.rows is None:
            return
        entity = entity_name(model)
        _CHILD_SETS[entity] = parent_column
        self.rows[_children_key(entity, parent_id)] = {
            "id": "*",
            "deleted": False,
            "ids": [row["id"] for row in rows],
        }

    def known_children(self, model: type[SyncedEntity], parent_id: str) -> list[Row] | None:
        """The live rows of ``model`` under ``parent_id`` noted by :meth:`remember_children` (as
        they are now, ordered as noted), or ``None`` when the batch does not know them all."""
        if self.rows is None:
            return None
        entity = entity_name(model)
        known = self.rows.get(_children_key(entity, parent_id))
        if known is None:
            return None
        found = [self.rows.get((entity, child_id)) for child_id in known["ids"]]
        return [dict(row) for row in found if row is not None and not row["deleted"]]

    def require(self, model: type[SyncedEntity], entity_id: str, field_name: str) -> Row:
        """The row, or an ``invalid`` error naming ``field_name`` when there is none."""
        row = self.get(model, entity_id)
        if row is None:
            raise invalid(field_name, f"no {entity_name(model).replace('_', ' ')} with id {entity_id}")
        return row

    def exists(self, model: type[SyncedEntity], *where: ColumnElement[bool]) -> bool:
        stmt = select(model.id).where(model.org_id == self.org_id, model.deleted.is_(False), *where)
        return self.session.execute(stmt.limit(1)).first() is not None

    def ensure_unique(
        self, model: type[SyncedEntity], column: str, value: Any, field_name: str, exclude: str | None = None
    ) -> None:
        """Refuse, naming ``field_name``, when another live row already has ``value`` in ``column``."""
        connection, dbapi = session_connection(self.session)
        table = table_of(model)
        probe = unique_probe(table, column, exclude is not None, connection.dialect)
        bind = table.c[column].type._cached_bind_processor(connection.dialect)
        params = {"_org_id": self.org_id, "_value": value if bind is None else bind(value), "_id": exclude}
        if probe.rows(dbapi, probe.parameters(params)):
            raise invalid(
                field_name, f"{value!r} is already used by another {entity_name(model).replace('_', ' ')}"
            )

    def require_member(self, user_id: str, field_name: str) -> None:
        """Refuse, naming ``field_name``, a user id that is not a member of this organization.

        Skipped where memberships are unknown (the client): the server decides.
        """
        if self.members is not None and not self.members.is_member(user_id):
            raise invalid(field_name, f"no member of this organization has the user id {user_id}")

    def fetch(self, stmt: Select[Any]) -> list[Row]:
        """Rows of a ``SELECT`` from :meth:`select` as dicts, run on the connection: the ORM's
        execution events cost milliseconds a query, and the statement names ``org_id`` itself."""
        connection, _ = session_connection(self.session)
        return [dict(row) for row in connection.execute(stmt).mappings()]

    def scalar(self, stmt: Select[Any]) -> Any:
        """Run a scalar query; the statement must filter on ``org_id`` itself."""
        return self.session.execute(stmt).scalar()

    # -- writes --------------------------------------------------------------------------------
    def insert(self, model: type[SyncedEntity], values: Mapping[str, Any]) -> Row:
        """Insert a new row born in this command; its ``id`` must be new (tombstones included)."""
        name = entity_name(model)
        entity_id = values["id"]
        row: Row = {
            **values,
            "org_id": self.org_id,
            "version": self.recorder.version_for_write(name, entity_id, None),
            "updated_at": self.now,
            "updated_by": self.actor_id,
            "deleted": False,
        }
        found = self._insert_rows(model, [row])
        if not found:  # the id exists: nothing was written
            raise invalid("id", f"a {name.replace('_', ' ')} with id {entity_id} already exists")
        after = found[0]
        self._remember(name, after)
        self.recorder.record_write(name, entity_id, None, after)
        self._follow(name, after)
        return after

    def insert_many(self, model: type[SyncedEntity], rows: Iterable[Mapping[str, Any]]) -> list[Row]:
        """Insert many new rows born in this command, in batched statements (a payroll run's
        thousands of payslip lines). Every row names the same columns; the ids must be new: if
        any is taken the command is refused (and, like every refused command, writes nothing)."""
        name = entity_name(model)
        stamped = [
            {
                **values,
                "org_id": self.org_id,
                "version": self.recorder.version_for_write(name, values["id"], None),
                "updated_at": self.now,
                "updated_by": self.actor_id,
                "deleted": False,
            }
            for values in rows
        ]
        if not stamped:
            return []
        inserted = self._insert_rows(model, stamped)
        if len(inserted) != len(stamped):  # an id exists: ON CONFLICT skipped its row
            written = {r["id"] for r in inserted}
            taken = next(r["id"] for r in stamped if r["id"] not in written)
            raise invalid("id", f"a {name.replace('_', ' ')} with id {taken} already exists")
        remember, record = self._remember, self.recorder.record_write
        followers = _FOLLOWERS.get(name, ())
        for after in inserted:
            remember(name, after)
            record(name, after["id"], None, after)
            for follower in followers:
                follower(self, after)
        return inserted

    def _insert_rows(self, model: type[SyncedEntity], rows: list[Row]) -> list[Row]:
        """``INSERT … ON CONFLICT DO NOTHING`` of rows naming the same columns: the rows written,
        as stored, in the order given (a row whose id is taken is missing)."""
        connection, dbapi = session_connection(self.session)
        table = table_of(model)
        writer = row_writer(table, connection.dialect)
        if writer.can_insert(rows[0]):
            count_write(self.session)
            if self.deferred is not None:
                return self.deferred.insert(writer, rows)
            return writer.insert(dbapi, rows)
        stmt = insert_statement(table, connection.dialect.name)  # a column only SQLAlchemy fills
        return [dict(r) for r in connection.execute(stmt, rows).mappings()]

    def update(self, model: type[SyncedEntity], entity_id: str, changes: Mapping[str, Any]) -> Row:
        """Change fields of an existing row (``deleted=True`` makes a tombstone).

        Rows of ``append_only`` entities are never changed: they are corrected by reversal (but
        for their ``set_once`` fields, each given a value once while still empty).
        """
        name = entity_name(model)
        if "org_id" in changes or "id" in changes:
            raise CommandError("invalid", "a row's organization and id never change")
        info = model.__entity__
        if info.append_only and not set(changes) <= set(info.set_once):
            raise CommandError(
                "invalid_state", f"a {name.replace('_', ' ')} is never changed: record its reversal instead"
            )
        before = self.get(model, entity_id, include_deleted=True)
        if before is None:
            raise CommandError("not_found", f"no {name.replace('_', ' ')} with id {entity_id}")
        if info.append_only and any(before[key] is not None for key in changes):
            raise CommandError("invalid_state", f"this {name.replace('_', ' ')} was marked already")
        stamped = {
            **changes,
            "version": self.recorder.version_for_write(name, entity_id, before["version"]),
            "updated_at": self.now,
            "updated_by": self.actor_id,
        }
        connection, dbapi = session_connection(self.session)
        count_write(self.session)
        writer = row_writer(table_of(model), connection.dialect)
        if self.deferred is not None:
            updated: Row | None = self.deferred.update(writer, entity_id, stamped, before)
        else:
            updated = writer.update(dbapi, self.org_id, entity_id, stamped)
        assert updated is not None
        after = updated
        self._remember(name, after)
        self.recorder.record_write(name, entity_id, before, after)
        self._follow(name, after)
        return after

    def _follow(self, entity: str, row: Row) -> None:
        for follower in _FOLLOWERS.get(entity, ()):
            follower(self, row)

    def derived_id(self, *parts: str) -> str:
        """A deterministic id for a row this command creates without an id in its args.

        Client and server derive the same id from the command id, so the optimistic local row
        and the server's row are one and the same.
        """
        # The first 16 bytes of the SHA-256, version nibble 8 (custom, derived) and the RFC 4122
        # variant bits set, as str(uuid.UUID(bytes=...)) spells them, worked on the hex digits.
        # Scheme 2 puts the command id's first 12 hex digits in place of the first 12.
        command_id = self.command_id
        digest = _SHA256.copy()  # not hashlib.sha256(): that looks the algorithm up each time
        digest.update("|".join((command_id, *parts)).encode())
        return _derived(digest.hexdigest(), _id_head(command_id) if self.derived_ids == DERIVED_IDS else "")

    def derived_id_each(self, parts: tuple[str, ...], lasts: Iterable[str]) -> list[str]:
        """``[self.derived_id(*parts, last) for last in lasts]``, the digest of the parts they
        share taken once (SHA-256 reads its input in order: the same digests, the same ids)."""
        command_id = self.command_id
        shared = _SHA256.copy()
        shared.update("|".join((command_id, *parts, "")).encode())
        head = _id_head(command_id) if self.derived_ids == DERIVED_IDS else ""
        found = []
        for last in lasts:
            digest = shared.copy()
            digest.update(last.encode())
            found.append(_derived(digest.hexdigest(), head))
        return found

    def warn(self, code: str, message: str, **details: Any) -> None:
        self.outcome.warnings.append({"code": code, "message": message, **details})


Handler = Callable[[CommandContext, Any], None]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    args_model: type[BaseModel]
    permission: str
    handler: Handler
    summary: str
    # Further permissions any one of which also allows the command (e.g. self-service).
    alternatives: tuple[str, ...] = ()


REGISTRY: dict[str, CommandSpec] = {}


def command(
    name: str, *, args: type[ArgsT], permission: str, alternatives: Iterable[str] = ()
) -> Callable[[Callable[[CommandContext, ArgsT], None]], Callable[[CommandContext, ArgsT], None]]:
    """Register the decorated function as the effect of command ``name``."""

    def register(fn: Callable[[CommandContext, ArgsT], None]) -> Callable[[CommandContext, ArgsT], None]:
        if name in REGISTRY:
            raise ValueError(f"command {name} is defined twice")
        summary = (fn.__doc__ or name).strip().splitlines()[0]
        REGISTRY[name] = CommandSpec(name, args, permission, fn, summary, tuple(alternatives))
        return fn

    return register


def format_validation_error(exc: ValidationError, prefix: str = "") -> CommandError:
    """Turn a pydantic error into ``invalid`` naming the first bad field (all are in details)."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in error["loc"] if part != "__root__")
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "is not a known field"
        elif error["type"] == "missing":
            message = "is required"
        problems.append({"field": prefix + loc if loc else prefix.rstrip("."), "problem": message})
    first = problems[0]
    return CommandError(
        "invalid",
        "; ".join(f"{p['field']}: {p['problem']}" if p["field"] else p["problem"] for p in problems),
        field=first["field"] or None,
        details={"errors": problems},
    )


def parse_args(spec: CommandSpec, raw: Any) -> BaseModel:
    if not isinstance(raw, dict):
        raise CommandError("invalid", "args: must be a JSON object", field="args")
    try:
        return spec.args_model.model_validate(raw)
    except ValidationError as exc:
        raise format_validation_error(exc) from None


def authorize(spec: CommandSpec, permissions: frozenset[str]) -> None:
    if spec.permission in permissions or any(p in permissions for p in spec.alternatives):
        return
    details: dict[str, Any] = {"permission": spec.permission}
    if spec.alternatives:
        details["alternatives"] = list(spec.alternatives)
    raise CommandError(
        "forbidden",
        f"{spec.name} needs the permission {' or '.join((spec.permission, *spec.alternatives))}",
        details=details,
    )


def execute(ctx: CommandContext, name: str, raw_args: Any) -> CommandOutcome:
    """Check, validate and apply command ``name`` in ``ctx``.

    The caller owns the transaction (a savepoint per command), so a refused command leaves
    nothing behind. Raises :class:`CommandError`.
    """
    spec = REGISTRY.get(name)
    if spec is None:
        raise CommandError("unknown_command", f"there is no command called {name!r}")
    authorize(spec, ctx.permissions)
    args = parse_args(spec, raw_args)
    spec.handler(ctx, args)
    return ctx.outcome


# -- per-field compare-and-set -----------------------------------------------------------------


def parse_changes(model: type[BaseModel], changes: Any, base: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate ``changes`` and ``base`` with ``model``; every changed field needs a base value."""
    if not isinstance(changes, dict) or not changes:
        raise invalid("changes", "must name at least one field to change")
    if not isinstance(base, dict):
        raise invalid("base", "must hold the old value of every changed field")
    try:
        parsed_changes = model.model_validate(changes).model_dump(include=set(changes))
    except ValidationError as exc:
        raise format_validation_error(exc, "changes.") from None
    missing = sorted(set(changes) - set(base))
    if missing:
        raise invalid(f"base.{missing[0]}", "the old value of every changed field is required")
    extra = sorted(set(base) - set(changes))
    if extra:
        raise invalid(f"base.{extra[0]}", "is not among the changed fields")
    parsed_base = {key: _parse_base_value(model, key, value) for key, value in base.items()}
    return parsed_changes, parsed_base


def _parse_base_value(model: type[BaseModel], key: str, value: Any) -> Any:
    """A base value in the stored type; a value that no longer validates is kept raw and
    therefore simply never equals the stored value (a conflict, not an error)."""
    try:
        return model.model_validate({key: value}).model_dump(include={key})[key]
    except ValidationError:
        return value


def apply_field_changes(
    ctx: CommandContext,
    model: type[SyncedEntity],
    entity_id: str,
    changes_model: type[BaseModel],
    changes: Any,
    base: Any,
    *,
    current: Row | None = None,
    readable: frozenset[str] | None = None,
) -> Row:
    """Per-field compare-and-set: apply ``changes`` only where the stored value equals ``base``.

    Any changed field whose stored value differs from its base value rejects the whole command
    with ``conflict`` and the current values of the changed fields; untouched fields of the same
    record are not compared, so edits of different fields merge.

    Only fields the caller may read can be changed: the conflict answer shows their stored
    values, and even without it, applied-or-conflict would tell whether a guessed base value is
    the stored one. ``readable`` defaults to the entity's columns the caller reads
    (:mod:`common.access`, owner rules aside).
    """
    new_values, old_values = parse_changes(changes_model, changes, base)
    if readable is None:
        readable = readable_columns(entity_name(model), ctx.permissions)
    unreadable = sorted(set(new_values) - readable)
    if unreadable:
        raise CommandError(
            "forbidden",
            f"changes.{unreadable[0]}: changing a field needs the right to read it",
            field=f"changes.{unreadable[0]}",
        )
    table = table_of(model)
    for key, value in new_values.items():
        if value is None and not table.c[key].nullable:
            raise invalid(f"changes.{key}", "cannot be emptied")
    row = current if current is not None else ctx.get(model, entity_id)
    if row is None:
        raise CommandError("not_found", f"no {entity_name(model).replace('_', ' ')} with id {entity_id}")
    conflicting = sorted(k for k, old in old_values.items() if row[k] != old)
    if conflicting:
        server_values = row_to_wire({k: row[k] for k in new_values})
        raise CommandError(
            "conflict",
            f"{', '.join(conflicting)} changed on the server since you read "
            f"{'it' if len(conflicting) == 1 else 'them'}",
            server_values=server_values,
            details={"fields": conflicting, "version": row["version"]},
        )
    effective = {k: v for k, v in new_values.items() if row[k] != v}
    if not effective:
        return row
    return ctx.update(model, entity_id, effective)

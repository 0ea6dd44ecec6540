"""``ops-server audit verify --data``: does the store still hold what the audit chain says?

The chain is replayed into one image per row: every applied command's audit event holds, for each
row it wrote, the new values of the fields it changed (``after``; all of them when it created the
row, tombstone flag included), so the last image of a row is what the row must hold now. The
images are compared with the current rows of every audited table:

- every synced entity table (``common.schema.ENTITIES``): each field the chain recorded, and the
  row's ``updated_at``/``updated_by`` against the time and actor of its last event;
- ``membership`` (user and roles) and ``role`` (name, description, permissions), from the
  administrative events.

- each journal entry's lines (``lines_json``, revision 0019), line by line (:func:`_line_problems`),
  with what the chain recorded of them: the entry image's ``lines_json`` for an entry posted since
  revision 0019; for an entry that revision converted (its events hold no ``lines_json``) the
  images of its lines in older events (nested in the entry's, or events of their own) in
  ``line_no`` order, those the migration moved: a live entry's live lines, a tombstone's all;
- ``journal_balance``, which the statements read and no event records: each row against the sums
  of the live entries' stored lines per account, currency and day (:func:`_balance_problems`).

Reported, by entity, id and field: a field whose stored value differs from its image (a salary
multiplied by ten in the table), a row with no audit history (inserted behind the server), a row
the chain says exists but the store lacks (deleted behind the server; tombstones dropped by
``ops-server prune`` are expected to be gone), a membership or role present though the chain
removed it; a journal line (``journal_line``, its id) whose amount, account, currency, memo or
place differs, that the store holds and the chain does not, or the reverse; a balance row
(``journal_balance``, ``account currency day``) that differs from, lacks or has no counterpart
in the sums of the lines.

Not detected: fields no event ever recorded (``version``; columns added by a later migration and
filled by it on rows written before it); tables no command writes (devices, refresh tokens,
invitations, processed mutations, counters); a change made together with a matching forged event
— that is what the chain check (run first) is for; values sealed under an erased subject's key
(they read ``[erased]``); rows written by migrations (revision 0006 filled ``employee_directory``
without events: a store upgraded across it reports those rows as having no history). Of a line
converted by revision 0019, its date and ``deleted`` are its entry's now (checked as the entry's),
and its ``line_no`` is its place among the lines moved; a live entry's line deleted before
that revision is not in the store and not expected there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from common.journal_lines import FIELDS, decode_lines
from common.schema import ENTITIES, AuditEvent, JournalBalance, Membership, Role
from common.schema.base import table_of
from common.wire import to_wire
from sync_server.audit import (
    AUDITED_WITH,
    POSTING_ENTITY,
    audit_key,
    held_rows,
    holders_of,
    identical,
    nested_images,
)
from sync_server.subject_keys import ERASED, SubjectKeys

_ADMIN_FIELDS: dict[str, tuple[str, ...]] = {
    "membership": ("user_id", "roles"),
    "role": ("name", "description", "permissions"),
}
_GONE = None  # the image of a row the chain removed (membership, role)
_BATCH = 5000


@dataclass(frozen=True)
class DataProblem:
    entity: str
    entity_id: str
    field: str | None  # None: the row as a whole
    problem: str

    def __str__(self) -> str:
        where = f"{self.entity} {self.entity_id}" + (f" {self.field}" if self.field else "")
        return f"{where}: {self.problem}"


@dataclass
class _Image:
    values: dict[str, Any] | None  # None: removed by the chain
    at: Any = None
    actor: str | None = None


def audited_tables() -> dict[str, Table]:
    tables = {name: table_of(model) for name, model in ENTITIES.items()}
    tables["membership"] = table_of(Membership)
    tables["role"] = table_of(Role)
    return tables


def _replay(session: Session, org_id: str, entity: str, keys: SubjectKeys) -> dict[str, _Image]:
    images: dict[str, _Image] = {}
    after_seq = 0
    # A row audited inside other rows' events (journal lines in their entry's, a document's
    # journal entry and its lines in the document's) is replayed from those too: they created
    # it, events of its own (older ones) too.
    entities = (entity, *sorted(holders_of(entity)))
    held = list(held_rows(entity))
    while True:
        rows = session.execute(
            select(
                AuditEvent.seq,
                AuditEvent.entity,
                AuditEvent.entity_id,
                AuditEvent.at,
                AuditEvent.actor,
                AuditEvent.after,
            )
            .where(AuditEvent.org_id == org_id, AuditEvent.entity.in_(entities), AuditEvent.seq > after_seq)
            .order_by(AuditEvent.seq)
            .limit(_BATCH)
        ).all()
        if not rows:
            return images
        for seq, event_entity, event_entity_id, at, actor, sealed in rows:
            after_seq = seq
            after = None if sealed is None else {k: keys.open(v) for k, v in sealed.items()}
            if event_entity != entity:  # a holder's event: the rows it created (full images)
                for child_entity, child_id, child in nested_images(event_entity, event_entity_id, after):
                    if child_entity == entity:
                        images[child_id] = _Image(child, at, actor)
                continue
            if after is not None:
                for key in held:  # its children's images are not fields of the row
                    after.pop(key, None)
            entity_id = event_entity_id
            if entity_id is None:
                continue
            image = images.get(entity_id)
            if after is None:
                images[entity_id] = _Image(_GONE, at, actor)
            elif image is None or image.values is None:
                images[entity_id] = _Image(dict(after), at, actor)
            else:
                image.values.update(after)
                image.at, image.actor = at, actor


def _rows(session: Session, table: Table, org_id: str) -> Iterator[dict[str, Any]]:
    after = ""
    while True:
        batch = (
            session.execute(
                select(table)
                .where(table.c.org_id == org_id, table.c.id > after)
                .order_by(table.c.id)
                .limit(_BATCH)
            )
            .mappings()
            .all()
        )
        if not batch:
            return
        yield from (dict(row) for row in batch)
        after = batch[-1]["id"]


def _same(stored: Any, recorded: Any) -> bool:
    return bool(to_wire(stored) == recorded)


def _compare(entity: str, row: dict[str, Any], image: _Image) -> Iterator[DataProblem]:
    assert image.values is not None
    fields = _ADMIN_FIELDS.get(entity)
    recorded = image.values if fields is None else {k: image.values[k] for k in fields if k in image.values}
    for name, value in recorded.items():
        # A value sealed under an erased subject's key reads ``[erased]``: nothing to compare.
        if name in row and value != ERASED and not _same(row[name], value):
            yield DataProblem(
                entity, row["id"], name, f"stored {to_wire(row[name])!r}, the audit trail says {value!r}"
            )
    if fields is None:  # synced rows carry the stamps of their last write
        if not _same(row["updated_at"], to_wire(image.at)):
            yield DataProblem(
                entity,
                row["id"],
                "updated_at",
                f"stored {to_wire(row['updated_at'])!r}, last audited write at {to_wire(image.at)!r}",
            )
        if row["updated_by"] != image.actor:
            yield DataProblem(
                entity,
                row["id"],
                "updated_by",
                f"stored {row['updated_by']!r}, last audited writer {image.actor!r}",
            )


ENTRY = POSTING_ENTITY  # journal_entry
LINE = "journal_line"  # a view since revision 0019: its rows are the entries' lines
LINES = "lines_json"
# A line's fields compared (its id names it, its place is compared apart).
_LINE_FIELDS = tuple(name for name in FIELDS if name != "id")
_BALANCE = table_of(JournalBalance)
_BALANCE_KEY = ("account_id", "currency", "entry_date")
_BALANCE_SUMS = ("debit", "credit", "lines")

assert AUDITED_WITH[LINE][0] == ENTRY  # old events nest lines in their entry's


def _recorded_lines(images: dict[str, _Image]) -> dict[str, list[dict[str, Any]]]:
    """The lines the chain recorded of each journal entry converted by revision 0019 (its events
    hold no ``lines_json``): the replayed images of its lines, in ``line_no`` order, by entry id,
    tombstoned ones too (:func:`_converted_lines` picks those the migration moved)."""
    by_entry: dict[str, list[dict[str, Any]]] = {}
    for line_id, image in images.items():
        values = image.values
        if values is None or not isinstance(values.get("journal_entry_id"), str):
            continue
        line_no = values.get("line_no")
        by_entry.setdefault(values["journal_entry_id"], []).append(
            {"id": line_id, **values, "line_no": line_no if isinstance(line_no, int) else 0}
        )
    for lines in by_entry.values():
        lines.sort(key=lambda line: (line["line_no"], line["id"]))
    return by_entry


def _converted_lines(entry: dict[str, Any], lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines revision 0019 moved into an entry, of its lines' recorded images (``lines``, in
    order): a live entry's live lines, a tombstone's every line (tombstoned with it). ``entry``:
    the entry's recorded image."""
    if entry.get("deleted") is True:
        return lines
    return [line for line in lines if line.get("deleted") is not True]


def _name(value: Any) -> Any:
    """A stored line's id, account or currency as a key: itself when text (as written), else its
    JSON text (a value put in behind the server, which must not stop the check)."""
    return value if isinstance(value, str) else json.dumps(value)


def _line_problems(
    entry_id: str, stored: list[dict[str, Any]], recorded: list[dict[str, Any]]
) -> Iterator[DataProblem]:
    """An entry's stored lines against the recorded ones (each with its ``id``, in order), named
    by line id: a field that differs, a line only one side has, a line held twice, a line whose
    place among the lines both sides have differs."""
    stored = [{**line, "id": _name(line["id"])} for line in stored]
    recorded = [{**line, "id": _name(line["id"])} for line in recorded]
    expected = {line["id"]: line for line in recorded}
    seen: dict[Any, int] = {}
    for line in stored:
        seen[line["id"]] = seen.get(line["id"], 0) + 1
    for line_id, count in seen.items():
        if count > 1:
            yield DataProblem(
                LINE, str(line_id), None, f"journal entry {entry_id} holds this line {count} times"
            )
    for line in stored:
        if line["id"] not in expected:
            yield DataProblem(
                LINE,
                str(line["id"]),
                None,
                f"journal entry {entry_id} holds this line, the audit trail does not (written behind the server)",
            )
            continue
        image = expected[line["id"]]
        for name in _LINE_FIELDS:
            value = image.get(name)
            if value != ERASED and not identical(line[name], value):  # 10000.0 is not 10000
                yield DataProblem(
                    LINE, str(line["id"]), name, f"stored {line[name]!r}, the audit trail says {value!r}"
                )
    for line in recorded:
        if line["id"] not in seen:
            yield DataProblem(
                LINE,
                str(line["id"]),
                None,
                f"the audit trail has this line of journal entry {entry_id}, the store does not",
            )
    # The places: among the lines both hold, each line's place in either order.
    stored_order = [line["id"] for line in stored if line["id"] in expected and seen[line["id"]] == 1]
    both = set(stored_order)
    recorded_order = [line["id"] for line in recorded if line["id"] in both]
    if stored_order != recorded_order:
        stored_at = {line["id"]: line["line_no"] for line in stored}
        recorded_at = {line["id"]: n for n, line in enumerate(recorded, start=1)}
        for held, wanted in zip(stored_order, recorded_order, strict=True):
            if held != wanted:
                yield DataProblem(
                    LINE,
                    str(held),
                    "line_no",
                    f"stored {stored_at[held]}, the audit trail says {recorded_at[held]}",
                )


def _entry_lines(
    row: dict[str, Any], image: _Image | None, converted: Callable[[], dict[str, list[dict[str, Any]]]]
) -> tuple[list[dict[str, Any]] | None, list[DataProblem]]:
    """An entry's stored lines (decoded; ``None`` when the text is no lines) and the problems
    found in them: against the ``lines_json`` its events recorded, or, when they recorded none
    (an entry converted by revision 0019), its lines' images in older events (``converted()``,
    by entry; none: no line). An entry the chain does not have (reported as such) has its lines read, not
    compared."""
    entry_id = row["id"]
    try:
        stored = decode_lines(row[LINES])
    except ValueError as exc:
        return None, [DataProblem(ENTRY, entry_id, LINES, f"the stored lines are not lines: {exc}")]
    if image is None or image.values is None:
        return stored, []
    recorded_text = image.values.get(LINES)
    if recorded_text is None:
        recorded = _converted_lines(image.values, converted().get(entry_id, []))
        return stored, list(_line_problems(entry_id, stored, recorded))
    try:
        recorded = decode_lines(recorded_text)
    except (ValueError, TypeError) as exc:
        return stored, [
            DataProblem(ENTRY, entry_id, LINES, f"the lines the audit trail says are not lines: {exc}")
        ]
    problems = list(_line_problems(entry_id, stored, recorded))
    if not problems and row[LINES] != recorded_text:
        problems.append(
            DataProblem(
                ENTRY, entry_id, LINES, "the stored text differs from the audit trail's (the same lines)"
            )
        )
    return stored, problems


def _add_to_sums(
    sums: dict[tuple[Any, ...], list[int]], entry: dict[str, Any], lines: Iterable[dict[str, Any]]
) -> None:
    """Add a live entry's lines to the sums per account, currency and day (what the triggers of
    revision 0019 keep in ``journal_balance``). An amount that is no whole number (reported as
    a line problem) counts as 0."""
    day = entry["entry_date"]
    for line in lines:
        found = sums.setdefault((_name(line["account_id"]), _name(line["currency"]), day), [0, 0, 0])
        for index, name in enumerate(("debit", "credit")):
            value = line[name]
            if type(value) is int:
                found[index] += value
        found[2] += 1


def _balance_problems(
    session: Session, org_id: str, sums: dict[tuple[Any, ...], list[int]]
) -> tuple[int, list[DataProblem]]:
    """``journal_balance`` of the organization against ``sums`` (the live entries' lines):
    (balance rows read, problems). A row is named ``account currency day``."""
    problems: list[DataProblem] = []
    read = 0
    columns = [_BALANCE.c[name] for name in (*_BALANCE_KEY, *_BALANCE_SUMS)]
    found = session.execute(
        select(*columns).where(_BALANCE.c.org_id == org_id).order_by(*(_BALANCE.c[k] for k in _BALANCE_KEY))
    )
    left = dict(sums)
    for account_id, currency, day, debit, credit, lines in found:
        read += 1
        key = (account_id, currency, day)
        name = f"{account_id} {currency} {to_wire(day)}"
        expected = left.pop(key, None)
        if expected is None:
            problems.append(
                DataProblem(
                    "journal_balance",
                    name,
                    None,
                    f"stored debit {debit}, credit {credit} over {lines} lines; no live entry has a line of it",
                )
            )
            continue
        for field, value, want in zip(_BALANCE_SUMS, (debit, credit, lines), expected, strict=True):
            if value != want:
                problems.append(
                    DataProblem(
                        "journal_balance",
                        name,
                        field,
                        f"stored {value!r}, the entries' lines sum to {want!r}",
                    )
                )
    for (account_id, currency, day), (debit, credit, lines) in sorted(
        left.items(), key=lambda kv: str(kv[0])
    ):
        problems.append(
            DataProblem(
                "journal_balance",
                f"{account_id} {currency} {to_wire(day)}",
                None,
                f"the entries' lines sum to debit {debit}, credit {credit} over {lines} lines; the store has no row",
            )
        )
    return read, problems


def verify_data(session: Session, org_id: str) -> tuple[int, list[DataProblem]]:
    """Compare the organization's audited rows with its replayed chain, and its journal balances
    with its entries' lines: (rows checked, problems). Rows checked counts the entities' rows
    and the balance rows (an entry's lines are checked with it)."""
    problems: list[DataProblem] = []
    checked = 0
    keys = SubjectKeys(session, org_id, audit_key(session))
    sums: dict[tuple[Any, ...], list[int]] = {}
    old_lines: list[dict[str, list[dict[str, Any]]]] = []

    def converted() -> dict[str, list[dict[str, Any]]]:
        """The lines older events recorded, by entry (entries converted by revision 0019): replayed
        once, when the first such entry is met."""
        if not old_lines:
            old_lines.append(_recorded_lines(_replay(session, org_id, LINE, keys)))
        return old_lines[0]

    for entity, table in audited_tables().items():
        images = _replay(session, org_id, entity, keys)
        seen: set[str] = set()
        for row in _rows(session, table, org_id):
            checked += 1
            seen.add(row["id"])
            image = images.get(row["id"])
            if entity == ENTRY:
                lines, found = _entry_lines(row, image, converted)
                problems.extend(found)
                if lines is not None and not row["deleted"]:
                    _add_to_sums(sums, row, lines)
                if image is not None and image.values is not None:
                    # Its lines are compared above: the entry's other fields below.
                    image = _Image(
                        {k: v for k, v in image.values.items() if k != LINES}, image.at, image.actor
                    )
            if image is None:
                problems.append(
                    DataProblem(
                        entity, row["id"], None, "the row has no audit history (written behind the server)"
                    )
                )
            elif image.values is None:
                problems.append(
                    DataProblem(entity, row["id"], None, "the audit trail removed this row, yet it is stored")
                )
            else:
                problems.extend(_compare(entity, row, image))
        for entity_id, image in images.items():
            if entity_id in seen or image.values is None or image.values.get("deleted") is True:
                continue  # removed as the chain says, or a tombstone dropped by ops-server prune
            problems.append(
                DataProblem(entity, entity_id, None, "the audit trail has this row, the store does not")
            )
    balances, found = _balance_problems(session, org_id, sums)
    return checked + balances, problems + found

"""A data subject's copy of their data: one ZIP built by the server.

``data.json`` holds every record about the subject in every module (found through the links of
``common.subjects``, legal records included), the audit events about those records (opened
with the subject's key) and, for a user, their account, memberships and sign-in history; one CSV
per entity repeats the records in a spreadsheet's shape; ``README.txt`` explains each field in
plain words, from the schema's own classification. Nothing secret is exported: password hashes,
token hashes and audit salts are left out.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Table, select, tuple_
from sqlalchemy.orm import Session

from common.classification import Classification, classification_of
from common.schema import (
    ENTITIES,
    AppUser,
    AuditEvent,
    Employee,
    Membership,
    Notification,
    Organization,
    RefreshToken,
)
from common.schema.base import table_of
from common.schema.types import utcnow
from common.subjects import SUBJECT_ENTITIES, SUBJECT_LINKS
from common.wire import to_wire
from sync_server.audit import POSTINGS, audit_key, full_event_images
from sync_server.subject_keys import SubjectKeys

DATA_EXPORT_NOTE = (
    "Every record held about you, by organization. Fields are explained in README.txt. "
    "Values shown as [erased] were removed on request."
)
# Never exported: secrets, not data about the person.
_SECRET_COLUMNS = frozenset({"password_hash", "token_hash", "salt", "prev_hash", "hash", "wrapped_key"})
_PLAIN = {
    Classification.PUBLIC: "visible to every member of the organization",
    Classification.BUSINESS: "business data, visible to staff of the module",
    Classification.PERSONAL: "your personal data",
    Classification.SENSITIVE: "sensitive personal data (pay, bank account, national id), seen by few",
}
_WORDS = {"id": "identifier", "org": "organization", "dob": "date of birth"}


def _wire_row(row: Any) -> dict[str, Any]:
    return {k: to_wire(v) for k, v in row.items() if k not in _SECRET_COLUMNS}


def _links(subject_type: str) -> list[tuple[Table, list[str]]]:
    found: list[tuple[Table, list[str]]] = []
    for name, model in ENTITIES.items():
        table = table_of(model)
        if name in SUBJECT_ENTITIES:
            if SUBJECT_ENTITIES[name] == subject_type:
                found.append((table, ["id"]))
            continue
        if "subject_type" in table.c and "subject_id" in table.c:
            found.append((table, ["subject_type", "subject_id"]))
            continue
        for column, linked in SUBJECT_LINKS:
            if linked == subject_type and column in table.c:
                found.append((table, [column]))
                break
    return found


def subject_records(
    session: Session, org_id: str, subject_type: str, subject_id: str
) -> dict[str, list[dict[str, Any]]]:
    """Every row of the organization about the subject, by entity (tombstones left out)."""
    records: dict[str, list[dict[str, Any]]] = {}
    for table, link in _links(subject_type):
        values = [subject_type, subject_id] if len(link) == 2 else [subject_id]
        where = [table.c[c] == v for c, v in zip(link, values, strict=True)]
        rows = session.execute(
            select(table).where(table.c.org_id == org_id, table.c.deleted.is_(False), *where)
        ).mappings()
        found = [_wire_row(row) for row in rows]
        if found:
            records[table.name] = found
    return records


def audit_events_about(
    session: Session, org_id: str, records: Mapping[str, list[dict[str, Any]]], actor: str | None = None
) -> list[dict[str, Any]]:
    """The audit events about these records (and, given ``actor``, the person's sign-ins)."""
    pairs = [(entity, row["id"]) for entity, rows in records.items() for row in rows]
    columns = [
        c for c in table_of(AuditEvent).columns if c.name not in _SECRET_COLUMNS and c.name != "org_id"
    ]
    events: list[dict[str, Any]] = []
    for start in range(0, len(pairs), 200):
        chunk = pairs[start : start + 200]
        stmt = select(*columns).where(
            AuditEvent.org_id == org_id, tuple_(AuditEvent.entity, AuditEvent.entity_id).in_(chunk)
        )
        events.extend(dict(row) for row in session.execute(stmt).mappings())
    if actor is not None:
        stmt = select(*columns).where(
            AuditEvent.org_id == org_id, AuditEvent.actor == actor, AuditEvent.action.like("auth.%")
        )
        events.extend(dict(row) for row in session.execute(stmt).mappings())
    keys = SubjectKeys(session, org_id, audit_key(session))
    keys.prefetch(events)
    # Children nested in their parent's event whole, as the audit API shows them; a document's
    # posting left out (the organization's bookkeeping, not the person's data: its entry had an
    # event of its own, not in the export, before it was audited in the document's event).
    unique = {
        event["seq"]: _without_postings(full_event_images(keys.reveal_event(event))) for event in events
    }
    return [{k: to_wire(v) for k, v in unique[seq].items()} for seq in sorted(unique)]


def _without_postings(event: dict[str, Any]) -> dict[str, Any]:
    """The event without the journal entries its document's image holds (``POSTINGS``)."""
    for side in ("before", "after"):
        image = event.get(side)
        if isinstance(image, dict) and POSTINGS in image:
            event[side] = {k: v for k, v in image.items() if k != POSTINGS}
    return event


def user_records(session: Session, org_id: str, user_id: str) -> dict[str, list[dict[str, Any]]]:
    """A user's data in one organization: their membership, employee record(s) and everything
    about those, their notifications."""
    records: dict[str, list[dict[str, Any]]] = {}
    membership = session.execute(
        select(Membership.__table__).where(Membership.org_id == org_id, Membership.user_id == user_id)
    ).mappings()
    records["membership"] = [_wire_row(row) for row in membership]
    employees = session.execute(
        select(Employee.id).where(Employee.org_id == org_id, Employee.user_id == user_id)
    ).scalars()
    for employee_id in employees:
        for entity, rows in subject_records(session, org_id, "employee", employee_id).items():
            records.setdefault(entity, []).extend(rows)
    notes = session.execute(
        select(Notification.__table__).where(Notification.org_id == org_id, Notification.user_id == user_id)
    ).mappings()
    found = [_wire_row(row) for row in notes]
    if found:
        records["notification"] = found
    return records


def account_of(session: Session, user_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A user's account and sign-in history (sessions: device, when signed in, when ended)."""
    user = session.execute(select(AppUser.__table__).where(AppUser.id == user_id)).mappings().one()
    sessions = session.execute(
        select(
            RefreshToken.family_id,
            RefreshToken.device_id,
            RefreshToken.device_name,
            RefreshToken.signed_in_at,
            RefreshToken.issued_at,
            RefreshToken.expires_at,
            RefreshToken.revoked_at,
        )
        .where(RefreshToken.user_id == user_id)
        .order_by(RefreshToken.issued_at)
    ).mappings()
    return _wire_row(user), [_wire_row(row) for row in sessions]


def org_name(session: Session, org_id: str) -> str:
    return str(session.execute(select(Organization.name).where(Organization.id == org_id)).scalar())


def _humanize(column: str) -> str:
    return " ".join(_WORDS.get(word, word) for word in column.split("_"))


def _table(entity: str) -> Table | None:
    if entity in ENTITIES:
        return table_of(ENTITIES[entity])
    return {
        "membership": table_of(Membership),
        "notification": table_of(Notification),
        "app_user": table_of(AppUser),
    }.get(entity)


def readme(entities: Iterable[str], subject: str) -> str:
    """``README.txt``: what the files are, and each field of each entity in plain words."""
    lines = [
        f"A copy of the data held about {subject}, made {to_wire(utcnow())}.",
        "",
        "data.json   every record below, grouped by organization, with the audit events",
        "            (who changed what, and when) about those records.",
        "<entity>.csv the same records, one file per kind of record, one row per record.",
        "",
        "Values shown as [erased] were removed on request; amounts of legal records (invoices,",
        "payslips) are kept for as long as the law says, as the retention schedule explains.",
        "",
        "Fields",
        "------",
    ]
    for entity in sorted(set(entities)):
        table = _table(entity)
        if table is None:
            continue
        lines.append("")
        lines.append(f"{entity}.csv — {entity.replace('_', ' ')} records")
        for column in table.columns:
            if column.name in _SECRET_COLUMNS:
                continue
            kind = _PLAIN[classification_of(column)]
            lines.append(f"  {column.name}: the {_humanize(column.name)} ({kind})")
    lines += [
        "",
        "sign_in_history.csv — your sign-ins: the device, when you signed in, when the session ended",
        "audit_events.csv — the audit trail about these records: when (at), who (actor), what (action),",
        "  which record (entity, entity_id), the values before and after the change",
    ]
    return "\n".join(lines) + "\n"


def _json_default(value: Any) -> Any:
    return str(value)


def _csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    fields: list[str] = []
    for row in rows:
        fields.extend(k for k in row if k not in fields)
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: orjson.dumps(v).decode() if isinstance(v, dict | list) else v for k, v in row.items()}
        )
    return out.getvalue().encode("utf-8")


def build_zip(data: dict[str, Any], subject: str) -> bytes:
    """The ZIP of ``data`` (``{"subject", "organizations": [{..., "records", "audit_events"}]}``)."""
    by_entity: dict[str, list[dict[str, Any]]] = {}
    events: list[dict[str, Any]] = []
    for org in data["organizations"]:
        for entity, rows in org["records"].items():
            by_entity.setdefault(entity, []).extend(rows)
        events.extend({"organization": org["org_name"], **e} for e in org["audit_events"])
    if data.get("account"):
        by_entity["app_user"] = [data["account"]]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "data.json",
            orjson.dumps(data, default=_json_default, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS),
        )
        for entity, rows in sorted(by_entity.items()):
            archive.writestr(f"{entity}.csv", _csv(rows))
        if data.get("sign_in_history") is not None:
            archive.writestr("sign_in_history.csv", _csv(data["sign_in_history"]))
        archive.writestr("audit_events.csv", _csv(events))
        archive.writestr("README.txt", readme(by_entity, subject))
    return buffer.getvalue()


def exported_at() -> datetime:
    return utcnow()

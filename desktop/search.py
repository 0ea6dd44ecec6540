"""Search across records and screens for the command palette (no Qt here).

Each :class:`RecordKind` names the fields a search looks in (name, number, SKU, e-mail,
barcode); a field is searched only when the user may read it under the read rules of sync, and
a kind only when its entity is readable at all, so the palette never finds a record by a field
it could not show. Ranking: an exact match first (a scanned barcode finds its product), then
prefixes, then words containing the text; screens and actions rank the same way by title.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

from common.access import readable_columns
from common.schema import ENTITIES
from common.schema.base import table_of
from desktop.lists import search_terms
from desktop.session import UserSession

LIMIT_PER_KIND = 8
MAX_HITS = 30


@dataclass(frozen=True)
class RecordKind:
    entity: str
    noun: str
    title_field: str
    fields: tuple[str, ...]  # searched, in order of importance
    subtitle_fields: tuple[str, ...] = ()
    page: str | None = None  # the list page that shows it, when there is one


RECORD_KINDS: tuple[RecordKind, ...] = (
    RecordKind("product", "Product", "name", ("barcode", "sku", "name"), ("sku",), "products"),
    RecordKind("customer", "Customer", "name", ("name", "email", "phone"), ("email",), "customers"),
    RecordKind("supplier", "Supplier", "name", ("name", "email", "contact_name"), ("email",), "suppliers"),
    RecordKind("warehouse", "Warehouse", "name", ("code", "name"), ("code",), "warehouses"),
    RecordKind("purchase_order", "Purchase order", "number", ("number",), ("status",), "purchase_orders"),
    RecordKind("invoice", "Invoice", "number", ("number",), ("status",), "invoices"),
    # A bill is found by the supplier's number too (an opening bill by the old system's).
    RecordKind(
        "supplier_bill",
        "Supplier bill",
        "number",
        ("number", "supplier_reference"),
        ("supplier_reference",),
        "supplier_bills",
    ),
    RecordKind("employee_directory", "Colleague", "name", ("name", "work_email"), ("job_title",)),
    RecordKind("project", "Project", "name", ("name", "code"), ("status",)),
    RecordKind("task", "Task", "title", ("title",), ("status",)),
    RecordKind("account", "Account", "name", ("code", "name"), ("code",)),
)


@dataclass(frozen=True)
class Hit:
    """One palette entry: a record (``entity``/``entity_id``) or a screen/action (``action``)."""

    title: str
    subtitle: str
    rank: int  # lower is better
    entity: str | None = None
    entity_id: str | None = None
    page: str | None = None
    action: str | None = None


def _rank(value: str, text: str) -> int | None:
    value, text = value.lower(), text.lower()
    if value == text:
        return 0
    if value.startswith(text):
        return 1
    if text in value:
        return 2
    return None


def searchable_kinds(permissions: frozenset[str]) -> list[tuple[RecordKind, tuple[str, ...]]]:
    """Each kind the user may search, with the fields they may read (title field included)."""
    found = []
    for kind in RECORD_KINDS:
        readable = readable_columns(kind.entity, permissions)
        fields = tuple(f for f in kind.fields if f in readable)
        if fields and kind.title_field in readable:
            found.append((kind, fields))
    return found


def search_records(user: UserSession, text: str, limit: int = LIMIT_PER_KIND) -> list[Hit]:
    """Records matching ``text`` that the user may read, best first."""
    terms = search_terms(text)
    if not terms:
        return []
    phrase = " ".join(terms)
    hits: list[Hit] = []
    with user.store.read_session() as db:
        for kind, fields in searchable_kinds(user.permissions):
            table = table_of(ENTITIES[kind.entity])
            readable = readable_columns(kind.entity, user.permissions)
            shown = [kind.title_field, *(f for f in kind.subtitle_fields if f in readable)]
            columns = [table.c.id, *(table.c[f] for f in dict.fromkeys([*shown, *fields]))]
            base = select(*columns).where(table.c.org_id == user.org_id, table.c.deleted.is_(False))
            # Prefix matches use the indexes (a barcode, a SKU, a number); contains-matches
            # follow only when prefixes did not fill the kind's share.
            prefix = phrase.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            rows = list(
                db.execute(
                    base.where(or_(*(table.c[f].like(f"{prefix}%", escape="\\") for f in fields))).limit(
                        limit
                    )
                ).mappings()
            )
            if len(rows) < limit:
                seen = {r["id"] for r in rows}
                contains = base.where(
                    *(or_(*(func.lower(table.c[f]).contains(term.lower(), autoescape=True) for f in fields))
                      for term in terms)
                ).limit(limit)  # fmt: skip
                rows += [r for r in db.execute(contains).mappings() if r["id"] not in seen]
            for row in rows[:limit]:
                ranks = [_rank(str(row[f]), phrase) for f in fields if row[f] is not None]
                best = min((r for r in ranks if r is not None), default=3)
                subtitle = " · ".join(str(row[f]) for f in shown[1:] if row.get(f))
                hits.append(
                    Hit(
                        title=str(row[kind.title_field] or ""),
                        subtitle=f"{kind.noun}" + (f" · {subtitle}" if subtitle else ""),
                        rank=best,
                        entity=kind.entity,
                        entity_id=str(row["id"]),
                        page=kind.page,
                    )
                )
    hits.sort(key=lambda h: (h.rank, h.title.lower()))
    return hits[:MAX_HITS]


def search_actions(actions: Sequence[tuple[str, str]], text: str) -> list[Hit]:
    """Screens and actions (``(key, title)``) whose title matches ``text``, best first."""
    phrase = " ".join(search_terms(text))
    hits = []
    for key, title in actions:
        rank = _rank(title, phrase) if phrase else 1
        if rank is not None:
            hits.append(
                Hit(title=title, subtitle="Go to" if ":" not in key else "Action", rank=rank, action=key)
            )
    hits.sort(key=lambda h: (h.rank, h.title))
    return hits


def record_fields(user: UserSession, entity: str, entity_id: str) -> list[tuple[str, Any]]:
    """A record's fields the user may read (what opening a record without its own page shows)."""
    table = table_of(ENTITIES[entity])
    readable = readable_columns(entity, user.permissions)
    hidden = {"id", "org_id", "version", "updated_by", "deleted"}
    columns = [c for c in table.c if c.name in readable and c.name not in hidden]
    with user.store.read_session() as db:
        row = db.execute(
            select(*columns).where(table.c.org_id == user.org_id, table.c.id == entity_id)
        ).mappings().first()  # fmt: skip
    if row is None:
        return []
    return [(name.replace("_", " ").capitalize(), value) for name, value in row.items() if value is not None]

"""Search across records and screens for the command palette (no Qt here).

Each :class:`RecordKind` names the fields a search looks in (name, number, SKU, e-mail,
barcode); a field is searched only when the user may read it under the read rules of sync, and
a kind only when its entity is readable at all, so the palette never finds a record by a field
it could not show. Ranking: an exact match first (a scanned barcode finds its product), then
prefixes, then words containing the text; screens and actions rank the same way by title.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Select,
    Table,
    UniqueConstraint,
    and_,
    column,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy import table as sa_table
from sqlalchemy.orm import Session
from sqlalchemy.sql import util as sql_util

from common.access import readable_columns
from common.schema import ENTITIES
from common.schema.base import table_of
from desktop import search_index
from desktop.lists import search_terms
from desktop.search_index import SearchIndex
from desktop.session import UserSession

LIMIT_PER_KIND = 8
MAX_HITS = 30
# A search the indexes cannot answer tests at most this many rows of a kind (see _Finder).
SCAN_ROWS = 10_000
# A prefix is looked up as ranges of an index for each case spelling of its first characters.
PREFIX_HEAD = 3


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


def _trigram_index(kind: RecordKind, readable: frozenset[str]) -> SearchIndex | None:
    """The kind's trigram index, when it may answer for this user: it holds exactly the kind's
    searched fields and the user may read every one of them (a match in a column they may not
    read would find a record through it). Otherwise the search reads the readable fields."""
    index = search_index.index_for(kind.entity)
    if index is None or not set(index.columns) <= readable or set(index.columns) != set(kind.fields):
        return None
    return index


@lru_cache(maxsize=64)
def _prefix_indexed(table: Table) -> frozenset[str]:
    """Columns some b-tree index of ``table`` orders within an organization (``org_id`` first):
    a prefix of them is a range of that index."""
    keys = [tuple(c.name for c in index.columns) for index in table.indexes]
    keys += [
        tuple(c.name for c in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    ]
    return frozenset(key[1] for key in keys if len(key) > 1 and key[0] == "org_id")


def _case_forms(text: str) -> list[str]:
    """Every spelling of ``text`` that ``LIKE`` takes as equal (it folds ASCII letters only)."""
    forms = [""]
    for ch in text:
        letters = sorted({ch.lower(), ch.upper()}) if ch.isascii() and ch.isalpha() else [ch]
        forms = [form + letter for form in forms for letter in letters]
    return forms


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _Finder:
    """The queries that find one kind's records for a search, each stopping at ``limit`` rows
    and none reading every row of a big table.

    - A kind with a trigram index the user may read whole (:func:`_trigram_index`): terms of three
      characters or more are looked up in it (a prefix as a column-initial phrase, ``^"…"``) and
      the rows it names are read in its order until ``limit`` pass; the ``LIKE`` tests that
      decided before are kept on those rows (the index folds case beyond ASCII, ``LIKE`` does
      not), so exactly the same rows match.
    - A prefix of an indexed column (a number, a code, a SKU, a name) is a few ranges of its
      b-tree index, one per spelling ``LIKE`` takes as equal (:data:`PREFIX_HEAD` characters).
    - Anything else (a word inside a column of a kind without a trigram index, a one- or two-
      character term, a prefix of a column without an index) is tested on at most
      :data:`SCAN_ROWS` rows of the kind, in the table's order: past that, a keystroke would cost
      more than the palette's 100 ms for a text that only narrows on the next keystroke.
    """

    def __init__(
        self,
        table: Table,
        fields: tuple[str, ...],
        columns: list[Any],
        org_id: str,
        index: SearchIndex | None,
        limit: int,
    ) -> None:
        self.table, self.fields, self.columns, self.org_id = table, fields, columns, org_id
        self.index, self.limit = index, limit
        self.base = select(*columns).where(table.c.org_id == org_id, table.c.deleted.is_(False))

    def prefixed(self, db: Session, phrase: str) -> list[RowMapping]:
        pattern = f"{_escape_like(phrase)}%"
        starts = or_(*(self.table.c[f].like(pattern, escape="\\") for f in self.fields))
        if self.index is not None and len(phrase) >= search_index.MIN_TERM:
            query = "^" + search_index.match_query([phrase])
            return self._read(db, self._through_index(query).where(starts))
        indexed = [f for f in self.fields if f in _prefix_indexed(self.table)]
        rows: list[RowMapping] = []
        if indexed:
            # The organization is tested only in the ranges: SQLite would otherwise walk a whole
            # index for it rather than read the ranges.
            ranged = select(*self.columns).where(self.table.c.deleted.is_(False), self._ranges(indexed, phrase))
            rows = self._read(db, ranged.where(starts))
        others = [f for f in self.fields if f not in indexed]
        if others and len(rows) < self.limit:
            seen = {r["id"] for r in rows}
            unindexed = or_(*(self.table.c[f].like(pattern, escape="\\") for f in others))
            rows += [r for r in self._scanned(db, unindexed) if r["id"] not in seen]
        return rows[: self.limit]

    def containing(self, db: Session, terms: list[str]) -> list[RowMapping]:
        """Rows holding every term in one of the fields (each term in any of them)."""

        def holds(source: Any) -> list[ColumnElement[bool]]:
            return [
                or_(*(func.lower(source.c[f]).contains(term.lower(), autoescape=True) for f in self.fields))
                for term in terms
            ]

        indexed = [t for t in terms if len(t) >= search_index.MIN_TERM]
        if self.index is not None and indexed:
            query = search_index.match_query(indexed)
            return self._read(db, self._through_index(query).where(*holds(self.table)))
        window = self._window()
        return list(db.execute(select(window).where(*holds(window)).limit(self.limit)).mappings())

    def _read(self, db: Session, stmt: Select[Any]) -> list[RowMapping]:
        return list(db.execute(stmt.limit(self.limit)).mappings())

    def _through_index(self, query: str) -> Select[Any]:
        """The kind's rows the trigram index names for ``query``, read in the index's order (the
        index drives the join, so the read stops at the limit)."""
        assert self.index is not None
        name, table = self.index.name, self.table.name
        fts = sa_table(name, column("rowid"))
        return self.base.select_from(
            fts.join(self.table, literal_column(f"{table}.rowid") == fts.c.rowid)
        ).where(text(f"{name} MATCH :palette_match").bindparams(palette_match=query))

    def _ranges(self, fields: list[str], phrase: str) -> ColumnElement[bool]:
        """Rows whose field starts with ``phrase``'s first characters in any case: ranges of the
        fields' b-tree indexes (``org_id`` in each, so SQLite reads each range from its index)."""
        branches = []
        for field in fields:
            col = self.table.c[field]
            for low in _case_forms(phrase[:PREFIX_HEAD]):
                last = ord(low[-1]) + 1
                within = [col >= low]
                if last <= sys.maxunicode and not 0xD800 <= last <= 0xDFFF:
                    within.append(col < low[:-1] + chr(last))
                branches.append(and_(self.table.c.org_id == self.org_id, *within))
        return or_(*branches)

    def _window(self) -> Any:
        """At most :data:`SCAN_ROWS` of the kind's rows, read in table order (the organization
        tested on the row, so SQLite reads the table rather than walk an index)."""
        org = self.table.c.org_id.concat("") == self.org_id
        return select(*self.columns).where(org, self.table.c.deleted.is_(False)).limit(SCAN_ROWS).subquery()

    def _scanned(self, db: Session, where: ColumnElement[bool]) -> list[RowMapping]:
        window = self._window()
        adapted = sql_util.ClauseAdapter(window).traverse(where)
        return list(db.execute(select(window).where(adapted).limit(self.limit)).mappings())


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
            finder = _Finder(table, fields, columns, user.org_id, _trigram_index(kind, readable), limit)
            # Prefixes first (a barcode, a SKU, a number); words containing the text follow only
            # when prefixes did not fill the kind's share.
            rows = finder.prefixed(db, phrase)
            if len(rows) < limit:
                seen = {r["id"] for r in rows}
                rows += [r for r in finder.containing(db, terms) if r["id"] not in seen]
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

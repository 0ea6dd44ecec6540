"""Search across records and screens for the command palette (no Qt here).

Each :class:`RecordKind` names the fields a search looks in (name, number, SKU, e-mail,
barcode); a field is searched only when the user may read it under the read rules of sync, and
a kind only when its entity is readable at all, so the palette never finds a record by a field
it could not show. Ranking: an exact match first (a scanned barcode finds its product), then
prefixes, then words containing the text; screens and actions rank the same way by title.

A keystroke reads no kind whole (issue 17: ≤ 100 ms over 500k records): see :class:`_Finder`.
A trigram index answers only for a user who may read every column it holds.
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
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy import table as sa_table
from sqlalchemy.orm import Session

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
# Of the rows a trigram index finds, the palette ranks up to this many and shows the best.
INDEX_POOL = 200
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


def _after(text: str) -> str | None:
    """The least string above every string starting with ``text`` (``None``: none can be made)."""
    last = ord(text[-1]) + 1
    if last > sys.maxunicode:
        return None
    return text[:-1] + chr(0xE000 if 0xD800 <= last <= 0xDFFF else last)


def _contains_pattern(term: str) -> str:
    return f"%{_escape_like(term.lower())}%"


class _Finder:
    """The queries that find one kind's records for a search, each stopping at ``limit`` rows
    and none reading every row of a big table.

    - A kind with a trigram index the user may read whole (:func:`_trigram_index`): terms of three
      characters or more are looked up in it (a prefix as a column-initial phrase, ``^"…"``) and
      the rows it names are read in its order until ``limit`` pass; the ``LIKE`` tests that
      decided before are kept on those rows (the index folds case beyond ASCII, ``LIKE`` does
      not), so exactly the same rows match.
    - A prefix of an indexed column (a number, a code, a SKU, a name) is a few ranges of its
      b-tree index, one per spelling ``LIKE`` takes as equal of its first :data:`PREFIX_HEAD`
      characters, read in the index's order.
    - Anything else (a word inside a column of a kind without a trigram index, a text made of
      one- or two-character terms, a prefix of a column without an index) is tested on at most
      :data:`SCAN_ROWS` rows of the kind, in the table's order: past that, a keystroke would cost
      more than the palette's 100 ms, for a text that narrows on the next keystroke.

    The statements are built once per kind and shape (the values are bound parameters): building
    them cost more than running them on a kind with few rows.
    """

    def __init__(
        self, table: Table, columns: tuple[str, ...], fields: tuple[str, ...], index: str | None, limit: int
    ) -> None:
        self.table, self.fields, self.index, self.limit = table, fields, index, limit
        self.columns = [table.c[c] for c in columns]
        self.title = columns[1]
        self.org: Any = bindparam("palette_org")
        self.base = select(*self.columns).where(table.c.org_id == self.org, table.c.deleted.is_(False))
        self.ranged = [f for f in fields if f in _prefix_indexed(table)]
        self._built: dict[tuple[Any, ...], Select[Any]] = {}

    def prefixed(self, db: Session, org_id: str, phrase: str) -> list[RowMapping]:
        params: dict[str, Any] = {"palette_org": org_id, "palette_prefix": f"{_escape_like(phrase)}%"}
        if self.index is not None and len(phrase) >= search_index.MIN_TERM:
            params["palette_match"] = "^" + search_index.match_query([phrase])
            return self._best(self._run(db, ("fts_prefix",), params), phrase)
        rows: list[RowMapping] = []
        forms = _case_forms(phrase[:PREFIX_HEAD])
        bounds = [_after(form) for form in forms]
        ranged = self.ranged if all(bounds) else []
        if ranged:
            for n, (form, bound) in enumerate(zip(forms, bounds, strict=True)):
                params[f"palette_low_{n}"], params[f"palette_high_{n}"] = form, bound
            rows = self._run(db, ("ranges", len(forms)), params)
        if len(ranged) < len(self.fields) and len(rows) < self.limit:
            seen = {r["id"] for r in rows}
            shape = ("scan_prefix", tuple(f for f in self.fields if f not in ranged))
            rows += [r for r in self._run(db, shape, params) if r["id"] not in seen]
        return rows[: self.limit]

    def containing(self, db: Session, org_id: str, terms: list[str]) -> list[RowMapping]:
        """Rows holding every term in one of the fields (each term in any of them)."""
        params: dict[str, Any] = {"palette_org": org_id}
        params.update({f"palette_term_{n}": _contains_pattern(t) for n, t in enumerate(terms)})
        indexed = [t for t in terms if len(t) >= search_index.MIN_TERM]
        if self.index is not None and indexed:
            params["palette_match"] = search_index.match_query(indexed)
            # A term too short for the index is tested on the rows the index names for the
            # others: of a common word (a sixth of the products), only the first SCAN_ROWS.
            rows = self._run(db, ("fts_contains", len(terms), len(indexed) < len(terms)), params)
            return self._best(rows, " ".join(terms))
        return self._run(db, ("scan_contains", len(terms)), params)

    def _best(self, rows: list[RowMapping], phrase: str) -> list[RowMapping]:
        """The kind's share of rows the index named (up to :data:`INDEX_POOL`), as the palette
        ranks them: an exact match first, then by title (what a walk in name order gave)."""

        def rank(row: RowMapping) -> tuple[int, str]:
            ranks = [_rank(str(row[f]), phrase) for f in self.fields if row[f] is not None]
            return min((r for r in ranks if r is not None), default=3), str(row[self.title] or "").lower()

        return sorted(rows, key=rank)[: self.limit]

    def _run(self, db: Session, shape: tuple[Any, ...], params: dict[str, Any]) -> list[RowMapping]:
        stmt = self._built.get(shape)
        if stmt is None:
            stmt = self._built[shape] = self._build(shape)
        return list(db.execute(stmt, params).mappings())

    def _build(self, shape: tuple[Any, ...]) -> Select[Any]:
        table = self.table

        def starts(source: Any, fields: Sequence[str]) -> ColumnElement[bool]:
            return or_(*(source.c[f].like(bindparam("palette_prefix"), escape="\\") for f in fields))

        def holds(source: Any, count: int) -> list[ColumnElement[bool]]:
            return [
                or_(
                    *(
                        func.lower(source.c[f]).like(bindparam(f"palette_term_{n}"), escape="\\")
                        for f in self.fields
                    )
                )
                for n in range(count)
            ]

        match shape:
            case ("fts_prefix",):
                return self._through_index(bounded=False).where(starts(table, self.fields)).limit(INDEX_POOL)
            case ("fts_contains", count, bounded):
                return self._through_index(bounded).where(*holds(table, count)).limit(INDEX_POOL)
            case ("ranges", count):
                # Each range names the organization: SQLite then reads each range from its index
                # (with it outside the ranges, it walks a whole index for the organization).
                branches = [
                    and_(
                        table.c.org_id == self.org,
                        table.c[f] >= bindparam(f"palette_low_{n}"),
                        table.c[f] < bindparam(f"palette_high_{n}"),
                    )
                    for f in self.ranged
                    for n in range(count)
                ]
                stmt = select(*self.columns).where(
                    table.c.deleted.is_(False), or_(*branches), starts(table, self.fields)
                )
            case ("scan_prefix", fields):
                window = self._window()
                stmt = select(window).where(starts(window, fields))
            case ("scan_contains", count):
                window = self._window()
                stmt = select(window).where(*holds(window, count))
            case _:
                raise ValueError(shape)
        return stmt.limit(self.limit)

    def _through_index(self, bounded: bool) -> Select[Any]:
        """The kind's rows the trigram index names for ``palette_match``; ``bounded``: only the
        first :data:`SCAN_ROWS` it names."""
        assert self.index is not None
        name, table = self.index, self.table
        match = text(f"{name} MATCH :palette_match")
        if not bounded:
            # The index drives the join, in its order, so the read stops at the limit.
            found: Select[Any] = (
                select(literal_column("rowid").label("rowid")).select_from(sa_table(name)).where(match)
            )
            sub = found.subquery()
            return self.base.select_from(
                sub.join(table, literal_column(f"{table.name}.rowid") == sub.c.rowid)
            )
        # The rowids gathered first (at most SCAN_ROWS), each row then read by its rowid: with the
        # organization tested on the row, no index walk competes with that plan.
        in_index = f"{table.name}.rowid IN (SELECT rowid FROM {name} WHERE {name} MATCH :palette_match LIMIT {SCAN_ROWS})"
        return select(*self.columns).where(
            table.c.org_id.concat("") == self.org, table.c.deleted.is_(False), text(in_index)
        )

    def _window(self) -> Any:
        """At most :data:`SCAN_ROWS` of the kind's rows, read in table order (the organization
        tested on the row, so SQLite reads the table rather than walk an index)."""
        org = self.table.c.org_id.concat("") == self.org
        return select(*self.columns).where(org, self.table.c.deleted.is_(False)).limit(SCAN_ROWS).subquery()


@lru_cache(maxsize=256)
def _finder(
    entity: str,
    columns: tuple[str, ...],
    fields: tuple[str, ...],
    index: str | None,
    limit: int,
    scan_rows: int,
) -> _Finder:
    """One finder per kind and what the user may read of it (``scan_rows``: tests change it)."""
    return _Finder(table_of(ENTITIES[entity]), columns, fields, index, limit)


def search_records(user: UserSession, text: str, limit: int = LIMIT_PER_KIND) -> list[Hit]:
    """Records matching ``text`` that the user may read, best first."""
    terms = search_terms(text)
    if not terms:
        return []
    phrase = " ".join(terms)
    hits: list[Hit] = []
    with user.store.read_session() as db:
        for kind, fields in searchable_kinds(user.permissions):
            readable = readable_columns(kind.entity, user.permissions)
            shown = [kind.title_field, *(f for f in kind.subtitle_fields if f in readable)]
            columns = ("id", *dict.fromkeys([*shown, *fields]))
            # Not while the indexes are built after a full download (desktop.search_build).
            index = _trigram_index(kind, readable) if user.store.search_ready else None
            finder = _finder(kind.entity, columns, fields, index and index.name, limit, SCAN_ROWS)
            # Prefixes first (a barcode, a SKU, a number); words containing the text follow only
            # when prefixes did not fill the kind's share.
            rows = finder.prefixed(db, user.org_id, phrase)
            if len(rows) < limit:
                seen = {r["id"] for r in rows}
                rows += [r for r in finder.containing(db, user.org_id, terms) if r["id"] not in seen]
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

"""Big lists over the local store, filtered, sorted and paged in SQL (no Qt here).

A :class:`ListSource` is a ``SELECT`` with labelled columns, the columns a search looks in and
the columns a user may sort by. The table model asks it for one page at a time, so a list of
100,000 products costs one small indexed query to show, and a keystroke in the search box one
filtered query, never a load of every row.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, text
from sqlalchemy.orm import Session

from desktop import search_index
from desktop.local_store import LocalStore

PAGE_SIZE = 200
MAX_SEARCH_TERMS = 5
MAX_SEARCH_LENGTH = 100
# Up to this many rows found by a search index are fetched and sorted; more, and the list walks
# its sort order's index instead, testing each row, until a page is full (a common word matches a
# sixth of the rows). Reading N matches costs about as much as walking PAGE_SIZE × rows / N rows,
# so the limit is √(PAGE_SIZE × rows × walk_row_cost) in a table of that many rows (at most
# FEW_MATCHES, at least MIN_FEW_MATCHES), ``walk_row_cost`` being what testing a walked row costs
# beside reading a matched one (1: both read the row; less when the walk reads an index alone).
FEW_MATCHES = 20_000
MIN_FEW_MATCHES = 500
# A walk over the blocks that can hold a match (``search_index.BLOCKS``) is one query per run of
# consecutive such blocks; past this many runs the rest of the order is walked in one query.
MAX_BLOCK_RUNS = 32
# What testing one walked entry costs beside reading one matched row at random (the walk reads a
# covering index alone): a walk of the blocks is chosen over reading few matches when it tests
# at most that many times more entries than there are matches.
WALK_ENTRY_COST = 1 / 30
# Pages further than this into a search's matches are fetched by the list's usual plan.
MAX_BLOCK_WALK_ROWS = 25 * PAGE_SIZE


@dataclass(frozen=True)
class Column:
    """One column of a list: ``key`` is the label in the SELECT.

    ``kind``: ``text``, ``money`` (minor units; ``currency_key`` names the currency column),
    ``quantity``, ``date``, ``datetime``, ``status``, ``bool``.
    """

    key: str
    title: str
    kind: str = "text"
    sortable: bool = True
    currency_key: str = "currency"
    width: int | None = None
    stretch: bool = False

    @property
    def numeric(self) -> bool:
        return self.kind in ("money", "quantity", "number")


def _sql(clause: str, **params: str) -> ColumnElement[bool]:
    """A WHERE clause in SQL text, with its parameters."""
    return cast(ColumnElement[bool], text(clause).bindparams(**params))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_terms(text: str) -> list[str]:
    """The words of a search, bounded (a pasted novel does not become a giant query)."""
    return text[:MAX_SEARCH_LENGTH].split()[:MAX_SEARCH_TERMS]


@dataclass(frozen=True)
class Related:
    """A search key whose value is another table's: ``key`` (the SELECT's label) shows ``column``
    of the ``table`` row that the listed table's ``via`` column references, in the same
    organization. A search finds the listed rows through ``via``'s index."""

    key: str
    table: str
    column: str
    via: str


Decorator = Callable[[Session, list[dict[str, Any]]], None]


@dataclass
class ListSource:
    """A SQL-side list: ``build()`` returns the base SELECT (already scoped to the organization,
    with an ``id`` column that makes the order stable for paging)."""

    store: LocalStore
    columns: Sequence[Column]
    build: Callable[[], Select[Any]]
    search_keys: Sequence[str]
    default_sort: str
    default_descending: bool = False
    # Adds computed values to a fetched page (e.g. stock on hand of the page's products).
    decorate: Decorator | None = None
    filters: list[ColumnElement[bool]] = field(default_factory=list)
    # The same SELECT for searching, built so SQLite scans the table (see :func:`live`).
    build_for_search: Callable[[], Select[Any]] | None = None
    # The entity table whose trigram index (``desktop.search_index``) answers searches of three
    # characters or more; it must index exactly ``search_keys`` but those of ``search_related``.
    search_table: str | None = None
    # Search keys shown from a referenced table (an invoice's customer name).
    search_related: Sequence[Related] = ()
    # See FEW_MATCHES.
    walk_row_cost: float = 1.0
    # How a walk tests a row for the indexed terms: with LIKE on the row (True), or by the
    # trigram index's matches as a filter (False: measured faster on the products list, whose
    # names share a few common words), with FEW_MATCHES as the limit to gather.
    walk_by_like: bool = True

    # The organization of the list's rows, for its walk blocks (``search_index.BLOCKS``).
    org_id: str | None = None

    def __post_init__(self) -> None:
        self._matches: tuple[str, int] = ("", 0)
        self._few: int | None = None
        self._base = self.build()
        self._search_base = self.build_for_search() if self.build_for_search else self._base

    def _col(self, key: str, base: Select[Any] | None = None) -> Any:
        return (base if base is not None else self._base).selected_columns[key]

    def _split(self, search: str) -> tuple[list[str], list[str]]:
        """The terms the search index answers, and those searched with ``LIKE``."""
        terms = search_terms(search)
        # While the search indexes are being built after a full download (desktop.search_build)
        # every term is searched with LIKE, which finds the same rows.
        if (
            self.search_table is None
            or search_index.index_for(self.search_table) is None
            or not self.store.search_ready
        ):
            return [], terms
        indexed = [t for t in terms if len(t) >= search_index.MIN_TERM]
        return indexed, [t for t in terms if len(t) < search_index.MIN_TERM]

    def _index(self) -> search_index.SearchIndex:
        return search_index.INDEXES[str(self.search_table)]

    def _gathered(self, indexed: list[str]) -> list[ColumnElement[bool]]:
        """Clauses that keep the rows matching ``indexed``, found through the indexes: the rows
        the trigram index names and, for a key shown from another table (``search_related``),
        the rows referencing the records whose value matches."""
        index = self._index()
        in_index = f"{index.table}.rowid IN (SELECT rowid FROM {index.name} WHERE {index.name} MATCH :{{}})"
        if not self.search_related:
            query = search_index.match_query(indexed)
            return [_sql(in_index.format("search_match"), search_match=query)]
        clauses: list[ColumnElement[bool]] = []
        for n, term in enumerate(indexed):
            found = [
                _sql(
                    in_index.format(f"search_match_{n}"),
                    **{f"search_match_{n}": search_index.match_query([term])},
                )
            ]
            for r, related in enumerate(self.search_related):
                name = f"search_related_{n}_{r}"
                found.append(
                    _sql(
                        f"({index.table}.org_id, {index.table}.{related.via}) IN (SELECT org_id, id FROM "
                        f"{related.table} WHERE {related.column} LIKE :{name} ESCAPE '\\')",
                        **{name: f"%{_escape_like(term)}%"},
                    )
                )
            clauses.append(or_(*found))
        return clauses

    def _walked(self, indexed: list[str], base: Select[Any]) -> list[ColumnElement[bool]]:
        """The same test as :meth:`_gathered`, made on each row of a walk (gathering every match
        of a common word first would cost more than the walk). For an ASCII term ``LIKE`` decides
        as the trigram index does: the index folds ASCII letters as ``LIKE`` does, and of all
        other characters only two (``search_index.FOLDED_TO_ASCII``) fold to ASCII letters, so
        only a row holding one of them is asked of the index itself. Any other term keeps the
        index's matches as a filter."""
        index = self._index()
        clauses: list[ColumnElement[bool]] = []
        for n, term in enumerate(indexed):
            pattern = f"%{_escape_like(term)}%"
            related = [self._col(r.key, base).like(pattern, escape="\\") for r in self.search_related]
            name = f"search_walk_{n}"
            match = {name: search_index.match_query([term])}
            if not term.isascii():
                found: list[ColumnElement[bool]] = [
                    _sql(
                        f"{index.table}.rowid IN (SELECT rowid FROM {index.name} WHERE {index.name} MATCH :{name})",
                        **match,
                    )
                ]
            else:
                columns = [self._col(key, base) for key in index.columns]
                found = [c.like(pattern, escape="\\") for c in columns]
                if set(term.lower()) & set(search_index.FOLDED_TO_ASCII):
                    # The few rows holding such a character (their partial index; almost always
                    # none) are asked of the trigram index, each the term against that one row.
                    found.append(
                        _sql(
                            f"{index.table}.rowid IN (SELECT rowid FROM {index.table} WHERE {index.folded}) "
                            f"AND EXISTS (SELECT 1 FROM {index.name} WHERE {index.name} MATCH :{name} "
                            f"AND {index.name}.rowid = {index.table}.rowid)",
                            **match,
                        )
                    )
            clauses.append(or_(*found, *related))
        return clauses

    def few_matches(self) -> int:
        """Up to how many matches the list reads and sorts them rather than walk (see
        :data:`FEW_MATCHES`), from the table's size (its largest rowid: one b-tree descent)."""
        if self._few is None and not self.walk_by_like:
            self._few = FEW_MATCHES
        if self._few is None:
            index = self._index()
            with self.store.read_session() as session:
                rows = int(session.execute(text(f"SELECT max(rowid) FROM {index.table}")).scalar() or 0)
            self._few = min(
                FEW_MATCHES, max(MIN_FEW_MATCHES, math.isqrt(int(PAGE_SIZE * rows * self.walk_row_cost)))
            )
        return self._few

    def _indexed_matches(self, indexed: list[str], cap: int | None = None) -> int:
        """How many rows the indexes find for ``indexed``, counted up to ``cap`` (by default just
        past :meth:`few_matches`; a few ms: it reads only the index), remembered for the last
        search."""
        query = search_index.match_query(indexed)
        cap = self.few_matches() + 1 if cap is None else cap
        if self._matches[0] != f"{cap}:{query}":
            index = self._index()
            if self.search_related:
                stmt: Any = select(func.count()).select_from(
                    select(text("1"))
                    .select_from(text(index.table))
                    .where(*self._gathered(indexed))
                    .limit(cap)
                    .subquery()
                )
            else:
                stmt = text(
                    f"SELECT count(*) FROM (SELECT rowid FROM {index.name} WHERE {index.name} MATCH :q LIMIT {cap})"
                ).bindparams(q=query)
            with self.store.read_session() as session:
                found = session.execute(stmt).scalar()
            self._matches = (f"{cap}:{query}", int(found or 0))
        return self._matches[1]

    def _plan(self, search: str, sort: str | None, whole: bool) -> str:
        """How the rows are found: ``all`` (no search), ``gather`` (the matches read through the
        indexes and sorted), ``walk`` (the sort order's index walked, each row tested, until a
        page is full), ``walk_gathered`` (many matches in another order: the index's matches as
        a filter of whatever plan SQLite picks) or ``scan`` (one table scan and a sort)."""
        indexed, scanned = self._split(search)
        default = self.sort_key(sort) == self.default_sort
        if indexed:
            # Few matches: read them from the indexes and sort them (the SELECT worded so no
            # b-tree walk is chosen); many: walk the sort order's index and stop at a page.
            if whole or self._indexed_matches(indexed) <= self.few_matches():
                return "gather"
            return "walk" if default else "walk_gathered"
        if not scanned:
            return "all"
        # Only short terms (one or two characters match many rows): walk the sort order's
        # index and stop at a page, for the default order; otherwise (and to count every
        # match, ``whole``) one table scan.
        return "scan" if whole or not default else "walk"

    def _base_for(self, search: str, sort: str | None = None, *, whole: bool = False) -> Select[Any]:
        plan = self._plan(search, sort, whole)
        return self._search_base if plan in ("gather", "scan") else self._base

    def filtered(self, search: str, sort: str | None = None, *, whole: bool = False) -> Select[Any]:
        plan = self._plan(search, sort, whole)
        stmt = base = self._search_base if plan in ("gather", "scan") else self._base
        for clause in self.filters:
            stmt = stmt.where(clause)
        indexed, scanned = self._split(search)
        if indexed:
            walked = plan == "walk" and self.walk_by_like
            stmt = stmt.where(*(self._walked(indexed, base) if walked else self._gathered(indexed)))
        for term in scanned:
            pattern = f"%{_escape_like(term)}%"
            stmt = stmt.where(
                or_(*(self._col(key, base).like(pattern, escape="\\") for key in self.search_keys))
            )
        return stmt

    def _walk_blocks(self, search: str) -> tuple[list[tuple[str, str | None]], int] | None:
        """The runs of consecutive blocks of the list's order that can hold a match of ``search``
        (each ``(lo, hi)``: names from ``lo`` up to, not including, ``hi``; ``None``: to the end)
        and how many rows they hold; ``None`` when the list has no blocks to ask."""
        blocks = search_index.BLOCKS.get(self.search_table or "")
        if blocks is None or self.org_id is None or self.default_sort != blocks.order:
            return None
        needed: set[str] = set()
        for term in search_terms(search):
            # A term asked of the trigram index that is not ASCII is decided by the index's
            # folding (any letter's case), not LIKE's: it rules no block out.
            if len(term) < search_index.MIN_TERM or term.isascii():
                needed |= search_index.term_grams(term)
        tests = " AND ".join(f"instr(grams, :g{n}) > 0" for n in range(len(needed)))
        params: dict[str, Any] = {
            f"g{n}": f"{search_index.GRAM_SEP}{gram}{search_index.GRAM_SEP}"
            for n, gram in enumerate(sorted(needed))
        }
        params["org"] = self.org_id
        stmt = text(
            f"SELECT lo, hi, rows, grams IS NULL OR ({tests or '1'}) FROM {blocks.name} "
            "WHERE org_id = :org ORDER BY lo"
        ).bindparams(**params)
        with self.store.read_session() as session:
            found = session.execute(stmt).all()
        if not found:
            return None  # not summed yet (a store filled before its blocks existed)
        runs: list[tuple[str, str | None]] = []
        rows, joined = 0, False
        for lo, hi, count, hit in found:
            if not hit:
                joined = False
                continue
            rows += int(count)
            if joined:
                runs[-1] = (runs[-1][0], hi)
            else:
                runs.append((str(lo), hi))
            joined = True
        return runs, rows

    def _fetch_walking_blocks(
        self, session: Session, search: str, runs: list[tuple[str, str | None]], need: int
    ) -> list[dict[str, Any]]:
        """The first ``need`` matches in the default order, walking only ``runs`` (the rows of
        every other block hold no match), each entry tested as a walk tests it."""
        base = self._base
        stmt = base
        for clause in self.filters:
            stmt = stmt.where(clause)
        indexed, scanned = self._split(search)
        if indexed:
            stmt = stmt.where(*self._walked(indexed, base))
        for term in scanned:
            pattern = f"%{_escape_like(term)}%"
            stmt = stmt.where(
                or_(*(self._col(key, base).like(pattern, escape="\\") for key in self.search_keys))
            )
        order, tie = self._col(self.default_sort, base), self._col("id", base)
        # Through the index of the order that holds every searched column: an entry is tested
        # without reading its row (SQLite would as soon pick the order's narrower index).
        blocks = search_index.BLOCKS[str(self.search_table)]
        stmt = stmt.order_by(order.asc(), tie.asc())
        connection = session.connection()
        rows: list[dict[str, Any]] = []
        for n, (lo, hi) in enumerate(runs):
            if n == MAX_BLOCK_RUNS:
                hi = None  # the rest of the order in one walk
            bounded = stmt.where(order >= lo) if hi is None else stmt.where(order >= lo, order < hi)
            sql, params = _indexed_by(bounded.limit(need - len(rows)), connection, blocks.table, blocks.index)
            rows += [dict(r) for r in connection.exec_driver_sql(sql, params).mappings()]
            if len(rows) >= need or hi is None:
                break
        return rows

    def _blocks_answer(self, search: str, sort: str | None, descending: bool | None, need: int) -> Any:
        """The runs to walk when walking the blocks is the cheapest way to the first ``need``
        matches, else ``None``."""
        desc = self.default_descending if descending is None else descending
        if (
            desc
            or not self.store.search_ready  # the blocks are built after a full download
            or self.sort_key(sort) != self.default_sort
            or not search_terms(search)
            or need > MAX_BLOCK_WALK_ROWS
        ):
            return None
        found = self._walk_blocks(search)
        if found is None:
            return None
        runs, rows = found
        indexed = self._split(search)[0]
        if not indexed:
            return runs  # one- and two-character terms: the order is walked
        # Walking the blocks tests ``rows`` entries at most: cheaper than reading the matches
        # when there are at least ``rows × WALK_ENTRY_COST`` of them, which a count capped there
        # tells (a common pair of words: a few hundred of its 14k matches counted, not all).
        enough = math.ceil(rows * WALK_ENTRY_COST)
        if enough <= self.few_matches():
            return runs if not enough or self._indexed_matches(indexed, enough) >= enough else None
        # Else as the list would: few matches are read and sorted; many walk (the blocks).
        return runs if self._indexed_matches(indexed) > self.few_matches() else None

    def sort_key(self, key: str | None) -> str:
        sortable = {c.key for c in self.columns if c.sortable}
        return key if key in sortable else self.default_sort

    def fetch(
        self,
        search: str = "",
        *,
        sort: str | None = None,
        descending: bool | None = None,
        offset: int = 0,
        limit: int = PAGE_SIZE,
    ) -> list[dict[str, Any]]:
        """One page of rows as dicts, ordered by ``sort`` then id (a stable order for paging)."""
        runs = self._blocks_answer(search, sort, descending, offset + limit)
        with self.store.read_session() as session:
            if runs is not None:
                rows = self._fetch_walking_blocks(session, search, runs, offset + limit)[offset:]
            else:
                stmt = self.ordered(search, sort=sort, descending=descending)
                rows = [dict(r) for r in session.execute(stmt.offset(offset).limit(limit)).mappings()]
            if self.decorate is not None and rows:
                self.decorate(session, rows)
        return rows

    def ordered(
        self, search: str = "", *, sort: str | None = None, descending: bool | None = None
    ) -> Select[Any]:
        """The filtered SELECT in the list's order (``sort`` then id): what the screen pages
        through, and what an export reads whole."""
        key = self.sort_key(sort)
        desc = self.default_descending if descending is None else descending
        base = self._base_for(search, key)
        order, tie = self._col(key, base), self._col("id", base)
        return self.filtered(search, key).order_by(
            order.desc() if desc else order.asc(), tie.desc() if desc else tie.asc()
        )

    def selected(self, key: str) -> Any:
        """The SELECT's expression labelled ``key`` (``KeyError`` when the column is computed later)."""
        return self._base.selected_columns[key]

    def count(self, search: str = "") -> int:
        stmt = select(func.count()).select_from(self.filtered(search, whole=True).subquery())
        with self.store.read_session() as session:
            return int(session.execute(stmt).scalar() or 0)


def _indexed_by(stmt: Select[Any], connection: Any, table: str, index: str) -> tuple[str, tuple[Any, ...]]:
    """``stmt``'s SQL with its table read through ``index`` (``INDEXED BY``, which SQLAlchemy's
    SQLite dialect does not render), and its parameters in order."""
    compiled = stmt.compile(bind=connection)
    sql, found = re.subn(
        rf"\bFROM {table}\b(?!_)", f"FROM {table} INDEXED BY {index}", compiled.string, count=1
    )
    if not found:
        raise ValueError(f"no FROM {table} in {compiled.string}")
    values = compiled.construct_params()
    processors: dict[str, Any] = dict(compiled._bind_processors)
    names = compiled.positiontup or ()
    return sql, tuple(
        processors[name](values[name]) if name in processors else values[name] for name in names
    )


def live(model: Any, org_id: str, *, scan: bool = False) -> ColumnElement[bool]:
    """Rows of ``model`` in the organization that are not tombstones.

    ``scan=True`` words the organization test so no index can serve it: a search over every row
    (``LIKE '%…%'``) is then one sequential table scan and a top-N sort, instead of a walk along
    an index with a random row lookup per entry, which is several times slower when few rows match.
    """
    org_test = model.org_id.concat("") == org_id if scan else model.org_id == org_id
    return and_(org_test, model.deleted.is_(False))

"""Full-text (trigram) indexes that answer a list's search box without reading every row.

A search for a word inside names (``LIKE '%oak%'``) cannot use a b-tree: SQLite reads every
row, ~0.6 µs each, so 0.6 s a keystroke at a million products. An FTS5 index with the
``trigram`` tokenizer answers the same substring question (case-insensitive, like ``LIKE``)
from the index, for terms of three characters or more; shorter terms keep ``LIKE``.

Each index is an *external content* FTS5 table over its entity table (``content_rowid`` is the
table's own rowid; the store is never ``VACUUM``-ed, which could renumber rowids): it holds no
copy of the text, only the trigram index, kept in step by triggers on insert, update and
delete. ``secure-delete`` is on, so a value overwritten or deleted (an erasure) leaves nothing of
itself in the index. A full download sets the triggers aside with the other deferred indexes
(:mod:`desktop.deferred_indexes`) and the index is rebuilt once at its end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text

from desktop.store_state import has_state_table, put_state, read_state

# The only characters the trigram index folds to an ASCII letter (found by matching every code
# point against every ASCII character; tests/desktop/test_list_search.py checks it): for an ASCII
# term, LIKE decides as the index does on every row holding neither.
FOLDED_TO_ASCII = {"k": "\u212a", "s": "\u017f"}


@dataclass(frozen=True)
class SearchIndex:
    table: str
    columns: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.table}_search"

    @property
    def folded(self) -> str:
        """SQL true for a row holding, in an indexed column, a character the index folds to an
        ASCII letter (see :data:`FOLDED_TO_ASCII`)."""
        return " OR ".join(f"instr({c}, '{ch}') > 0" for c in self.columns for ch in FOLDED_TO_ASCII.values())

    @property
    def folded_index(self) -> tuple[str, str]:
        """A partial index of the rows :attr:`folded` is true of (almost always none): a walk
        asks the trigram index only about them."""
        name = f"ix_{self.table}_search_folded"
        return name, f"CREATE INDEX {name} ON {self.table} (org_id) WHERE {self.folded}"

    @property
    def triggers(self) -> dict[str, str]:
        """Trigger name → its ``CREATE TRIGGER`` text."""
        cols = ", ".join(self.columns)
        new = ", ".join(f"new.{c}" for c in self.columns)
        old = ", ".join(f"old.{c}" for c in self.columns)
        add = f"INSERT INTO {self.name}(rowid, {cols}) VALUES (new.rowid, {new});"
        remove = f"INSERT INTO {self.name}({self.name}, rowid, {cols}) VALUES ('delete', old.rowid, {old});"
        return {
            f"{self.name}_ai": f"CREATE TRIGGER {self.name}_ai AFTER INSERT ON {self.table} BEGIN {add} END",
            f"{self.name}_ad": f"CREATE TRIGGER {self.name}_ad AFTER DELETE ON {self.table} BEGIN {remove} END",
            f"{self.name}_au": (
                f"CREATE TRIGGER {self.name}_au AFTER UPDATE OF {cols} ON {self.table} BEGIN {remove} {add} END"
            ),
        }


INDEXES: dict[str, SearchIndex] = {
    "product": SearchIndex("product", ("sku", "name", "barcode")),
    # An invoice's customer and order are searched through their own tables (few rows), the
    # invoices that reference them found by the reference indexes below.
    "invoice": SearchIndex("invoice", ("number",)),
    "journal_entry": SearchIndex("journal_entry", ("number", "memo", "source")),
    # The palette and the customers' and suppliers' lists find a word inside a name, an e-mail,
    # a phone number or a contact at any size (the palette's bounded scan would not reach past
    # its first rows). An erased value leaves nothing behind (secure-delete, above).
    "customer": SearchIndex("customer", ("name", "email", "phone")),
    "supplier": SearchIndex("supplier", ("name", "email", "contact_name")),
    "task": SearchIndex("task", ("title",)),
}
# Desktop-local b-tree indexes the lists need (not in the synced schema, which the server shares):
# the invoices list walks its default order (issue date) and finds the invoices of the
# customers or orders a search matched. A full download sets them aside like the schema's own.
LOCAL_INDEXES: dict[str, str] = {
    # The products list's walk in name order tests each row with the index alone (no read of
    # the row itself, which costs ~30 times more), and stops at a page.
    "ix_product_search_walk": (
        "CREATE INDEX ix_product_search_walk ON product (org_id, name, sku, barcode, archived, deleted)"
    ),
    "ix_invoice_search_issued": "CREATE INDEX ix_invoice_search_issued ON invoice (org_id, issue_date)",
    "ix_invoice_search_customer": "CREATE INDEX ix_invoice_search_customer ON invoice (org_id, customer_id)",
    "ix_invoice_search_order": "CREATE INDEX ix_invoice_search_order ON invoice (org_id, sales_order_id)",
}
LOCAL_INDEXES.update(index.folded_index for index in INDEXES.values())
# Terms shorter than a trigram are searched with LIKE.
MIN_TERM = 3

# -- Walk blocks: which stretches of a list's order can hold a match -------------------------------
#
# A list walks its order (products: by name) when a search matches many rows or is one or two
# characters long, testing each entry until a page is full; the cost is how far into the order
# the page's matches lie, and a term matching nothing walks every entry (`oa` is 48,600 names
# in at 1M products, `oak c` 215,000). So the order is cut into blocks of about BLOCK_ROWS rows
# (whole names: rows of one name share a block), and each block keeps the set of one- and
# two-character pieces ("grams") of its rows' searched columns, ASCII letters lower-cased as LIKE
# compares them. A row holding a term holds all of its grams, so a block lacking one holds no
# match and the walk skips it; blocks that can hold a match are walked in order as before, each
# row tested as before. The summary may only ever hold more grams than the rows (never fewer):
# a trigger empties it ("dirty": walked whatever the search) when a row enters the block or its
# text changes; a row leaving it (deleted, renamed away) leaves it a superset. Dirty blocks are
# summed again (and split when they grew) when the store is opened or the indexes rebuilt after
# a full download, by :func:`refresh_blocks`.
BLOCK_ROWS = 1024
# Grams are taken from the text with ASCII letters lower-cased (LIKE's folding) and, besides, with
# the two characters the trigram index folds to ASCII replaced (a walk asks the index about rows
# holding them). A gram holding a space is never looked for (a search term has none) and the
# separator below is one (str.isspace), so grams of two columns never join.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_FOLD = str.maketrans({ch: ascii_letter for ascii_letter, ch in FOLDED_TO_ASCII.items()})
GRAM_SEP = "\x1f"


@dataclass(frozen=True)
class WalkBlocks:
    """Blocks of ``table``'s rows in ``order`` (a text column; the list's default order), summing
    the grams of ``columns``."""

    table: str
    order: str
    columns: tuple[str, ...]
    # A desktop-local index (LOCAL_INDEXES) on org_id, the order column and ``columns``: a walk
    # tests each entry without reading its row.
    index: str

    @property
    def name(self) -> str:
        return f"{self.table}_search_block"

    @property
    def create(self) -> str:
        # lo: the block's first value of the order column (the org's first block: ''); hi: the
        # next block's (NULL: to the end). grams: GRAM_SEP-separated, or NULL (dirty).
        return (
            f"CREATE TABLE {self.name} (org_id TEXT NOT NULL, lo TEXT NOT NULL, hi TEXT, "
            f"rows INTEGER NOT NULL, grams TEXT, PRIMARY KEY (org_id, lo)) WITHOUT ROWID"
        )

    @property
    def triggers(self) -> dict[str, str]:
        dirty = (
            f"UPDATE {self.name} SET grams = NULL WHERE org_id = new.org_id AND grams IS NOT NULL "
            f"AND lo = (SELECT lo FROM {self.name} WHERE org_id = new.org_id AND lo <= new.{self.order} "
            f"ORDER BY lo DESC LIMIT 1);"
        )
        cols = ", ".join(dict.fromkeys((*self.columns, self.order, "deleted", "org_id")))
        return {
            f"{self.name}_ai": f"CREATE TRIGGER {self.name}_ai AFTER INSERT ON {self.table} BEGIN {dirty} END",
            f"{self.name}_au": (
                f"CREATE TRIGGER {self.name}_au AFTER UPDATE OF {cols} ON {self.table} BEGIN {dirty} END"
            ),
        }


BLOCKS: dict[str, WalkBlocks] = {
    "product": WalkBlocks("product", "name", ("sku", "name", "barcode"), "ix_product_search_walk")
}


def grams_of(texts: list[str]) -> set[str]:
    """The one- and two-character grams of ``texts`` as a block sums them (none holding a space)."""
    joined = GRAM_SEP.join(texts).translate(_ASCII_LOWER)
    if not joined.isascii():
        joined = joined + GRAM_SEP + joined.translate(_FOLD).translate(_ASCII_LOWER)
    found = set(joined) | _pairs(joined)
    return {g for g in found if not any(ch.isspace() for ch in g)}


def _pairs(joined: str) -> set[str]:
    """The distinct two-character pieces of ``joined``. Each piece is read as one integer from
    the text's bytes (the pieces at even offsets, then at odd ones): 2.6 times less CPU than
    slicing out every piece, the bulk of summing a million rows."""
    ascii_only = joined.isascii()
    data, width = (joined.encode("ascii"), 1) if ascii_only else (joined.encode("utf-32-le"), 4)
    view = memoryview(data)
    pair = 2 * width
    even, odd = view[: len(data) // pair * pair], view[width : width + (len(data) - width) // pair * pair]
    codes = (
        set(even.cast("H")) | set(odd.cast("H")) if ascii_only else set(even.cast("Q")) | set(odd.cast("Q"))
    )
    shift, mask = 8 * width, (1 << 8 * width) - 1
    return {chr(code & mask) + chr(code >> shift) for code in codes}


def _summary(rows: list[Any]) -> str:
    """The grams of ``rows`` (each the order value then the searched columns) as stored."""
    grams = grams_of([row[1] for row in rows])
    return GRAM_SEP + GRAM_SEP.join(sorted(grams)) + GRAM_SEP


def term_grams(term: str) -> set[str]:
    """The grams every row holding ``term`` (as LIKE finds it) holds: the term itself when it is
    one character, else its two-character pieces."""
    lowered = term.translate(_ASCII_LOWER)
    if len(lowered) == 1:
        return {lowered}
    return set(map(str.__add__, lowered, lowered[1:]))


def _block_rows(
    connection: Connection, blocks: WalkBlocks, org_id: str, lo: str, hi: str | None
) -> list[Any]:
    # Each row as its order value and its searched columns joined by GRAM_SEP, read through the
    # driver's cursor: a million rows are half the CPU of summing them into blocks.
    texts = " || char(31) || ".join(f"ifnull({c}, '')" for c in blocks.columns)
    bound = "" if hi is None else f" AND {blocks.order} < ?"
    sql = (
        f"SELECT {blocks.order}, {texts} FROM {blocks.table} INDEXED BY {blocks.index} "
        f"WHERE org_id = ? AND deleted = 0 AND {blocks.order} >= ?{bound} ORDER BY {blocks.order}"
    )
    params = (org_id, lo) if hi is None else (org_id, lo, hi)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        return list(cursor.execute(sql, params).fetchall())
    finally:
        cursor.close()


def _write_blocks(
    connection: Connection, blocks: WalkBlocks, org_id: str, lo: str, hi: str | None, rows: list[Any]
) -> int:
    """Cut ``rows`` (those of [lo, hi) in order) into blocks, sum them and store them in place of
    the blocks of that stretch; returns how many were written."""
    connection.execute(
        text(
            f"DELETE FROM {blocks.name} WHERE org_id = :org AND lo >= :lo"
            + ("" if hi is None else " AND lo < :hi")
        ),
        {"org": org_id, "lo": lo, "hi": hi},
    )
    cuts: list[tuple[str, list[Any]]] = [(lo, [])]
    for row in rows:
        current = cuts[-1][1]
        if len(current) >= BLOCK_ROWS and row[0] != current[-1][0]:
            cuts.append((row[0], []))
        cuts[-1][1].append(row)
    values = []
    for n, (start, members) in enumerate(cuts):
        end = cuts[n + 1][0] if n + 1 < len(cuts) else hi
        values.append(
            {"org": org_id, "lo": start, "hi": end, "rows": len(members), "grams": _summary(members)}
        )
    connection.execute(
        text(
            f"INSERT INTO {blocks.name} (org_id, lo, hi, rows, grams) VALUES (:org, :lo, :hi, :rows, :grams)"
        ),
        values,
    )
    return len(values)


def build_blocks(connection: Connection, blocks: WalkBlocks) -> int:
    """Sum every organization's rows into blocks anew; returns how many blocks were written."""
    orgs = [str(r[0]) for r in connection.exec_driver_sql(f"SELECT DISTINCT org_id FROM {blocks.table}")]
    connection.exec_driver_sql(f"DELETE FROM {blocks.name}")
    return sum(
        _write_blocks(connection, blocks, org, "", None, _block_rows(connection, blocks, org, "", None))
        for org in orgs
    )


def refresh_blocks(connection: Connection) -> int:
    """Sum the dirty blocks again (splitting those that grew past twice BLOCK_ROWS); returns how
    many were summed."""
    refreshed = 0
    for blocks in BLOCKS.values():
        dirty = connection.execute(
            text(f"SELECT org_id, lo, hi FROM {blocks.name} WHERE grams IS NULL")
        ).all()
        for org_id, lo, hi in dirty:
            rows = _block_rows(connection, blocks, str(org_id), str(lo), hi)
            if len(rows) <= 2 * BLOCK_ROWS:
                connection.execute(
                    text(
                        f"UPDATE {blocks.name} SET rows = :rows, grams = :grams WHERE org_id = :org AND lo = :lo"
                    ),
                    {"rows": len(rows), "grams": _summary(rows), "org": org_id, "lo": lo},
                )
            else:
                _write_blocks(connection, blocks, str(org_id), str(lo), hi, rows)
            refreshed += 1
    return refreshed


def _stale_sql() -> str:
    checks = []
    for blocks in BLOCKS.values():
        # A dirty block, or rows of an organization (the table's first row's) with no block yet.
        checks.append(f"EXISTS (SELECT 1 FROM {blocks.name} WHERE grams IS NULL)")
        checks.append(
            f"EXISTS (SELECT 1 FROM (SELECT org_id FROM {blocks.table} LIMIT 1) AS first "
            f"WHERE NOT EXISTS (SELECT 1 FROM {blocks.name} WHERE org_id = first.org_id))"
        )
    return "SELECT " + " OR ".join(checks)


# Whether the walk blocks need summing again, in one statement: asked at the end of every sync
# (desktop.sync.local.build_search_indexes), on the driver (LocalStore.blocks_stale).
BLOCKS_STALE_SQL = _stale_sql()


def blocks_stale(connection: Connection) -> bool:
    """Whether some block is dirty, or the table's rows are not in blocks yet (one small read)."""
    return bool(connection.exec_driver_sql(BLOCKS_STALE_SQL).scalar())


def index_for(table: str) -> SearchIndex | None:
    return INDEXES.get(table)


def match_query(terms: list[str]) -> str:
    """An FTS5 query matching rows that contain every term (each a quoted phrase)."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


_EXISTING = (
    "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger', 'index') "
    "AND name LIKE '%\\_search%' ESCAPE '\\'"
)


def _wanted() -> set[str]:
    blocks = {name for b in BLOCKS.values() for name in (b.name, *b.triggers)}
    return (
        {name for index in INDEXES.values() for name in (index.name, *index.triggers)}
        | set(LOCAL_INDEXES)
        | blocks
    )


# The trigram indexes' format, kept in ``sync_state``. 2: a pulled row replacing a stored one takes
# the old row's text out of the index (recursive triggers, ``desktop.local_store``). Indexes of
# format 1 may hold the text of rows replaced since (an erased e-mail, a renamed product): they are
# rebuilt from their rows once.
FORMAT_KEY = "search_index_format"
FORMAT = "2"


def _format_is_current(connection: Connection) -> bool:
    """Whether the indexes were built or rebuilt at :data:`FORMAT` (true of a store without a
    ``sync_state`` table: nothing to read it from, nothing built before)."""
    return not has_state_table(connection) or read_state(connection, FORMAT_KEY) == FORMAT


def ensure(connection: Connection) -> int:
    """Create the indexes (built from the rows already stored) and their triggers where missing,
    and rebuild those of an older :data:`FORMAT`; returns how many indexes were built. One read
    when all exist."""
    existing = {str(row[0]) for row in connection.exec_driver_sql(_EXISTING)}
    outdated = not _format_is_current(connection)
    built = 0
    for name, sql in LOCAL_INDEXES.items():
        if name not in existing:
            connection.exec_driver_sql(sql)
            built += 1
    for index in INDEXES.values():
        if index.name not in existing:
            connection.exec_driver_sql(
                f"CREATE VIRTUAL TABLE {index.name} USING fts5({', '.join(index.columns)}, "
                f"content='{index.table}', content_rowid='rowid', tokenize='trigram')"
            )
            connection.exec_driver_sql(
                f"INSERT INTO {index.name}({index.name}, rank) VALUES ('secure-delete', 1)"
            )
            connection.exec_driver_sql(f"INSERT INTO {index.name}({index.name}) VALUES ('rebuild')")
            built += 1
        elif outdated:
            connection.exec_driver_sql(f"INSERT INTO {index.name}({index.name}) VALUES ('rebuild')")
            built += 1
        for name, sql in index.triggers.items():
            if name not in existing:
                connection.exec_driver_sql(sql)
    for blocks in BLOCKS.values():
        if blocks.name not in existing:
            connection.exec_driver_sql(blocks.create)
        for name, sql in blocks.triggers.items():
            if name not in existing:
                connection.exec_driver_sql(sql)
    if blocks_stale(connection):
        # Blocks summed from rows that came without them (a new table, or rows written while
        # their triggers were set aside), or dirty ones summed again.
        refresh_blocks(connection)
        if blocks_stale(connection):
            for blocks in BLOCKS.values():
                build_blocks(connection, blocks)
        built += 1
    if outdated:
        put_state(connection, FORMAT_KEY, FORMAT)
    return built


def ensure_engine(engine: Engine) -> int:
    """:func:`ensure` in a write transaction of its own, taken only when something is missing."""
    with engine.connect() as connection:
        found = {str(row[0]) for row in connection.exec_driver_sql(_EXISTING)}
        stale = _wanted() <= found and (blocks_stale(connection) or not _format_is_current(connection))
    if _wanted() <= found and not stale:
        return 0
    with engine.execution_options(sqlite_begin="IMMEDIATE").begin() as connection:
        return ensure(connection)


def trigger_names() -> set[str]:
    blocks = {name for b in BLOCKS.values() for name in b.triggers}
    return {name for index in INDEXES.values() for name in index.triggers} | blocks


def rebuild_for_triggers(connection: Connection, restored: set[str]) -> int:
    """Rebuild the indexes whose triggers were just put back (their rows changed without them)."""
    rebuilt = 0
    for index in INDEXES.values():
        if restored & set(index.triggers):
            connection.exec_driver_sql(f"INSERT INTO {index.name}({index.name}) VALUES ('rebuild')")
            rebuilt += 1
    for blocks in BLOCKS.values():
        if restored & set(blocks.triggers):
            build_blocks(connection, blocks)
            rebuilt += 1
    return rebuilt

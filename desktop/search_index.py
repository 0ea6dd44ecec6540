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

from sqlalchemy import Connection, Engine

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
    return {name for index in INDEXES.values() for name in (index.name, *index.triggers)} | set(LOCAL_INDEXES)


def ensure(connection: Connection) -> int:
    """Create the indexes (built from the rows already stored) and their triggers where missing;
    returns how many indexes were built. One read when all exist."""
    existing = {str(row[0]) for row in connection.exec_driver_sql(_EXISTING)}
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
        for name, sql in index.triggers.items():
            if name not in existing:
                connection.exec_driver_sql(sql)
    return built


def ensure_engine(engine: Engine) -> int:
    """:func:`ensure` in a write transaction of its own, taken only when something is missing."""
    with engine.connect() as connection:
        found = {str(row[0]) for row in connection.exec_driver_sql(_EXISTING)}
    if _wanted() <= found:
        return 0
    with engine.execution_options(sqlite_begin="IMMEDIATE").begin() as connection:
        return ensure(connection)


def trigger_names() -> set[str]:
    return {name for index in INDEXES.values() for name in index.triggers}


def rebuild_for_triggers(connection: Connection, restored: set[str]) -> int:
    """Rebuild the indexes whose triggers were just put back (their rows changed without them)."""
    rebuilt = 0
    for index in INDEXES.values():
        if restored & set(index.triggers):
            connection.exec_driver_sql(f"INSERT INTO {index.name}({index.name}) VALUES ('rebuild')")
            rebuilt += 1
    return rebuilt

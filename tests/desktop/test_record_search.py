"""The palette's record search without reading every row (issue 17): words inside a product's
name or SKU come from its trigram index, prefixes from b-tree ranges, and only what no index
answers is tested on a bounded number of rows; the index is never asked about a field the user
may not read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from common.ids import new_id
from desktop import search
from desktop.rows import WRITERS
from desktop.search import search_records
from desktop.session import UserSession

WORDS = ("oak", "pine", "ash", "chair", "table", "shelf")
TARGET = {"sku": "SHELF-XQ7-25", "name": "Walnut Bookcase Deluxe", "barcode": "7312345678903"}


def write_products(session: UserSession, count: int, target_at: int) -> str:
    """``count`` products written as a download writes them, ``TARGET`` the one at ``target_at``."""
    org_id = session.org_id
    base = {"org_id": org_id, "version": 1, "updated_at": "2026-11-01T08:00:00+00:00", "updated_by": None}
    rows: list[dict[str, Any]] = []
    for i in range(count):
        fields = {
            "sku": f"PRD-{i:04d}",
            "name": f"{WORDS[i % len(WORDS)]} {WORDS[i // len(WORDS) % len(WORDS)]} {i}",
            "barcode": f"400{i:010d}",
        }
        rows.append(
            {
                **base,
                "id": new_id(),
                "deleted": False,
                **(TARGET if i == target_at else fields),
                "description": None,
                "unit": "pcs",
                "sale_price": 100,
                "cost_price": None,
                "currency": "EUR",
                "reorder_point": None,
                "archived": False,
            }
        )
    with session.store.write_session() as db:
        WRITERS["product"].upsert(db.connection(), rows)
    return str(rows[target_at]["id"])


@pytest.fixture
def stocked(session: UserSession, monkeypatch: pytest.MonkeyPatch) -> tuple[UserSession, str]:
    # Searches no index answers test the first 5 rows only: the product at row 30 is found
    # only through an index.
    monkeypatch.setattr(search, "SCAN_ROWS", 5)
    return session, write_products(session, 40, target_at=30)


@contextmanager
def recorded(session: UserSession) -> Iterator[list[str]]:
    """The SQL statements the store runs meanwhile."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(session.store.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(session.store.engine, "before_cursor_execute", record)


def found(session: UserSession, text: str) -> list[tuple[str | None, int]]:
    return [(h.entity_id, h.rank) for h in search_records(session, text) if h.entity == "product"]


def test_a_word_inside_a_name_or_sku_is_found_through_the_trigram_index(
    stocked: tuple[UserSession, str],
) -> None:
    session, target = stocked
    with recorded(session) as statements:
        assert found(session, "okcase") == [(target, 2)]
    assert [s for s in statements if "product_search MATCH" in s]
    for text in ("bookcase", "BOOKCASE del", "xq7", "q7-2", "okcas"):
        assert found(session, text) == [(target, 2)], text
    # a short term beside an indexed one is tested on the rows the index names
    assert found(session, "bookcase x") == [(target, 3)]
    assert found(session, "bookcase j") == []
    # prefixes: of three characters or more from the index, shorter ones from the b-tree, any case
    assert found(session, "walnut b") == [(target, 1)]
    assert found(session, "WA") == [(target, 1)]
    assert found(session, "shelf-xq") == [(target, 1)]
    assert found(session, TARGET["barcode"]) == [(target, 0)]
    # a common word: the kind's share of eight, every prefix (six names start with it) first
    assert [rank for _id, rank in found(session, "oak")] == [1] * 6 + [2] * 2


def test_a_field_the_user_may_not_read_finds_nothing(
    stocked: tuple[UserSession, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    session, target = stocked
    monkeypatch.setattr(search, "SCAN_ROWS", 10_000)
    readable = search.readable_columns

    def without_barcode(entity: str, permissions: frozenset[str]) -> frozenset[str]:
        columns = readable(entity, permissions)
        return columns - {"barcode"} if entity == "product" else columns

    # A read rule that hides products' barcodes from this user: the trigram index holds them, so
    # it may not answer; the search reads the fields the user may read.
    monkeypatch.setattr(search, "readable_columns", without_barcode)
    with recorded(session) as statements:
        assert found(session, "2345678") == []
        assert found(session, TARGET["barcode"]) == []
        assert found(session, "731") == []
        assert found(session, "bookcase") == [(target, 2)]
        assert found(session, "xq7") == [(target, 2)]
    assert statements and not [s for s in statements if "product_search" in s]
    monkeypatch.setattr(search, "readable_columns", readable)
    assert found(session, "2345678") == [(target, 2)]


def test_a_text_matching_nothing_finds_nothing(stocked: tuple[UserSession, str]) -> None:
    session, _target = stocked
    for text in ("zzz-no-match", "zq", "oak zzz", "bookcase zz"):
        assert search_records(session, text) == [], text


def test_while_the_indexes_are_built_after_a_download_the_palette_still_finds(
    stocked: tuple[UserSession, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full download drops the search indexes and builds them in the background afterwards
    (desktop.search_build): meanwhile the palette reads the rows, never the missing index."""
    from desktop import deferred_indexes

    session, target = stocked
    monkeypatch.setattr(search, "SCAN_ROWS", 10_000)
    session.store.search_indexes.mark_missing()  # as a full download's first page does
    with session.store.engine.begin() as connection:
        deferred_indexes.defer(connection)
    with recorded(session) as statements:
        assert found(session, "okcase") == [(target, 2)]
        assert found(session, "walnut b") == [(target, 1)]
    assert not [s for s in statements if "product_search" in s]
    assert session.store.search_indexes.build() > 0
    with recorded(session) as statements:
        assert found(session, "okcase") == [(target, 2)]
    assert [s for s in statements if "product_search MATCH" in s]

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


def test_customers_suppliers_and_tasks_are_found_by_a_word_past_the_scanned_rows(
    session: UserSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A word inside a customer's e-mail, a supplier's contact or a task's title is found however
    many rows come before it (their trigram indexes), and an erased customer's old e-mail finds
    nothing and leaves nothing in the index."""
    monkeypatch.setattr(search, "SCAN_ROWS", 5)  # a scan would stop before the row at 30
    org_id = session.org_id
    base = {"org_id": org_id, "version": 1, "updated_at": "2026-11-01T08:00:00+00:00", "updated_by": None,
            "deleted": False, "address": None, "tax_id": None, "currency": "EUR", "archived": False}  # fmt: skip
    customers = [
        {**base, "id": new_id(), "name": f"Customer {i}", "email": f"c{i}@shop.example", "phone": None,
         "credit_limit": None, "erased": False}
        for i in range(40)
    ]  # fmt: skip
    customers[30]["email"] = "ines.quartermain@harbour.example"
    suppliers = [
        {**base, "id": new_id(), "name": f"Supplier {i}", "email": None, "phone": None,
         "contact_name": f"Contact {i}", "sole_trader": False}
        for i in range(40)
    ]  # fmt: skip
    suppliers[30]["contact_name"] = "Oswin Featherstonehaugh"
    common = {k: v for k, v in base.items() if k not in ("address", "tax_id", "currency", "archived")}
    project = {**common, "id": new_id(), "code": "P-1", "name": "Yard works", "customer_id": None,
               "manager_employee_id": None, "status": "active", "start_date": None, "end_date": None,
               "budget": None, "currency": None, "budget_hours": None, "hourly_rate": None}  # fmt: skip
    tasks = [
        {**common, "id": new_id(), "project_id": project["id"], "title": f"Task {i}", "description": None,
         "status": "todo", "assignee_employee_id": None, "due_date": None, "estimate_hours": None}
        for i in range(40)
    ]  # fmt: skip
    tasks[30]["title"] = "Recalibrate the gantry crane"
    with session.store.write_session() as db:
        WRITERS["customer"].upsert(db.connection(), customers)
        WRITERS["supplier"].upsert(db.connection(), suppliers)
        WRITERS["project"].upsert(db.connection(), [project])
        WRITERS["task"].upsert(db.connection(), tasks)
    hits = {(h.entity, h.entity_id) for h in search_records(session, "quartermain")}
    assert ("customer", customers[30]["id"]) in hits
    hits = {(h.entity, h.entity_id) for h in search_records(session, "featherstone")}
    assert ("supplier", suppliers[30]["id"]) in hits
    with recorded(session) as statements:
        search_records(session, "harbour")
    assert [s for s in statements if "customer_search MATCH" in s]
    assert [s for s in statements if "supplier_search MATCH" in s]
    hits = {(h.entity, h.entity_id) for h in search_records(session, "gantry")}
    assert ("task", tasks[30]["id"]) in hits
    # Erased on request: the name and contact details are overwritten as a pull brings them.
    erased = {**customers[30], "name": "Erased customer", "email": None, "version": 2, "erased": True}
    with session.store.write_session() as db:
        WRITERS["customer"].upsert(db.connection(), [erased])
    assert ("customer", customers[30]["id"]) not in {
        (h.entity, h.entity_id) for h in search_records(session, "quartermain")
    }
    with session.store.engine.connect() as connection:
        left = connection.exec_driver_sql(
            "SELECT rowid FROM customer_search WHERE customer_search MATCH '\"quartermain\"'"
        )
        assert left.all() == []
    with session.store.engine.connect() as connection:  # the index agrees with its rows
        connection.exec_driver_sql(
            "INSERT INTO customer_search(customer_search, rank) VALUES ('integrity-check', 1)"
        )


def test_an_index_built_before_replaced_rows_left_it_is_rebuilt_once_on_open(session: UserSession) -> None:
    """A store whose trigram indexes were kept without recursive triggers (format 1) holds the
    text of rows replaced since; opening it rebuilds them from the rows, once."""
    from desktop import search_index

    row = {"org_id": session.org_id, "id": new_id(), "version": 1, "updated_at": "2026-11-01T08:00:00+00:00",
           "updated_by": None, "deleted": False, "name": "Quillon Dervish", "email": "q.dervish@old.example",
           "phone": None, "address": None, "tax_id": None, "currency": "EUR", "credit_limit": None,
           "archived": False, "erased": False}  # fmt: skip
    engine = session.store.engine
    with session.store.write_session() as db:
        WRITERS["customer"].upsert(db.connection(), [row])
    raw = engine.raw_connection()
    try:  # as the store did before: the replaced row's text stays in the index
        raw.execute("PRAGMA recursive_triggers = OFF")
        raw.execute("BEGIN")
        raw.execute("UPDATE sync_state SET value = '1' WHERE key = ?", (search_index.FORMAT_KEY,))
        raw.execute(
            "INSERT OR REPLACE INTO customer (org_id, id, version, updated_at, deleted, name, currency, archived, "
            "erased) VALUES (?, ?, 2, ?, 0, 'Erased customer', 'EUR', 0, 1)",
            (row["org_id"], row["id"], row["updated_at"]),
        )
        raw.execute("COMMIT")
    finally:
        raw.execute("PRAGMA recursive_triggers = ON")
        raw.close()
    stale = "SELECT count(*) FROM customer_search WHERE customer_search MATCH '\"dervish\"'"
    with engine.connect() as connection:
        assert connection.exec_driver_sql(stale).scalar() == 1
    assert search_index.ensure_engine(engine) >= len(search_index.INDEXES)
    with engine.connect() as connection:
        assert connection.exec_driver_sql(stale).scalar() == 0
    assert search_index.ensure_engine(engine) == 0  # once

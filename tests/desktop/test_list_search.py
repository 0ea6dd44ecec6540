"""A list's search answers the same rows, in the same order, whichever plan it takes: the matches
read from the trigram index and sorted ("gather"), or the list's order walked with each row
tested ("walk"), and these are the rows a plain ``LIKE`` over every searched column finds (for
ASCII text; the index folds the case of other letters too, on both plans)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from common.ids import new_id
from desktop import deferred_indexes, lists, search_index
from desktop.lists import ListSource
from desktop.rows import WRITERS
from desktop.session import UserSession
from desktop.ui.context import UiContext
from desktop.ui.customers import customer_source
from desktop.ui.finance_journal import entry_source
from desktop.ui.products import product_source
from desktop.ui.sales_invoices import invoice_source
from desktop.ui.suppliers import supplier_source
from tests.desktop.test_lists import bulk_products

# Every plan: 0 counts every indexed search as matching many rows (a walk), a billion as few.
PLANS = {"walk": 0, "gather": 10**9}


def _plain(source: ListSource) -> ListSource:
    """The same list searched with LIKE alone (no index): what the search meant before."""
    return ListSource(
        source.store,
        source.columns,
        source.build,
        source.search_keys,
        source.default_sort,
        default_descending=source.default_descending,
        build_for_search=source.build_for_search,
    )


def _ids(source: ListSource, search: str, sort: str | None = None, *, page: int = 0) -> list[str]:
    if not page:
        return [row["id"] for row in source.fetch(search, sort=sort, limit=100_000)]
    ids: list[str] = []  # page by page, as the table fetches them while scrolling
    while True:
        rows = source.fetch(search, sort=sort, offset=len(ids), limit=page)
        ids += [row["id"] for row in rows]
        if len(rows) < page:
            return ids


def _base(session: UserSession) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {"org_id": session.org_id, "version": 1, "updated_at": now, "updated_by": None, "deleted": False}


def _invoices(session: UserSession, count: int) -> None:
    base = _base(session)
    names = ["Oak Works", "Nordic Supply", "Café Müller", "ÉCLAIR Foods", "Harbor oak", "Vega 100%_"]
    customers = [
        {**base, "id": new_id(), "name": f"{name} {n}", "email": None, "phone": None, "address": None,
         "tax_id": None, "currency": "EUR", "credit_limit": None, "archived": False, "erased": False}
        for n, name in enumerate(names)
    ]  # fmt: skip
    orders = [
        {**base, "id": new_id(), "number": f"SO-{n:04d}", "customer_id": customers[n % len(customers)]["id"],
         "warehouse_id": None, "status": "confirmed", "order_date": date(2026, 1, 1), "currency": "EUR",
         "total": 0, "note": None}
        for n in range(20)
    ]  # fmt: skip
    invoices = [
        {**base, "id": new_id(), "number": f"INV-{n:05d}" if n % 9 else f"DRAFT-éa-{n}",
         "customer_id": customers[n % len(customers)]["id"],
         "sales_order_id": orders[n % 20]["id"] if n % 3 == 0 else None,
         "status": "posted", "issue_date": date(2026, 1, 1) + timedelta(days=n % 37),
         "due_date": None, "currency": "EUR", "subtotal": n, "tax_total": 0, "total": n, "amount_paid": 0,
         "amount_credited": 0, "exchange_rate": None, "deleted": n % 41 == 0}
        for n in range(count)
    ]  # fmt: skip
    with session.store.write_session() as db:
        WRITERS["customer"].upsert(db.connection(), customers)
        WRITERS["sales_order"].upsert(db.connection(), orders)
        WRITERS["invoice"].upsert(db.connection(), invoices)


def _journal(session: UserSession, count: int) -> None:
    base = _base(session)
    memos = ["Rent", "Wages", "Sale", "Bank fees", "Reversal", "Miete Straße", "ÉTÉ rent", None]
    entries = [
        {**base, "id": new_id(), "number": f"JE-{n:05d}", "entry_date": date(2026, 1, 1) + timedelta(days=n % 23),
         "fiscal_period_id": None, "memo": None if memos[n % 8] is None else f"{memos[n % 8]} {n}",
         "source": ("manual", "invoice", "reversal")[n % 3], "source_id": None, "reverses_entry_id": None}
        for n in range(count)
    ]  # fmt: skip
    with session.store.write_session() as db:
        WRITERS["journal_entry"].upsert(db.connection(), entries)


PRODUCT_SEARCHES = ("o", "it", "item", "ITEM 05", "number 12", "em 0", "SKU-00042", "7000123", "100%_",
                    "zzz", "née", "NÉE", "éclair", "Ée", "item é", "kettle", "GLASS", "glass ja")  # fmt: skip
# Found through the index's folding (a Kelvin sign is a k there, a long s an s), not by LIKE.
FOLDED = {"kettle", "GLASS", "glass ja"}
INVOICE_SEARCHES = ("I", "IN", "inv-0004", "INV-00042", "o", "oa", "oak", "OAK w", "oak 0", "so-001",
                    "café", "CAFÉ", "müller", "éclair", "ÉCLAIR", "draft-ÉA", "100%_", "zzz-no-match")  # fmt: skip
JOURNAL_SEARCHES = ("J", "JE-001", "je-0012", "r", "re", "ren", "RENT", "rent 1", "manual", "invoice 2",
                    "straße", "STRASSE", "été", "ÉTÉ", "zzz-no-match")  # fmt: skip


PARTNER_NAMES = (
    "Oak Works",
    "Nordic Supply",
    "Café Müller",
    "ÉCLAIR Foods",
    "Harbor oak",
    "Vega 100%_",
    None,
)
PARTNER_SEARCHES = ("o", "oa", "oak", "OAK w", "works 1", "müller", "café", "example.org", "ANNA",
                    "+49 30", "555-01", "100%_", "nordic anna", "kontakt 3", "zzz-no-match")  # fmt: skip


def _partners(session: UserSession, count: int) -> None:
    """Customers and suppliers with names, e-mails, phones and contacts (some missing), a few
    archived or deleted."""
    base = _base(session)
    customers, suppliers = [], []
    for n in range(count):
        name = PARTNER_NAMES[n % len(PARTNER_NAMES)] or "Smith & Sons"
        email = None if n % 5 == 0 else f"anna.{n}@example.org"
        phone = None if n % 4 == 0 else f"+49 30 555-{n:04d}"
        row = {**base, "id": new_id(), "name": f"{name} {n}", "email": email, "phone": phone, "address": None,
               "tax_id": None, "currency": "EUR", "archived": n % 17 == 0, "deleted": n % 23 == 0}  # fmt: skip
        customers.append({**row, "credit_limit": None, "erased": False})
        suppliers.append({**row, "id": new_id(), "contact_name": None if n % 3 else f"Jörg Kontakt {n}",
                          "sole_trader": False})  # fmt: skip
    with session.store.write_session() as db:
        WRITERS["customer"].upsert(db.connection(), customers)
        WRITERS["supplier"].upsert(db.connection(), suppliers)


def _non_ascii_products(session: UserSession) -> None:
    base = _base(session)
    names = ["Née chair", "NÉE table", "Éclair lamp", "éclair desk", "Item é 3", "Kelvin \u212a lamp",
             "\u212aettle", "Glaſs jar"]  # fmt: skip
    rows = [
        {**base, "id": new_id(), "sku": f"UNI-{n}", "name": name, "description": None, "barcode": None,
         "unit": "pcs", "sale_price": n, "cost_price": None, "currency": "EUR", "reorder_point": None,
         "archived": False}
        for n, name in enumerate(names)
    ]  # fmt: skip
    with session.store.write_session() as db:
        WRITERS["product"].upsert(db.connection(), rows)


def _same_on_every_plan(
    monkeypatch: pytest.MonkeyPatch, make: Any, searches: tuple[str, ...], sorts: tuple[str | None, ...]
) -> None:
    answers: dict[str, list[list[str]]] = {}
    for plan, few in PLANS.items():
        monkeypatch.setattr(lists, "FEW_MATCHES", few)
        source = make()
        for search in searches:
            for sort in sorts:
                found = [_ids(source, search, sort), _ids(source, search, sort, page=7)]
                assert found[0] == found[1], (plan, search, sort)  # paging keeps the order
                answers.setdefault(f"{search!r} by {sort}", []).append(found[0])
    for search, found in answers.items():
        assert found[0] == found[1], search
    plain = _plain(make())
    for search in searches:
        if search.isascii() and search not in FOLDED:
            for sort in sorts:
                assert answers[f"{search!r} by {sort}"][0] == _ids(plain, search, sort), (search, sort)


def test_products_answer_the_same_rows_on_every_plan(
    qtbot: QtBot, session: UserSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    bulk_products(session, 700)
    _non_ascii_products(session)
    _same_on_every_plan(
        monkeypatch, lambda: product_source(UiContext(session)), PRODUCT_SEARCHES, (None, "sale_price")
    )
    source = product_source(UiContext(session))
    # The index folds the case of any letter, on both plans; LIKE only of ASCII ones.
    names = {row["name"] for row in source.fetch("née")}
    assert names == {"Née chair", "NÉE table"}
    assert {row["name"] for row in source.fetch("éclair")} == {"Éclair lamp", "éclair desk"}
    assert [row["name"] for row in source.fetch("kelvin")] == ["Kelvin \u212a lamp"]
    assert [row["name"] for row in source.fetch("kettle")] == ["\u212aettle"]
    assert [row["name"] for row in source.fetch("glass")] == ["Glaſs jar"]
    # 700 less the 14 archived, and "Item é 3"
    assert source.count("item") == _plain(source).count("item") == 700 - 14 + 1


def test_invoices_answer_the_same_rows_on_every_plan(
    qtbot: QtBot, session: UserSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    _invoices(session, 400)
    _same_on_every_plan(
        monkeypatch,
        lambda: invoice_source(UiContext(session)),
        INVOICE_SEARCHES,
        (None, "number", "customer"),
    )
    source = invoice_source(UiContext(session))
    rows = source.fetch("so-001")  # found by its order's number
    assert rows and all(row["order"].startswith("SO-001") for row in rows)
    assert {row["customer"].split()[0] for row in source.fetch("müller")} == {"Café"}
    issued = [row["issue_date"] for row in source.fetch("oak")]
    assert issued == sorted(issued, reverse=True)  # newest first, as without a search
    assert source.count("oak") == _plain(source).count("oak") > 0
    posted = invoice_source(UiContext(session), status="draft")  # the status filter still applies
    assert posted.fetch("oak") == []


def test_journal_entries_answer_the_same_rows_on_every_plan(
    qtbot: QtBot, session: UserSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    _journal(session, 500)
    _same_on_every_plan(
        monkeypatch, lambda: entry_source(UiContext(session), "EUR"), JOURNAL_SEARCHES, (None, "number")
    )
    source = entry_source(UiContext(session), "EUR")
    assert {row["memo"].split()[0] for row in source.fetch("été")} == {"ÉTÉ"}
    assert source.fetch("STRASSE") == []  # a substring search, not a spelling one
    reversals = entry_source(UiContext(session), "EUR", source="reversal")
    assert {row["source"] for row in reversals.fetch("rent")} == {"reversal"}


def test_customers_and_suppliers_answer_the_same_rows_on_every_plan(
    qtbot: QtBot, session: UserSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A word inside a name, an e-mail, a phone number or a contact is found through the
    partners' trigram indexes: the same rows as LIKE over every searched column."""
    _partners(session, 300)
    for make in (lambda: customer_source(UiContext(session)), lambda: supplier_source(UiContext(session))):
        _same_on_every_plan(monkeypatch, make, PARTNER_SEARCHES, (None, "email"))
        source = make()
        assert source.count("example.org") == _plain(source).count("example.org") > 100
        assert {row["name"].split()[0] for row in source.fetch("müller")} == {"Café"}
    suppliers = supplier_source(UiContext(session))
    contacts = [row["contact_name"] for row in suppliers.fetch("KONTAKT")]
    assert len(contacts) > 50 and all(contact.startswith("Jörg Kontakt") for contact in contacts)


def test_the_lists_indexes_are_built_on_open_and_follow_a_full_download(
    qtbot: QtBot, session: UserSession
) -> None:
    engine = session.store.engine
    with engine.connect() as connection:
        names = {r[0] for r in connection.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert set(search_index.LOCAL_INDEXES) <= names
    assert {"invoice_search", "journal_entry_search"} <= names
    session.store.search_indexes.mark_missing()  # as a full download's first page does
    with engine.begin() as connection:
        assert deferred_indexes.defer(connection) > 0
    with engine.connect() as connection:
        names = {r[0] for r in connection.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert not set(search_index.LOCAL_INDEXES) & names
    _invoices(session, 60)  # written while the indexes and triggers are aside
    _journal(session, 60)
    assert deferred_indexes.restore_pending(engine) > 0
    assert session.store.search_indexes.build() > 0  # what the background build does
    with engine.connect() as connection:
        names = {r[0] for r in connection.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert set(search_index.LOCAL_INDEXES) <= names
    invoices, entries = invoice_source(UiContext(session)), entry_source(UiContext(session), "EUR")
    assert [row["number"] for row in invoices.fetch("INV-00055")] == ["INV-00055"]
    assert [row["number"] for row in entries.fetch("JE-00055")] == ["JE-00055"]
    with engine.connect() as connection:  # each index agrees with its rows
        for name in ("invoice_search", "journal_entry_search"):
            connection.exec_driver_sql(f"INSERT INTO {name}({name}, rank) VALUES ('integrity-check', 1)")


def test_only_the_kelvin_sign_and_the_long_s_fold_to_ascii_in_the_index() -> None:
    """What lets a walk decide ASCII terms with LIKE (search_index.FOLDED_TO_ASCII): every code
    point of the basic plane and beyond, matched through a trigram index against each ASCII
    character, finds only these two."""
    import sqlcipher3

    connection = sqlcipher3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(v, tokenize='trigram')")
    points = (p for p in range(128, 0x30000) if not 0xD800 <= p < 0xE000)
    connection.executemany("INSERT INTO t(rowid, v) VALUES (?, ?)", ((p, f"x{chr(p)}y") for p in points))
    folded: dict[str, str] = {}
    for code in range(32, 127):
        query = search_index.match_query([f"x{chr(code)}y"])
        for (point,) in connection.execute("SELECT rowid FROM t WHERE t MATCH ?", (query,)):
            folded[chr(code).lower()] = chr(point)
    connection.close()
    assert folded == search_index.FOLDED_TO_ASCII


# Searches a walk of the products' blocks answers: one and two characters, several words, no match,
# LIKE's wildcards taken literally, the characters the index folds, other letters.
BLOCK_SEARCHES = ("o", "e", "I", "it", "IT", "1", "12", "9 ", "zz", "q", "%", "_", "-0", "item", "item 1",
                  "num 4", "er 12", "numb 9", "Item 05 num", "o 1 it", "aa", "zebra", "k", "s", "kettle",
                  "é", "ée", "Ée", "éclair l", "zzz-no-match")  # fmt: skip


def _blocks(session: UserSession) -> list[tuple[str, str | None, int, bool]]:
    with session.store.engine.connect() as connection:
        return [
            (str(lo), hi, int(rows), grams is None)
            for lo, hi, rows, grams in connection.exec_driver_sql(
                "SELECT lo, hi, rows, grams FROM product_search_block ORDER BY lo"
            )
        ]


def _same_rows_walking_blocks(session: UserSession, monkeypatch: pytest.MonkeyPatch) -> None:
    """Walking only the blocks that can hold a match answers, page by page, the rows a walk of
    every row answers (and, for ASCII text, a plain LIKE over every row), in the same order."""
    plain = _plain(product_source(UiContext(session)))
    for (plan, few), runs in zip(PLANS.items(), (2, 32), strict=True):
        monkeypatch.setattr(lists, "FEW_MATCHES", few)
        monkeypatch.setattr(lists, "WALK_ENTRY_COST", 0)  # walk the blocks whenever the list may
        monkeypatch.setattr(lists, "MAX_BLOCK_RUNS", runs)  # 2: the rest walked in one query
        source, unblocked = product_source(UiContext(session)), product_source(UiContext(session))
        unblocked.org_id = None  # no blocks: the walk of every row
        for search in BLOCK_SEARCHES:
            assert source._blocks_answer(search, None, None, 7) is not None, search
            found = _ids(source, search, page=7)
            assert found == _ids(unblocked, search, page=7), (plan, search)
            if search.isascii() and search not in FOLDED:
                assert found == _ids(plain, search), (plan, search)


def _product(session: UserSession, name: str, *, sku: str | None = None, **values: Any) -> dict[str, Any]:
    return {**_base(session), "id": new_id(), "sku": sku or f"B-{new_id()}", "name": name,
            "description": None, "barcode": None, "unit": "pcs", "sale_price": 1, "cost_price": None,
            "currency": "EUR", "reorder_point": None, "archived": False, **values}  # fmt: skip


def test_products_walk_only_the_blocks_that_can_hold_a_match_and_follow_changes(
    qtbot: QtBot, session: UserSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_index, "BLOCK_ROWS", 8)
    bulk_products(session, 300)
    _non_ascii_products(session)
    assert search_index.ensure_engine(session.store.engine) > 0  # the rows are summed into blocks
    blocks = _blocks(session)
    assert len(blocks) > 20 and not any(dirty for *_, dirty in blocks)
    assert sum(rows for _, _, rows, _ in blocks) == 300 + 8
    source = product_source(UiContext(session))
    assert source._walk_blocks("zz") == ([], 0)  # nothing to walk: no block holds "zz"
    runs, rows = source._walk_blocks("Éc") or ([], 0)  # LIKE: "Éclair lamp" alone
    assert len(runs) == 1 and rows < 20
    assert source.fetch("zz") == []
    _same_rows_walking_blocks(session, monkeypatch)

    # Through sync: added (first, last and amid the names), renamed, deleted and un-deleted rows.
    renamed, deleted = source.fetch("Item 05")[0], source.fetch("Item 07")[0]
    added = [_product(session, name) for name in ("Aardvark oak", "Zebra qz", "Item 05 zz", "Item 42 zebra")]
    with session.store.write_session() as db:
        WRITERS["product"].upsert(db.connection(), added)
        db.execute(
            text("UPDATE product SET name = 'Zz renamed oak', version = 2 WHERE id = :id"),
            {"id": renamed["id"]},
        )
        db.execute(text("UPDATE product SET deleted = 1 WHERE id = :id"), {"id": deleted["id"]})
    assert any(dirty for *_, dirty in _blocks(session))
    assert [r["name"] for r in source.fetch("zz")] == ["Item 05 zz", "Zz renamed oak"]
    assert deleted["id"] not in {r["id"] for r in source.fetch("Item 07", limit=500)}
    _same_rows_walking_blocks(session, monkeypatch)

    # Through local commands: a new product and a rename.
    created = new_id()
    session.apply("inventory.create_product",
                  {"id": created, "sku": "NEW-1", "name": "Item 33 qq", "sale_price": 5, "currency": "EUR"})  # fmt: skip
    session.apply("inventory.update_product",
                  {"id": added[0]["id"], "changes": {"name": "Item 12 qq"}, "base": {"name": "Aardvark oak"}})  # fmt: skip
    assert [r["name"] for r in source.fetch("qq")] == ["Item 12 qq", "Item 33 qq"]
    with session.store.write_session() as db:
        db.execute(text("UPDATE product SET deleted = 0 WHERE id = :id"), {"id": deleted["id"]})
        db.execute(text("DELETE FROM product WHERE id = :id"), {"id": added[1]["id"]})
    _same_rows_walking_blocks(session, monkeypatch)

    # Many rows into one block: summed again on the next opening, the grown block split.
    many = [_product(session, f"Item 20 bulk {n:03d}", sku=f"BULK-{n}") for n in range(40)]
    with session.store.write_session() as db:
        WRITERS["product"].upsert(db.connection(), many)
    assert search_index.ensure_engine(session.store.engine) > 0
    blocks = _blocks(session)
    assert not any(dirty for *_, dirty in blocks) and max(rows for _, _, rows, _ in blocks) <= 16
    assert search_index.ensure_engine(session.store.engine) == 0  # nothing left to do
    _same_rows_walking_blocks(session, monkeypatch)
    assert [r["name"] for r in source.fetch("bulk 03")] == [
        f"Item 20 bulk {n:03d}" for n in range(40) if "03" in f"{n:03d}"
    ]


def test_a_full_download_sums_the_blocks_again(qtbot: QtBot, session: UserSession) -> None:
    bulk_products(session, 50)
    search_index.ensure_engine(session.store.engine)
    assert _blocks(session)  # summed before the download
    engine = session.store.engine
    session.store.search_indexes.mark_missing()  # as a full download's first page does
    with engine.begin() as connection:
        assert deferred_indexes.defer(connection) > 0
    with session.store.write_session() as db:  # written while the triggers are aside
        WRITERS["product"].upsert(db.connection(), [_product(session, "Zulu download")])
    assert deferred_indexes.restore_pending(engine) > 0
    source = product_source(UiContext(session))
    # Before the background build: found by LIKE, the blocks not asked.
    assert [r["name"] for r in source.fetch("zu")] == ["Zulu download"]
    assert session.store.search_indexes.build() > 0 and session.store.search_ready
    assert _blocks(session) and not any(dirty for *_, dirty in _blocks(session))
    assert [r["name"] for r in source.fetch("zu")] == ["Zulu download"]

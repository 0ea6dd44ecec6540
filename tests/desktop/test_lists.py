"""Big lists: pages fetched as the view scrolls, filter and sort done in SQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pytestqt.qtbot import QtBot

from common.ids import new_id
from desktop.lists import search_terms
from desktop.qt import Qt
from desktop.rows import WRITERS
from desktop.session import UserSession
from desktop.ui.context import UiContext
from desktop.ui.products import ProductsPage, product_source
from desktop.ui.table_model import LazyTableModel


def bulk_products(session: UserSession, count: int, *, prefix: str = "SKU") -> None:
    """Products written as a pull writes them (fast, without an outbox entry each)."""
    now = datetime.now(UTC).isoformat()
    rows: list[dict[str, Any]] = [
        {
            "org_id": session.org_id,
            "id": new_id(),
            "version": 1,
            "updated_at": now,
            "updated_by": None,
            "deleted": False,
            "sku": f"{prefix}-{i:06d}",
            "name": f"Item {i % 97:02d} number {i}",
            "description": None,
            "barcode": f"{7000000 + i}",
            "unit": "pcs",
            "sale_price": i * 10,
            "cost_price": None,
            "currency": "EUR",
            "reorder_point": None,
            "archived": i % 50 == 0,
        }
        for i in range(count)
    ]
    with session.store.write_session() as db:
        WRITERS["product"].upsert(db.connection(), rows)


def test_the_model_loads_one_page_and_fetches_more_as_needed(qtbot: QtBot, session: UserSession) -> None:
    bulk_products(session, 1000)
    model = LazyTableModel(product_source(UiContext(session)), page_size=200)
    model.reload()
    assert model.rowCount() == 200 and model.canFetchMore()
    assert model.count_all() == 980  # archived ones are hidden
    model.fetchMore()
    assert model.rowCount() == 400
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == 980
    assert len({row["id"] for row in model.rows}) == 980  # no row twice across pages


def test_search_and_sort_happen_in_sql(qtbot: QtBot, session: UserSession) -> None:
    bulk_products(session, 1000)
    model = LazyTableModel(product_source(UiContext(session)), page_size=200)
    model.set_search("number 12")
    skus = [row["sku"] for row in model.rows]
    assert "SKU-000012" in skus and "SKU-000125" in skus and all("12" in row["name"] for row in model.rows)
    model.set_search("item 05 number")  # every word must match, in any searched column
    assert any(row["name"] == "Item 05 number 102" for row in model.rows)
    for row in model.rows:
        text = f"{row['sku']} {row['name']} {row['barcode']}".lower()
        assert all(term in text for term in ("item", "05", "number"))
    assert not any(row["name"] == "Item 06 number 103" for row in model.rows)
    model.set_search("")
    model.sort(model.column_index("sale_price"), Qt.SortOrder.DescendingOrder)
    prices = [row["sale_price"] for row in model.rows]
    assert prices == sorted(prices, reverse=True) and prices[0] == 9990
    model.set_search("100%_")  # LIKE wildcards are searched for literally
    assert model.rows == []


def test_money_is_shown_with_its_currency_and_right_aligned(
    qtbot: QtBot, seeded: tuple[UserSession, Any]
) -> None:
    session, _ids = seeded
    model = LazyTableModel(product_source(UiContext(session)))
    model.reload()
    column = model.column_index("sale_price")
    row = next(i for i, r in enumerate(model.rows) if r["sku"] == "TABLE-OAK-180")
    index = model.index(row, column)
    assert model.data(index) == "749.00 EUR"
    alignment = model.data(index, Qt.ItemDataRole.TextAlignmentRole)
    assert alignment & Qt.AlignmentFlag.AlignRight
    on_hand = model.data(model.index(row, model.column_index("on_hand")))
    assert on_hand == "6"


def test_search_terms_are_bounded() -> None:
    assert search_terms("a b c d e f g") == ["a", "b", "c", "d", "e"]
    assert len("".join(search_terms("x" * 10_000))) == 100


def test_the_products_page_searches_as_you_type_and_shows_an_empty_state(
    qtbot: QtBot, session: UserSession
) -> None:
    bulk_products(session, 500)
    page = ProductsPage(UiContext(session))
    qtbot.addWidget(page)
    page.show()
    page.activate()
    assert page.table.isVisible() and page.count_label.text() == "200+ products"
    # the total needs a scan of every row: it is counted in the background and shown when known
    qtbot.waitUntil(lambda: page.count_label.text() == "200 of 490 products loaded")
    qtbot.keyClicks(page.search, "SKU-00042")
    assert [r["sku"] for r in page.model.rows] == [f"SKU-00042{i}" for i in range(10)]
    assert page.count_label.text() == "10 products"
    page.search.clear()
    qtbot.keyClicks(page.search, "no such thing")
    assert page.stack.currentWidget() is page.empty
    assert "No products match “no such thing”" in page.empty.title.text()

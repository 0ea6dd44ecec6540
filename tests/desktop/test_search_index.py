"""The products list's trigram search index: it finds what LIKE finds, follows every change of
the rows (an overwritten value is no longer found), and a full download's deferral rebuilds it."""

from __future__ import annotations

from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop import deferred_indexes, lists, search_index
from desktop.lists import ListSource
from desktop.session import UserSession
from desktop.ui.context import UiContext
from desktop.ui.products import product_source
from tests.desktop.test_lists import bulk_products


def _without_index(source: ListSource) -> ListSource:
    return ListSource(
        source.store,
        source.columns,
        source.build,
        source.search_keys,
        source.default_sort,
        build_for_search=source.build_for_search,
    )


def _skus(source: ListSource, search: str) -> list[str]:
    return [row["sku"] for row in source.fetch(search, limit=10_000)]


def _matches(session: UserSession, query: str) -> int:
    with session.store.engine.connect() as connection:
        return int(
            connection.exec_driver_sql(
                "SELECT count(*) FROM product_search WHERE product_search MATCH ?",
                (search_index.match_query([query]),),
            ).scalar()
            or 0
        )


@pytest.mark.parametrize("few", [lists.FEW_MATCHES, 0])
def test_indexed_search_finds_exactly_what_like_finds(
    qtbot: QtBot, session: UserSession, monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    """Both plans: the index's matches fetched and sorted, and (``few=0``: every search counts
    as matching many rows) the sort order's index walked with the matches as a filter."""
    monkeypatch.setattr(lists, "FEW_MATCHES", few)
    bulk_products(session, 600)
    indexed = product_source(UiContext(session))
    plain = _without_index(indexed)
    for search in (
        "number 12",
        "ITEM 05 number",
        "SKU-00042",
        "7000123",
        "em 0",
        "12 number 1",
        '"x',
        "100%_",
        "zzz",
    ):
        assert _skus(indexed, search) == _skus(plain, search), search
    assert _skus(indexed, "SKU-00042") == [f"SKU-00042{i}" for i in range(10)]
    assert indexed.count("number 12") == plain.count("number 12") > 0


def test_the_index_follows_inserts_updates_and_deletes(qtbot: QtBot, session: UserSession) -> None:
    bulk_products(session, 50)
    source = product_source(UiContext(session))
    [row] = source.fetch("SKU-000007")
    assert _matches(session, "number 7") >= 1
    with session.store.write_session() as db:
        db.connection().exec_driver_sql(
            "UPDATE product SET name = 'Walnut desk', barcode = NULL WHERE id = ?", (row["id"],)
        )
    assert _skus(source, "walnut") == ["SKU-000007"]
    # The old name is gone from the index itself (secure-delete), not only from the answers.
    assert _matches(session, "Item 07 number 7") == 0
    with session.store.write_session() as db:
        db.connection().exec_driver_sql("DELETE FROM product WHERE id = ?", (row["id"],))
    assert _skus(source, "walnut") == [] and _matches(session, "walnut") == 0
    with session.store.engine.connect() as connection:  # the index agrees with its rows
        connection.exec_driver_sql(
            "INSERT INTO product_search(product_search, rank) VALUES ('integrity-check', 1)"
        )


def test_a_deferral_drops_the_index_and_the_background_build_makes_it_again(
    qtbot: QtBot, session: UserSession
) -> None:
    bulk_products(session, 20)
    engine = session.store.engine
    session.store.search_indexes.mark_missing()  # as a full download's first page does
    with engine.begin() as connection:
        assert deferred_indexes.defer(connection) > 0
    with engine.connect() as connection:
        names = {r[0] for r in connection.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert not names & (search_index.trigger_names() | {"product_search"})
    bulk_products(session, 30, prefix="NEW")  # written while the index is missing
    source = product_source(UiContext(session))
    assert _skus(source, "NEW-000029") == ["NEW-000029"]  # the list searches without it meanwhile
    assert deferred_indexes.restore_pending(engine) > 0
    assert session.store.search_indexes.build() > 0 and session.store.search_ready
    assert _skus(source, "NEW-000029") == ["NEW-000029"] and _matches(session, "NEW-000029") == 1
    rows: list[Any] = source.fetch("SKU-00001", limit=100)
    assert [r["sku"] for r in rows] == [f"SKU-0000{n}" for n in range(10, 20)]

"""A full download sets the local indexes aside and always puts them back: at its end, after it
fails half-way, and when the program was killed during it (the next opening of the store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from common.schema import SCHEMA_VERSION
from desktop import deferred_indexes, search_index
from desktop.api_client import OfflineError
from desktop.local_store import LocalStore
from desktop.search_build import SearchIndexBuilder
from desktop.session import UserSession
from desktop.sync import RetryPolicy, SyncEngine, engine_for
from desktop.sync.local import apply_page
from desktop.ui.context import UiContext
from desktop.ui.products import product_source
from tests.desktop.conftest import LiveServer
from tests.desktop.test_sync_engine import new_product, online

FAST = RetryPolicy(attempts=2, base_s=0.01, cap_s=0.02, budget_s=0.5)


def indexes(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).all()
    return {str(name): str(sql) for name, sql in rows}


SEARCH_TABLES = {index.name for index in search_index.INDEXES.values()}


def search_tables(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        names = {str(r[0]) for r in connection.exec_driver_sql("SELECT name FROM sqlite_master")}
    return names & SEARCH_TABLES


def skus(session: UserSession, search: str) -> list[str]:
    return [row["sku"] for row in product_source(UiContext(session)).fetch(search, limit=1000)]


def deferral_recorded(store: LocalStore) -> bool:
    return store.get_state(deferred_indexes.STATE_KEY) is not None


@pytest.fixture
def office(live_server: LiveServer, data_root: Path) -> Iterator[UserSession]:
    """An admin whose products are on the server (the download has several pages to write)."""
    session = online(data_root / "office", live_server, "admin@acme.test")
    for n in range(6):
        new_product(session, f"SKU-{n}")
    engine_for(session, policy=FAST).run()
    yield session
    session.close()


def test_a_full_download_ends_with_every_index_back(
    office: UserSession, live_server: LiveServer, data_root: Path
) -> None:
    fresh = online(data_root / "fresh", live_server, "warehouse@acme.test")
    try:
        before = indexes(fresh.store.engine)
        assert any(name.startswith("ix_product") for name in before)
        dropped: list[int] = []

        def progress(done: int, total: int | None, text: str) -> None:
            if text.startswith("Receiving") and not dropped:
                dropped.append(len(before) - len(indexes(fresh.store.engine)))

        report = SyncEngine(fresh.store, fresh.api, fresh.org_id, policy=FAST, page_limit=2).run(progress)
        assert report.pulled >= 6 and dropped and dropped[0] > 0  # set aside while it ran ...
        assert not deferral_recorded(fresh.store)
        assert fresh.store.search_indexes.wait(timeout=60)  # the search indexes: in the background
        assert indexes(fresh.store.engine) == before  # ... and back, exactly as they were
        assert fresh.store.search_ready and search_tables(fresh.store.engine) == SEARCH_TABLES
    finally:
        fresh.close()


def test_a_download_killed_half_way_gets_its_indexes_back_on_the_next_opening(
    office: UserSession, live_server: LiveServer, data_root: Path
) -> None:
    fresh = online(data_root / "fresh", live_server, "warehouse@acme.test")
    before = indexes(fresh.store.engine)
    page = fresh.api.pull(fresh.org_id, None, limit=2, schema_version=SCHEMA_VERSION)
    assert apply_page(fresh.store, page["changes"], page["cursor"], fresh_start=True)
    assert deferral_recorded(fresh.store) and indexes(fresh.store.engine) != before
    root, profile, key = fresh.store.root, fresh.store.profile, fresh.store.key
    fresh.close()  # the program ends here, mid-download
    reopened = LocalStore.open_with_key(root, profile, key)
    try:
        assert indexes(reopened.engine) == before
        assert not deferral_recorded(reopened)
        with reopened.read_session() as db:  # the page written before the end is kept
            assert db.connection().exec_driver_sql("SELECT count(*) FROM product").scalar() >= 1
    finally:
        reopened.close()


def test_a_download_that_fails_half_way_puts_the_indexes_back(
    office: UserSession, live_server: LiveServer, data_root: Path
) -> None:
    fresh = online(data_root / "fresh", live_server, "warehouse@acme.test")
    try:
        before = indexes(fresh.store.engine)
        pages: list[int] = []

        def progress(done: int, total: int | None, text: str) -> None:
            if text.startswith("Receiving") and not pages:
                pages.append(done)
                live_server.stop()  # the server goes away after the first page

        # One row a page: more pages than are ever fetched ahead, so the download cannot finish.
        engine = SyncEngine(fresh.store, fresh.api, fresh.org_id, policy=FAST, page_limit=1)
        with pytest.raises(OfflineError):
            engine.run(progress)
        assert pages and not deferral_recorded(fresh.store)
        assert fresh.store.search_indexes.wait(timeout=60)  # the search indexes: in the background
        assert indexes(fresh.store.engine) == before and fresh.store.search_ready
    finally:
        fresh.close()


SEARCHES = ("", "SKU", "sku-3", "Sku-4", "U-", "5", "S", "nothing like it")


def test_a_list_finds_the_same_rows_before_the_search_indexes_are_built(
    office: UserSession, live_server: LiveServer, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = online(data_root / "fresh", live_server, "warehouse@acme.test")
    try:
        with monkeypatch.context() as held:  # the background build does not start yet
            held.setattr(SearchIndexBuilder, "start", lambda self: None)
            SyncEngine(fresh.store, fresh.api, fresh.org_id, policy=FAST, page_limit=2).run()
        assert not fresh.store.search_ready and search_tables(fresh.store.engine) == set()
        before = {search: skus(fresh, search) for search in SEARCHES}
        assert before["SKU"] == [f"SKU-{n}" for n in range(6)] and before["sku-3"] == ["SKU-3"]
        fresh.store.search_indexes.start()
        assert fresh.store.search_indexes.wait(timeout=60) and fresh.store.search_ready
        assert search_tables(fresh.store.engine) == SEARCH_TABLES
        assert {search: skus(fresh, search) for search in SEARCHES} == before
    finally:
        fresh.close()


def test_an_interrupted_download_leaves_a_consistent_store_and_resumes(
    office: UserSession, live_server: LiveServer, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = online(data_root / "fresh", live_server, "warehouse@acme.test")
    try:
        before = indexes(fresh.store.engine)
        pull = fresh.api.pull
        served: list[int] = []

        def first_page_only(*args: object, **kwargs: object) -> dict[str, object]:
            if served:
                raise OfflineError("the network went away", code="offline")
            served.append(1)
            return pull(*args, **kwargs)  # type: ignore[arg-type]

        with monkeypatch.context() as cut:
            cut.setattr(fresh.api, "pull", first_page_only)
            with pytest.raises(OfflineError):
                SyncEngine(fresh.store, fresh.api, fresh.org_id, policy=FAST, page_limit=2).run()
        # What the first page wrote is kept, with its cursor, every index, and lists that work.
        assert fresh.store.search_indexes.wait(timeout=60) and fresh.store.search_ready
        assert indexes(fresh.store.engine) == before and not deferral_recorded(fresh.store)
        kept = skus(fresh, "SKU")
        assert 1 <= len(kept) < 6 and skus(fresh, "") == kept
        with fresh.store.engine.connect() as connection:
            connection.exec_driver_sql(
                "INSERT INTO product_search(product_search, rank) VALUES ('integrity-check', 1)"
            )
        # The next sync goes on from there (no second full download) and ends complete.
        report = SyncEngine(fresh.store, fresh.api, fresh.org_id, policy=FAST, page_limit=2).run()
        assert not report.resynced and report.pulled >= 6 - len(kept)
        assert fresh.store.search_indexes.wait(timeout=60)
        assert skus(fresh, "SKU") == [f"SKU-{n}" for n in range(6)] and skus(fresh, "sku-5") == ["SKU-5"]
        assert indexes(fresh.store.engine) == before
    finally:
        fresh.close()


def autocheckpoint(store: LocalStore) -> int:
    with store.engine.connect() as connection:
        return int(connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() or 0)


def test_a_full_download_leaves_the_log_to_be_copied_after_it(
    office: UserSession, live_server: LiveServer, data_root: Path
) -> None:
    fresh = online(data_root / "fresh", live_server, "warehouse@acme.test")
    try:
        usual = autocheckpoint(fresh.store)
        during: list[int] = []

        def progress(done: int, total: int | None, text: str) -> None:
            if text.startswith("Receiving"):
                during.append(autocheckpoint(fresh.store))

        SyncEngine(fresh.store, fresh.api, fresh.org_id, policy=FAST, page_limit=2).run(progress)
        assert usual > 0 and during and set(during) == {0}  # no copy while pages are written
        assert autocheckpoint(fresh.store) == usual  # every connection as usual after it
        assert fresh.store.search_indexes.wait(timeout=60)
        # An incremental pull copies the log as usual.
        new_product(office, "SKU-LATER")
        engine_for(office, policy=FAST).run()
        during.clear()
        SyncEngine(fresh.store, fresh.api, fresh.org_id, policy=FAST, page_limit=2).run(progress)
        assert during == [usual]
    finally:
        fresh.close()


def dirty_blocks(store: LocalStore) -> int:
    with store.engine.connect() as connection:
        found = connection.exec_driver_sql("SELECT count(*) FROM product_search_block WHERE grams IS NULL")
        return int(found.scalar_one())


def test_blocks_left_to_sum_by_a_sync_are_summed_after_it(
    office: UserSession, live_server: LiveServer, data_root: Path
) -> None:
    """A product pulled (or made here) marks its walk block to be summed again: the end of the
    next sync sums it in the background, so such blocks do not pile up over a long session."""
    fresh = online(data_root / "second", live_server, "admin@acme.test")
    try:
        engine_for(fresh, policy=FAST).run()
        assert fresh.store.search_indexes.wait(timeout=60) and fresh.store.search_ready
        assert dirty_blocks(fresh.store) == 0
        new_product(office, "ZEBRA-1")  # made on another workstation ...
        engine_for(office, policy=FAST).run()
        new_product(fresh, "YAK-1")  # ... and here
        assert dirty_blocks(fresh.store) > 0
        engine_for(fresh, policy=FAST).run()
        assert fresh.store.search_indexes.wait(timeout=60)
        assert dirty_blocks(fresh.store) == 0
        assert skus(fresh, "ze") == ["ZEBRA-1"] and skus(fresh, "ya") == ["YAK-1"]
    finally:
        fresh.close()

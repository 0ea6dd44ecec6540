"""A full download sets the local indexes aside and always puts them back: at its end, after it
fails half-way, and when the program was killed during it (the next opening of the store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from common.schema import SCHEMA_VERSION
from desktop import deferred_indexes
from desktop.api_client import OfflineError
from desktop.local_store import LocalStore
from desktop.session import UserSession
from desktop.sync import RetryPolicy, SyncEngine, engine_for
from desktop.sync.local import apply_page
from tests.desktop.conftest import LiveServer
from tests.desktop.test_sync_engine import new_product, online

FAST = RetryPolicy(attempts=2, base_s=0.01, cap_s=0.02, budget_s=0.5)


def indexes(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).all()
    return {str(name): str(sql) for name, sql in rows}


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
        assert indexes(fresh.store.engine) == before  # ... and back, exactly as they were
        assert not deferral_recorded(fresh.store)
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
        assert pages and indexes(fresh.store.engine) == before
        assert not deferral_recorded(fresh.store)
    finally:
        fresh.close()

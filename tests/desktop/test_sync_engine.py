"""The sync engine's behaviour at the edges, against a real server over HTTP: no network, a
failing server, an expired or revoked session, a too-old program, a refused command in the middle
of the queue, and commands made while a sync runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from common.db import new_key
from common.heap import collector_paused
from common.ids import new_id
from common.schema import SCHEMA_VERSION
from desktop.api_client import ApiClient, OfflineError, SessionEndedError, UpgradeRequiredError
from desktop.local_store import LocalStore
from desktop.profiles import Profile
from desktop.session import REFRESH_TOKEN_KEY, UserSession, save_session_facts
from desktop.sync import RetryPolicy, SyncEngine, engine_for, sync_function_for
from sync_server.blueprints import sync as sync_blueprint
from tests.desktop.conftest import LiveServer
from tests.desktop.seed import UNREACHABLE_SERVER
from tests.e2e.proxy import DroppingProxy

FAST = RetryPolicy(attempts=3, base_s=0.01, cap_s=0.02, budget_s=1.0)


def online(root: Path, live_server: LiveServer, email: str, url: str | None = None) -> UserSession:
    """A signed-in session on a new encrypted store (as after a first online sign-in)."""
    url = url or live_server.url
    org_id = live_server.orgs["Acme Trading"]
    api = ApiClient(url)
    me = api.login(email, live_server.password)
    membership = me.membership(org_id)
    assert membership is not None
    profile = Profile(url, email, org_id)
    profile.directory(root).mkdir(parents=True, mode=0o700)
    store = LocalStore.open_with_key(root, profile, new_key())
    save_session_facts(store, me.user, membership, me.memberships)
    session = UserSession(root, url, me.user, membership, me.memberships, store, api, online=True)
    session.attach_token_persistence()
    return session


@pytest.fixture
def depot(live_server: LiveServer, data_root: Path) -> Iterator[UserSession]:
    session = online(data_root, live_server, "warehouse@acme.test")
    yield session
    session.close()


def new_product(session: UserSession, sku: str) -> str:
    entry, _ = session.apply(
        "inventory.create_product",
        {"id": new_id(), "sku": sku, "name": sku.title(), "sale_price": 100, "currency": "EUR"},
    )
    return entry


def test_no_network_ends_with_a_clear_offline_answer_and_keeps_everything(
    live_server: LiveServer, data_root: Path
) -> None:
    session = online(data_root, live_server, "warehouse@acme.test")
    try:
        new_product(session, "CHAIR")
        session.api = ApiClient(UNREACHABLE_SERVER, refresh_token=session.api.refresh_token)
        engine = SyncEngine(session.store, session.api, session.org_id, policy=FAST)
        with pytest.raises(OfflineError) as info:
            engine.run()
        assert "cannot be reached" in info.value.message and "1 change wait" in info.value.message
        assert engine.retrier.retries == FAST.attempts - 1
        assert session.store.pending_count() == 1
    finally:
        session.close()


def test_a_failing_server_is_retried(live_server: LiveServer, data_root: Path) -> None:
    with DroppingProxy(live_server.http.port) as proxy:
        session = online(data_root, live_server, "warehouse@acme.test", url=proxy.url)
        try:
            new_product(session, "CHAIR")
            proxy.fail_next("/sync/push", 503)
            proxy.fail_next("/sync/pull", 502)
            report = engine_for(session, policy=FAST).run()
            assert report.retries == 2 and report.applied == 1 and report.pulled == 1
            assert session.store.outbox() == []
        finally:
            session.close()


def test_an_expired_access_token_is_refreshed_and_the_new_refresh_token_kept(depot: UserSession) -> None:
    new_product(depot, "CHAIR")
    before = depot.api.refresh_token
    depot.api._access_token = "expired"  # what an access token older than its lifetime amounts to
    report = engine_for(depot, policy=FAST).run()
    assert report.applied == 1
    assert depot.api.refresh_token != before
    assert depot.store.get_state(REFRESH_TOKEN_KEY) == depot.api.refresh_token


def test_an_ended_session_stops_the_sync_and_keeps_the_outbox(depot: UserSession) -> None:
    new_product(depot, "CHAIR")
    other = ApiClient(depot.server_url, refresh_token=depot.api.refresh_token)
    other.refresh()  # the refresh token is spent elsewhere ...
    other.refresh()
    depot.api._access_token = None  # ... so presenting it again revokes the whole family
    with pytest.raises(SessionEndedError):
        engine_for(depot, policy=FAST).run()
    assert depot.store.pending_count() == 1


def test_a_too_old_program_is_told_to_upgrade_and_keeps_its_outbox(
    depot: UserSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_product(depot, "CHAIR")
    new_product(depot, "TABLE")
    monkeypatch.setattr(sync_blueprint, "MIN_CLIENT_SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(UpgradeRequiredError) as info:
        sync_function_for(depot, policy=FAST)(lambda *_: None)
    assert (
        "install the new version" in info.value.message and "2 unsent changes are kept" in info.value.message
    )
    assert [e["status"] for e in depot.store.outbox()] == ["pending", "pending"]


def test_a_refused_command_never_blocks_the_ones_behind_it(
    depot: UserSession, live_server: LiveServer
) -> None:
    office = online(depot.root / "office", live_server, "admin@acme.test")
    try:
        new_product(office, "CLASH")
        engine_for(office, policy=FAST).run()
    finally:
        office.close()
    new_product(depot, "CHAIR")
    clash = new_product(depot, "CLASH")  # fine on this computer, taken on the server
    new_product(depot, "TABLE")
    report = engine_for(depot, policy=FAST).run()
    assert (report.applied, report.rejected) == (2, 1)
    (refused,) = depot.store.outbox()
    assert (refused["id"], refused["status"], refused["code"]) == (clash, "rejected", "invalid")
    assert refused["message"].startswith("sku:")
    # Retried, it stays refused (the server answers duplicate with the first result).
    with depot.store.write_session() as db:
        depot.store.mark(db, clash, status="pending")
    again = engine_for(depot, policy=FAST).run()
    assert (again.duplicates, again.rejected) == (1, 1)
    assert depot.store.outbox()[0]["status"] == "rejected"


def test_commands_made_during_a_sync_are_sent_before_anything_is_written_over_them(
    depot: UserSession, live_server: LiveServer
) -> None:
    office = online(depot.root / "office", live_server, "admin@acme.test")
    try:
        for n in range(3):
            new_product(office, f"OFFICE-{n}")
        engine_for(office, policy=FAST).run()
    finally:
        office.close()
    made: list[str] = []

    def progress(done: int, total: int | None, text: str) -> None:
        if text.startswith("Receiving") and not made:
            made.append(new_product(depot, "MADE-DURING-SYNC"))

    engine = SyncEngine(depot.store, depot.api, depot.org_id, policy=FAST, page_limit=1)
    report = engine.run(progress)
    assert made and report.pushed == 1 and depot.store.outbox() == []
    with depot.store.read_session() as db:
        skus = {r[0] for r in db.connection().exec_driver_sql("SELECT sku FROM product")}
    assert skus == {"OFFICE-0", "OFFICE-1", "OFFICE-2", "MADE-DURING-SYNC"}


def test_the_cycle_collector_is_restored_after_a_download() -> None:
    import gc

    from desktop.qt import QThreadPool

    # A download that an earlier test in this process left running in the background (an
    # interface's sync, on Qt's pool) pauses the collector until it ends: let it end first.
    assert QThreadPool.globalInstance().waitForDone(60_000)
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()

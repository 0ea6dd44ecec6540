"""Backup while a client pushes over real HTTP; restore; the chains verify and every client
resyncs to the restored data without losing what waits in its outbox. On both stores.

The restored store is older than what the clients saw: a client whose cursor is ahead of it (it
pulled changes made after the backup) and one whose cursor is behind both hear
``resync_required`` (``store_restored``), download the restored data and then send their pending
commands; nothing they pushed after the backup survives on the server, by design of a restore.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from common.schema import SCHEMA_VERSION, ChangeLog, Organization, OrgSequence, ProcessedMutation, StockMove
from desktop.api_client import ResyncRequiredError
from desktop.sync.local import saved_cursor
from sync_server.app import create_app
from sync_server.backup import BackupError, backup, restore
from sync_server.config import ServerConfig
from sync_server.pull_cursor import EPOCH_SEQUENCE
from sync_server.serve import BackgroundServer
from sync_server.services import Services
from sync_server.writes import CHANGE_SEQUENCE
from tests.e2e.conftest import Client, ClientFactory
from tests.e2e.scenario import by_id, create_product, create_warehouse, rename
from tests.e2e.test_long_offline import record_moves
from tests.sync_server.conftest import OrgInfo, make_org

BATCH = 25
ROUNDS = 12
BACKUP_AFTER_ROUND = 4


@dataclass
class RestartableServer:
    """The app over ``config`` on one fixed port, stopped and started again around a restore."""

    config: ServerConfig
    port: int = 0
    services: Services | None = None
    http: BackgroundServer | None = None

    def start(self) -> None:
        if not self.port:
            # A fixed port from the start: cheroot sets SO_REUSEADDR only on a non-ephemeral one,
            # and without it the restarted server could not bind while old connections linger.
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
        self.services = Services.build(self.config)
        self.http = BackgroundServer(
            create_app(self.config, self.services), port=self.port, threads=8
        ).start()
        self.port = self.http.port

    def stop(self) -> None:
        if self.http is not None:
            self.http.stop()
        if self.services is not None:
            self.services.store.dispose()
        self.http = self.services = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def count(self, org: OrgInfo, model: type) -> int:
        assert self.services is not None
        with self.services.store.session(org.id) as db:
            return int(db.execute(select(func.count()).select_from(model)).scalar() or 0)


@pytest.fixture(params=["sqlite", "postgres"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def live(server_config: ServerConfig) -> Iterator[tuple[RestartableServer, OrgInfo]]:
    server = RestartableServer(server_config)
    server.start()
    assert server.services is not None
    org = make_org(server.services, "Acme")
    try:
        yield server, org
    finally:
        server.stop()


def _push_rounds(client: Client, products: list[str], warehouse: str, backup_due: threading.Event) -> None:
    """``ROUNDS`` syncs of ``BATCH`` stock moves each; ``backup_due`` is set while round
    ``BACKUP_AFTER_ROUND + 1`` is being sent, and the rounds go on meanwhile."""
    for round_number in range(ROUNDS):
        record_moves(client, products, warehouse, BATCH)

        def progress(done: int, total: int | None, text: str, n: int = round_number) -> None:
            if n == BACKUP_AFTER_ROUND and text.startswith("Sending"):
                backup_due.set()

        client.engine.run(progress)


def test_backup_while_pushing_restore_and_resync(
    live: tuple[RestartableServer, OrgInfo], clients: ClientFactory, tmp_path: Path
) -> None:
    server, org = live
    depot = clients("warehouse@acme.test", org, url=server.url)
    office = clients("admin@acme.test", org, url=server.url)
    main = create_warehouse(depot)
    products = [create_product(depot, f"SKU-{n}") for n in range(5)]
    depot.sync()
    office.sync()

    # A client pushes batch after batch over HTTP; the backup is taken in the middle.
    backup_due = threading.Event()
    failures: list[BaseException] = []

    def pusher() -> None:
        try:
            _push_rounds(depot, products, main, backup_due)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
            backup_due.set()

    thread = threading.Thread(target=pusher, name="pusher")
    thread.start()
    assert backup_due.wait(timeout=120)
    report = backup(server.config, tmp_path / "backups" / "ops.backup")
    thread.join(timeout=300)
    assert not thread.is_alive() and not failures, failures
    assert report.path.stat().st_size == report.size > 0
    assert server.count(org, StockMove) == ROUNDS * BATCH

    # After the backup: the office pulls everything (its cursor will be ahead of the backup) and
    # renames a product; then both clients make changes that wait in their outboxes.
    office.sync()
    rename(office, products[0], "Renamed after the backup", "Product SKU-0")
    office.sync()
    cursor_before = saved_cursor(office.store)
    assert cursor_before is not None
    waiting_office = create_product(office, "OFFICE-PENDING")
    record_moves(depot, products, main, 3)
    assert office.store.pending_count() == 1 and depot.store.pending_count() == 3

    server.stop()
    restored = restore(server.config, report.path)
    assert restored.intact, restored.chains
    assert restored.chains["Acme"][0] > 0 and restored.organizations == 1
    server.start()
    assert not no_epoch_set(server, org)  # the restored store has a new epoch

    # The backup is one consistent moment: whole push batches, each with its results, change-log
    # rows and audit events (the chains verified above).
    in_backup = server.count(org, StockMove)
    assert 0 < in_backup < ROUNDS * BATCH and in_backup % BATCH == 0
    assert server.count(org, ProcessedMutation) == 1 + 5 + in_backup
    assert server.services is not None
    with server.services.store.session(org.id) as db:
        last_change = db.execute(
            select(OrgSequence.value).where(OrgSequence.org_id == org.id, OrgSequence.name == CHANGE_SEQUENCE)
        ).scalar()
        assert db.execute(select(func.max(ChangeLog.seq))).scalar() == last_change

    # A cursor from before the restore is never answered from the restored store.
    with pytest.raises(ResyncRequiredError) as refused:
        office.session.api.pull(org.id, cursor_before, limit=100, schema_version=SCHEMA_VERSION)
    assert refused.value.details["reason"] == "store_restored"

    office_report = office.sync()
    depot_report = depot.sync()
    assert office_report.resynced and depot_report.resynced
    assert office.store.pending_count() == depot.store.pending_count() == 0
    assert server.count(org, StockMove) == in_backup + 3
    office.sync()
    assert office.snapshot() == depot.snapshot()
    products_now = by_id(office.rows("product"))
    assert products_now[products[0]]["name"] == "Product SKU-0"  # the rename came after the backup
    assert waiting_office in products_now
    assert len(office.rows("stock_move")) == in_backup + 3


def test_restore_refuses_a_store_in_use_a_foreign_file_and_a_damaged_backup(
    live: tuple[RestartableServer, OrgInfo], tmp_path: Path
) -> None:
    server, org = live
    report = backup(server.config, tmp_path / "ops.backup")
    with pytest.raises(BackupError, match=r"in use|other connection"):
        restore(server.config, report.path)
    assert server.services is not None
    make_org(server.services, "Created after the backup")
    server.stop()
    stranger = tmp_path / "not-a-backup"
    stranger.write_bytes(b"PGDMP" + bytes(200) if server.config.embedded else bytes(4096))
    with pytest.raises(BackupError, match=r"PostgreSQL backup|not a pg_dump"):
        restore(server.config, stranger)
    # A backup cut short: refused, or failed inside its transaction; the store is as it was.
    damaged = tmp_path / "damaged.backup"
    data = report.path.read_bytes()
    damaged.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(BackupError):
        restore(server.config, damaged)
    server.start()
    assert server.services is not None
    with server.services.store.admin_session() as db:
        names = set(db.execute(select(Organization.name)).scalars())
    assert names == {"Acme", "Created after the backup"}
    assert no_epoch_set(server, org)


def no_epoch_set(server: RestartableServer, org: OrgInfo) -> bool:
    """No epoch was set: nothing of a restore reached the store."""
    assert server.services is not None
    with server.services.store.session(org.id) as db:
        epoch = db.execute(
            select(OrgSequence.value).where(OrgSequence.org_id == org.id, OrgSequence.name == EPOCH_SEQUENCE)
        ).scalar()
    return epoch is None

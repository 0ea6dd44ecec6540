"""Backup and restore on PostgreSQL as production runs them: the URL names the schema's owner, a
role that is not a superuser, so the FORCEd row-level security of the tenant tables applies to it
too. pg_dump then needs a role that bypasses it (OPS_BACKUP_DATABASE_URL, read-only); the restore,
as the owner, lifts FORCE for its one statement that sets the new epochs, inside its transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from sqlalchemy import select

from common.schema import Organization, OrgSequence
from sync_server import admin_ops
from sync_server.backup import BackupError, backup, restore
from sync_server.config import ServerConfig
from sync_server.pull_cursor import EPOCH_SEQUENCE
from sync_server.services import Services
from sync_server.store import prepare_store
from tests.pg_owner import owned_database
from tests.sync_server.conftest import JWT_KEY

pytestmark = pytest.mark.postgres


@pytest.fixture
def owner_config(pg_admin_url: str, tmp_path: Path) -> Iterator[tuple[ServerConfig, str]]:
    with owned_database(pg_admin_url, backup_reader=True) as db:
        assert db.reader is not None
        config = ServerConfig(
            data_dir=tmp_path / "data",
            database_url=db.url_of(db.owner),
            backup_database_url=db.url_of(db.reader),
            jwt_key=JWT_KEY,
            app_role=db.app_role,
            pool_size=2,
        ).for_tests()
        yield config, pg_admin_url.rsplit("/", 1)[0] + f"/{db.name}"


def test_a_non_superuser_owner_backs_up_and_restores(
    owner_config: tuple[ServerConfig, str], tmp_path: Path
) -> None:
    config, superuser_url = owner_config
    prepare_store(config).dispose()
    services = Services.build(config)
    try:
        admin_ops.create_org(services.store, "Acme")
        with pytest.raises(BackupError, match="OPS_BACKUP_DATABASE_URL"):  # the owner alone cannot
            backup(replace(config, backup_database_url=None), tmp_path / "refused.dump")
        assert not (tmp_path / "refused.dump").exists()
        report = backup(config, tmp_path / "ops.dump")
        admin_ops.create_org(services.store, "After the backup")
    finally:
        services.store.dispose()

    restored = restore(config, report.path)
    assert restored.intact and set(restored.chains) == {"system", "Acme"}

    with psycopg.connect(superuser_url, autocommit=True) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM organization")]
        epochs = conn.execute(
            "SELECT count(*) FROM org_sequence WHERE name = %s AND value > 0", (EPOCH_SEQUENCE,)
        ).fetchone()
        forced = conn.execute(
            "SELECT relforcerowsecurity FROM pg_class WHERE relname = 'org_sequence'"
        ).fetchone()
        owners = {
            row[0] for row in conn.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")
        }
    assert names == ["Acme"] and epochs == (1,)
    assert forced == (True,)  # lifted only inside the restore's transaction
    assert owners == {urlsplit(config.database_url or "").username}
    # The restored store serves requests as the application role, under row-level security.
    services = Services.build(config)
    try:
        org_id, _ = admin_ops.find_org(services.store, "Acme")
        with services.store.session(org_id) as db:
            assert db.execute(select(Organization.name)).scalars().all() == ["Acme"]
            assert db.execute(
                select(OrgSequence.value).where(
                    OrgSequence.org_id == org_id, OrgSequence.name == EPOCH_SEQUENCE
                )
            ).scalar()
    finally:
        services.store.dispose()


def test_metrics_read_every_chain_as_a_non_superuser_owner(owner_config: tuple[ServerConfig, str]) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from sync_server.app import create_app

    config, superuser_url = owner_config
    prepare_store(config).dispose()
    services = Services.build(config)
    try:
        acme = admin_ops.create_org(services.store, "Acme")
        globex = admin_ops.create_org(services.store, "Globex")
        text = create_app(config, services).test_client().get("/metrics").get_data(as_text=True)
    finally:
        services.store.dispose()
    with psycopg.connect(superuser_url) as conn:  # what each chain holds, read past RLS
        rows = conn.execute("SELECT org_id, count(*) FROM audit_event GROUP BY org_id").fetchall()
    held = {org_id: count for org_id, count in rows}
    chains = {
        sample.labels["org_id"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "ops_audit_chain_events"
    }
    # each organization's creation and its chart of accounts, as the owner's scrape counted them
    assert held[acme] > 1 and chains[acme] == held[acme] and chains[globex] == held[globex]

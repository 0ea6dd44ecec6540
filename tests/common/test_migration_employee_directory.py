"""Revision 0006 on a store that already holds employees: the directory is filled from them.

On PostgreSQL the upgrade runs as it does in production: as the schema's owner, a role that is
not a superuser and so is subject to the FORCEd row-level security of every tenant table.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, inspect, select

from common import migrate
from common.db import create_sqlite_engine, new_key
from common.schema import Department, Employee, EmployeeDirectory, Organization
from common.schema.base import table_of
from tests.common.migrations import to_revision

BEFORE = "0005"
WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _employee(org_id: str, name: str, status: str = "active", **extra: Any) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "id": str(uuid.uuid4()),
        "name": name,
        "job_title": None,
        "department_id": None,
        "work_email": None,
        "work_phone": None,
        "status": status,
        "salary": 900_000,
        "salary_currency": "EUR",
        "home_address": "1 Private Road",
        "version": 7,
        "updated_at": WHEN,
        "updated_by": None,
        "deleted": False,
        **extra,
    }


def _seed(engine: Engine) -> dict[str, dict[str, Any]]:
    """Two organizations' employees at revision 0005, in every state; returns them by name."""
    acme, globex = str(uuid.uuid4()), str(uuid.uuid4())
    department = str(uuid.uuid4())
    people = [
        _employee(
            acme,
            "Ada",
            job_title="Engineer",
            department_id=department,
            work_email="ada@acme.test",
            work_phone="+44 1",
            updated_by=str(uuid.uuid4()),
        ),
        _employee(acme, "Bo", "on_leave"),
        _employee(acme, "Cy", "terminated"),
        _employee(acme, "Dee", deleted=True),
        _employee(globex, "Eve"),
    ]
    with engine.begin() as connection:
        for org_id, name in ((acme, "Acme"), (globex, "Globex")):
            connection.execute(
                table_of(Organization).insert(),
                {"id": org_id, "name": f"{name} {org_id[:8]}", "base_currency": "EUR", "created_at": WHEN},
            )
        connection.execute(
            table_of(Department).insert(),
            {
                "org_id": acme,
                "id": department,
                "code": "ENG",
                "name": "Engineering",
                "parent_id": None,
                "version": 1,
                "updated_at": WHEN,
                "updated_by": None,
                "deleted": False,
            },
        )
        connection.execute(table_of(Employee).insert(), people)
    return {person["name"]: person for person in people}


def _directory(engine: Engine) -> dict[str, dict[str, Any]]:
    table = table_of(EmployeeDirectory)
    with engine.connect() as connection:
        return {row["id"]: dict(row) for row in connection.execute(select(*table.columns)).mappings()}


def _assert_backfilled(found: dict[str, dict[str, Any]], people: dict[str, dict[str, Any]]) -> None:
    listed = {people[name]["id"] for name in ("Ada", "Bo", "Eve")}
    assert set(found) == listed  # neither the leaver nor the tombstone
    ada, entry = people["Ada"], found[people["Ada"]["id"]]
    assert entry == {
        "org_id": ada["org_id"],
        "id": ada["id"],
        "name": "Ada",
        "job_title": "Engineer",
        "department_id": ada["department_id"],
        "work_email": "ada@acme.test",
        "work_phone": "+44 1",
        "version": 7,
        "updated_at": WHEN,
        "updated_by": ada["updated_by"],
        "deleted": False,
    }
    assert found[people["Eve"]["id"]]["org_id"] == people["Eve"]["org_id"]


def test_upgrading_an_encrypted_store_fills_the_directory_and_downgrading_drops_it(tmp_path: Path) -> None:
    engine = create_sqlite_engine(tmp_path / "store.db", new_key())
    try:
        to_revision(engine, BEFORE)
        people = _seed(engine)
        assert migrate.upgrade(engine) is True
        _assert_backfilled(_directory(engine), people)
        to_revision(engine, BEFORE, down=True)
        assert "employee_directory" not in inspect(engine).get_table_names()
        migrate.upgrade(engine)  # and up again
        _assert_backfilled(_directory(engine), people)
    finally:
        engine.dispose()


@pytest.fixture
def owned_pg_database(pg_admin_url: str) -> Iterator[tuple[str, str, str]]:
    """A database owned by a fresh non-superuser role, and an application role (as
    ``ops-server init`` would make it). Yields (owner's URL, superuser's URL, app role)."""
    tag = uuid.uuid4().hex[:10]
    owner, app_role, name = f"ops_owner_{tag}", f"ops_app_{tag}", f"ops_test_{tag}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {owner} LOGIN NOSUPERUSER NOBYPASSRLS")
        conn.execute(f"CREATE ROLE {app_role} NOLOGIN NOSUPERUSER NOBYPASSRLS")
        conn.execute(f"GRANT {app_role} TO {owner}")
        conn.execute(f'CREATE DATABASE "{name}" OWNER {owner}')
    parts = urlsplit(pg_admin_url)
    admin_url = urlunsplit(parts._replace(scheme="postgresql+psycopg", path=f"/{name}"))
    owner_url = urlunsplit(
        parts._replace(
            scheme="postgresql+psycopg", netloc=f"{owner}@{parts.hostname}:{parts.port}", path=f"/{name}"
        )
    )
    try:
        yield owner_url, admin_url, app_role
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f"DROP ROLE IF EXISTS {app_role}")
            conn.execute(f"DROP ROLE IF EXISTS {owner}")


@pytest.mark.postgres
def test_upgrading_postgresql_fills_the_directory_under_forced_row_level_security(
    owned_pg_database: tuple[str, str, str],
) -> None:
    owner_url, admin_url, app_role = owned_pg_database
    owner, admin = create_engine(owner_url), create_engine(admin_url)
    try:
        to_revision(owner, BEFORE)
        with owner.begin() as connection:  # the grants ops-server init gives the application role
            connection.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON employee TO {app_role}")
        people = _seed(admin)  # FORCEd policies refuse rows of no organization, even to the owner
        with owner.connect() as connection:  # ... and hide every row from it
            assert connection.execute(select(table_of(Employee).c.id)).all() == []
        migrate.upgrade(owner)
        _assert_backfilled(_directory(admin), people)
        with admin.connect() as connection:
            forced = connection.exec_driver_sql(
                "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'employee'"
                " OR relname = 'employee_directory' ORDER BY relname"
            ).all()
            policy = connection.exec_driver_sql(
                "SELECT qual, with_check FROM pg_policies WHERE tablename = 'employee_directory'"
                " AND policyname = 'tenant_isolation'"
            ).one()
            granted = connection.exec_driver_sql(
                "SELECT privilege_type FROM information_schema.role_table_grants"
                " WHERE table_name = 'employee_directory' AND grantee = %(role)s ORDER BY 1",
                {"role": app_role},
            ).scalars()
            assert sorted(granted) == ["DELETE", "INSERT", "SELECT", "UPDATE"]
        assert [tuple(row) for row in forced] == [(True, True), (True, True)]  # employee's FORCE is back
        assert all("current_setting('app.org_id'" in clause for clause in policy)
    finally:
        owner.dispose()
        admin.dispose()

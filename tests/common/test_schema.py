"""The one schema: classification on every column, tenant keys, and migrations on every store."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import ForeignKeyConstraint, UniqueConstraint, create_engine, inspect

from common import migrate
from common.classification import (
    Classification,
    classification_of,
    columns_by_classification,
    personal_columns,
)
from common.commands.framework import BOOKKEEPING_COLUMNS
from common.commands.hr import DIRECTORY_FIELDS
from common.db import create_sqlite_engine, new_key
from common.permissions import ALL_PERMISSIONS
from common.schema import ENTITIES, Base, Employee, EmployeeDirectory, metadata
from common.schema.base import TenantRow


def test_every_column_of_every_table_has_a_classification() -> None:
    missing = [
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        for column in table.columns
        if column.info.get("classification") not in {c.value for c in Classification}
    ]
    assert missing == []


def test_classification_is_queryable_and_marks_pay_and_ids_sensitive() -> None:
    employee = Employee.__table__
    grouped = columns_by_classification(employee)
    assert {"salary", "bank_account", "national_id"} <= set(grouped[Classification.SENSITIVE])
    assert {"name", "job_title", "department_id", "work_email", "work_phone"} <= set(
        grouped[Classification.PUBLIC]
    )
    assert "home_address" in personal_columns(employee)
    assert classification_of(employee.c.salary) is Classification.SENSITIVE


def test_the_employee_directory_mirrors_public_employee_fields_only() -> None:
    """Every member reads the directory, so it may hold nothing but what is public anyway."""
    employee, directory = Employee.__table__, EmployeeDirectory.__table__
    mirrored = [c for c in directory.columns if c.name not in BOOKKEEPING_COLUMNS]
    assert {c.name for c in mirrored} == set(DIRECTORY_FIELDS)
    for column in mirrored:
        assert classification_of(column) is Classification.PUBLIC, column.name
        assert classification_of(employee.c[column.name]) is Classification.PUBLIC, column.name
        assert repr(column.type) == repr(employee.c[column.name].type), column.name
        assert column.nullable == employee.c[column.name].nullable, column.name
    assert {"name", "job_title", "department_id", "work_email", "work_phone"} == set(DIRECTORY_FIELDS)
    info = EmployeeDirectory.__entity__
    assert info.directory and not Employee.__entity__.directory


def test_tenant_tables_key_uniques_and_references_include_the_organization() -> None:
    tenant_tables = {
        m.local_table.name: m.local_table for m in Base.registry.mappers if issubclass(m.class_, TenantRow)
    }
    assert set(ENTITIES) | {"membership", "role", "device"} <= set(tenant_tables)
    for table in tenant_tables.values():
        assert [c.name for c in table.primary_key.columns] == ["org_id", "id"], table.name
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint):
                assert "org_id" in constraint.columns, f"{table.name}: unique {constraint.name} lacks org_id"
            if (
                isinstance(constraint, ForeignKeyConstraint)
                and constraint.referred_table.name in tenant_tables
            ):
                assert constraint.column_keys[0] == "org_id", (
                    f"{table.name}: {constraint.name} is not composite"
                )
                assert [e.column.name for e in constraint.elements] == ["org_id", "id"]


def test_every_tenant_row_references_its_organization() -> None:
    """No tenant table can hold a row of an organization that does not exist."""
    tenant = {m.local_table.name: m.class_ for m in Base.registry.mappers if issubclass(m.class_, TenantRow)}
    for name, model in tenant.items():
        assert any(fk.column.table.name == "organization" for fk in model.__table__.c.org_id.foreign_keys), (
            name
        )


def test_every_entity_declares_who_reads_it_with_known_permissions() -> None:
    # Who writes is each command's permission (common.commands.REGISTRY), not the entity's.
    assert {"warehouse", "product", "stock_move", "supplier", "purchase_order", "purchase_order_line",
            "customer", "sales_order", "sales_order_line", "invoice", "invoice_line", "payment",
            "account", "fiscal_period", "journal_entry", "tax_rate",
            "department", "employee", "leave_request", "payroll_run", "payslip", "payslip_line",
            "project", "task", "timesheet_entry",
            "communication_preference", "data_subject_request", "notification"} <= set(ENTITIES)  # fmt: skip
    for name, model in ENTITIES.items():
        info = model.__entity__
        assert all(p in ALL_PERMISSIONS for p in info.readers), name
        assert info.readers or info.owner, f"{name} is readable by nobody"
        if info.owner:
            assert info.owner in model.__table__.c, name


def _assert_at_head_and_matches_metadata(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        assert migrate.current_revision(connection) == migrate.head_revision()
        tables = set(inspect(connection).get_table_names())
        assert set(metadata.tables) <= tables
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": False}), metadata
        )
    assert diff == [], f"migrations and models disagree: {diff}"


def test_migrations_bring_an_empty_sqlcipher_database_to_head(tmp_path: Path) -> None:
    engine = create_sqlite_engine(tmp_path / "empty.db", new_key())
    assert migrate.upgrade(engine) is True
    _assert_at_head_and_matches_metadata(engine)
    assert migrate.upgrade(engine) is False  # already at head: nothing to do
    engine.dispose()


def test_migrations_bring_an_empty_plain_sqlite_database_to_head(tmp_path: Path) -> None:
    engine = create_sqlite_engine(tmp_path / "plain.db", None)
    migrate.upgrade(engine)
    _assert_at_head_and_matches_metadata(engine)
    engine.dispose()


@pytest.mark.postgres
def test_migrations_bring_an_empty_postgresql_database_to_head(pg_database: str) -> None:
    engine = create_engine(pg_database.replace("postgresql://", "postgresql+psycopg://"))
    migrate.upgrade(engine)
    _assert_at_head_and_matches_metadata(engine)
    engine.dispose()

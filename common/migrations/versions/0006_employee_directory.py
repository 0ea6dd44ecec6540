"""employee directory

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 09:00:00

``employee_directory`` holds, for every employee not terminated, their public fields under the
employee's id; every member reads it, and ``employee`` itself is no longer a directory entity.
The table is filled from the employees that exist (with their versions: the rows are as old as
the employees' last change). No change-log rows are written for them: ``SCHEMA_VERSION`` 2 makes
every pull cursor issued before this revision answer ``resync_required``, so each client
downloads a fresh copy, directory included, and drops the employee rows it may no longer read.

PostgreSQL: the table gets ENABLE + FORCE row-level security and the tenant policy of revision
0002, and every grant on ``employee`` (the application role's, made by ``ops-server init``) is
repeated on it, so a store migrated by any route serves it at once; ``init`` grants it again.
The owner is subject to the FORCEd policies too, so ``employee`` is read for the backfill with
FORCE lifted for the length of this transaction.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import common.schema.types

revision: str = "0006"
down_revision: str | None = "0005"
# The SCHEMA_VERSION of the sync handshake from this revision on (common/schema/__init__.py).
sync_schema_version = 2
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORG = "current_setting('app.org_id', true)"
MIRRORED = ("name", "job_title", "department_id", "work_email", "work_phone")
COPIED = ("org_id", "id", *MIRRORED, "version", "updated_at", "updated_by", "deleted")
LISTED_STATUSES = ("active", "on_leave")  # common.commands.hr.LISTED_STATUSES at this revision


def _create_table() -> None:
    op.create_table(
        "employee_directory",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("job_title", sa.String(length=200), nullable=True),
        sa.Column("department_id", sa.String(length=36), nullable=True),
        sa.Column("work_email", sa.String(length=254), nullable=True),
        sa.Column("work_phone", sa.String(length=50), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", common.schema.types.UTCDateTime(length=40), nullable=False),
        sa.Column("updated_by", sa.String(length=36), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "department_id"],
            ["department.org_id", "department.id"],
            name=op.f("fk_employee_directory_org_id_department_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "id"],
            ["employee.org_id", "employee.id"],
            name=op.f("fk_employee_directory_org_id_id_employee"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organization.id"], name=op.f("fk_employee_directory_org_id_organization")
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_employee_directory")),
    )
    with op.batch_alter_table("employee_directory", schema=None) as batch_op:
        batch_op.create_index("ix_employee_directory_org_name", ["org_id", "name"], unique=False)


def _backfill() -> None:
    """One directory row per live employee in a listed state, as the HR commands would write it."""
    employee = sa.table("employee", *(sa.column(name) for name in (*COPIED, "status")))
    directory = sa.table("employee_directory", *(sa.column(name) for name in COPIED))
    listed = sa.select(*(employee.c[name] for name in COPIED)).where(
        employee.c.deleted == sa.false(), employee.c.status.in_(LISTED_STATUSES)
    )
    op.execute(directory.insert().from_select(list(COPIED), listed))


def _postgres_guards(bind: sa.engine.Connection) -> None:
    op.execute('ALTER TABLE "employee_directory" ENABLE ROW LEVEL SECURITY')
    op.execute('ALTER TABLE "employee_directory" FORCE ROW LEVEL SECURITY')
    op.execute(
        f'CREATE POLICY tenant_isolation ON "employee_directory" USING (org_id = {ORG}) '
        f"WITH CHECK (org_id = {ORG})"
    )
    grants = bind.execute(
        sa.text(
            "SELECT grantee, privilege_type FROM information_schema.role_table_grants "
            "WHERE table_schema = current_schema() AND table_name = 'employee' "
            "AND grantee <> current_user ORDER BY grantee, privilege_type"
        )
    ).all()
    for grantee, privilege in grants:
        to = "PUBLIC" if grantee == "PUBLIC" else f'"{grantee}"'
        op.execute(f'GRANT {privilege} ON "employee_directory" TO {to}')


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    _create_table()
    if postgres:
        op.execute("ALTER TABLE employee NO FORCE ROW LEVEL SECURITY")
    _backfill()
    if postgres:
        op.execute("ALTER TABLE employee FORCE ROW LEVEL SECURITY")
        _postgres_guards(bind)


def downgrade() -> None:
    with op.batch_alter_table("employee_directory", schema=None) as batch_op:
        batch_op.drop_index("ix_employee_directory_org_name")
    op.drop_table("employee_directory")

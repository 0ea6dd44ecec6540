"""Moving a store to one migration revision, for the tests of a migration on stores that hold data."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from sqlalchemy import Connection, Engine, Table
from sqlalchemy.sql.expression import TableClause

from common import migrate


def to_revision(engine: Engine, revision: str, *, down: bool = False) -> None:
    """Upgrade (or, with ``down``, downgrade) the store behind ``engine`` to ``revision``."""
    with engine.begin() as connection:
        config = migrate.alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def table_at(connection: Connection | Engine, table: Table) -> TableClause:
    """``table`` as the store holds it at its current revision: the columns it has there, with
    the model's types and no defaults (a column a later revision added, such as
    ``journal_entry.lines_json``, is left out of reads and of inserts)."""
    present = {column["name"] for column in sa.inspect(connection).get_columns(table.name)}
    return sa.table(table.name, *(sa.column(c.name, c.type) for c in table.columns if c.name in present))


def tables_at(connection: Connection | Engine, tables: list[Table]) -> list[TableClause]:
    """Those of ``tables`` the store holds as tables (not views) at its revision, as :func:`table_at`."""
    names = set(sa.inspect(connection).get_table_names())
    return [table_at(connection, table) for table in tables if table.name in names]

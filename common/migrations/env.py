"""Alembic environment: runs on the connection handed in by :mod:`common.migrate`."""

from __future__ import annotations

from alembic import context

from common.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the programmatic entry point is supported
    raise RuntimeError("run migrations through common.migrate.upgrade(connection)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

"""Moving a store to one migration revision, for the tests of a migration on stores that hold data."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine

from common import migrate


def to_revision(engine: Engine, revision: str, *, down: bool = False) -> None:
    """Upgrade (or, with ``down``, downgrade) the store behind ``engine`` to ``revision``."""
    with engine.begin() as connection:
        config = migrate.alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

"""Alembic migrations of the one schema, applied to every store (server and desktop)."""

"""Identifiers: UUIDv7 text ids, generated wherever a row is born (offline too)."""

from __future__ import annotations

import re

import uuid_utils

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def new_id() -> str:
    """Return a new time-ordered UUIDv7 as lowercase text (36 characters)."""
    return str(uuid_utils.uuid7())


def is_uuid(value: str) -> bool:
    """True when ``value`` is a canonical lowercase UUID string."""
    return bool(_UUID_RE.match(value))

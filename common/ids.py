"""Identifiers: UUIDv7 text ids, generated wherever a row is born (offline too)."""

from __future__ import annotations

import re

import uuid_utils

# How ``CommandContext.derived_id`` derives the ids of rows a command creates without an id in
# its args. Client and server must use the same scheme for a command: the desktop records it
# with each outbox entry and tells the server on a push (``common.wire.DERIVED_IDS_HEADER``;
# without it the server uses scheme 1, as older desktops derive).
# 1: the first 16 bytes of a SHA-256 of the command id and parts (uniformly random: every row
#    lands on a random page of each index it is in).
# 2: the command id's first 48 bits (a UUIDv7's millisecond timestamp), then that SHA-256's
#    digits: the rows of one command, and of commands made close in time, sit together.
LEGACY_DERIVED_IDS = 1
DERIVED_IDS = 2
DERIVED_ID_SCHEMES = frozenset({LEGACY_DERIVED_IDS, DERIVED_IDS})

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def new_id() -> str:
    """Return a new time-ordered UUIDv7 as lowercase text (36 characters)."""
    return str(uuid_utils.uuid7())


def is_uuid(value: str) -> bool:
    """True when ``value`` is a canonical lowercase UUID string."""
    return bool(_UUID_RE.match(value))

"""The pull cursor: an opaque, signed token saying where a client's download stands.

A cursor carries the organization it was issued for, the change sequence number the client has
reached (during a snapshot: the sequence the snapshot is pinned to), the snapshot position (entity
and last id sent) while a snapshot is in progress, the caller's access fingerprint, the schema
version and the organization's store epoch: a number that ``ops-server restore`` replaces, so a
cursor issued before a restore (whose sequence numbers the restored store reuses for other
changes) is told to resync instead of being answered wrongly. Cursors from before epochs existed
carry none and stand for epoch 0, the epoch of a store never restored. It is ``1.<payload>.<mac>``: base64url JSON and a truncated HMAC-SHA256 under a key
derived from the server's signing key. A cursor that does not verify, or names another
organization than the URL, is refused with 400; it is never trusted for what it says about the
organization (the URL and the session scope decide that). A verified cursor may name a snapshot
entity this server no longer has (a schema change since): it decodes, and the pull answers it
``resync_required``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, replace
from functools import lru_cache

import orjson

VERSION = "1"
MAX_CURSOR_LENGTH = 1024
_MAC_BYTES = 16
_MAX_SEQ = 2**63 - 1
_MAX_ID = 64  # ids are UUIDs; the MAC already vouches for what the server wrote
# An entity's name. Not checked against ``common.schema.ENTITIES``: a cursor this server signed
# may name an entity it has since stopped syncing (``journal_line``, revision 0019), and the pull
# answers that ``resync_required`` (``sync_server.pull``), not ``invalid_cursor``.
_MAX_ENTITY = 64
# The org_sequence row holding an organization's store epoch (absent: 0, never restored).
EPOCH_SEQUENCE = "epoch"


class InvalidCursor(ValueError):
    """The cursor was not issued by this server for this organization, or was altered."""


@dataclass(frozen=True)
class PullCursor:
    """Where a client stands: incremental after ``seq``, or a snapshot pinned to ``seq``.

    ``entity`` names the entity a snapshot is downloading (``None``: incremental) and
    ``after_id`` the last id of it already sent (``""``: none yet).
    """

    org_id: str
    seq: int
    fingerprint: str
    schema_version: int
    entity: str | None = None
    after_id: str = ""
    epoch: int = 0

    @property
    def in_snapshot(self) -> bool:
        return self.entity is not None

    def at_snapshot(self, entity: str, after_id: str) -> PullCursor:
        return replace(self, entity=entity, after_id=after_id)

    def incremental(self, seq: int) -> PullCursor:
        return replace(self, seq=seq, entity=None, after_id="")


@lru_cache(maxsize=16)
def cursor_key(signing_key: bytes) -> bytes:
    """The cursor MAC key: derived from the signing key, never the signing key itself."""
    return hmac.new(signing_key, b"ops-server pull cursor v1", hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> bytes:
    return hmac.digest(key, payload.encode("ascii"), "sha256")[:_MAC_BYTES]


def encode_cursor(cursor: PullCursor, key: bytes) -> str:
    """The cursor as opaque text."""
    fields: list[object] = [
        cursor.org_id,
        cursor.seq,
        cursor.entity or "",
        cursor.after_id,
        cursor.fingerprint,
        cursor.schema_version,
    ]
    if cursor.epoch:
        fields.append(cursor.epoch)
    payload = _b64(orjson.dumps(fields))
    body = f"{VERSION}.{payload}"
    return f"{body}.{_b64(_mac(key, body))}"


@lru_cache(maxsize=4096)
def decode_cursor(text: str, key: bytes, org_id: str) -> PullCursor:
    """The cursor ``text`` stands for; :class:`InvalidCursor` unless this server issued it for
    ``org_id`` and it is unaltered.

    Memoized (a pure function of its arguments, and the cursor is immutable): a client whose
    copy is up to date sends the same cursor at every sync. A refused cursor is not remembered."""
    if len(text) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("cursor: too long")
    version, _, rest = text.partition(".")
    payload, _, mac = rest.partition(".")
    if version != VERSION or not payload or not mac:
        raise InvalidCursor("cursor: not a cursor issued by this server")
    try:
        given = _unb64(mac)
    except (binascii.Error, ValueError):
        raise InvalidCursor("cursor: not a cursor issued by this server") from None
    if not hmac.compare_digest(given, _mac(key, f"{version}.{payload}")):
        raise InvalidCursor("cursor: altered, or issued by another server")
    try:
        fields = orjson.loads(_unb64(payload))
        if isinstance(fields, list) and len(fields) == 6:
            fields.append(0)  # issued before store epochs: a never-restored store's
        cursor_org, seq, entity, after_id, fingerprint, schema_version, epoch = fields
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidCursor("cursor: not a cursor issued by this server") from None
    if cursor_org != org_id:
        raise InvalidCursor("cursor: issued for another organization")
    valid = (
        isinstance(seq, int)
        and 0 <= seq <= _MAX_SEQ
        and isinstance(entity, str)
        and len(entity) <= _MAX_ENTITY
        and isinstance(after_id, str)
        and len(after_id) <= _MAX_ID
        and isinstance(fingerprint, str)
        and isinstance(schema_version, int)
        and isinstance(epoch, int)
        and 0 <= epoch <= _MAX_SEQ
        and not isinstance(seq, bool)
        and not isinstance(epoch, bool)
    )
    if not valid:
        raise InvalidCursor("cursor: not a cursor issued by this server")
    return PullCursor(
        org_id=org_id,
        seq=seq,
        fingerprint=fingerprint,
        schema_version=schema_version,
        entity=entity or None,
        after_id=after_id,
        epoch=epoch,
    )

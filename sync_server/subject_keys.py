"""Crypto-shredding of the audit trail: personal values sealed under a per-subject key.

The audit trail is append-only and hash-chained, so an erasure cannot rewrite it. Instead every
personal or sensitive value an event holds about a data subject is stored as
``{"$sealed": "<subject type>/<subject id>", "v": "<base64 nonce + AES-GCM ciphertext>"}``,
sealed under that subject's own 256-bit key (``subject_key``). The chain hashes the sealed form,
so destroying the key (erasure) leaves every hash valid while the values become unreadable:
readers get ``[erased]``.

A write transaction reads the keys of every subject its events are about in one query per 500
(:meth:`SubjectKeys.prepare`), makes the missing ones in memory and stores them in one multi-row
insert (:meth:`SubjectKeys.save_new`): a push of 1,000 new customers is two statements, not 2,000.

Subject keys are stored wrapped (AES-GCM) under a key derived from the server's audit key, which
is not in the store: a copy of the store alone opens nothing. Backups of the store keep wrapped
keys of subjects erased after the backup; restoring one resurrects them, like any other data.

Events written before revision 0010 hold plain values; for an erased subject readers hide the
personal fields of those too (:func:`reveal_event`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common.commands.rowaccess import session_connection
from common.schema import SubjectKey
from common.schema.base import table_of
from common.schema.types import utcnow
from common.subjects import erasable_columns
from sync_server.bulk import insert_rows

ERASED = "[erased]"
SEALED = "$sealed"
_NONCE = 12


def _wrapping_key(audit_key: bytes) -> bytes:
    return hmac.new(audit_key, b"ops-subject-key-wrap", hashlib.sha256).digest()


def _ref(subject_type: str, subject_id: str) -> str:
    return f"{subject_type}/{subject_id}"


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and SEALED in value


class SubjectKeys:
    """The subject keys of one organization, read and created within the caller's transaction.

    ``key=None`` in the cache means the subject was erased (its key destroyed). Keys made by
    :meth:`key_for_writing` are stored by :meth:`save_new`, which the caller must run in the same
    transaction as the values sealed under them (:meth:`destroy` runs it first itself).
    """

    def __init__(self, session: Session, org_id: str, audit_key: bytes) -> None:
        self.session = session
        self.org_id = org_id
        self._wrap = AESGCM(_wrapping_key(audit_key))
        self._cache: dict[tuple[str, str], bytes | None] = {}
        self._missing: set[tuple[str, str]] = set()
        # Keys made here and not yet stored (rows for :meth:`save_new`).
        self._new: list[dict[str, Any]] = []

    def _load(self, subjects: Iterable[tuple[str, str]]) -> None:
        wanted = {s for s in subjects if s not in self._cache and s not in self._missing}
        if not wanted:
            return
        by_type: dict[str, set[str]] = {}
        for subject_type, subject_id in wanted:
            by_type.setdefault(subject_type, set()).add(subject_id)
        # Core statements on the transaction's connection: through the ORM each costs more than
        # the key work itself. Per type, so that every column of the key is bound: by
        # organization and id alone, each look-up walked every key of the organization.
        connection, _ = session_connection(self.session)
        for subject_type, found in sorted(by_type.items()):
            ids = sorted(found)
            for start in range(0, len(ids), 500):
                rows = connection.execute(
                    select(_KEYS.c.subject_id, _KEYS.c.wrapped_key).where(
                        _KEYS.c.org_id == self.org_id,
                        _KEYS.c.subject_type == subject_type,
                        _KEYS.c.subject_id.in_(ids[start : start + 500]),
                    )
                ).all()
                for subject_id, wrapped in rows:
                    ref = (subject_type, subject_id)
                    self._cache[ref] = None if wrapped is None else self._unwrap(ref, bytes(wrapped))
        self._missing |= {s for s in wanted if s not in self._cache}

    def _aad(self, subject: tuple[str, str]) -> bytes:
        return f"{self.org_id}|{_ref(*subject)}".encode()

    def _unwrap(self, subject: tuple[str, str], wrapped: bytes) -> bytes:
        return self._wrap.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], self._aad(subject))

    def prepare(self, subjects: Iterable[tuple[str, str]]) -> None:
        """Read the keys of ``subjects`` in one query per 500 and make the missing ones (stored
        by :meth:`save_new`): sealing for them afterwards reads nothing."""
        wanted = set(subjects)
        self._load(wanted)
        for subject in wanted:
            if subject not in self._cache:
                self._make(subject)

    def _make(self, subject: tuple[str, str]) -> bytes:
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(_NONCE)
        self._new.append(
            {
                "org_id": self.org_id,
                "subject_type": subject[0],
                "subject_id": subject[1],
                "wrapped_key": nonce + self._wrap.encrypt(nonce, key, self._aad(subject)),
                "created_at": utcnow(),
            }
        )
        self._missing.discard(subject)
        self._cache[subject] = key
        return key

    def key_for_writing(self, subject: tuple[str, str]) -> bytes | None:
        """The subject's key, made on first use (stored by :meth:`save_new`); ``None`` if the
        subject was erased."""
        self._load([subject])
        if subject in self._cache:
            return self._cache[subject]
        return self._make(subject)

    def save_new(self) -> None:
        """Store the keys made since the last call, in one multi-row insert."""
        if self._new:
            rows, self._new = self._new, []
            insert_rows(self.session, _KEYS, rows)

    def is_erased(self, subject: tuple[str, str]) -> bool:
        self._load([subject])
        return subject in self._cache and self._cache[subject] is None

    # -- sealing ------------------------------------------------------------------------------
    def seal(self, subject: tuple[str, str], value: Any) -> Any:
        """The sealed form of ``value`` (already wire-encoded); ``[erased]`` once erased."""
        if value is None:
            return None
        key = self.key_for_writing(subject)
        if key is None:
            return ERASED
        nonce = os.urandom(_NONCE)
        sealed = nonce + AESGCM(key).encrypt(nonce, orjson.dumps(value), self._aad(subject))
        return {SEALED: _ref(*subject), "v": base64.b64encode(sealed).decode("ascii")}

    def seal_fields(
        self, subject: tuple[str, str], values: dict[str, Any] | None, fields: Iterable[str]
    ) -> dict[str, Any] | None:
        if not values:
            return values
        names = set(fields)
        return {k: self.seal(subject, v) if k in names else v for k, v in values.items()}

    def open(self, value: Any) -> Any:
        """The plain value of a sealed one, ``[erased]`` when its key was destroyed."""
        if not is_sealed(value):
            return value
        subject_type, _, subject_id = str(value[SEALED]).partition("/")
        subject = (subject_type, subject_id)
        self._load([subject])
        key = self._cache.get(subject)
        if key is None:
            return ERASED
        raw = base64.b64decode(value["v"])
        return orjson.loads(AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], self._aad(subject)))

    def prefetch(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Load, in one query per 500, the keys every sealed value of ``events`` needs."""
        wanted: set[tuple[str, str]] = set()
        for event in events:
            for side in ("before", "after"):
                for value in (event.get(side) or {}).values():
                    if is_sealed(value):
                        subject_type, _, subject_id = str(value[SEALED]).partition("/")
                        wanted.add((subject_type, subject_id))
            subject = _event_subject(event)
            if subject is not None:
                wanted.add(subject)
        self._load(wanted)

    def reveal_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """The event with its sealed values opened (or ``[erased]``); the personal fields of a
        plain event (written before sealing existed) about an erased subject are hidden too."""
        subject = _event_subject(event)
        hide_plain: set[str] = set()
        if subject is not None and self.is_erased(subject):
            entity = str(event.get("entity"))
            hide_plain = set(
                erasable_columns(entity, {**(event.get("before") or {}), **(event.get("after") or {})})
            )
        for side in ("before", "after"):
            values = event.get(side)
            if values:
                event[side] = {
                    k: ERASED if (k in hide_plain and v is not None and not is_sealed(v)) else self.open(v)
                    for k, v in values.items()
                }
        return event

    # -- erasure ------------------------------------------------------------------------------
    def destroy(self, subject: tuple[str, str]) -> None:
        """Erase the subject's key: every value sealed under it is unreadable from now on."""
        self.save_new()
        self._load([subject])
        now = utcnow()
        if subject in self._cache:
            self.session.execute(
                update(SubjectKey)
                .where(
                    SubjectKey.org_id == self.org_id,
                    SubjectKey.subject_type == subject[0],
                    SubjectKey.subject_id == subject[1],
                )
                .values(wrapped_key=None, erased_at=now)
            )
        else:
            self.session.add(
                SubjectKey(
                    org_id=self.org_id,
                    subject_type=subject[0],
                    subject_id=subject[1],
                    wrapped_key=None,
                    created_at=now,
                    erased_at=now,
                )
            )
            self.session.flush()
        self._missing.discard(subject)
        self._cache[subject] = None


_KEYS = table_of(SubjectKey)


def _event_subject(event: Mapping[str, Any]) -> tuple[str, str] | None:
    from common.subjects import SUBJECT_ENTITIES

    entity = event.get("entity")
    entity_id = event.get("entity_id")
    if isinstance(entity, str) and entity in SUBJECT_ENTITIES and entity_id:
        return SUBJECT_ENTITIES[entity], str(entity_id)
    if entity == "app_user" and entity_id:
        return "user", str(entity_id)
    return None

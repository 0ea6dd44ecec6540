"""Wrapping the local database key with a key derived from the user's password.

The database key is random (256 bits). It is stored only wrapped: AES-256-GCM under a key derived
from the password with Argon2id, so the user can sign in offline, and a password change re-wraps
the same key without re-encrypting the database. The wrapping is bound to its profile (server,
organization, user) so a wrapped key cannot be moved to another profile.
"""

from __future__ import annotations

import base64
import os
from dataclasses import asdict, dataclass
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
# RFC 9106's second recommended Argon2id setting: 3 passes, 64 MiB, 4 lanes.
DEFAULT_TIME_COST = 3
DEFAULT_MEMORY_KIB = 65536
DEFAULT_PARALLELISM = 4


@dataclass(frozen=True)
class KdfCost:
    """The Argon2id cost a new wrapping is made with (an existing one records its own)."""

    time_cost: int
    memory_kib: int
    parallelism: int


PRODUCTION_COST = KdfCost(DEFAULT_TIME_COST, DEFAULT_MEMORY_KIB, DEFAULT_PARALLELISM)
# Cheap parameters for test suites only (as the server's ``ServerConfig.for_tests``): hundreds of
# tests each make a store, and at the production cost each wrapping takes a few tenths of a second.
TEST_COST = KdfCost(time_cost=1, memory_kib=1024, parallelism=1)
_cost = PRODUCTION_COST


def use_cost(cost: KdfCost) -> KdfCost:
    """Make new wrappings with ``cost`` (test suites: ``TEST_COST``); returns the previous one."""
    global _cost
    previous, _cost = _cost, cost
    return previous


class WrongPasswordError(Exception):
    """The password does not unlock this computer's copy of the data."""


class DamagedKeyFileError(Exception):
    """The key file is not in a format this program understands."""


@dataclass(frozen=True)
class WrappedKey:
    salt: str
    nonce: str
    ciphertext: str
    time_cost: int = DEFAULT_TIME_COST
    memory_kib: int = DEFAULT_MEMORY_KIB
    parallelism: int = DEFAULT_PARALLELISM
    kdf: str = "argon2id"
    version: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> WrappedKey:
        try:
            wrapped = cls(**data)
        except TypeError as exc:
            raise DamagedKeyFileError(f"key file has unexpected content: {exc}") from exc
        if wrapped.version != FORMAT_VERSION or wrapped.kdf != "argon2id":
            raise DamagedKeyFileError(f"key file version {wrapped.version} ({wrapped.kdf}) is not supported")
        return wrapped


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except ValueError as exc:
        raise DamagedKeyFileError("key file is damaged (bad base64)") from exc


def _derive(password: str, salt: bytes, time_cost: int, memory_kib: int, parallelism: int) -> bytes:
    return hash_secret_raw(
        password.encode("utf-8"),
        salt,
        time_cost=time_cost,
        memory_cost=memory_kib,
        parallelism=parallelism,
        hash_len=32,
        type=Type.ID,
    )


def wrap_key(db_key: bytes, password: str, binding: str) -> WrappedKey:
    """Encrypt ``db_key`` under a key derived from ``password``; ``binding`` names the profile."""
    salt = os.urandom(16)
    nonce = os.urandom(12)
    cost = _cost
    kek = _derive(password, salt, cost.time_cost, cost.memory_kib, cost.parallelism)
    ciphertext = AESGCM(kek).encrypt(nonce, db_key, binding.encode("utf-8"))
    return WrappedKey(
        salt=_b64(salt),
        nonce=_b64(nonce),
        ciphertext=_b64(ciphertext),
        time_cost=cost.time_cost,
        memory_kib=cost.memory_kib,
        parallelism=cost.parallelism,
    )


def unwrap_key(wrapped: WrappedKey, password: str, binding: str) -> bytes:
    """The database key, or :class:`WrongPasswordError`."""
    kek = _derive(password, _unb64(wrapped.salt), wrapped.time_cost, wrapped.memory_kib, wrapped.parallelism)
    try:
        return AESGCM(kek).decrypt(_unb64(wrapped.nonce), _unb64(wrapped.ciphertext), binding.encode("utf-8"))
    except InvalidTag:
        raise WrongPasswordError("the password does not unlock the data on this computer") from None

"""'Remember on this computer': the database key kept in the operating system's keyring.

When no usable keyring exists (a server without a desktop session, say), the user is told so and
signs in with their password each time; nothing is written anywhere else instead.
"""

from __future__ import annotations

import contextlib
import logging

import keyring
import keyring.errors
from keyring.backends import fail

SERVICE = "ops-management"
log = logging.getLogger(__name__)

NO_KEYRING_MESSAGE = (
    "This computer has no password keyring, so it cannot remember you. "
    "You will be asked for your password each time you sign in."
)


def keyring_available() -> bool:
    """True when the OS offers a keyring that actually stores secrets."""
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration is the same as none
        return False
    if isinstance(backend, fail.Keyring):
        return False
    name = type(backend).__module__ + "." + type(backend).__name__
    return "null" not in name.lower() and getattr(backend, "priority", 1) > 0


def remember_key(name: str, key: bytes) -> bool:
    """Store the key; ``False`` (and nothing stored) when there is no usable keyring."""
    if not keyring_available():
        return False
    try:
        keyring.set_password(SERVICE, name, key.hex())
    except keyring.errors.KeyringError as exc:
        log.warning("could not store the key in the keyring: %s", type(exc).__name__)
        return False
    return True


def recall_key(name: str) -> bytes | None:
    value = recall_text(name)
    if not value:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def remember_text(name: str, text: str) -> bool:
    """Store a short secret text (e.g. which profile to reopen); ``False`` without a keyring."""
    if not keyring_available():
        return False
    try:
        keyring.set_password(SERVICE, name, text)
    except keyring.errors.KeyringError as exc:
        log.warning("could not store an entry in the keyring: %s", type(exc).__name__)
        return False
    return True


def recall_text(name: str) -> str | None:
    if not keyring_available():
        return None
    try:
        return keyring.get_password(SERVICE, name)
    except keyring.errors.KeyringError:
        return None


def forget_key(name: str) -> None:
    if not keyring_available():
        return
    with contextlib.suppress(keyring.errors.KeyringError):
        keyring.delete_password(SERVICE, name)

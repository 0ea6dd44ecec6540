"""Where a user's local data lives: one directory per (server, user, organization).

``<data root>/profiles/<server hash>/<email hash>/<org id>/`` holds ``ops.db`` (SQLCipher),
``key.json`` (the database key, wrapped by the password) and ``org.json`` (the organization's name
for the offline organization switcher). Hashes keep e-mail addresses and server names off disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from common.ids import is_uuid

APP_NAME = "OpsManagement"
APP_AUTHOR = "OpsManagement"


def data_root() -> Path:
    """The platform's per-user data directory (``OPS_DESKTOP_DATA_DIR`` overrides it)."""
    override = os.environ.get("OPS_DESKTOP_DATA_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def normalize_server_url(url: str) -> str:
    """``https://Example.com:443/`` → ``https://example.com:443`` (what identifies a server)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"server address must look like https://host[:port], not {url!r}")
    port = f":{parts.port}" if parts.port else ""
    path = parts.path.rstrip("/")
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{path}"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class Profile:
    """One user's data of one organization from one server, on this computer."""

    server_url: str
    email: str
    org_id: str

    def __post_init__(self) -> None:
        if not is_uuid(self.org_id):
            raise ValueError("organization id must be a UUID")

    @property
    def binding(self) -> str:
        """What the wrapped key is bound to: moving a key file to another profile fails."""
        return f"{normalize_server_url(self.server_url)}|{self.email.strip().lower()}|{self.org_id}"

    def user_dir(self, root: Path) -> Path:
        return user_dir(root, self.server_url, self.email)

    def directory(self, root: Path) -> Path:
        return self.user_dir(root) / self.org_id

    def db_path(self, root: Path) -> Path:
        return self.directory(root) / "ops.db"

    def key_path(self, root: Path) -> Path:
        return self.directory(root) / "key.json"

    @property
    def keyring_name(self) -> str:
        return _hash(self.binding)


def user_dir(root: Path, server_url: str, email: str) -> Path:
    return root / "profiles" / _hash(normalize_server_url(server_url)) / _hash(email.strip().lower())


def known_organizations(root: Path, server_url: str, email: str) -> list[dict[str, Any]]:
    """Organizations this user has data for on this computer (for offline sign-in)."""
    base = user_dir(root, server_url, email)
    found = []
    if base.is_dir():
        for org_dir in sorted(base.iterdir()):
            info_path = org_dir / "org.json"
            if (org_dir / "key.json").is_file() and info_path.is_file():
                try:
                    found.append(json.loads(info_path.read_text("utf-8")))
                except (OSError, ValueError):
                    continue
    return found


def write_private_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temp file, fsync, rename) with owner-only permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

"""Server configuration: read once from the environment (or built by tests), then passed around.

Secrets (the database key, the JWT signing key, the audit head key) come from the environment or
from 0600 files in the data directory, created on first use. Every worker reading the same directory or variables
signs and checks the same tokens: the workers keep no state of their own.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import platformdirs

from sync_server.auth.request_limit import DEFAULT_BURST, DEFAULT_PER_MINUTE
from sync_server.mail import MailError, SmtpSettings

DEFAULT_SECURITY_LOG_DAYS = 90

KEY_BYTES = 32
DB_FILE = "server.db"
DB_KEY_FILE = "server.key"
JWT_KEY_FILE = "jwt.key"
AUDIT_KEY_FILE = "audit.key"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the variable or file at fault."""


@dataclass(frozen=True)
class PasswordPolicy:
    """Argon2id parameters. The defaults are argon2-cffi's (RFC 9106 low-memory profile).

    Only tests lower them, explicitly, through :meth:`ServerConfig.for_tests`.
    """

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4


# Cheap Argon2id for test suites only: never selected implicitly.
TEST_PASSWORD_POLICY = PasswordPolicy(time_cost=1, memory_cost_kib=1024, parallelism=1)


@dataclass(frozen=True)
class RateLimits:
    """Failed sign-ins allowed per window, per account and per client address."""

    window_seconds: int = 900
    per_account: int = 5
    per_address: int = 50


@dataclass(frozen=True)
class RequestLimits:
    """Requests per user on authenticated endpoints (sync_server.auth.request_limit); 0: none."""

    per_minute: int = DEFAULT_PER_MINUTE
    burst: int = DEFAULT_BURST


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    database_url: str | None = None  # PostgreSQL; None → embedded SQLCipher store in data_dir
    db_key: bytes | None = None  # embedded store key; None → read/create the key file
    jwt_key: bytes | None = None  # None → read/create the key file
    # Signs each organization's audit chain head, kept outside the store so that truncating the
    # chain and rewriting its counter is detected. None → read/create the key file.
    audit_key: bytes | None = None
    issuer: str = "ops-server"
    audience: str = "ops-api"
    access_token_seconds: int = 900
    refresh_token_days: int = 30
    password_policy: PasswordPolicy = field(default_factory=PasswordPolicy)
    rate_limits: RateLimits = field(default_factory=RateLimits)
    request_limits: RequestLimits = field(default_factory=RequestLimits)
    security_log_days: int = DEFAULT_SECURITY_LOG_DAYS
    # Embedded store commits: FULL survives a power loss (the default); NORMAL only for the bench
    # that measures what FULL costs.
    sqlite_synchronous: str = "FULL"
    # The embedded store's key file; None → server.key in the data directory.
    db_key_file: Path | None = None
    # Where people reach the server (https://ops.example.com): the links in invitation e-mails.
    # Never taken from a request's Host header, which the sender of the request chooses.
    public_url: str | None = None
    smtp_url: str | None = None  # OPS_SMTP_URL: invitations are mailed when set (sync_server.mail)
    max_content_length: int = 8 * 1024 * 1024
    # Number of reverse proxies in front of the server whose X-Forwarded-* headers are trusted.
    trusted_proxies: int = 0
    # PostgreSQL: the non-owner role every request transaction runs as.
    app_role: str = "ops_app"
    pool_size: int = 10
    # Bearer token that lets /metrics be scraped from other machines (None: loopback only).
    metrics_token: str | None = None
    # PostgreSQL: the role pg_dump reads as (``ops-server backup``), one that bypasses row-level
    # security; None: database_url's (enough when that role is a superuser).
    backup_database_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerConfig:
        """The configuration named by ``OPS_*`` variables (see README, "Configuration")."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("OPS_DATA_DIR") or platformdirs.user_data_dir("ops-server", appauthor=False))
        config = cls(
            data_dir=data_dir,
            database_url=normalize_database_url(env.get("OPS_DATABASE_URL") or None),
            db_key=_hex_key(env, "OPS_DB_KEY"),
            jwt_key=_hex_key(env, "OPS_JWT_KEY"),
            audit_key=_hex_key(env, "OPS_AUDIT_KEY"),
            trusted_proxies=_int(env, "OPS_TRUSTED_PROXIES", 0),
            request_limits=RequestLimits(
                per_minute=_int(env, "OPS_USER_REQUESTS_PER_MINUTE", DEFAULT_PER_MINUTE),
                burst=_int(env, "OPS_USER_REQUEST_BURST", DEFAULT_BURST),
            ),
            security_log_days=_int(env, "OPS_SECURITY_LOG_DAYS", DEFAULT_SECURITY_LOG_DAYS),
            db_key_file=Path(env["OPS_DB_KEY_FILE"]) if env.get("OPS_DB_KEY_FILE") else None,
            public_url=_public_url(env.get("OPS_PUBLIC_URL") or None),
            smtp_url=env.get("OPS_SMTP_URL") or None,
            metrics_token=_token(env, "OPS_METRICS_TOKEN"),
            backup_database_url=normalize_database_url(env.get("OPS_BACKUP_DATABASE_URL") or None),
        )
        config.check_mail()
        return config

    def check_mail(self) -> None:
        """Refuse a mail setup that cannot work: a bad ``OPS_SMTP_URL``, or no address for links."""
        if self.smtp_url is None:
            return
        try:
            SmtpSettings.from_url(self.smtp_url)
        except MailError as exc:
            raise ConfigError(str(exc)) from None
        if self.public_url is None:
            raise ConfigError(
                "OPS_SMTP_URL needs OPS_PUBLIC_URL, the address people reach the server at: the "
                "invitation links it mails point there (never to a request's Host header)"
            )

    def for_tests(self) -> ServerConfig:
        """This configuration with cheap Argon2 parameters: for test suites only."""
        return replace(self, password_policy=TEST_PASSWORD_POLICY)

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_FILE

    @property
    def db_key_path(self) -> Path:
        return self.db_key_file if self.db_key_file is not None else self.data_dir / DB_KEY_FILE

    def database_key(self) -> bytes:
        """The embedded store's key: ``OPS_DB_KEY``, else the key file (created 0600 if absent)."""
        return self.db_key if self.db_key is not None else load_or_create_key(self.db_key_path)

    def signing_key(self) -> bytes:
        """The JWT signing key: ``OPS_JWT_KEY``, else the key file (created 0600 if absent)."""
        return self.jwt_key if self.jwt_key is not None else load_or_create_key(self.data_dir / JWT_KEY_FILE)

    def audit_signing_key(self) -> bytes:
        """The key that signs audit chain heads: ``OPS_AUDIT_KEY``, else the key file (0600)."""
        if self.audit_key is not None:
            return self.audit_key
        return load_or_create_key(self.data_dir / AUDIT_KEY_FILE)


def normalize_database_url(url: str | None) -> str | None:
    """Use psycopg 3 for ``postgresql://`` URLs; refuse anything that is not PostgreSQL."""
    if url is None:
        return None
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("postgresql+psycopg://"):
        return url
    raise ConfigError("OPS_DATABASE_URL must be a postgresql:// URL")


def _public_url(url: str | None) -> str | None:
    if url is None:
        return None
    url = url.strip().rstrip("/")
    if not url.startswith(("https://", "http://")) or "#" in url or "?" in url:
        raise ConfigError("OPS_PUBLIC_URL must be the server's address, such as https://ops.example.com")
    return url


def _hex_key(env: Mapping[str, str], name: str) -> bytes | None:
    value = env.get(name)
    if not value:
        return None
    try:
        key = bytes.fromhex(value.strip())
    except ValueError:
        raise ConfigError(f"{name} must be {KEY_BYTES * 2} hexadecimal digits") from None
    if len(key) != KEY_BYTES:
        raise ConfigError(f"{name} must be {KEY_BYTES * 2} hexadecimal digits ({KEY_BYTES} bytes)")
    return key


def _token(env: Mapping[str, str], name: str) -> str | None:
    value = (env.get(name) or "").strip()
    if not value:
        return None
    if len(value) < 32:
        raise ConfigError(f"{name} must be at least 32 characters (for example: openssl rand -hex 32)")
    return value


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number") from None


def load_or_create_key(path: Path) -> bytes:
    """Read a hex key file, or create it with a fresh random key readable by the owner only."""
    if path.exists():
        try:
            key = bytes.fromhex(path.read_text("ascii").strip())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"the key file {path} is damaged: {exc}") from None
        if len(key) != KEY_BYTES:
            raise ConfigError(f"the key file {path} does not hold a {KEY_BYTES * 8}-bit key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(KEY_BYTES)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key.hex())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        # A hard link appears complete or not at all, and fails if another worker won the race.
        os.link(tmp, path)
    except FileExistsError:
        return load_or_create_key(path)
    finally:
        os.unlink(tmp)
    return key

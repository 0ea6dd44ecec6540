"""The long-lived parts one app (one worker) uses: store, password hasher, token service, auth."""

from __future__ import annotations

from dataclasses import dataclass

from sync_server.auth.passwords import Passwords
from sync_server.auth.request_limit import RequestLimiter
from sync_server.auth.service import AuthService
from sync_server.auth.tokens import TokenService
from sync_server.config import ServerConfig
from sync_server.store import Store


@dataclass
class Services:
    config: ServerConfig
    store: Store
    passwords: Passwords
    tokens: TokenService
    auth: AuthService
    limiter: RequestLimiter

    @classmethod
    def build(cls, config: ServerConfig, store: Store | None = None) -> Services:
        store = store or Store.open(config)
        passwords = Passwords(config.password_policy)
        tokens = TokenService(
            config.signing_key(),
            issuer=config.issuer,
            audience=config.audience,
            ttl_seconds=config.access_token_seconds,
        )
        limits = config.request_limits
        return cls(
            config,
            store,
            passwords,
            tokens,
            AuthService(config, store, passwords, tokens),
            RequestLimiter(limits.per_minute, limits.burst),
        )

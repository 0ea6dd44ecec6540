"""Access tokens (short-lived HS256 JWTs) and opaque refresh tokens.

The algorithm is pinned: a token signed with anything but HS256 under our key (``alg: none``,
another key, a changed payload) is refused, and every registered claim is required. Refresh
tokens are random strings, never JWTs, stored only as their SHA-256; an access token carries
``typ: access``, so neither kind is ever accepted as the other.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import jwt

from common.ids import new_id

ALGORITHM = "HS256"
LEEWAY_SECONDS = 5
REFRESH_PREFIX = "ort_"
_REQUIRED = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]
_MEMO_SIZE = 10_000


class InvalidToken(Exception):
    """The token is not a valid access token of this server (the reason is for logs only)."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    session_id: str  # the refresh-token family of the sign-in
    device_id: str | None
    issued_at: float
    token_id: str
    # When the person typed their password for this sign-in (OpenID's ``auth_time``): the same
    # in every access token of the family, however often it is refreshed.
    auth_time: float


class TokenService:
    def __init__(self, key: bytes, *, issuer: str, audience: str, ttl_seconds: int) -> None:
        if len(key) < 32:
            raise ValueError("the JWT signing key must be at least 256 bits")
        self._key = key
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self._verified: dict[str, tuple[AccessClaims, float, float]] = {}

    def issue_access(self, user_id: str, session_id: str, device_id: str | None, auth_time: float) -> str:
        now = time.time()
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user_id,
            "iat": now,  # sub-second, so a password change revokes tokens of the same second
            "nbf": int(now),
            "exp": int(now) + self.ttl_seconds,
            "jti": new_id(),
            "typ": "access",
            "sid": session_id,
            "auth_time": auth_time,
        }
        if device_id is not None:
            claims["dev"] = device_id
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify_access(self, token: str) -> AccessClaims:
        """The claims of a valid access token; raises :class:`InvalidToken`.

        A token verified before is recognised by its exact text (verification is deterministic)
        and only its time window is checked again; the memo is bounded and per process.
        """
        known = self._verified.get(token)
        if known is not None:
            claims, not_before, expires = known
            now = time.time()
            if not_before - LEEWAY_SECONDS <= now < expires + LEEWAY_SECONDS:
                return claims
            self._verified.pop(token, None)
        claims, not_before, expires = self._verify(token)
        if len(self._verified) >= _MEMO_SIZE:
            self._verified.clear()
        self._verified[token] = (claims, not_before, expires)
        return claims

    def _verify(self, token: str) -> tuple[AccessClaims, float, float]:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != ALGORITHM:
                raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": _REQUIRED, "verify_signature": True},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(type(exc).__name__) from None
        if claims.get("typ") != "access" or not isinstance(claims.get("sid"), str):
            raise InvalidToken("not an access token")
        if not isinstance(claims["sub"], str) or not isinstance(claims["iat"], int | float):
            raise InvalidToken("malformed claims")
        auth_time = claims.get("auth_time")
        if not isinstance(auth_time, int | float) or isinstance(auth_time, bool):
            raise InvalidToken("no auth_time")  # a token from before it existed: refresh it
        device = claims.get("dev")
        access = AccessClaims(
            user_id=claims["sub"],
            session_id=claims["sid"],
            device_id=device if isinstance(device, str) else None,
            issued_at=float(claims["iat"]),
            token_id=str(claims["jti"]),
            auth_time=float(auth_time),
        )
        return access, float(claims["nbf"]), float(claims["exp"])


def new_refresh_token() -> str:
    return REFRESH_PREFIX + secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()

"""Sign-in, token refresh, logout and password change (DESIGN §5/§6), without Flask.

Every outcome that matters is audited: sign-in ok/failed, refresh-token reuse, logout, password
change. Events of a known user go to the chain of each organization they belong to; events that
belong to no organization (an unknown e-mail, a user without memberships) go to the system chain
(``SYSTEM_ORG_ID``). An unknown e-mail is recorded only as a short SHA-256 prefix: a password
typed into the e-mail field must never land in the audit trail.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from common.ids import new_id
from common.schema import AppUser, Device, Membership, RefreshToken
from common.schema.types import utcnow
from sync_server.audit import PendingEvent, append_events
from sync_server.auth import ratelimit
from sync_server.auth.passwords import Passwords, check_new_password
from sync_server.auth.principal import memberships
from sync_server.auth.tokens import AccessClaims, TokenService, hash_refresh_token, new_refresh_token
from sync_server.config import ServerConfig
from sync_server.errors import ApiError, rate_limited, unauthenticated
from sync_server.store import SYSTEM_ORG_ID, Store

INVALID_CREDENTIALS = "the e-mail address or the password is wrong"


@dataclass(frozen=True)
class _Family:
    """One sign-in: the refresh tokens that rotate from it share all of this."""

    id: str
    user_id: str
    device_id: str | None
    device_name: str | None
    signed_in_at: datetime


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: str
    session_id: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }


def normalize_email(email: str) -> str:
    return email.strip().lower()


class AuthService:
    def __init__(
        self, config: ServerConfig, store: Store, passwords: Passwords, tokens: TokenService
    ) -> None:
        self.config = config
        self.store = store
        self.passwords = passwords
        self.tokens = tokens

    # -- audit -----------------------------------------------------------------------------------
    def org_ids(self, session: Session, user_id: str) -> list[str]:
        return list(session.execute(select(Membership.org_id).where(Membership.user_id == user_id)).scalars())

    def audit(self, session: Session, org_ids: list[str], event: PendingEvent) -> None:
        """Append ``event`` to each organization's chain (the system chain when there is none).

        The address a person signed in from is their personal data: sealed under their key.
        """
        actor = event.actor
        sealable = event.subject is None and event.after is not None and "address" in event.after
        if org_ids and actor and sealable:  # the system chain has no subject keys
            event = replace(event, subject=("user", actor), personal=frozenset({"address"}))
        for org_id in org_ids or [SYSTEM_ORG_ID]:
            self.store.rescope(session, org_id)
            append_events(session, org_id, [event])
        self.store.rescope(session, None)

    # -- sign-in ---------------------------------------------------------------------------------
    def login(
        self, email: str, password: str, address: str, device_id: str | None, device_name: str | None
    ) -> tuple[TokenPair, dict[str, Any], list[dict[str, Any]]]:
        """Check the credentials; returns the token pair, the user and their memberships."""
        email = normalize_email(email)
        keys = [ratelimit.account_key(email), ratelimit.address_key(address)]
        now = utcnow()
        # The attempt is counted (and committed) before the password is checked.
        with self.store.session(write=True) as session:
            wait = ratelimit.reserve(session, keys, self.config.rate_limits, now)
            user = session.execute(
                select(AppUser.id, AppUser.password_hash, AppUser.disabled, AppUser.name).where(
                    AppUser.email == email
                )
            ).first()
        if wait is not None:
            raise rate_limited(wait, "too many failed sign-ins; try again later")
        # Always the same Argon2 work: a dummy hash stands in for an unknown account.
        ok = self.passwords.verify(user.password_hash if user is not None else None, password)
        if not ok or user is None or user.disabled:
            self.record_failed_sign_in(email, address, user)
            raise unauthenticated(INVALID_CREDENTIALS, code="invalid_credentials")
        with self.store.session(user_id=user.id, write=True) as session:
            ratelimit.succeeded(session, *keys)
            if self.passwords.needs_rehash(user.password_hash):
                session.execute(
                    update(AppUser)
                    .where(AppUser.id == user.id)
                    .values(password_hash=self.passwords.hash(password))
                )
            org_ids = self.org_ids(session, user.id)
            taken = device_id is not None and self._device_of_another(session, org_ids, user.id, device_id)
            if taken:
                self.audit(
                    session,
                    org_ids,
                    PendingEvent(
                        action="auth.login_failed",
                        actor=user.id,
                        entity="app_user",
                        entity_id=user.id,
                        after={"reason": "device_of_another_user", "device": device_id, "address": address},
                    ),
                )
            else:
                # Only a device registered to this user in each of their organizations goes into
                # the token (and so into the audit trail); none without an organization.
                device = device_id if org_ids else None
                if device is not None:
                    self._register_device(session, org_ids, user.id, device, device_name or "")
                pair = self._new_session(session, user.id, device, device_name)
                self.audit(
                    session,
                    org_ids,
                    PendingEvent(
                        action="auth.login",
                        actor=user.id,
                        device=device,
                        entity="app_user",
                        entity_id=user.id,
                        after={"address": address},
                    ),
                )
                found = memberships(session, user.id, self.store.rescope)
        # Raised after the commit, so the refusal stays in the audit trail.
        if taken:
            raise ApiError(
                409,
                "device_taken",
                "device_id: this device id belongs to another user; sign in with a new device id",
                {"field": "device_id"},
            )
        return pair, {"id": user.id, "email": email, "name": user.name}, found

    def record_failed_sign_in(self, email: str, address: str, user: Any) -> None:
        with self.store.session(user_id=user.id if user is not None else None, write=True) as session:
            if user is None:
                digest = hashlib.sha256(email.encode("utf-8")).hexdigest()[:16]
                event = PendingEvent(
                    action="auth.login_failed",
                    after={"reason": "unknown_email", "email_sha256": digest, "address": address},
                )
                self.audit(session, [], event)
            else:
                reason = "account_disabled" if user.disabled else "wrong_password"
                event = PendingEvent(
                    action="auth.login_failed",
                    actor=user.id,
                    entity="app_user",
                    entity_id=user.id,
                    after={"reason": reason, "address": address},
                )
                self.audit(session, self.org_ids(session, user.id), event)

    def _new_session(
        self, session: Session, user_id: str, device_id: str | None, device_name: str | None
    ) -> TokenPair:
        family = new_id()
        signed_in = _Family(family, user_id, device_id, device_name or None, utcnow())
        refresh = self._store_refresh(session, signed_in)
        return self._pair(signed_in, refresh)

    def _pair(self, family: _Family, refresh: str) -> TokenPair:
        return TokenPair(
            access_token=self.tokens.issue_access(
                family.user_id, family.id, family.device_id, family.signed_in_at.timestamp()
            ),
            refresh_token=refresh,
            expires_in=self.tokens.ttl_seconds,
            user_id=family.user_id,
            session_id=family.id,
        )

    def _store_refresh(self, session: Session, family: _Family) -> str:
        token = new_refresh_token()
        now = utcnow()
        session.execute(
            insert(RefreshToken).values(
                id=new_id(),
                token_hash=hash_refresh_token(token),
                family_id=family.id,
                user_id=family.user_id,
                device_id=family.device_id,
                device_name=family.device_name,
                signed_in_at=family.signed_in_at,
                issued_at=now,
                expires_at=now + timedelta(days=self.config.refresh_token_days),
            )
        )
        return token

    def _device_of_another(self, session: Session, org_ids: list[str], user_id: str, device_id: str) -> bool:
        """True when ``device_id`` is registered to another user in one of the user's organizations."""
        try:
            for org_id in org_ids:
                self.store.rescope(session, org_id)
                owner = session.execute(select(Device.user_id).where(Device.id == device_id)).scalar()
                if owner is not None and owner != user_id:
                    return True
            return False
        finally:
            self.store.rescope(session, None)

    def _register_device(
        self, session: Session, org_ids: list[str], user_id: str, device_id: str, name: str
    ) -> None:
        """Register the device to the user in each organization (the caller checked it is theirs)."""
        now = utcnow()
        for org_id in org_ids:
            self.store.rescope(session, org_id)
            owner = session.execute(select(Device.user_id).where(Device.id == device_id)).scalar()
            if owner is None:
                session.execute(
                    insert(Device).values(id=device_id, user_id=user_id, name=name[:200], last_seen_at=now)
                )
            else:
                session.execute(update(Device).where(Device.id == device_id).values(last_seen_at=now))
        self.store.rescope(session, None)

    # -- refresh and logout ----------------------------------------------------------------------
    def refresh(self, token: str) -> TokenPair:
        """Rotate a refresh token. A spent one revokes its whole family (``token_reused``)."""
        token_hash = hash_refresh_token(token)
        now = utcnow()
        with self.store.session(write=True) as session:
            row = session.execute(select(RefreshToken).where(RefreshToken.token_hash == token_hash)).scalar()
            if row is None:
                outcome: TokenPair | ApiError = unauthenticated(
                    "this refresh token is not valid", code="invalid_token"
                )
            else:
                self.store.rescope(session, None, row.user_id)
                outcome = self._rotate(session, row, now)
        # Raised only after the commit: a revoked family must stay revoked.
        if isinstance(outcome, ApiError):
            raise outcome
        return outcome

    def _rotate(self, session: Session, row: RefreshToken, now: Any) -> TokenPair | ApiError:
        user = session.execute(
            select(AppUser.disabled, AppUser.sessions_valid_after).where(AppUser.id == row.user_id)
        ).first()
        if row.used_at is not None:
            self._revoke_family(session, row.family_id, now)
            self.audit(
                session,
                self.org_ids(session, row.user_id),
                PendingEvent(
                    action="auth.refresh_reused",
                    actor=row.user_id,
                    device=row.device_id,
                    entity="app_user",
                    entity_id=row.user_id,
                    after={"session": row.family_id},
                ),
            )
            return unauthenticated(
                "this refresh token was already used; every session of this sign-in was ended",
                code="token_reused",
            )
        expired = row.expires_at <= now
        if (
            user is None
            or user.disabled
            or row.revoked_at is not None
            or expired
            or (row.issued_at < user.sessions_valid_after)
        ):
            self._revoke_family(session, row.family_id, now)
            return unauthenticated("this session has ended; sign in again", code="invalid_token")
        claimed = session.execute(  # type: ignore[attr-defined]
            update(RefreshToken)
            .where(
                RefreshToken.id == row.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None)
            )
            .values(used_at=now)
        ).rowcount
        if claimed != 1:  # a concurrent refresh with the same token won: treat as reuse
            self._revoke_family(session, row.family_id, now)
            return unauthenticated("this refresh token was already used", code="token_reused")
        family = _Family(
            row.family_id, row.user_id, row.device_id, row.device_name, row.signed_in_at or row.issued_at
        )
        return self._pair(family, self._store_refresh(session, family))

    def _revoke_family(self, session: Session, family_id: str, now: Any) -> None:
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def logout(self, token: str) -> None:
        """End the sign-in session the refresh token belongs to (its access tokens stop too)."""
        with self.store.session(write=True) as session:
            row = session.execute(
                select(RefreshToken.family_id, RefreshToken.user_id, RefreshToken.device_id).where(
                    RefreshToken.token_hash == hash_refresh_token(token)
                )
            ).first()
            if row is not None:
                self.store.rescope(session, None, row.user_id)
                self._revoke_family(session, row.family_id, utcnow())
                self.audit(
                    session,
                    self.org_ids(session, row.user_id),
                    PendingEvent(
                        action="auth.logout",
                        actor=row.user_id,
                        device=row.device_id,
                        entity="app_user",
                        entity_id=row.user_id,
                    ),
                )
                return
        raise unauthenticated("this refresh token is not valid", code="invalid_token")

    # -- password change -------------------------------------------------------------------------
    def change_password(self, claims: AccessClaims, current: str, new: str, address: str) -> TokenPair:
        """Set a new password; every session of the user ends, and a fresh one is returned."""
        problem = check_new_password(new)
        if problem is not None:
            raise ApiError(400, "invalid", f"new_password: {problem}", {"field": "new_password"})
        with self.store.session(user_id=claims.user_id, write=True) as session:
            user = session.execute(
                select(AppUser.email, AppUser.password_hash).where(AppUser.id == claims.user_id)
            ).first()
            if user is None:
                raise unauthenticated(code="invalid_token")
            keys = [ratelimit.account_key(user.email), ratelimit.address_key(address)]
            # Counted (and committed) before the current password is checked.
            wait = ratelimit.reserve(session, keys, self.config.rate_limits, utcnow())
        if wait is not None:
            raise rate_limited(wait, "too many failed attempts; try again later")
        if not self.passwords.verify(user.password_hash, current):
            with self.store.session(user_id=claims.user_id, write=True) as session:
                self.audit(
                    session,
                    self.org_ids(session, claims.user_id),
                    PendingEvent(
                        action="auth.password_change_failed",
                        actor=claims.user_id,
                        device=claims.device_id,
                        entity="app_user",
                        entity_id=claims.user_id,
                        after={"reason": "wrong_password", "address": address},
                    ),
                )
            raise ApiError(
                403,
                "wrong_password",
                "current_password: is not your current password",
                {"field": "current_password"},
            )
        new_hash = self.passwords.hash(new)
        now = utcnow()
        with self.store.session(user_id=claims.user_id, write=True) as session:
            ratelimit.succeeded(session, *keys)
            session.execute(
                update(AppUser)
                .where(AppUser.id == claims.user_id)
                .values(password_hash=new_hash, sessions_valid_after=now)
            )
            session.execute(
                update(RefreshToken)
                .where(RefreshToken.user_id == claims.user_id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            self.audit(
                session,
                self.org_ids(session, claims.user_id),
                PendingEvent(
                    action="auth.password_changed",
                    actor=claims.user_id,
                    device=claims.device_id,
                    entity="app_user",
                    entity_id=claims.user_id,
                ),
            )
            device_name = session.execute(
                select(RefreshToken.device_name).where(RefreshToken.family_id == claims.session_id).limit(1)
            ).scalar()
            return self._new_session(session, claims.user_id, claims.device_id, device_name)

"""An account owner's own sign-in sessions (``/api/v1/me/sessions``), each named by its device.

A session is a refresh-token family: one sign-in, rotated on every refresh. It is active while
its newest token is unused, unrevoked and unexpired, and it began after the account's last
"sign out everywhere" (a password change). Ending one revokes its family: its refresh token is
refused and its access tokens stop at once (checked on every request).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common.schema import AppUser, RefreshToken
from common.schema.types import utcnow
from common.wire import to_wire
from sync_server.audit import PendingEvent
from sync_server.auth.service import AuthService
from sync_server.auth.tokens import AccessClaims


def _active(session: Session, user_id: str) -> list[Any]:
    now = utcnow()
    valid_after = session.execute(
        select(AppUser.sessions_valid_after).where(AppUser.id == user_id)
    ).scalar_one()
    return list(
        session.execute(
            select(
                RefreshToken.family_id,
                RefreshToken.device_id,
                RefreshToken.device_name,
                RefreshToken.signed_in_at,
                RefreshToken.issued_at,
                RefreshToken.expires_at,
            )
            .where(
                RefreshToken.user_id == user_id,
                RefreshToken.used_at.is_(None),
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
                RefreshToken.issued_at >= valid_after,
            )
            .order_by(RefreshToken.issued_at.desc())
        )
    )


def list_sessions(auth: AuthService, claims: AccessClaims) -> list[dict[str, Any]]:
    with auth.store.session(user_id=claims.user_id) as session:
        rows = _active(session, claims.user_id)
    return [
        {
            "id": row.family_id,
            "device_id": row.device_id,
            "device_name": row.device_name,
            "signed_in_at": to_wire(row.signed_in_at or row.issued_at),
            "last_used_at": to_wire(row.issued_at),
            "expires_at": to_wire(row.expires_at),
            "current": row.family_id == claims.session_id,
        }
        for row in rows
    ]


def end_sessions(auth: AuthService, claims: AccessClaims, which: str | None) -> int:
    """End one session (``which``: its id) or, with ``None``, every one but the caller's own.

    Returns how many ended (0: no such active session of this account).
    """
    now = utcnow()
    with auth.store.session(user_id=claims.user_id, write=True) as session:
        active = {row.family_id for row in _active(session, claims.user_id)}
        chosen = ({which} & active) if which is not None else active - {claims.session_id}
        if not chosen:
            return 0
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id.in_(sorted(chosen)), RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        auth.audit(
            session,
            [str(o) for o in auth.org_ids(session, claims.user_id)],
            PendingEvent(
                action="auth.sessions_ended",
                actor=claims.user_id,
                device=claims.device_id,
                entity="app_user",
                entity_id=claims.user_id,
                after={"sessions": len(chosen)},
            ),
        )
    return len(chosen)

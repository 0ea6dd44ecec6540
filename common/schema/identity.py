"""Organizations, users, roles, memberships and devices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped

from common.schema.base import ID_LENGTH, Base, TenantRow, business, personal, public, sensitive
from common.schema.types import utcnow


class Organization(Base):
    """A tenant. Every tenant row references one."""

    __tablename__ = "organization"

    id: Mapped[str] = public(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = public(String(200), unique=True)
    base_currency: Mapped[str] = public(String(3), default="EUR")
    created_at: Mapped[datetime] = business(default=utcnow)


class AppUser(Base):
    """A person who signs in. Global: one user may belong to several organizations."""

    __tablename__ = "app_user"

    id: Mapped[str] = public(String(ID_LENGTH), primary_key=True)
    email: Mapped[str] = personal(String(254), unique=True)
    name: Mapped[str] = personal(String(200))
    password_hash: Mapped[str] = sensitive(String(200))
    disabled: Mapped[bool] = business(Boolean, default=False)
    created_at: Mapped[datetime] = business(default=utcnow)
    # Tokens issued before this instant are refused (logout everywhere, password change).
    sessions_valid_after: Mapped[datetime] = business(default=utcnow)
    # Erased on request: disabled, name and e-mail anonymized, memberships ended.
    erased_at: Mapped[datetime | None] = business()
    # Opted out of non-essential e-mail (low stock, overdue invoices, digests); essential
    # messages (security, legal, the status of their own requests) are always sent.
    # A server default only: a store still at an older revision (upgrade tests) is written
    # without naming the column.
    email_opt_out: Mapped[bool] = business(Boolean, server_default=false())


class Role(TenantRow, Base):
    """A custom role of one organization; built-in roles live in ``common.permissions``."""

    __tablename__ = "role"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    name: Mapped[str] = business(String(64))
    description: Mapped[str] = business(String(500), default="")
    permissions: Mapped[list[str]] = business(JSON, default=list)


class Membership(TenantRow, Base):
    """A user's membership of an organization, with the roles it holds there."""

    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("org_id", "user_id"),
        Index("ix_membership_user", "user_id"),
    )

    user_id: Mapped[str] = business(String(ID_LENGTH), ForeignKey("app_user.id"))
    roles: Mapped[list[str]] = business(JSON, default=list)
    created_at: Mapped[datetime] = business(default=utcnow)
    # The organization signed this member out: sign-ins from before this instant (carried through
    # token refreshes as the access token's ``auth_time``) no longer reach this organization.
    sessions_valid_after: Mapped[datetime | None] = business()


class Invitation(TenantRow, Base):
    """An invitation to join an organization, sent to an e-mail address.

    The token is random and single-use, stored only as its SHA-256; the person who holds it joins
    with their own account (proving its password) or creates one with their own name and
    password. Ended invitations stay as a record: accepted, revoked or expired.
    """

    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("org_id", "token_hash"),
        Index("ix_invitation_email", "org_id", "email"),
    )

    email: Mapped[str] = personal(String(254))
    roles: Mapped[list[str]] = business(JSON, default=list)
    token_hash: Mapped[str] = sensitive(String(64))
    invited_by: Mapped[str | None] = business(String(ID_LENGTH))
    created_at: Mapped[datetime] = business(default=utcnow)
    expires_at: Mapped[datetime] = business()
    accepted_at: Mapped[datetime | None] = business()
    accepted_by: Mapped[str | None] = business(String(ID_LENGTH))
    revoked_at: Mapped[datetime | None] = business()
    revoked_by: Mapped[str | None] = business(String(ID_LENGTH))


class Device(TenantRow, Base):
    """A workstation that syncs on behalf of a user."""

    __tablename__ = "device"

    user_id: Mapped[str] = business(String(ID_LENGTH), ForeignKey("app_user.id"))
    name: Mapped[str] = business(String(200), default="")
    first_seen_at: Mapped[datetime] = business(default=utcnow)
    last_seen_at: Mapped[datetime] = business(default=utcnow)
    details: Mapped[dict[str, Any]] = business(JSON, default=dict)

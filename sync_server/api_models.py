"""Request and response models of the HTTP API (besides the sync models in ``common.wire``).

Every string and list has a size limit; unknown fields are refused. These same models validate
requests and generate ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from common.commands.fields import NAME_TEXT, NO_CONTROL, SINGLE_LINE, PersonName
from common.commands.fields import AccountEmail as Email
from common.wire import UuidText, WireModel
from sync_server.auth.passwords import MAX_PASSWORD_LENGTH

# Passwords and tokens are only ever hashed, never stored or shown: any character may be in them.
Password = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=512)]
# Role names: ASCII lowercase letters, digits and underscores, starting with a letter. No other
# letters: Unicode look-alikes ("аdmin" with a Cyrillic а) would pass for another role.
ROLE_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
ROLE_NAME_MAX = 64
_ROLE_NAME = re.compile(r"[a-z][a-z0-9_]*", re.ASCII)
RoleName = Annotated[
    str, StringConstraints(min_length=1, max_length=ROLE_NAME_MAX, pattern=ROLE_NAME_PATTERN)
]


def is_role_name(name: str) -> bool:
    """True for a well-formed role name (wherever a role name enters: API path, body, CLI)."""
    return len(name) <= ROLE_NAME_MAX and _ROLE_NAME.fullmatch(name) is not None


EntityName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z_]+$")]


class ErrorBody(WireModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorResponse(WireModel):
    error: ErrorBody


class LoginRequest(WireModel):
    email: Email
    password: Password
    device_id: UuidText | None = None
    device_name: Annotated[str, StringConstraints(max_length=200), NAME_TEXT] | None = None


class RefreshRequest(WireModel):
    refresh_token: Token


class PasswordChangeRequest(WireModel):
    current_password: Password
    new_password: Password


class UserInfo(WireModel):
    id: str
    email: str
    name: str


class MembershipInfo(WireModel):
    org_id: str
    org_name: str
    roles: list[str]
    permissions: list[str]


class TokenResponse(WireModel):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


class LoginResponse(TokenResponse):
    user: UserInfo
    memberships: list[MembershipInfo]


class MeResponse(WireModel):
    user: UserInfo
    memberships: list[MembershipInfo]


ActionName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z_]+(\.[a-z_]+)*$")]


class AuditQuery(WireModel):
    entity: EntityName | None = None
    entity_id: UuidText | None = None
    action: ActionName | None = None
    actor: UuidText | None = None
    actor_email: Email | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    before_seq: int | None = Field(default=None, ge=1, le=2**62)


class AuditEventOut(WireModel):
    seq: int
    at: str
    actor: str | None = None
    actor_email: str | None = None
    device: str | None = None
    action: str
    entity: str | None = None
    entity_id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    masked: list[str] | None = None


class AuditResponse(WireModel):
    events: list[AuditEventOut]
    next_before_seq: int | None = None


class AuditVerifyResponse(WireModel):
    intact: bool
    events: int
    broken_seq: int | None = None
    reason: str | None = None


class MemberOut(WireModel):
    user_id: str
    email: str
    name: str
    roles: list[str]


class MembersResponse(WireModel):
    members: list[MemberOut]


# Up to 100 user ids, comma-separated (a conflict panel names who changed the records it shows).
MemberIdList = Annotated[
    str,
    StringConstraints(
        min_length=36,
        max_length=100 * 37,
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
        r"(,[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})*$",
    ),
]


class MemberNamesQuery(WireModel):
    ids: MemberIdList


class MemberNamesResponse(WireModel):
    """``user id → name`` for the ids that are members of the organization (others are left out)."""

    names: dict[str, str]


class AddMemberRequest(WireModel):
    """Invite an e-mail address: whoever holds the invitation joins with their own account."""

    email: Email
    roles: list[RoleName] = Field(default_factory=list, max_length=32)


class InvitationOut(WireModel):
    id: str
    email: str
    roles: list[str]
    status: Literal["pending", "expired", "accepted", "revoked"]
    created_at: str
    expires_at: str
    invited_by: str | None = None


class InviteResponse(WireModel):
    """``token`` only when the server does not mail it (no ``OPS_SMTP_URL``): shown this once."""

    invitation: InvitationOut
    delivery: Literal["link", "mailed", "mail_failed"]
    token: str | None = None


class InvitationsResponse(WireModel):
    invitations: list[InvitationOut]


class InvitationToken(WireModel):
    token: Token


class InvitationPreview(WireModel):
    org_name: str
    email: str
    expires_at: str


class AcceptInvitationRequest(WireModel):
    """An existing account proves itself with its password (or a bearer token); a new address
    chooses its own name and password."""

    token: Token
    password: Password | None = None
    name: PersonName | None = None


class AcceptInvitationResponse(WireModel):
    org_id: str
    org_name: str
    email: str
    roles: list[str]


class SignOutMemberResponse(WireModel):
    signed_out_at: str


class EndSessionsResponse(WireModel):
    sessions_ended: int


class SessionOut(WireModel):
    id: str
    device_name: str | None = None
    device_id: str | None = None
    signed_in_at: str
    last_used_at: str
    expires_at: str
    current: bool


class SessionsResponse(WireModel):
    sessions: list[SessionOut]


class SetRolesRequest(WireModel):
    roles: list[RoleName] = Field(max_length=32)


class RoleOut(WireModel):
    name: str
    description: str
    permissions: list[str]
    builtin: bool


class RolesResponse(WireModel):
    roles: list[RoleOut]


class RoleRequest(WireModel):
    description: Annotated[str, StringConstraints(max_length=500), NO_CONTROL] = ""
    permissions: list[Annotated[str, StringConstraints(max_length=64), SINGLE_LINE]] = Field(max_length=64)


class PermissionOut(WireModel):
    name: str
    description: str
    module: str
    held_by_admin: bool


class PermissionsResponse(WireModel):
    permissions: list[PermissionOut]


class HealthResponse(WireModel):
    status: str
    schema_version: int

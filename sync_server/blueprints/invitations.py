"""Accepting an invitation (DESIGN §5): ``POST /api/v1/invitations/accept``, and its preview.

No organization in the URL and no sign-in needed: the token names its organization and proves
the invitation; the password proves the account (see :mod:`sync_server.invitations`). A bearer
token, when sent, must be that of the invited account and replaces the password.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from common.wire import to_wire
from sync_server import invitations
from sync_server.api import ApiContext, bearer_claims, endpoint
from sync_server.api_models import (
    AcceptInvitationRequest,
    AcceptInvitationResponse,
    InvitationPreview,
    InvitationToken,
)

bp = Blueprint("invitations", __name__, url_prefix="/api/v1/invitations")


@endpoint(
    bp,
    "POST",
    "/preview",
    summary="Which organization and address an invitation is for (nothing about any account)",
    auth="none",
    body=InvitationToken,
    response=InvitationPreview,
    errors=(400, 404),
)
def preview(ctx: ApiContext) -> dict[str, Any]:
    found = invitations.find(ctx.services, ctx.body.token)
    return {"org_name": found.org_name, "email": found.email, "expires_at": to_wire(found.expires_at)}


@endpoint(
    bp,
    "POST",
    "/accept",
    summary="Join the invitation's organization: with your account's password (or a bearer token "
    "of it), or with the name and password of a new account",
    auth="none",
    body=AcceptInvitationRequest,
    response=AcceptInvitationResponse,
    errors=(400, 401, 403, 404, 409, 429),
)
def accept(ctx: ApiContext) -> dict[str, Any]:
    body: AcceptInvitationRequest = ctx.body
    claims = bearer_claims(ctx.services) if request.headers.get("Authorization") else None
    return invitations.accept(
        ctx.services, body.token, claims=claims, password=body.password, name=body.name, address=ctx.address
    )

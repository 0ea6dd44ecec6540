"""Sign-in, token refresh, logout and password change (DESIGN §5)."""

from __future__ import annotations

from flask import Blueprint

from sync_server.api import ApiContext, endpoint
from sync_server.api_models import (
    LoginRequest,
    LoginResponse,
    PasswordChangeRequest,
    RefreshRequest,
    TokenResponse,
)

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


@endpoint(
    bp,
    "POST",
    "/login",
    summary="Sign in with e-mail and password",
    auth="none",
    body=LoginRequest,
    response=LoginResponse,
    errors=(400, 401, 409, 429),
)
def login(ctx: ApiContext) -> dict[str, object]:
    body: LoginRequest = ctx.body
    pair, user, memberships = ctx.services.auth.login(
        body.email, body.password, ctx.address, body.device_id, body.device_name
    )
    return {**pair.as_dict(), "user": user, "memberships": memberships}


@endpoint(
    bp,
    "POST",
    "/refresh",
    summary="Exchange a refresh token for a new token pair",
    auth="none",
    body=RefreshRequest,
    response=TokenResponse,
    errors=(400, 401),
)
def refresh(ctx: ApiContext) -> dict[str, object]:
    return ctx.services.auth.refresh(ctx.body.refresh_token).as_dict()


@endpoint(
    bp,
    "POST",
    "/logout",
    summary="End the sign-in session of a refresh token",
    auth="none",
    body=RefreshRequest,
    status=204,
    errors=(400, 401),
)
def logout(ctx: ApiContext) -> None:
    ctx.services.auth.logout(ctx.body.refresh_token)


@endpoint(
    bp,
    "POST",
    "/password",
    summary="Change your password (ends every other session)",
    auth="user",
    body=PasswordChangeRequest,
    response=TokenResponse,
    errors=(400, 401, 403, 429),
    own_sessions=True,
)
def change_password(ctx: ApiContext) -> dict[str, object]:
    assert ctx.claims is not None
    body: PasswordChangeRequest = ctx.body
    pair = ctx.services.auth.change_password(
        ctx.claims, body.current_password, body.new_password, ctx.address
    )
    return pair.as_dict()

"""``GET /api/v1/me``: the signed-in user and their memberships."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import select

from common.schema import AppUser
from sync_server.api import ApiContext, endpoint
from sync_server.api_models import MeResponse
from sync_server.auth.principal import memberships

bp = Blueprint("me", __name__, url_prefix="/api/v1")


@endpoint(
    bp,
    "GET",
    "/me",
    summary="The signed-in user and their memberships",
    auth="user",
    response=MeResponse,
    errors=(401,),
)
def me(ctx: ApiContext) -> dict[str, object]:
    user = ctx.db.execute(
        select(AppUser.id, AppUser.email, AppUser.name).where(AppUser.id == ctx.user.user_id)
    ).one()
    return {
        "user": {"id": user.id, "email": user.email, "name": user.name},
        "memberships": memberships(ctx.db, user.id, ctx.services.store.rescope),
    }

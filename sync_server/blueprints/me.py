"""``GET /api/v1/me``: the signed-in user and their memberships."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import bindparam, select

from common.schema import AppUser
from sync_server.api import ApiContext, endpoint
from sync_server.api_models import MeResponse
from sync_server.auth.principal import memberships

bp = Blueprint("me", __name__, url_prefix="/api/v1")
_USER = select(AppUser.__table__.c.id, AppUser.__table__.c.email, AppUser.__table__.c.name).where(
    AppUser.__table__.c.id == bindparam("uid")
)


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
    user = ctx.db.execute(_USER, {"uid": ctx.user.user_id}).one()
    return {
        "user": {"id": user.id, "email": user.email, "name": user.name},
        "memberships": memberships(ctx.db, user.id, ctx.services.store.rescope),
    }

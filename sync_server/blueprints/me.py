"""``GET /api/v1/me``: the signed-in user and their memberships; ``/me/sessions``: their devices."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import bindparam, select

from common.ids import is_uuid
from common.schema import AppUser
from sync_server.api import ApiContext, endpoint
from sync_server.api_models import EndSessionsResponse, MeResponse, SessionsResponse
from sync_server.auth import sessions
from sync_server.auth.principal import memberships
from sync_server.errors import not_found

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


@endpoint(
    bp,
    "GET",
    "/me/sessions",
    summary="Your active sign-in sessions, each with its device",
    auth="user",
    response=SessionsResponse,
    errors=(401,),
    own_sessions=True,
)
def my_sessions(ctx: ApiContext) -> dict[str, object]:
    assert ctx.claims is not None
    return {"sessions": sessions.list_sessions(ctx.services.auth, ctx.claims)}


@endpoint(
    bp,
    "DELETE",
    "/me/sessions",
    summary="Sign out every other device (this session stays)",
    auth="user",
    response=EndSessionsResponse,
    errors=(401,),
    own_sessions=True,
)
def end_other_sessions(ctx: ApiContext) -> dict[str, object]:
    assert ctx.claims is not None
    return {"sessions_ended": sessions.end_sessions(ctx.services.auth, ctx.claims, None)}


@endpoint(
    bp,
    "DELETE",
    "/me/sessions/<session_id>",
    summary="Sign one of your sessions out (its tokens stop at once)",
    auth="user",
    status=204,
    errors=(401, 404),
    own_sessions=True,
)
def end_session(ctx: ApiContext, session_id: str) -> None:
    assert ctx.claims is not None
    if not is_uuid(session_id) or sessions.end_sessions(ctx.services.auth, ctx.claims, session_id) == 0:
        raise not_found("session")

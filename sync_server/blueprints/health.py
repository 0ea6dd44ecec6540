"""``GET /healthz``: the process answers and its store is reachable."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from common.schema import SCHEMA_VERSION
from sync_server.api import ApiContext, endpoint
from sync_server.api_models import HealthResponse
from sync_server.errors import ApiError

bp = Blueprint("health", __name__)


@endpoint(
    bp,
    "GET",
    "/healthz",
    summary="Liveness and store check",
    auth="none",
    response=HealthResponse,
    errors=(503,),
)
def healthz(ctx: ApiContext) -> HealthResponse:
    try:
        with ctx.services.store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        raise ApiError(503, "unavailable", "the store is not reachable") from None
    return HealthResponse(status="ok", schema_version=SCHEMA_VERSION)

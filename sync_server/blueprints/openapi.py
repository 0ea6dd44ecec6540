"""``GET /api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from sync_server.api import ApiContext, endpoint, registered_endpoints
from sync_server.openapi import build_spec

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")


@endpoint(bp, "GET", "/openapi.json", summary="This API's OpenAPI document", auth="none")
def openapi_json(ctx: ApiContext) -> dict[str, Any]:
    cached = current_app.extensions.get("ops.openapi")
    if cached is None:
        cached = current_app.extensions["ops.openapi"] = build_spec(registered_endpoints(current_app))
    return cached

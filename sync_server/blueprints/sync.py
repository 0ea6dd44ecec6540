"""Sync endpoints (DESIGN §5): push here; pull belongs in this module too.

Pull (``GET /api/v1/orgs/<org_id>/sync/pull``) is added by the sync engine work: declare it with
``@endpoint(bp, "GET", "/<org_id>/sync/pull", query=..., response=PullResponse, auth="org")``
and use :func:`check_schema_version`, ``common.access`` for masking and ``ctx.user`` /
``ctx.user.owner_ids(ctx.db)`` for the caller's rights.
"""

from __future__ import annotations

from flask import Blueprint

from common.schema import SCHEMA_VERSION
from common.wire import PushRequest, PushResponse
from sync_server.api import ApiContext, endpoint
from sync_server.errors import ApiError
from sync_server.writes import apply_mutations

bp = Blueprint("sync", __name__, url_prefix="/api/v1/orgs")

# Client schema versions this server can serve (a newer client needs a newer server).
MIN_CLIENT_SCHEMA_VERSION = 1


def check_schema_version(client_version: int) -> None:
    """409 ``upgrade_required`` for a schema version this server cannot serve."""
    if not MIN_CLIENT_SCHEMA_VERSION <= client_version <= SCHEMA_VERSION:
        raise ApiError(
            409,
            "upgrade_required",
            f"schema version {client_version} is not served here (this server serves "
            f"{MIN_CLIENT_SCHEMA_VERSION}..{SCHEMA_VERSION}); keep your pending changes and upgrade",
            {"server_schema_version": SCHEMA_VERSION, "min_schema_version": MIN_CLIENT_SCHEMA_VERSION},
        )


@endpoint(
    bp,
    "POST",
    "/<org_id>/sync/push",
    summary="Apply a batch of commands, in order",
    auth="org",
    body=PushRequest,
    response=PushResponse,
    write=True,
    errors=(400, 401, 404, 409, 413),
)
def push(ctx: ApiContext, org_id: str) -> PushResponse:
    body: PushRequest = ctx.body
    check_schema_version(body.schema_version)
    principal = ctx.user
    results = apply_mutations(
        ctx.db, org_id, principal.user_id, principal.device_id, principal.permissions, body.mutations
    )
    return PushResponse(results=results)

"""``GET /api/v1/permissions``: the permission catalogue (every module's, ``common.permissions``), for role editors.

The catalogue is the same for every organization and says nothing about anyone's data, so any
signed-in user may read it. ``held_by_admin`` is false for the permissions the built-in ``admin``
role does not hold (``hr.sensitive.read``, ``payroll.run``): an administrator may grant them,
and the grant shows in the audit trail, but it deserves a second look.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from common.permissions import BUILTIN_ROLES, PERMISSIONS, module_of
from sync_server.api import ApiContext, endpoint
from sync_server.api_models import PermissionsResponse

bp = Blueprint("permissions", __name__, url_prefix="/api/v1")


@endpoint(
    bp,
    "GET",
    "/permissions",
    summary="Every permission a role can hold, with what it allows",
    auth="user",
    response=PermissionsResponse,
    errors=(401,),
)
def list_permissions(ctx: ApiContext) -> dict[str, Any]:
    admin = BUILTIN_ROLES["admin"]
    return {
        "permissions": [
            {
                "name": name,
                "description": description,
                "module": module_of(name),
                "held_by_admin": name in admin,
            }
            for name, description in PERMISSIONS.items()
        ]
    }

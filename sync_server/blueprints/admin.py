"""Organization administration: members and their roles, custom roles (``admin.users``).

Every change is audited in the organization's chain. Granting a role that carries
``hr.sensitive.read`` or ``payroll.run`` is allowed to admins (DESIGN §6) and shows in the trail.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import delete, insert, select, update

from common.ids import new_id
from common.permissions import (
    BUILTIN_ROLE_DESCRIPTIONS,
    BUILTIN_ROLES,
    validate_permissions,
)
from common.schema import AppUser, Membership, Role
from sync_server import memberships
from sync_server.api import ApiContext, endpoint
from sync_server.api_models import (
    MembersResponse,
    RoleRequest,
    RolesResponse,
    SetRolesRequest,
    is_role_name,
)
from sync_server.audit import PendingEvent, append_events
from sync_server.errors import ApiError, bad_request, not_found
from sync_server.memberships import ADMIN, admins_left

bp = Blueprint("admin", __name__, url_prefix="/api/v1/orgs")


def record_admin_event(
    ctx: ApiContext, org_id: str, action: str, entity: str, entity_id: str, before: Any, after: Any
) -> None:
    append_events(
        ctx.db,
        org_id,
        [
            PendingEvent(
                action=action,
                actor=ctx.user.user_id,
                device=ctx.user.device_id,
                entity=entity,
                entity_id=entity_id,
                before=before,
                after=after,
            )
        ],
    )


@endpoint(
    bp,
    "GET",
    "/<org_id>/members",
    summary="Members of the organization and their roles",
    auth="org",
    response=MembersResponse,
    permission=ADMIN,
    errors=(401, 403, 404),
)
def list_members(ctx: ApiContext, org_id: str) -> dict[str, Any]:
    return members_of(ctx)


@endpoint(
    bp,
    "PUT",
    "/<org_id>/members/<user_id>/roles",
    summary="Set a member's roles",
    auth="org",
    body=SetRolesRequest,
    response=MembersResponse,
    permission=ADMIN,
    write=True,
    errors=(400, 401, 403, 404, 409),
    lock_org=True,
)
def set_member_roles(ctx: ApiContext, org_id: str, user_id: str) -> dict[str, Any]:
    body: SetRolesRequest = ctx.body
    if not memberships.is_member(ctx.db, user_id):
        raise not_found("member")
    roles = sorted(set(body.roles))
    unknown = memberships.unknown_role(ctx.db, roles)
    if unknown is not None:
        raise bad_request(f"roles: unknown role {unknown!r}", field="roles")
    change = memberships.set_roles(ctx.db, user_id, roles)
    assert change is not None
    if admins_left(ctx.db) == 0:
        raise ApiError(409, "last_admin", "the organization must keep at least one member who manages users")
    record_admin_event(
        ctx,
        org_id,
        "admin.set_roles",
        "membership",
        change.membership_id,
        change.audit_before(),
        change.audit_after(),
    )
    return members_of(ctx)


def members_of(ctx: ApiContext) -> dict[str, Any]:
    rows = ctx.db.execute(
        select(Membership.user_id, Membership.roles, AppUser.email, AppUser.name)
        .join(AppUser, AppUser.id == Membership.user_id)
        .order_by(AppUser.email)
    ).all()
    return {
        "members": [
            {"user_id": r.user_id, "email": r.email, "name": r.name, "roles": list(r.roles or [])}
            for r in rows
        ]
    }


@endpoint(
    bp,
    "GET",
    "/<org_id>/roles",
    summary="Built-in and custom roles",
    auth="org",
    response=RolesResponse,
    permission=ADMIN,
    errors=(401, 403, 404),
)
def list_roles(ctx: ApiContext, org_id: str) -> dict[str, Any]:
    roles: list[dict[str, Any]] = [
        {
            "name": name,
            "description": BUILTIN_ROLE_DESCRIPTIONS.get(name, ""),
            "permissions": sorted(perms),
            "builtin": True,
        }
        for name, perms in BUILTIN_ROLES.items()
    ]
    for row in ctx.db.execute(select(Role.name, Role.description, Role.permissions).order_by(Role.name)):
        roles.append(
            {
                "name": row.name,
                "description": row.description,
                "permissions": sorted(row.permissions or []),
                "builtin": False,
            }
        )
    return {"roles": roles}


@endpoint(
    bp,
    "PUT",
    "/<org_id>/roles/<name>",
    summary="Create or change a custom role",
    auth="org",
    body=RoleRequest,
    response=RolesResponse,
    permission=ADMIN,
    write=True,
    errors=(400, 401, 403, 404, 409),
    lock_org=True,
)
def put_role(ctx: ApiContext, org_id: str, name: str) -> dict[str, Any]:
    body: RoleRequest = ctx.body
    if name in BUILTIN_ROLES:
        raise ApiError(409, "builtin_role", f"{name} is a built-in role and cannot be changed")
    if not is_role_name(name):
        raise bad_request(
            "name: use lowercase ASCII letters (a-z), digits and underscores, starting with a letter",
            field="name",
        )
    try:
        permissions = sorted(validate_permissions(body.permissions))
    except ValueError as exc:
        raise bad_request(f"permissions: {exc}", field="permissions") from None
    current = ctx.db.execute(
        select(Role.id, Role.description, Role.permissions).where(Role.name == name)
    ).first()
    after = {"name": name, "description": body.description, "permissions": permissions}
    if current is None:
        role_id = new_id()
        ctx.db.execute(
            insert(Role).values(id=role_id, name=name, description=body.description, permissions=permissions)
        )
        before = None
    else:
        role_id = current.id
        ctx.db.execute(
            update(Role)
            .where(Role.id == role_id)
            .values(description=body.description, permissions=permissions)
        )
        before = {
            "name": name,
            "description": current.description,
            "permissions": list(current.permissions or []),
        }
    if admins_left(ctx.db) == 0:
        raise ApiError(409, "last_admin", "the organization must keep at least one member who manages users")
    record_admin_event(ctx, org_id, "admin.put_role", "role", role_id, before, after)
    return list_roles(ctx, org_id)


@endpoint(
    bp,
    "DELETE",
    "/<org_id>/roles/<name>",
    summary="Delete a custom role (members holding it lose it)",
    auth="org",
    status=204,
    permission=ADMIN,
    write=True,
    errors=(401, 403, 404, 409),
    lock_org=True,
)
def delete_role(ctx: ApiContext, org_id: str, name: str) -> None:
    current = ctx.db.execute(select(Role.id, Role.permissions).where(Role.name == name)).first()
    if current is None:
        raise not_found("role")
    ctx.db.execute(delete(Role).where(Role.id == current.id))
    if admins_left(ctx.db) == 0:
        raise ApiError(409, "last_admin", "the organization must keep at least one member who manages users")
    record_admin_event(
        ctx,
        org_id,
        "admin.delete_role",
        "role",
        current.id,
        {"name": name, "permissions": list(current.permissions or [])},
        None,
    )

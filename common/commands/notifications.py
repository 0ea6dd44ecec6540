"""Notifications: a message to one user, in the app (and by e-mail, sent by the server).

Categories decide who gets the e-mail: ``essential`` kinds (security, legal, the status of a
person's own request, invitations) are always sent; the others only to users who have not
opted out. The in-app notification is always written; only its recipient reads it.
"""

from __future__ import annotations

from typing import Literal, get_args

from common.commands.fields import Args, Id, OptText2000, Text200
from common.commands.framework import CommandContext, command, invalid
from common.schema import Notification

NotificationKind = Literal[
    "security.new_device",
    "security.password_changed",
    "invitation",
    "legal.policy_change",
    "privacy.request_status",
    "stock.low",
    "invoice.overdue",
    "digest.weekly",
]
KINDS: tuple[str, ...] = get_args(NotificationKind)
ESSENTIAL = frozenset(
    {
        "security.new_device",
        "security.password_changed",
        "invitation",
        "legal.policy_change",
        "privacy.request_status",
    }
)


def is_essential(kind: str) -> bool:
    """Essential messages are sent whatever the person's e-mail preferences."""
    return kind in ESSENTIAL


class CreateNotificationArgs(Args):
    id: Id
    user_id: Id
    kind: NotificationKind
    title: Text200
    body: OptText2000 | None = None
    entity: Text200 | None = None
    entity_id: Id | None = None


@command("notifications.create_notification", args=CreateNotificationArgs, permission="admin.users")
def create_notification(ctx: CommandContext, args: CreateNotificationArgs) -> None:
    """Write a notification for one member (the server sends them; e-mail follows the category)."""
    if ctx.members is not None and not ctx.members.is_member(args.user_id):
        raise invalid("user_id", "is not a member of this organization")
    ctx.insert(Notification, args.model_dump())

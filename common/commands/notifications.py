"""Notifications: a message to one user, in the app (and by e-mail, sent by the server).

Categories decide who gets the e-mail: ``essential`` kinds (security, legal, the status of a
person's own request, invitations) are always sent; the others only to users who have not
opted out. The in-app notification is always written; only its recipient reads it.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field

from common.commands.fields import Args, Id, OptText2000, Text200
from common.commands.framework import CommandContext, CommandError, command, invalid
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


# A page of the notification centre at most (the server lists 200).
NotificationIds = Annotated[list[Id], Field(min_length=1, max_length=200)]
DELETED_TITLE = "[deleted]"


class NotificationIdsArgs(Args):
    ids: NotificationIds


@command("notifications.mark_notifications_read", args=NotificationIdsArgs, permission="admin.users")
def mark_notifications_read(ctx: CommandContext, args: NotificationIdsArgs) -> None:
    """Mark some of one's own notifications read (the server applies it for the recipient:
    ``POST /api/v1/orgs/{org}/notifications/read``). Another user's notification is not found."""
    for notification_id in dict.fromkeys(args.ids):
        row = ctx.get(Notification, notification_id)
        if row is None or row["user_id"] != ctx.actor_id:
            raise CommandError(
                "not_found", f"ids: no notification of yours with id {notification_id}", field="ids"
            )
        if row["read_at"] is None:
            ctx.update(Notification, notification_id, {"read_at": ctx.now})


@command("notifications.delete_notifications", args=NotificationIdsArgs, permission="admin.users")
def delete_notifications(ctx: CommandContext, args: NotificationIdsArgs) -> None:
    """Delete notifications past their retention (the retention run): the row becomes a
    tombstone without its text, so every workstation drops it at its next sync."""
    for notification_id in dict.fromkeys(args.ids):
        row = ctx.get(Notification, notification_id)
        if row is not None:
            ctx.update(
                Notification,
                notification_id,
                {"deleted": True, "title": DELETED_TITLE, "body": None, "entity": None, "entity_id": None},
            )

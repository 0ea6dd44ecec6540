"""Administration: users, memberships, roles and the audit trail (the server's console).

Where its files live: the notification command ``common/commands/notifications.py`` (who may
write a notification for another member; the entity is privacy's); otherwise no entities or
commands of its own (memberships and roles are the
identity tables of ``common/schema/identity.py``); server ``sync_server/admin_ops.py``,
``sync_server/blueprints/{admin,members,audit}.py``; console ``sync_server/console/``.
Not in the desktop's navigation.
"""

from common.modules import ModuleSpec

SPEC = ModuleSpec(
    key="admin",
    title="Administration",
    position=70,
    navigation=False,
    permissions={
        "admin.users": "Manage users, memberships and roles",
        "admin.audit": "Read the audit trail",
    },
    commands=("common.commands.notifications",),
)

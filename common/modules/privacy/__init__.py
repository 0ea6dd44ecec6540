"""Privacy requests: data subject requests, communication preferences, notifications.

Where its files live: entities ``common/schema/privacy.py``; commands
``common/commands/privacy.py`` (notifications: ``admin``); server ``sync_server/{privacy_export,
subject_keys,retention,retention_run,notifications,policy,mail}.py`` and their blueprints;
console pages Privacy requests, Retention and Notifications; demo data ``demo.py`` here;
desktop: no screens yet (an overview); tests ``tests/privacy/`` and
``tests/common/test_commands_privacy.py``.
"""

from common.modules import DemoData, ModuleSpec

SPEC = ModuleSpec(
    key="privacy",
    title="Privacy requests",
    position=60,
    permissions={
        "privacy.manage": "Handle data subject requests: access, export, correction, erasure",
    },
    schema=("common.schema.privacy",),
    commands=("common.commands.privacy",),
    demo=(DemoData(80, "common.modules.privacy.demo:privacy_data"),),
)

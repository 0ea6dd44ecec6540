"""Privacy requests: data subject requests, communication preferences, notifications.

Where its files live: entities ``common/schema/privacy.py``; commands
``common/commands/privacy.py`` (notifications: ``admin``); server ``sync_server/{privacy_export,
subject_keys,retention,retention_run,notifications,policy,mail}.py`` and their blueprints;
console pages Privacy requests, Retention and Notifications; demo data ``demo.py`` here;
desktop: the team's queue ``desktop/ui/privacy_requests.py`` (page Requests), and for every
user My data, the notification centre and the policy prompt (``desktop/ui/privacy_tools.py``);
tests ``tests/privacy/``, ``tests/common/test_commands_privacy.py`` and
``tests/desktop/test_privacy_screens.py``.
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

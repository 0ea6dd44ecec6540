"""Privacy requests: data subject requests, communication preferences, notifications.

Where its files live: entities ``common/schema/privacy.py``; commands
``common/commands/privacy.py``; demo data ``demo.py`` here; desktop: no screens yet (an
overview); tests ``tests/common/test_commands_privacy.py``.
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

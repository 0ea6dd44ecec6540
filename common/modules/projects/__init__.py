"""Projects and tasks: projects, tasks, timesheets.

Where its files live: entities ``common/schema/projects.py``; commands
``common/commands/projects.py`` (billing time, ``projects.invoice_time``, is sales'); demo data ``demo.py`` here; desktop: no screens yet (an
overview); tests ``tests/common/test_commands_projects.py``.
"""

from common.modules import DemoData, ModuleSpec

SPEC = ModuleSpec(
    key="projects",
    title="Projects & tasks",
    position=50,
    permissions={
        "projects.read": "See projects, tasks and timesheets",
        "projects.write": "Create and change projects, tasks and timesheets",
    },
    schema=("common.schema.projects",),
    commands=("common.commands.projects",),
    demo=(DemoData(60, "common.modules.projects.demo:projects_data"),),
)

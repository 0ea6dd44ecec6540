"""Projects and tasks: projects, tasks, timesheets.

Where its files live: entities ``common/schema/projects.py``; commands
``common/commands/projects.py`` and ``project_time.py`` (billing time, ``projects.invoice_time``,
is sales'); form builders ``common/project_forms.py``; demo data ``demo.py`` here; desktop:
``desktop/ui/projects_{list,board,timesheet}.py`` (My work, HR's self-service page, reuses the
week grid); tests ``tests/common/test_commands_projects.py``, ``test_project_time.py``,
``test_project_forms.py``, ``tests/desktop/test_project_screens.py``.
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

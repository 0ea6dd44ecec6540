"""A throwaway module, as a newcomer would add one: a spec, one entity, one command, one page,
one report and demo data, in files of its own. Nothing of the core names it.

Registered by the pytest plugin ``tests.modules.gadgets.plugin`` before anything reads the
registries; ``gadgets_scenario.py`` finds it everywhere the product shows a module.
"""

from common.modules import DemoData, ModuleSpec, Report

SPEC = ModuleSpec(
    key="gadgets",
    title="Gadgets",
    position=65,
    permissions={
        "gadgets.read": "See gadgets",
        "gadgets.write": "Create gadgets",
    },
    schema=("tests.modules.gadgets.schema",),
    commands=("tests.modules.gadgets.commands",),
    reports={"gadget_count": Report("gadgets.read", "tests.modules.gadgets.report:gadget_count")},
    demo=(DemoData(900, "tests.modules.gadgets.demo:gadget_data"),),
)

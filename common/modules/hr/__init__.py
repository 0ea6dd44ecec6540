"""HR and payroll: departments, employees (and their directory), leave, payroll runs, payslips.

Where its files live: entities ``common/schema/hr.py``; commands ``common/commands/{hr,payroll,leave,pay_components,self_service}.py``; payslip PDF and SEPA file
``common/payroll_documents.py``;
demo data ``demo.py`` here; desktop: ``desktop/ui/hr_*.py`` (employees, leave, who is away, leave
types, departments) and ``desktop/ui/payroll_*.py`` (runs, pay components), their form builders
``common/hr_forms.py``; tests ``tests/common/test_commands_hr.py``, ``tests/desktop/test_hr_screens.py``.
"""

from common.modules import DemoData, ModuleSpec

SPEC = ModuleSpec(
    key="hr",
    title="HR & payroll",
    position=40,
    permissions={
        "hr.read": "See departments, employees and leave",
        "hr.write": "Create and change HR records",
        "hr.sensitive.read": "See salaries, bank accounts and national ids",
        "hr.self_service": "See and request one's own employee record, leave, payslips and timesheets",
        "payroll.run": "Run payroll and issue payslips",
    },
    schema=("common.schema.hr",),
    commands=(
        "common.commands.hr",
        "common.commands.payroll",
        "common.commands.leave",
        "common.commands.pay_components",
        "common.commands.self_service",
    ),
    demo=(
        DemoData(30, "common.modules.hr.demo:hr_data"),
        DemoData(70, "common.modules.hr.demo:people_data"),
    ),
)

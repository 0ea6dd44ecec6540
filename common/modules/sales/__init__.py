"""Sales and customers: customers, sales orders, invoices, credit notes, payments.

Where its files live: entities ``common/schema/sales.py``, ``common/schema/credit_notes.py``;
commands ``common/commands/{sales,invoicing,invoice_drafts,credit_notes}.py``; demo data ``demo.py`` here;
form builders ``common/sales_forms.py``; desktop screens ``desktop/ui/customers.py`` and
``desktop/ui/sales_*.py``; tests ``tests/common/test_commands_sales.py``,
``tests/common/test_sales_forms.py``, ``tests/desktop/test_sales_screens.py``.
"""

from common.modules import DemoData, ModuleSpec

SPEC = ModuleSpec(
    key="sales",
    title="Sales & customers",
    position=20,
    permissions={
        "sales.read": "See customers, sales orders, invoices and payments",
        "sales.write": "Create and change customers, orders, invoices and payments",
    },
    schema=("common.schema.sales", "common.schema.credit_notes"),
    commands=(
        "common.commands.sales",
        "common.commands.invoicing",
        "common.commands.invoice_drafts",
        "common.commands.credit_notes",
        "common.commands.project_time",
    ),
    demo=(
        DemoData(20, "common.modules.sales.demo:sales_data"),
        DemoData(40, "common.modules.sales.demo:sales_orders_data"),
    ),
)

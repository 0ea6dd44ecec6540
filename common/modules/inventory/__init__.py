"""Inventory and purchasing: warehouses, products, stock moves, suppliers, purchase orders.

Where its files live: entities ``common/schema/inventory.py``, ``common/schema/costing.py``;
commands ``common/commands/inventory.py`` (costing helpers ``common/commands/costing.py``, stock
rules ``common/stock.py``); report ``common/reports/stock.py``; demo data ``demo.py`` here;
desktop screens ``desktop/ui/{products,stock,stock_moves,low_stock,warehouses,suppliers,
purchase_orders}.py`` (each registers its page); tests ``tests/common/test_commands_inventory.py``,
``tests/desktop/test_inventory_screens.py``.
"""

from common.modules import DemoData, ModuleSpec, Report

SPEC = ModuleSpec(
    key="inventory",
    title="Inventory & purchasing",
    position=10,
    permissions={
        "inventory.read": "See warehouses, products, stock, suppliers and purchase orders",
        "inventory.write": "Create and change inventory and purchasing records, record stock moves",
    },
    schema=("common.schema.inventory", "common.schema.costing"),
    commands=("common.commands.inventory",),
    reports={
        "stock_valuation": Report("inventory.read", "common.reports.stock:stock_valuation_report"),
    },
    demo=(DemoData(10, "common.modules.inventory.demo:inventory_data"),),
)

"""Sample data of inventory and purchasing: warehouses, products and their costs, suppliers, orders, moves."""

from __future__ import annotations

import random
from typing import Any

from common.commands.postings import chart_account_id
from common.modules.demo import DemoOrg, Step, demo_id, standard_rate

PRODUCT_NAMES = [
    "Steel bolt M8",
    "Steel nut M8",
    "Washer 8mm",
    "Hex key set",
    "Cordless drill",
    "Drill bit set",
    "Safety gloves",
    "Safety goggles",
    "Work boots",
    "Hard hat",
    "Measuring tape 5m",
    "Spirit level",
    "Claw hammer",
    "Screwdriver set",
    "Pliers",
    "Cable ties",
    "Duct tape",
    "Extension cord",
    "LED work light",
    "Ladder 3m",
    "Wheelbarrow",
    "Shovel",
    "Paint roller",
    "Wood glue",
    "Sandpaper pack",
    "Angle grinder",
    "Circular saw",
    "Workbench",
    "Tool box",
    "Padlock",
]

SUPPLIER_NAMES = [
    "Fastenal Supply",
    "ToolWorks Wholesale",
    "SafeGear Ltd",
    "Nordic Hardware",
    "Pacific Imports",
]


def inventory_data(org: DemoOrg, rng: random.Random, users: dict[str, str]) -> list[Step]:
    k = org.key
    steps: list[Step] = []
    warehouses = [demo_id(k, "warehouse", code) for code in ("MAIN", "EAST", "WEST")]
    for wid, (code, name) in zip(
        warehouses, [("MAIN", "Main warehouse"), ("EAST", "East depot"), ("WEST", "West depot")], strict=True
    ):
        steps.append(Step("warehouse", "inventory.create_warehouse", {"id": wid, "code": code, "name": name}))
    products, costs = [], []
    for index, name in enumerate(PRODUCT_NAMES):
        pid = demo_id(k, "product", index)
        products.append(pid)
        price = rng.randrange(150, 25000)
        costs.append(price * 6 // 10)
        steps.append(
            Step(
                "warehouse",
                "inventory.create_product",
                {
                    "id": pid,
                    "sku": f"{k[:2].upper()}-{index + 1:04d}",
                    "name": name,
                    "unit": "pcs",
                    "sale_price": price,
                    "cost_price": costs[-1],
                    "currency": org.currency,
                    "reorder_point": str(rng.choice([5, 10, 20])),
                },
            )
        )
    opening_value = 0
    for index, pid in enumerate(products):
        quantity = rng.randrange(8, 200)
        # Valued at the product's cost price (no unit cost given): inventory / GRNI.
        opening_value += quantity * costs[index]
        steps.append(
            Step(
                "warehouse",
                "inventory.record_stock_move",
                {
                    "id": demo_id(k, "receipt", index),
                    "product_id": pid,
                    "to_warehouse_id": warehouses[0],
                    "quantity": str(quantity),
                    "reason": "receipt",
                    "reference": "Opening stock",
                },
            )
        )
    for index in range(30):
        pid = rng.choice(products)
        source, target = rng.sample(warehouses, 2) if index % 3 == 0 else (warehouses[0], None)
        args: dict[str, Any] = {
            "id": demo_id(k, "move", index),
            "product_id": pid,
            "from_warehouse_id": source,
            "quantity": str(rng.randrange(1, 6)),
            "reason": "transfer" if target else "issue",
        }
        if target:
            args["to_warehouse_id"] = target
        steps.append(Step("warehouse", "inventory.record_stock_move", args))
    suppliers = [demo_id(k, "supplier", i) for i in range(len(SUPPLIER_NAMES))]
    for sid, name in zip(suppliers, SUPPLIER_NAMES, strict=True):
        slug = name.lower().split()[0]
        steps.append(
            Step(
                "warehouse",
                "inventory.create_supplier",
                {
                    "id": sid,
                    "name": name,
                    "contact_name": "Order desk",
                    "email": f"orders@{slug}.example",
                    "currency": org.currency,
                },
            )
        )
    for index in range(4):
        oid = demo_id(k, "purchase_order", index)
        lines: list[dict[str, Any]] = [
            {
                "id": demo_id(k, "po_line", index, n),
                "product_id": products[(index * 5 + n) % len(products)],
                "quantity": str(rng.randrange(10, 50)),
                "unit_cost": rng.randrange(100, 5000),
            }
            for n in range(3)
        ]
        steps.append(
            Step(
                "warehouse",
                "inventory.create_purchase_order",
                {
                    "id": oid,
                    "supplier_id": suppliers[index % len(suppliers)],
                    "warehouse_id": warehouses[0],
                    "lines": lines,
                },
            )
        )
        if index >= 1:
            steps.append(Step("warehouse", "inventory.order_purchase_order", {"id": oid}))
        if index >= 2:
            steps.append(Step("warehouse", "inventory.receive_purchase_order", {"id": oid}))
        if index == 3:  # billed a little above the order's cost: a purchase price variance
            steps.append(
                Step(
                    "accountant",
                    "finance.record_supplier_bill",
                    {
                        "id": demo_id(k, "bill", "po", index),
                        "supplier_id": suppliers[index % len(suppliers)],
                        "purchase_order_id": oid,
                        "supplier_reference": f"INV-{4711 + index}",
                        "lines": [
                            {
                                "id": demo_id(k, "bill_line", index, n),
                                "purchase_order_line_id": line["id"],
                                "quantity": line["quantity"],
                                "unit_price": line["unit_cost"] + 10,
                                "tax_rate_id": standard_rate(org),
                            }
                            for n, line in enumerate(lines)
                        ],
                    },
                )
            )
    # The opening stock's bill (a direct line clearing goods received not invoiced), half paid.
    bill_id = demo_id(k, "bill", "opening")
    steps.append(
        Step(
            "accountant",
            "finance.record_supplier_bill",
            {
                "id": bill_id,
                "supplier_id": suppliers[0],
                "supplier_reference": "Opening stock",
                "lines": [
                    {
                        "id": demo_id(k, "bill_line", "opening"),
                        "account_id": chart_account_id(org.org_id, "2100"),
                        "description": "Opening stock",
                        "quantity": "1",
                        "unit_price": opening_value,
                    }
                ],
            },
        )
    )
    steps.append(
        Step(
            "accountant",
            "finance.record_supplier_payment",
            {
                "id": demo_id(k, "supplier_payment", 0),
                "supplier_bill_id": bill_id,
                "amount": opening_value // 2,
            },
        )
    )
    return steps

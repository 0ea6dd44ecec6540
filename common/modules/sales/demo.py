"""Sample data of sales: customers, then sales orders through their life."""

from __future__ import annotations

import random

from common.modules.demo import DemoOrg, Step, demo_id, standard_rate

CUSTOMER_NAMES = [
    "Northwind Builders",
    "Blue Ridge Construction",
    "Harbor Renovations",
    "Summit Facilities",
    "Oak & Iron Workshop",
    "Riverside Housing",
    "Metro Maintenance",
    "Pioneer Fabrication",
    "Lakeside Carpentry",
    "Granite Developments",
    "Evergreen Landscapes",
    "Keystone Plumbing",
]


def sales_data(org: DemoOrg, rng: random.Random, users: dict[str, str]) -> list[Step]:
    steps = []
    for index, name in enumerate(CUSTOMER_NAMES):
        slug = "".join(ch for ch in name.lower() if ch.isalpha())[:20]
        steps.append(
            Step(
                "sales",
                "sales.create_customer",
                {
                    "id": demo_id(org.key, "customer", index),
                    "name": name,
                    "email": f"buyer@{slug}.example",
                    "phone": f"+1 555 01{index:02d}",
                    "currency": org.currency,
                    "credit_limit": rng.randrange(5, 50) * 100000,
                },
            )
        )
    return steps


def sales_orders_data(org: DemoOrg, rng: random.Random, users: dict[str, str]) -> list[Step]:
    """Sales orders through their life, invoices issued and partly paid."""
    k = org.key
    steps = []
    for index in range(8):
        order_id = demo_id(k, "sales_order", index)
        lines = [
            {
                "id": demo_id(k, "so_line", index, n),
                "product_id": demo_id(k, "product", (index * 3 + n) % 30),
                "quantity": str(rng.randrange(1, 6)),
                "tax_rate_id": standard_rate(org),
            }
            for n in range(2)
        ]
        steps.append(
            Step(
                "sales",
                "sales.create_sales_order",
                {
                    "id": order_id,
                    "customer_id": demo_id(k, "customer", index % len(CUSTOMER_NAMES)),
                    "warehouse_id": demo_id(k, "warehouse", "MAIN"),
                    "currency": org.currency,
                    "lines": lines,
                },
            )
        )
        if index < 6:
            steps.append(Step("sales", "sales.confirm_sales_order", {"id": order_id}))
        if index < 4:
            steps.append(Step("sales", "sales.fulfil_sales_order", {"id": order_id}))
            invoice_id = demo_id(k, "invoice", index)
            steps.append(
                Step("sales", "sales.create_invoice", {"id": invoice_id, "sales_order_id": order_id})
            )
            steps.append(Step("sales", "sales.post_invoice", {"id": invoice_id}))
        if index < 2:
            steps.append(
                Step(
                    "sales",
                    "sales.record_payment",
                    {
                        "id": demo_id(k, "payment", index),
                        "invoice_id": demo_id(k, "invoice", index),
                        "amount": 1000,
                        "reference": f"Transfer {index + 1}",
                    },
                )
            )
    return steps

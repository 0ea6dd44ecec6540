"""``ops-server demo``: the two demo organizations, one user per built-in role, sample data.

Sample data goes through the real write path (:func:`sync_server.writes.apply_mutations`) with
registered commands, acted by the demo user of the role that would do it, so the audit trail and
change log are exactly what real use produces. Every id (rows and mutation ids) is derived from
names, so running the demo again answers ``duplicate`` for every command and changes nothing.

Each module's sample data is one small function returning :class:`Step` s; a step whose command is
not registered (a module not built yet) is skipped.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from common.commands import REGISTRY
from common.commands.postings import chart_account_id
from common.permissions import BUILTIN_ROLES
from common.wire import Mutation
from sync_server import admin_ops
from sync_server.services import Services
from sync_server.writes import apply_mutations

_NAMESPACE = uuid.UUID("6f1c3f7e-4f0e-4b7a-9c1d-0c7d5e0a9b11")
BATCH = 500


@dataclass(frozen=True)
class DemoOrg:
    key: str  # acme | globex: the e-mail domain is <key>.test
    name: str
    currency: str
    seed: int
    org_id: str = ""  # known once the organization exists (its chart's account ids derive from it)


DEMO_ORGS = (
    DemoOrg("acme", "Acme Trading", "EUR", 1),
    DemoOrg("globex", "Globex Manufacturing", "USD", 2),
)


@dataclass(frozen=True)
class Step:
    role: str  # the demo user of this role performs it
    command: str
    args: dict[str, Any]


def demo_id(*parts: object) -> str:
    """A stable id from names: the same on every run."""
    return str(uuid.uuid5(_NAMESPACE, "|".join(str(p) for p in parts)))


def user_email(role: str, org: DemoOrg) -> str:
    return f"{role}@{org.key}.test"


# -- sample data, one function per module --------------------------------------------------------

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
SUPPLIER_NAMES = [
    "Fastenal Supply",
    "ToolWorks Wholesale",
    "SafeGear Ltd",
    "Nordic Hardware",
    "Pacific Imports",
]
DEPARTMENTS = [
    ("MGMT", "Management"),
    ("OPS", "Operations"),
    ("SALES", "Sales"),
    ("FIN", "Finance"),
    ("HR", "People"),
]
EXTRA_EMPLOYEES = ["Alex Morgan", "Sam Rivera", "Jordan Lee", "Taylor Kim", "Casey Brown", "Robin Schmidt"]
ROLE_TITLES = {
    "admin": ("MGMT", "Managing director"),
    "accountant": ("FIN", "Accountant"),
    "sales": ("SALES", "Sales representative"),
    "warehouse": ("OPS", "Warehouse lead"),
    "hr": ("HR", "HR manager"),
    "project_manager": ("OPS", "Project manager"),
    "employee": ("OPS", "Technician"),
    "auditor": ("FIN", "Internal auditor"),
}


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


def hr_data(org: DemoOrg, rng: random.Random, users: dict[str, str]) -> list[Step]:
    k = org.key
    steps = []
    for code, name in DEPARTMENTS:
        steps.append(
            Step(
                "hr",
                "hr.create_department",
                {"id": demo_id(k, "department", code), "code": code, "name": name},
            )
        )
    people = [(role, users[role], *ROLE_TITLES[role]) for role in BUILTIN_ROLES if role in users]
    for index, (role, user_id, dept, title) in enumerate(people):
        display = f"{role.replace('_', ' ').title()} User"
        steps.append(
            Step(
                "hr",
                "hr.create_employee",
                {
                    "id": demo_id(k, "employee", role),
                    "name": display,
                    "job_title": title,
                    "department_id": demo_id(k, "department", dept),
                    "work_email": user_email(role, org),
                    "user_id": user_id,
                    "hire_date": f"20{18 + index % 6}-0{1 + index % 9}-01",
                    "salary": rng.randrange(40, 120) * 100000,
                    "salary_currency": org.currency,
                    "bank_account": f"DE{rng.randrange(10**19, 10**20)}",
                    "national_id": f"ID-{rng.randrange(10**8, 10**9)}",
                },
            )
        )
    for index, name in enumerate(EXTRA_EMPLOYEES):
        dept = DEPARTMENTS[index % len(DEPARTMENTS)][0]
        steps.append(
            Step(
                "hr",
                "hr.create_employee",
                {
                    "id": demo_id(k, "employee", "extra", index),
                    "name": name,
                    "job_title": "Specialist",
                    "department_id": demo_id(k, "department", dept),
                    "work_email": f"{name.split()[0].lower()}@{k}.test",
                    "salary": rng.randrange(35, 90) * 100000,
                    "salary_currency": org.currency,
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


def finance_data(org: DemoOrg, rng: random.Random, users: dict[str, str]) -> list[Step]:
    """A tax rate, this year's period and the owner's capital and the rent, on the default chart
    every organization gets; the other postings come from the documents themselves."""
    k = org.key
    year = date.today().year
    steps = [
        Step(
            "accountant",
            "finance.create_tax_rate",
            {"id": demo_id(k, "tax", "STD"), "code": "STD", "name": "Standard rate", "rate": "20"},
        ),
        Step(
            "accountant",
            "finance.create_fiscal_period",
            {
                "id": demo_id(k, "period", year),
                "name": f"FY {year}",
                "start_date": f"{year}-01-01",
                "end_date": f"{year}-12-31",
            },
        ),
    ]
    entries = [
        ("Opening capital", "1000", "3000", 200_000_000),
        ("Rent January", "6500", "1000", 250_000),
    ]
    for index, (memo, debit, credit, amount) in enumerate(entries):
        steps.append(
            Step(
                "accountant",
                "finance.post_journal_entry",
                {
                    "id": demo_id(k, "journal", index),
                    "entry_date": f"{year}-01-{10 + index:02d}",
                    "currency": org.currency,
                    "memo": memo,
                    "lines": [
                        {"account_id": chart_account_id(org.org_id, debit), "debit": amount},
                        {"account_id": chart_account_id(org.org_id, credit), "credit": amount},
                    ],
                },
            )
        )
    # The first invoice is credited in part (one line), never voided.
    steps.append(
        Step(
            "sales",
            "sales.issue_credit_note",
            {
                "id": demo_id(k, "credit_note", 0),
                "invoice_id": demo_id(k, "invoice", 3),
                "reason": "Damaged in transit",
            },
        )
    )
    return steps


def projects_data(org: DemoOrg, rng: random.Random, users: dict[str, str]) -> list[Step]:
    """Two customer projects with tasks, and time logged by the demo employee."""
    k = org.key
    today = date.today()
    steps = []
    for index, (code, name) in enumerate([("P-100", "Warehouse fit-out"), ("P-200", "Annual maintenance")]):
        project_id = demo_id(k, "project", code)
        steps.append(
            Step(
                "project_manager",
                "projects.create_project",
                {
                    "id": project_id,
                    "code": code,
                    "name": name,
                    "customer_id": demo_id(k, "customer", index),
                    "manager_employee_id": demo_id(k, "employee", "project_manager"),
                    "budget": 2_500_000 * (index + 1),
                    "currency": org.currency,
                },
            )
        )
        for n, title in enumerate(["Survey the site", "Order materials", "Install", "Hand over"]):
            steps.append(
                Step(
                    "project_manager",
                    "projects.create_task",
                    {
                        "id": demo_id(k, "task", code, n),
                        "project_id": project_id,
                        "title": title,
                        "assignee_employee_id": demo_id(k, "employee", "employee"),
                        "estimate_hours": str(4 * (n + 1)),
                    },
                )
            )
        for day in range(3):
            steps.append(
                Step(
                    "project_manager",
                    "projects.log_time",
                    {
                        "id": demo_id(k, "time", code, day),
                        "employee_id": demo_id(k, "employee", "employee"),
                        "project_id": project_id,
                        "task_id": demo_id(k, "task", code, day % 4),
                        "work_date": (today - timedelta(days=day + 1)).isoformat(),
                        "hours": str(rng.choice([2, 4, 6, 8])),
                    },
                )
            )
    return steps


def people_data(org: DemoOrg, rng: random.Random, users: dict[str, str]) -> list[Step]:
    """Leave requests and last month's payroll run."""
    k = org.key
    today = date.today()
    start = today + timedelta(days=14)
    steps = [
        Step(
            "hr",
            "hr.request_leave",
            {
                "id": demo_id(k, "leave", 0),
                "employee_id": demo_id(k, "employee", "sales"),
                "kind": "annual",
                "start_date": start.isoformat(),
                "end_date": (start + timedelta(days=4)).isoformat(),
            },
        ),
        Step("hr", "hr.approve_leave", {"id": demo_id(k, "leave", 0)}),
        Step(
            "hr",
            "hr.request_leave",
            {
                "id": demo_id(k, "leave", 1),
                "employee_id": demo_id(k, "employee", "employee"),
                "kind": "training",
                "start_date": (start + timedelta(days=30)).isoformat(),
                "end_date": (start + timedelta(days=31)).isoformat(),
            },
        ),
    ]
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    steps.append(
        Step(
            "hr",
            "hr.run_payroll",
            {
                "id": demo_id(k, "payroll", last_month_end.isoformat()[:7]),
                "period_start": last_month_end.replace(day=1).isoformat(),
                "period_end": last_month_end.isoformat(),
                "currency": org.currency,
                "withholding_rate": "22",
            },
        )
    )
    steps.append(
        Step(
            "hr",
            "hr.pay_payroll_run",
            {
                "id": demo_id(k, "payroll_payment", last_month_end.isoformat()[:7]),
                "payroll_run_id": demo_id(k, "payroll", last_month_end.isoformat()[:7]),
                "paid_on": last_month_end.isoformat(),
            },
        )
    )
    return steps


def privacy_data(org: DemoOrg, rng: random.Random, users: dict[str, str]) -> list[Step]:
    """A customer's opt-out and an open data subject request."""
    k = org.key
    return [
        Step(
            "admin",
            "privacy.set_communication_preference",
            {
                "subject_type": "customer",
                "subject_id": demo_id(k, "customer", 2),
                "channel": "email",
                "purpose": "marketing",
                "opted_out": True,
            },
        ),
        Step(
            "admin",
            "privacy.open_data_subject_request",
            {
                "id": demo_id(k, "dsr", 0),
                "subject_type": "customer",
                "subject_id": demo_id(k, "customer", 3),
                "kind": "access",
                "details": "Asked by e-mail for a copy of their data",
            },
        ),
    ]


MODULES: tuple[Callable[[DemoOrg, random.Random, dict[str, str]], list[Step]], ...] = (
    inventory_data,
    sales_data,
    hr_data,
    sales_orders_data,
    finance_data,
    projects_data,
    people_data,
    privacy_data,
)


# -- seeding -------------------------------------------------------------------------------------


# How a demo user's role reads in their name ("HR (Globex)", never "Hr (Globex)").
_ROLE_ACRONYMS = {"hr": "HR"}


def demo_role_title(role: str) -> str:
    """``hr`` → ``HR``, ``project_manager`` → ``Project manager``."""
    return _ROLE_ACRONYMS.get(role, role.replace("_", " ").capitalize())


def _ensure_users(services: Services, org: DemoOrg, password: str) -> tuple[str, dict[str, str], int]:
    store = services.store
    try:
        org_id, _ = admin_ops.find_org(store, org.name)
    except admin_ops.AdminError:
        org_id = admin_ops.create_org(
            store, org.name, base_currency=org.currency, org_id=demo_id(org.key, "org")
        )
    users: dict[str, str] = {}
    existing = {role: admin_ops.find_user(store, user_email(role, org)) for role in BUILTIN_ROLES}
    missing = [role for role, user_id in existing.items() if user_id is None]
    # Argon2 releases the GIL: hash the new users' passwords on every core.
    with ThreadPoolExecutor() as pool:
        hashes = dict(
            zip(missing, pool.map(lambda _: services.passwords.hash(password), missing), strict=True)
        )
    for role in BUILTIN_ROLES:
        email = user_email(role, org)
        user_id = existing[role]
        if user_id is None:
            name = f"{demo_role_title(role)} ({org.name.split()[0]})"
            user_id = admin_ops.create_user(
                store, services.passwords, email, name, password, password_hash=hashes[role]
            )
        admin_ops.grant(store, email, org_id, role)
        users[role] = user_id
    return org_id, users, len(missing)


def _apply(
    services: Services, org_id: str, org: DemoOrg, users: dict[str, str], steps: list[Step]
) -> dict[str, int]:
    counts = {"applied": 0, "duplicate": 0, "rejected": 0}
    runnable = [s for s in steps if s.command in REGISTRY]
    start = 0
    while start < len(runnable):
        role = runnable[start].role
        end = start
        while end < len(runnable) and runnable[end].role == role and end - start < BATCH:
            end += 1
        mutations = [
            Mutation(
                # Ids from the step's content, never its position: adding a module keeps them.
                id=demo_id(org.key, "mutation", s.command, s.args.get("id") or sorted(s.args.items())),
                name=s.command,
                args=s.args,
            )
            for s in runnable[start:end]
        ]
        with services.store.session(org_id, user_id=users[role], write=True) as session:
            results = apply_mutations(session, org_id, users[role], None, BUILTIN_ROLES[role], mutations)
        for result in results:
            counts[result.status] += 1
            if result.status == "rejected":
                raise RuntimeError(f"demo data was refused: {result.code}: {result.message}")
        start = end
    return counts


def seed_demo(services: Services, password: str, progress: Callable[[str], None] | None = None) -> list[str]:
    """Seed (or top up) both demo organizations. Returns a human-readable report.

    ``progress`` hears what is being done, as it starts (the first run takes a while)."""
    report = []
    for number, org in enumerate(DEMO_ORGS, start=1):
        if progress is not None:
            progress(f"Creating demo organization {number} of {len(DEMO_ORGS)}: {org.name}…")
        org_id, users, created = _ensure_users(services, org, password)
        org = replace(org, org_id=org_id)
        rng = random.Random(org.seed)
        steps = [step for module in MODULES for step in module(org, rng, users)]
        counts = _apply(services, org_id, org, users, steps)
        report.append(
            f"{org.name} ({org_id}): {created} users created, {counts['applied']} commands applied, "
            f"{counts['duplicate']} already present; sign in as <role>@{org.key}.test"
        )
    report.append("roles: " + ", ".join(BUILTIN_ROLES))
    return report

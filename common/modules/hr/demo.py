"""Sample data of HR: departments and employees, then leave and last month's payroll."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from common.modules.demo import DemoOrg, Step, demo_id, user_email
from common.permissions import BUILTIN_ROLES

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
LEAVE_TYPES = (
    ("ANNUAL", "Annual leave", "annual", "25"),
    ("SICK", "Sick leave", "sick", None),
    ("UNPAID", "Unpaid leave", "unpaid", None),
)
PAY_COMPONENTS: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = (
    ("MEAL", "Meal allowance", "earning", "fixed", {"amount": 10_000}),
    ("PENSION", "Pension", "deduction", "percent", {"rate": "7.15"}),
    ("SOCSEC", "Social security", "employer_contribution", "percent", {"rate": "20", "cap": 150_000}),
)


def german_iban(account: int) -> str:
    """A valid German IBAN for an 18-digit bank code and account number (check digits by mod 97)."""
    bban = f"{account:018d}"
    check = 98 - int(bban + "131400") % 97  # D = 13, E = 14, then "00"
    return f"DE{check:02d}{bban}"


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
                    "bank_account": german_iban(rng.randrange(10**17, 10**18)),
                    "national_id": f"ID-{rng.randrange(10**8, 10**9)}",
                },
            )
        )
    for code, name, kind, days in LEAVE_TYPES:
        steps.append(
            Step(
                "hr",
                "hr.create_leave_type",
                {"id": demo_id(k, "leave_type", code), "code": code, "name": name, "kind": kind}
                | ({"yearly_entitlement": days} if days else {}),
            )
        )
    for code, name, kind, method, extra in PAY_COMPONENTS:
        fixed = {"currency": org.currency} if method == "fixed" else {}
        steps.append(
            Step(
                "hr",
                "hr.create_pay_component",
                {"id": demo_id(k, "pay_component", code), "code": code, "name": name, "kind": kind,
                 "method": method, **extra, **fixed},
            )
        )  # fmt: skip
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
                "leave_type_id": demo_id(k, "leave_type", "ANNUAL"),
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
    for name in ("hr.approve_payroll_run", "hr.post_payroll_run"):
        steps.append(Step("hr", name, {"id": demo_id(k, "payroll", last_month_end.isoformat()[:7])}))
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

"""Sample data of projects: projects, tasks and timesheets."""

from __future__ import annotations

import random
from datetime import date, timedelta

from common.modules.demo import DemoOrg, Step, demo_id


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
                    "budget_hours": str(250 * (index + 1)),
                    "hourly_rate": 9_500,
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

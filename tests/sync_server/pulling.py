"""Helpers of the pull tests: pulling every page, a little of every module, cursor surgery."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from common.ids import new_id
from sync_server.pull_cursor import PullCursor, cursor_key, decode_cursor, encode_cursor
from tests.sync_server.conftest import JWT_KEY, OrgInfo, World, mutation

KEY = cursor_key(JWT_KEY)


@dataclass
class Pulled:
    changes: list[dict[str, Any]] = field(default_factory=list)
    cursor: str | None = None
    pages: int = 0
    bodies: list[bytes] = field(default_factory=list)

    def of(self, entity: str) -> dict[str, dict[str, Any]]:
        """The last change of each row of ``entity``, by id."""
        return {c["id"]: c for c in self.changes if c["entity"] == entity}


def pull_page(world: World, email: str, org: OrgInfo, cursor: str | None = None, **params: Any) -> Any:
    query = dict(params)
    if cursor is not None:
        query["cursor"] = cursor
    return world.client.get(
        f"/api/v1/orgs/{org.id}/sync/pull", query_string=query, headers=world.headers(email)
    )


def pull_all(
    world: World, email: str, org: OrgInfo, cursor: str | None = None, *, limit: int = 1000
) -> Pulled:
    """Every page until ``has_more`` is false."""
    pulled = Pulled(cursor=cursor)
    for _ in range(1000):
        response = pull_page(world, email, org, pulled.cursor, limit=limit)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        pulled.bodies.append(response.data)
        pulled.changes.extend(body["changes"])
        pulled.cursor = body["cursor"]
        pulled.pages += 1
        if not body["has_more"]:
            return pulled
    raise AssertionError("pull never finished")


def cursor_of(text: str, org: OrgInfo) -> PullCursor:
    return decode_cursor(text, KEY, org.id)


def forge(cursor: PullCursor) -> str:
    """A correctly signed cursor with chosen contents (the server's key is the tests' key)."""
    return encode_cursor(cursor, KEY)


def applied(world: World, email: str, org: OrgInfo, mutations: list[dict[str, Any]]) -> None:
    response = world.push(email, org, mutations)
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["applied"] * len(mutations), results


def seed_every_module(world: World, org: OrgInfo) -> dict[str, str]:
    """A little of each module, written by the role that may: returns the ids of note."""
    ids = {name: new_id() for name in ("warehouse", "product", "customer", "account", "department")}
    ids.update({name: new_id() for name in ("own_employee", "other_employee", "leave", "project", "task")})
    ids["payroll"], ids["timesheet"], ids["pay_component"] = new_id(), new_id(), new_id()
    ids["leave_type"] = new_id()
    email = org.email
    applied(
        world,
        email("admin"),
        org,
        [
            mutation("inventory.create_warehouse", id=ids["warehouse"], code="MAIN", name="Main"),
            mutation(
                "inventory.create_product",
                id=ids["product"],
                sku="CHAIR",
                name="Chair",
                sale_price=1000,
                currency="EUR",
                reorder_point="2.5",
            ),
            mutation("sales.create_customer", id=ids["customer"], name="Customer Oy", email="c@example.com"),
        ],
    )
    applied(
        world,
        email("accountant"),
        org,
        [mutation("finance.create_account", id=ids["account"], code="1999", name="Cash", type="asset")],
    )
    employee = {
        "job_title": "Engineer",
        "department_id": ids["department"],
        "home_address": "1 Private Road",
        "national_id": "ID-123456",
        "bank_account": "FI21 1234",
        "salary": 500000,
        "salary_currency": "EUR",
        "hire_date": "2020-01-01",
    }
    applied(
        world,
        email("hr"),
        org,
        [
            mutation("hr.create_department", id=ids["department"], code="OPS", name="Operations"),
            mutation(
                "hr.create_employee",
                id=ids["own_employee"],
                name="Emma Employee",
                user_id=org.users["employee"],
                **employee,
            ),
            mutation("hr.create_employee", id=ids["other_employee"], name="Otto Other", **employee),
            mutation(
                "hr.create_leave_type",
                id=ids["leave_type"],
                code="ANNUAL",
                name="Annual leave",
                kind="annual",
                yearly_entitlement="25",
            ),
            mutation(
                "hr.request_leave",
                id=ids["leave"],
                employee_id=ids["own_employee"],
                leave_type_id=ids["leave_type"],
                start_date="2026-07-01",
                end_date="2026-07-05",
            ),
            mutation(
                "hr.create_pay_component",
                id=ids["pay_component"],
                code="PENSION",
                name="Pension",
                kind="deduction",
                method="percent",
                rate="7.15",
            ),
            mutation(
                "hr.run_payroll",
                id=ids["payroll"],
                period_start="2026-01-01",
                period_end="2026-01-31",
                currency="EUR",
                withholding_rate="20",
            ),
        ],
    )
    applied(
        world,
        email("project_manager"),
        org,
        [
            mutation("projects.create_project", id=ids["project"], code="P1", name="Project one"),
            mutation("projects.create_task", id=ids["task"], project_id=ids["project"], title="Task"),
        ],
    )
    applied(
        world,
        email("employee"),
        org,
        [
            mutation(
                "projects.log_time",
                id=ids["timesheet"],
                employee_id=ids["own_employee"],
                project_id=ids["project"],
                work_date="2026-02-02",
                hours="7.5",
            )
        ],
    )
    return ids

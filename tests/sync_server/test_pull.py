"""Pull (DESIGN §5): snapshot and incremental pages, exactly what each role may read, on both stores."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.access import OwnerIds, entity_access, readable_entities
from common.ids import new_id
from common.permissions import BUILTIN_ROLES
from common.schema import ENTITIES, SCHEMA_VERSION, Employee
from common.schema.base import table_of
from common.wire import row_to_wire
from tests.sync_server.conftest import World, mutation, product, warehouse
from tests.sync_server.pulling import applied, cursor_of, pull_all, pull_page, seed_every_module

SENSITIVE_VALUES = (b"ID-123456", b"FI21 1234", b"500000")


def expected_view(world: World, org_id: str, role: str) -> dict[tuple[str, str], dict[str, Any]]:
    """What ``role`` may read of the organization, computed from the store row by row."""
    permissions = BUILTIN_ROLES[role]
    user_id = world.a.users[role] if org_id == world.a.id else world.b.users[role]
    with world.services.store.session(org_id) as db:
        employee_ids = frozenset(db.execute(select(Employee.id).where(Employee.user_id == user_id)).scalars())
        owner = OwnerIds(user_id=user_id, employee_ids=employee_ids)
        view = {}
        for entity in readable_entities(permissions):
            table = table_of(ENTITIES[entity])
            access = entity_access(entity, permissions)
            for row in db.execute(
                select(table).where(table.c.org_id == org_id, table.c.deleted.is_(False))
            ).mappings():
                masked = access.mask(row_to_wire(dict(row)), owner)
                if masked is not None:
                    masked.pop("org_id", None)
                    view[(entity, row["id"])] = masked
    return view


def test_the_snapshot_is_exactly_what_each_role_may_read(world: World) -> None:
    seed_every_module(world, world.a)
    seed_every_module(world, world.b)
    for role in BUILTIN_ROLES:
        pulled = pull_all(world, world.a.email(role), world.a, limit=3)
        got = {(c["entity"], c["id"]): c["data"] for c in pulled.changes}
        assert len(got) == len(pulled.changes), f"{role}: a row was sent twice in one snapshot"
        assert all(c["op"] == "upsert" and c["version"] == c["data"]["version"] for c in pulled.changes)
        assert got == expected_view(world, world.a.id, role), role
        raw = b"".join(pulled.bodies)
        assert world.b.id.encode() not in raw and b"org_id" not in raw
        if "hr.sensitive.read" not in BUILTIN_ROLES[role]:  # not even one's own
            for secret in SENSITIVE_VALUES:
                assert secret not in raw, (role, secret)
        order = [c["entity"] for c in pulled.changes]
        assert order == sorted(order, key=list(ENTITIES).index), f"{role}: not in dependency order"


def test_role_specific_views(world: World) -> None:
    ids = seed_every_module(world, world.a)

    def view(role: str) -> dict[tuple[str, str], dict[str, Any]]:
        return {
            (c["entity"], c["id"]): c["data"] for c in pull_all(world, world.a.email(role), world.a).changes
        }

    warehouse_view = view("warehouse")
    # The chart of accounts is read by every module that posts (issue 12); journal entries are not.
    assert {e for e, _ in warehouse_view} == {
        "warehouse",
        "product",
        "department",
        "employee_directory",
        "account",
    }
    assert set(warehouse_view[("employee_directory", ids["other_employee"])]) == {
        "id",
        "version",
        "deleted",
        "name",
        "job_title",
        "department_id",
        "work_email",
        "work_phone",
    }
    assert warehouse_view[("employee_directory", ids["own_employee"])]["name"] == "Emma Employee"
    mine = view("employee")
    own = mine[("employee", ids["own_employee"])]  # their own record, without what is sensitive
    assert own["home_address"] == "1 Private Road" and own["hire_date"] == "2020-01-01"
    assert not {"salary", "salary_currency", "bank_account", "national_id", "user_id"} & set(own)
    assert ("employee", ids["other_employee"]) not in mine  # colleagues: through the directory only
    assert ("employee_directory", ids["other_employee"]) in mine
    assert ("leave_request", ids["leave"]) in mine and ("timesheet_entry", ids["timesheet"]) in mine
    assert any(e == "payslip" for e, _ in mine) and not any(e == "payroll_run" for e, _ in mine)
    own_payslips = [d for (e, _), d in mine.items() if e == "payslip"]
    assert [p["employee_id"] for p in own_payslips] == [ids["own_employee"]]
    assert not {"gross", "deductions", "net"} & set(own_payslips[0])
    own_lines = [d for (e, _), d in mine.items() if e == "payslip_line"]
    assert len(own_lines) == 5 and all("amount" not in line and "kind" in line for line in own_lines)
    assert not any(e == "pay_component" for e, _ in mine)  # the organization's pay policy: payroll only
    assert mine[("leave_type", ids["leave_type"])]["yearly_entitlement"] == "25"  # to request leave
    auditor = view("auditor")
    assert "home_address" in auditor[("employee", ids["other_employee"])]
    assert "salary" not in auditor[("employee", ids["other_employee"])]
    hr = view("hr")
    assert hr[("employee", ids["other_employee"])]["national_id"] == "ID-123456"
    assert ("customer", ids["customer"]) not in hr
    assert hr[("pay_component", ids["pay_component"])]["rate"] == "7.15"
    admin = view("admin")
    assert admin[("product", ids["product"])]["reorder_point"] == "2.5"
    assert "salary" not in admin[("employee", ids["own_employee"])]


def test_incremental_sends_each_row_once_with_its_current_data_and_tombstones(world: World) -> None:
    email = world.a.email("admin")
    wh, chair = warehouse(), product("CHAIR")
    applied(world, email, world.a, [wh, chair])
    start = pull_all(world, email, world.a)
    chair_id = chair["args"]["id"]
    supplier, order, line_a, line_b = new_id(), new_id(), new_id(), new_id()
    moved = mutation(
        "inventory.record_stock_move",
        id=new_id(),
        product_id=chair_id,
        to_warehouse_id=wh["args"]["id"],
        quantity="3",
        reason="receipt",
    )
    late = product("LATE")
    applied(
        world,
        email,
        world.a,
        [
            mutation(
                "inventory.update_product",
                id=chair_id,
                changes={"name": "One"},
                base={"name": "Product CHAIR"},
            ),
            late,
            moved,
            mutation("inventory.update_product", id=chair_id, changes={"name": "Two"}, base={"name": "One"}),
            mutation("inventory.create_supplier", id=supplier, name="Supplier", currency="EUR"),
            mutation(
                "inventory.create_purchase_order",
                id=order,
                supplier_id=supplier,
                warehouse_id=wh["args"]["id"],
                lines=[
                    {"id": line_a, "product_id": chair_id, "quantity": "1", "unit_cost": 10},
                    {"id": line_b, "product_id": chair_id, "quantity": "2", "unit_cost": 10},
                ],
            ),
            mutation(
                "inventory.set_purchase_order_lines",
                id=order,
                lines=[{"id": line_a, "product_id": chair_id, "quantity": "5", "unit_cost": 10}],
            ),
        ],
    )
    pulled = pull_all(world, email, world.a, start.cursor)
    keys = [(c["entity"], c["id"]) for c in pulled.changes]
    assert len(keys) == len(set(keys)), "a row was sent twice in one page"
    chair_change = pulled.of("product")[chair_id]
    assert chair_change["op"] == "upsert" and chair_change["data"]["name"] == "Two"
    # First occurrence: the product came before the move and the order that reference it.
    assert keys.index(("product", chair_id)) < keys.index(("stock_move", moved["args"]["id"]))
    assert keys.index(("purchase_order", order)) < keys.index(("purchase_order_line", line_a))
    removed = pulled.of("purchase_order_line")[line_b]
    assert removed["op"] == "delete" and "data" not in removed
    assert pulled.of("purchase_order_line")[line_a]["data"]["quantity"] == "5"
    assert late["args"]["id"] in pulled.of("product")
    # Caught up: the next pull is empty and keeps the cursor.
    again = pull_page(world, email, world.a, pulled.cursor).get_json()
    assert again == {
        "changes": [],
        "cursor": pulled.cursor,
        "has_more": False,
        "schema_version": SCHEMA_VERSION,
    }


def test_small_pages_split_the_log_and_lose_nothing(world: World) -> None:
    email = world.a.email("warehouse")
    start = pull_all(world, email, world.a)
    products = [product(f"P{n}") for n in range(23)]
    applied(world, email, world.a, products)
    pulled = pull_all(world, email, world.a, start.cursor, limit=4)
    assert pulled.pages == 6
    assert set(pulled.of("product")) == {p["args"]["id"] for p in products}
    assert cursor_of(pulled.cursor, world.a).seq == 23


def test_rows_written_during_a_snapshot_arrive_after_it(world: World) -> None:
    email = world.a.email("admin")
    applied(world, email, world.a, [product(f"P{n}") for n in range(6)])
    first = pull_page(world, email, world.a, limit=3).get_json()
    assert first["has_more"] and len(first["changes"]) == 3
    snapshot_cursor = cursor_of(first["cursor"], world.a)
    assert snapshot_cursor.in_snapshot and snapshot_cursor.seq == 6
    # Written mid-snapshot: a row whose id sorts before the keyset position (the snapshot never
    # reaches it), and a change to a row the snapshot already sent.
    early = mutation(
        "inventory.create_product",
        id="00000000-0000-7000-8000-000000000001",
        sku="EARLY",
        name="Early",
        sale_price=1,
        currency="EUR",
    )
    sent = first["changes"][0]
    applied(
        world,
        email,
        world.a,
        [
            early,
            mutation(
                "inventory.update_product",
                id=sent["id"],
                changes={"name": "Renamed"},
                base={"name": sent["data"]["name"]},
            ),
        ],
    )
    rest = pull_all(world, email, world.a, first["cursor"], limit=3)
    products = {c["id"]: c for c in first["changes"] + rest.changes if c["entity"] == "product"}
    assert early["args"]["id"] in products
    assert products[sent["id"]]["data"]["name"] == "Renamed"
    assert len(products) == 7
    assert cursor_of(rest.cursor, world.a).seq == 8 and not cursor_of(rest.cursor, world.a).in_snapshot


def test_another_organization_pulls_none_of_it(world: World) -> None:
    seed_every_module(world, world.a)
    for role in ("admin", "auditor", "hr"):
        pulled = pull_all(world, world.b.email(role), world.b)
        assert pulled.changes == []

"""Demo-like data for desktop tests and benchmarks, written through the real commands."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from common.commands import execute
from common.ids import new_id
from common.local import client_context
from common.permissions import ALL_PERMISSIONS, BUILTIN_ROLES
from desktop.local_store import LocalStore
from desktop.session import UserSession, local_session

# Nothing listens here: an API client pointed at it behaves exactly as when offline.
UNREACHABLE_SERVER = "http://127.0.0.1:9"


def offline_session(
    root: Path,
    *,
    roles: tuple[str, ...] = ("admin",),
    org_name: str = "Acme Trading",
    email: str = "admin@acme.test",
    password: str = "correct horse battery staple",  # noqa: S107
    server_url: str = UNREACHABLE_SERVER,
) -> UserSession:
    """A signed-in session on a real encrypted store, as after an offline sign-in."""
    session = local_session(root, server_url, email, password, roles=roles, org_name=org_name)
    books_as_downloaded(session.store)
    return session


def books_as_downloaded(store: LocalStore, currency: str = "EUR") -> None:
    """The chart of accounts and posting settings as a first download brings them: the server
    makes them with the organization, so they are written here without an outbox entry."""
    with store.write_session() as db:
        ctx, _ = client_context(
            db,
            org_id=store.profile.org_id,
            device_id=store.device_id,
            actor_id="system",
            permissions=ALL_PERMISSIONS,
        )
        execute(ctx, "finance.set_up_books", {"currency": currency})


assert "warehouse" in BUILTIN_ROLES


def seed_inventory(session: UserSession) -> dict[str, Any]:
    """Two warehouses, suppliers, a dozen products with stock, a few purchase orders."""
    ids: dict[str, Any] = {"warehouses": {}, "products": {}, "suppliers": {}}

    def apply(name: str, args: dict[str, Any]) -> None:
        session.apply(name, args)

    for code, name in (("MAIN", "Main warehouse"), ("EAST", "East depot")):
        wid = new_id()
        apply(
            "inventory.create_warehouse", {"id": wid, "code": code, "name": name, "address": f"{name} road 1"}
        )
        ids["warehouses"][code] = wid
    for name, contact, currency in (
        ("Nordic Timber AB", "Astrid Berg", "EUR"),
        ("Hansa Hardware GmbH", "Jonas Weber", "EUR"),
        ("Pacific Office Supply", "Mia Chen", "USD"),
    ):
        sid = new_id()
        apply(
            "inventory.create_supplier",
            {
                "id": sid,
                "name": name,
                "contact_name": contact,
                "email": f"{contact.split()[0].lower()}@example.com",
                "phone": "+46 8 123 456",
                "currency": currency,
            },
        )
        ids["suppliers"][name] = sid
    catalogue = (
        ("CHAIR-OAK-01", "Oak dining chair", "pcs", 8900, "20", "48"),
        ("TABLE-OAK-180", "Oak dining table 180 cm", "pcs", 74900, "5", "6"),
        ("SHELF-PINE-80", "Pine shelf 80 cm", "pcs", 3450, "10", "35"),
        ("SCREW-4X40", "Wood screw 4×40 mm (box of 200)", "box", 1290, "30", "12"),
        ("GLUE-PVA-1L", "PVA wood glue 1 l", "l", 990, "8", "3.5"),
        ("VARNISH-MATT", "Matt varnish 0.75 l", "pcs", 2490, "12", "22"),
        ("DESK-ASH-140", "Ash desk 140 cm", "pcs", 52900, "4", "9"),
        ("LAMP-BRASS", "Brass desk lamp", "pcs", 6900, None, "17"),
        ("HINGE-35MM", "Cabinet hinge 35 mm", "pcs", 240, "100", "64"),
        ("PLANK-OAK-2M", "Oak plank 2 m", "m", 1875, "40", "120.5"),
        ("BOLT-M8", "Hex bolt M8 (box of 50)", "box", 1150, "10", "14"),
        ("CUSHION-GREY", "Seat cushion, grey", "pcs", 1990, "15", "0"),
    )
    main, east = ids["warehouses"]["MAIN"], ids["warehouses"]["EAST"]
    for sku, name, unit, price, reorder, stock in catalogue:
        pid = new_id()
        args: dict[str, Any] = {
            "id": pid,
            "sku": sku,
            "name": name,
            "unit": unit,
            "sale_price": price,
            "currency": "EUR",
            "barcode": f"40{abs(hash(sku)) % 10**11:011d}",
        }
        if reorder is not None:
            args["reorder_point"] = reorder
        apply("inventory.create_product", args)
        ids["products"][sku] = pid
        if Decimal(stock) > 0:
            apply(
                "inventory.record_stock_move",
                {
                    "id": new_id(),
                    "product_id": pid,
                    "to_warehouse_id": main,
                    "quantity": stock,
                    "unit_cost": price // 2,
                    "reason": "receipt",
                    "reference": "OPENING",
                },
            )
    apply(
        "inventory.record_stock_move",
        {
            "id": new_id(),
            "product_id": ids["products"]["CHAIR-OAK-01"],
            "from_warehouse_id": main,
            "to_warehouse_id": east,
            "quantity": "12",
            "reason": "transfer",
        },
    )
    apply(
        "inventory.record_stock_move",
        {
            "id": new_id(),
            "product_id": ids["products"]["HINGE-35MM"],
            "from_warehouse_id": main,
            "quantity": "4",
            "reason": "issue",
            "reference": "SO-1042",
        },
    )
    timber = ids["suppliers"]["Nordic Timber AB"]
    for lines in (
        [("PLANK-OAK-2M", "200", 1100), ("GLUE-PVA-1L", "24", 520)],
        [("CUSHION-GREY", "40", 950)],
    ):
        oid = new_id()
        apply(
            "inventory.create_purchase_order",
            {
                "id": oid,
                "supplier_id": timber,
                "warehouse_id": main,
                "expected_on": "2026-12-15",
                "lines": [
                    {"id": new_id(), "product_id": ids["products"][s], "quantity": q, "unit_cost": c}
                    for s, q, c in lines
                ],
            },
        )
        ids.setdefault("orders", []).append(oid)
    apply("inventory.order_purchase_order", {"id": ids["orders"][1]})
    return ids

"""What the desktop prints (no Qt here): purchase orders as documents, lists as tables.

Both become a :class:`common.exports.document.PrintDocument` read from the local store under the
same read rules as exports; :mod:`desktop.ui.printing` shows it in a print preview.
"""

from __future__ import annotations

from sqlalchemy import select

from common.exports import ExportColumn, ExportTable, readable_table
from common.exports.document import PrintDocument
from common.money import format_money, line_amount
from common.schema import Product, PurchaseOrder, PurchaseOrderLine, Supplier, Warehouse
from desktop.list_export import ListView, list_table
from desktop.lists import ListSource
from desktop.session import UserSession

ORDER_LINE_COLUMNS = (
    ExportColumn("line_no", "#", kind="number", source="purchase_order_line.line_no"),
    ExportColumn("sku", "SKU", source="product.sku"),
    ExportColumn("name", "Product", source="product.name"),
    ExportColumn("quantity", "Quantity", kind="quantity", source="purchase_order_line.quantity"),
    ExportColumn("unit_cost", "Unit cost", kind="money", source="purchase_order_line.unit_cost"),
    ExportColumn("amount", "Amount", kind="money", source="purchase_order_line.unit_cost"),
)


class NotFound(LookupError):
    """The record is not in the local store (deleted, or not readable by this user)."""


def purchase_order_document(session: UserSession, order_id: str) -> PrintDocument:
    """A purchase order as a printable document: supplier, delivery, lines and total."""
    org_id = session.org_id
    o, line, p = PurchaseOrder, PurchaseOrderLine, Product
    with session.store.read_session() as db:
        order = db.execute(
            select(o).where(o.org_id == org_id, o.id == order_id, o.deleted.is_(False))
        ).scalar_one_or_none()
        if order is None:
            raise NotFound(f"purchase order {order_id} is not on this computer")
        supplier = db.execute(
            select(Supplier.name, Supplier.address).where(
                Supplier.org_id == org_id, Supplier.id == order.supplier_id
            )
        ).first()
        warehouse = db.execute(
            select(Warehouse.code, Warehouse.name).where(
                Warehouse.org_id == org_id, Warehouse.id == order.warehouse_id
            )
        ).first()
        lines = db.execute(
            select(line.line_no, line.quantity, line.unit_cost, p.sku, p.name)
            .join(p, (p.org_id == line.org_id) & (p.id == line.product_id), isouter=True)
            .where(line.org_id == org_id, line.purchase_order_id == order_id, line.deleted.is_(False))
            .order_by(line.line_no)
        ).all()
    rows = [
        {"line_no": n, "sku": sku, "name": name, "quantity": qty, "unit_cost": cost,
         "amount": line_amount(qty, cost), "currency": order.currency}
        for n, qty, cost, sku, name in lines
    ]  # fmt: skip
    table = readable_table(
        ExportTable(f"Purchase order {order.number}", ORDER_LINE_COLUMNS, rows), session.permissions
    )
    fields = [
        ("Supplier", supplier.name if supplier else "—"),
        ("Deliver to", f"{warehouse.code} — {warehouse.name}" if warehouse else "—"),
        ("Status", order.status.capitalize()),
        ("Expected", order.expected_on.isoformat() if order.expected_on else "—"),
        ("Currency", order.currency),
    ]
    if supplier and supplier.address:
        fields.insert(1, ("Supplier address", supplier.address))
    return PrintDocument(
        title=f"Purchase order {order.number}",
        table=table,
        fields=fields,
        totals=[("Total", format_money(order.total, order.currency))],
        notes=[order.note] if order.note else [],
        footer=session.membership.org_name,
    )


def list_document(
    source: ListSource, title: str, view: ListView, session: UserSession, total: int | None = None
) -> PrintDocument:
    """A list as printed: its readable columns, current filter and sort."""
    return PrintDocument(title=title, table=list_table(source, title, view, session.permissions, total=total))

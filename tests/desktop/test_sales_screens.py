"""Sales screens on real widgets over a real encrypted store (offline), and a sales clerk's day
against a real server over HTTP (the invoice's legal number arrives at sync)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from common.ids import new_id
from common.schema import Invoice
from common.stock import stock_on_hand
from desktop import background
from desktop.api_client import Membership
from desktop.qt import QMessageBox
from desktop.session import UserSession
from desktop.ui.customers import CustomersPage
from desktop.ui.main_window import MainWindow
from desktop.ui.sales_aging import ReceivablesAgingPage
from desktop.ui.sales_invoice_dialog import InvoiceDialog
from desktop.ui.sales_invoices import InvoicesPage
from desktop.ui.sales_lines import DESCRIPTION, DISCOUNT, PRICE, QUANTITY, TOTAL
from desktop.ui.sales_order_dialog import SalesOrderDialog
from desktop.ui.sales_orders import SalesOrdersPage
from desktop.ui.sales_payments import PaymentDialog
from sync_server import admin_ops
from tests.desktop.conftest import LiveServer
from tests.desktop.seed import offline_session
from tests.desktop.test_inventory_screens import open_dialog, save_with_keyboard, type_into
from tests.desktop.test_sync_ui import command, open_window, press_f5, server_push, sign_in
from tests.e2e.proxy import DroppingProxy


def idle(qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: background.active_count() == 0, timeout=10_000)


def add_customer(session: UserSession, name: str, **extra: Any) -> str:
    customer_id = new_id()
    session.apply("sales.create_customer", {"id": customer_id, "name": name, "currency": "EUR", **extra})
    return customer_id


def test_a_new_customer_with_a_credit_limit(qtbot: QtBot, window: MainWindow) -> None:
    before = window.session.store.pending_count()
    dialog = open_dialog(qtbot, window, "customers")
    type_into(qtbot, dialog, "name", "Initech GmbH")
    type_into(qtbot, dialog, "email", "ap@initech")
    assert dialog.field_problem("email") == "E-mail: is not an e-mail address"
    type_into(qtbot, dialog, "email", "ap@initech.test")
    type_into(qtbot, dialog, "credit_limit", "2500.00")
    save_with_keyboard(qtbot, dialog)
    page = window.pages["customers"]
    assert isinstance(page, CustomersPage)
    row = next(r for r in page.model.rows if r["name"] == "Initech GmbH")
    assert row["credit_limit"] == 250000 and row["currency"] == "EUR" and row["balance"] == 0
    assert window.session.store.outbox()[-1]["name"] == "sales.create_customer"
    assert window.session.store.pending_count() == before + 1
    edit = page.edit(row)
    assert "Open balance: 0.00 EUR · credit limit 2,500.00 EUR" in edit.facts_label.text()  # type: ignore[attr-defined]
    assert "No communication opt-outs" in edit.facts_label.text()  # type: ignore[attr-defined]
    edit.reject()


def test_customer_list_shows_opt_outs_and_searches(qtbot: QtBot, window: MainWindow) -> None:
    session = window.session
    quiet = add_customer(session, "Quiet Corp", email="q@quiet.test")
    add_customer(session, "Loud Ltd")
    session.apply(
        "privacy.set_communication_preference",
        {
            "subject_type": "customer",
            "subject_id": quiet,
            "channel": "email",
            "purpose": "marketing",
            "opted_out": True,
        },
    )
    page = window.open_page("customers")
    row = next(r for r in page.model.rows if r["id"] == quiet)
    assert row["contact"] == "E-mail marketing"
    page.search.setText("quiet")
    assert [r["name"] for r in page.model.rows] == ["Quiet Corp"]


def add_tax_rate(session: UserSession, code: str = "VAT20", rate: str = "20") -> str:
    rate_id = new_id()
    session.apply(
        "finance.create_tax_rate", {"id": rate_id, "code": code, "name": f"VAT {rate} %", "rate": rate}
    )
    return rate_id


def choose(dialog: Any, key: str, text_part: str) -> None:
    combo = dialog.inputs[key]
    index = next(i for i in range(combo.count()) if text_part in combo.itemText(i))
    combo.setCurrentIndex(index)


def test_quotation_confirm_deliver_invoice(qtbot: QtBot, window: MainWindow, seeded: Any) -> None:
    session, ids = seeded
    add_tax_rate(session)
    add_customer(session, "Initech GmbH", credit_limit=10000)
    chair, main = ids["products"]["CHAIR-OAK-01"], ids["warehouses"]["MAIN"]
    with session.store.read_session() as db:
        assert stock_on_hand(db, session.org_id, chair, main) == 36
    dialog = open_dialog(qtbot, window, "sales_orders")
    assert isinstance(dialog, SalesOrderDialog)
    choose(dialog, "customer_id", "Initech")
    choose(dialog, "warehouse_id", "MAIN")
    lines = dialog.lines
    assert lines is not None
    qtbot.keyClicks(lines.picker(0), "CHAIR-OAK-01")
    assert lines.cell_edit(0, PRICE).text() == "89.00"  # the product's sale price
    assert lines.tax(0).currentText().startswith("VAT20")
    qtbot.keyClicks(lines.cell_edit(0, QUANTITY), "2")
    qtbot.keyClicks(lines.cell_edit(0, DISCOUNT), "10")
    # 2 × 80.10 (89.00 less 10 %) = 160.20; tax 20 % = 32.04; total 192.24
    assert lines.item(0, TOTAL).text() == "192.24 EUR"
    assert dialog.total_label.text() == "Net 160.20 EUR   Tax 32.04 EUR   Total 192.24 EUR"
    dialog.add_line()
    qtbot.keyClicks(lines.picker(1), "GLUE-PVA-1L")
    lines.tax(1).setCurrentIndex(0)  # no tax
    qtbot.keyClicks(lines.cell_edit(1, QUANTITY), "1,5")
    assert dialog.validate()[1].get("Line 2 quantity")  # "1,5" is ambiguous in English: refused, named
    lines.cell_edit(1, QUANTITY).setText("1.5")
    # + 1.5 × 9.90 = 14.85, no tax
    assert dialog.total_label.text() == "Net 175.05 EUR   Tax 32.04 EUR   Total 207.09 EUR"
    assert dialog.credit_label.text() == (
        "Initech GmbH owes 0.00 EUR on posted invoices; credit limit 100.00 EUR. "
        "With this order: 207.09 EUR, over the limit (confirming is still allowed)."
    )
    save_with_keyboard(qtbot, dialog)
    page = window.pages["sales_orders"]
    assert isinstance(page, SalesOrdersPage)
    order = page.model.rows[0]
    assert (order["customer"], order["stage"], order["total"]) == ("Initech GmbH", "Quotation", 20709)
    page.select_id(order["id"])
    assert page.confirm_button.isEnabled() and not page.deliver_button.isEnabled()
    page.confirm_button.click()
    idle(qtbot)
    # 207.09 is over the 100.00 credit limit: confirmed, and said so
    assert page.last_outcome is not None and page.last_outcome.warnings[0]["code"] == "credit_limit_exceeded"
    for box in page.findChildren(QMessageBox):
        box.close()
    page.select_id(order["id"])
    assert page.current_row()["stage"] == "Confirmed" and page.deliver_button.isEnabled()  # type: ignore[index]
    page.deliver_button.click()
    idle(qtbot)
    with session.store.read_session() as db:
        assert stock_on_hand(db, session.org_id, chair, main) == 34
    page.select_id(order["id"])
    assert page.current_row()["stage"] == "Delivered" and page.invoice_button.isEnabled()  # type: ignore[index]
    page.invoice_button.click()
    idle(qtbot)
    page.select_id(order["id"])
    row = page.current_row()
    assert row is not None and row["invoice"].startswith("DRAFT-") and not page.invoice_button.isEnabled()


def row_of(page: Any, entity_id: str) -> dict[str, Any]:
    page.model.reload()
    return next(r for r in page.model.rows if r["id"] == entity_id)


def test_direct_invoice_post_pay_in_part_credit_by_line_and_overpay(qtbot: QtBot, window: MainWindow) -> None:
    session = window.session
    add_tax_rate(session)
    add_customer(session, "Umbrella plc")
    dialog = open_dialog(qtbot, window, "invoices")
    assert isinstance(dialog, InvoiceDialog)
    choose(dialog, "customer_id", "Umbrella")
    lines = dialog.lines
    assert lines is not None
    qtbot.keyClicks(lines.cell_edit(0, DESCRIPTION), "Assembly, hours")
    qtbot.keyClicks(lines.cell_edit(0, QUANTITY), "2")
    qtbot.keyClicks(lines.cell_edit(0, PRICE), "150.00")
    # 2 × 150.00 = 300.00, tax 20 % = 60.00
    assert dialog.total_label.text() == "Net 300.00 EUR   Tax 60.00 EUR   Total 360.00 EUR"
    save_with_keyboard(qtbot, dialog)
    page = window.pages["invoices"]
    assert isinstance(page, InvoicesPage)
    invoice = page.model.rows[0]
    assert (
        invoice["status"] == "draft" and invoice["total"] == 36000 and invoice["number"].startswith("DRAFT-")
    )
    page.select_id(invoice["id"])
    assert page.post_button.isEnabled() and page.delete_button.isEnabled() and not page.pay_button.isEnabled()
    page.post_button.click()
    idle(qtbot)
    invoice = row_of(page, invoice["id"])
    assert invoice["status"] == "posted" and invoice["number"].startswith(
        "DRAFT-"
    )  # the legal number comes at sync
    page.select_id(invoice["id"])
    assert not page.delete_button.isEnabled() and page.pay_button.isEnabled()

    payment = page.receive_payment(invoice)
    qtbot.waitUntil(payment.isActiveWindow)
    type_into(qtbot, payment, "amount", "100.00")
    payment.allocate(invoice["number"], "100.00")
    assert payment.summary.text() == "Allocated 100.00 EUR"
    save_with_keyboard(qtbot, payment)
    invoice = row_of(page, invoice["id"])
    assert (invoice["status"], invoice["amount_paid"], invoice["open_amount"]) == ("posted", 10000, 26000)

    page.select_id(invoice["id"])
    note = page.credit(invoice)
    qtbot.waitUntil(note.isActiveWindow)
    note.inputs["whole"].setChecked(False)  # type: ignore[attr-defined]
    note.quantity_edit(0).setText("3")
    assert "only 2 of the line is left to credit" in note.validate()[1]["Line 1 quantity"]
    note.quantity_edit(0).setText("1")
    save_with_keyboard(qtbot, note)
    # one of two hours credited: 150.00 + 30.00 tax = 180.00; 360.00 − 100.00 − 180.00 = 80.00 open
    invoice = row_of(page, invoice["id"])
    assert (invoice["amount_credited"], invoice["open_amount"]) == (18000, 8000)

    over = page.receive_payment(invoice)
    qtbot.waitUntil(over.isActiveWindow)
    type_into(qtbot, over, "amount", "100.00")
    over.spread()
    assert over.allocation_edit(0).text() == "80.00"
    assert over.summary.text() == "Allocated 80.00 EUR · 20.00 EUR kept as credit"
    save_with_keyboard(qtbot, over)
    invoice = row_of(page, invoice["id"])
    assert (invoice["status"], invoice["open_amount"]) == ("paid", 0)
    payments = window.open_page("payments_received")
    newest = payments.model.rows[0]
    assert (newest["amount"], newest["credit_amount"], newest["invoice"]) == (10000, 2000, invoice["number"])


def test_a_draft_invoice_with_a_discount_is_edited_then_posted_and_read_only(
    qtbot: QtBot, window: MainWindow
) -> None:
    session = window.session
    add_tax_rate(session)
    add_customer(session, "Initech")
    dialog = open_dialog(qtbot, window, "invoices")
    assert isinstance(dialog, InvoiceDialog) and dialog.lines is not None
    choose(dialog, "customer_id", "Initech")
    lines = dialog.lines
    qtbot.keyClicks(lines.cell_edit(0, DESCRIPTION), "Pens")
    qtbot.keyClicks(lines.cell_edit(0, QUANTITY), "3")
    qtbot.keyClicks(lines.cell_edit(0, PRICE), "19.99")
    qtbot.keyClicks(lines.cell_edit(0, DISCOUNT), "15")
    # 3 × 19.99 = 59.97 less 15 % = 50.9745 → 50.97; tax 20 % = 10.194 → 10.19
    assert lines.item(0, TOTAL).text() == "61.16 EUR"
    assert dialog.total_label.text() == "Net 50.97 EUR   Tax 10.19 EUR   Total 61.16 EUR"
    lines.cell_edit(0, DISCOUNT).setText("101")
    assert dialog.validate()[1]["Line 1 discount"] == "must be between 0 and 100 %"
    lines.cell_edit(0, DISCOUNT).setText("15")
    save_with_keyboard(qtbot, dialog)
    page = window.pages["invoices"]
    assert isinstance(page, InvoicesPage)
    invoice = page.model.rows[0]
    assert (invoice["status"], invoice["total"]) == ("draft", 6116)

    edit = page.open_row(invoice)
    qtbot.waitUntil(edit.isActiveWindow)
    assert edit.save_button.isVisible() and edit.inputs["due_date"].isEnabled()
    assert (edit.lines.cell_edit(0, PRICE).text(), edit.lines.cell_edit(0, DISCOUNT).text()) == (
        "19.99",
        "15",
    )
    assert "Nothing to save yet" in edit.validate()[1][""]
    edit.set_value("due_date", "2099-01-31")
    edit.lines.cell_edit(0, QUANTITY).setText("4")
    edit.add_line()
    qtbot.keyClicks(edit.lines.cell_edit(1, DESCRIPTION), "Pads")
    qtbot.keyClicks(edit.lines.cell_edit(1, QUANTITY), "2")
    qtbot.keyClicks(edit.lines.cell_edit(1, PRICE), "10.00")
    qtbot.keyClicks(edit.lines.cell_edit(1, DISCOUNT), "12.5")
    # Pens 4 × 19.99 = 79.96 less 15 % = 67.966 → 67.97, tax 13.594 → 13.59;
    # pads 2 × 10.00 less 12.5 % = 17.50, tax 3.50. Net 85.47, tax 17.09, total 102.56.
    assert edit.total_label.text() == "Net 85.47 EUR   Tax 17.09 EUR   Total 102.56 EUR"
    save_with_keyboard(qtbot, edit)
    names = [entry["name"] for entry in session.store.outbox()[-2:]]
    assert names == ["sales.update_invoice", "sales.set_invoice_lines"]
    invoice = row_of(page, invoice["id"])
    assert (invoice["status"], str(invoice["due_date"]), invoice["total"]) == ("draft", "2099-01-31", 10256)

    page.select_id(invoice["id"])
    page.post_button.click()
    idle(qtbot)
    posted = page.open_row(row_of(page, invoice["id"]))
    qtbot.waitUntil(posted.isActiveWindow)
    assert not posted.save_button.isVisible() and not posted.inputs["due_date"].isEnabled()
    assert not posted.lines.cell_edit(0, QUANTITY).isEnabled()
    assert not posted.lines.isColumnHidden(DISCOUNT) and posted.lines.cell_edit(1, DISCOUNT).text() == "12.5"
    posted.reject()
    note = page.credit(row_of(page, invoice["id"]))
    qtbot.waitUntil(note.isActiveWindow)
    assert note.table is not None and note.table.item(0, 4).text() == "19.99 EUR less 15 %"
    note.reject()


def test_a_payment_over_two_invoices_and_deleting_a_draft(
    qtbot: QtBot, window: MainWindow, monkeypatch: Any
) -> None:
    session = window.session
    customer = add_customer(session, "Soylent Ltd")
    numbers = []
    for amount in (5000, 7000):
        invoice_id = new_id()
        line = {"id": new_id(), "description": "Service", "quantity": "1", "unit_price": amount}
        session.apply("sales.create_invoice", {"id": invoice_id, "customer_id": customer, "lines": [line]})
        session.apply("sales.post_invoice", {"id": invoice_id})
        numbers.append(invoice_id)
    draft = new_id()
    line = {"id": new_id(), "description": "Extra", "quantity": "1", "unit_price": 100}
    session.apply("sales.create_invoice", {"id": draft, "customer_id": customer, "lines": [line]})
    payments = window.open_page("payments_received")
    dialog = payments.new_item(customer)
    assert isinstance(dialog, PaymentDialog) and len(dialog.invoices) == 2  # the draft is not open
    qtbot.waitUntil(dialog.isActiveWindow)
    type_into(qtbot, dialog, "amount", "90.00")
    dialog.spread()  # 50.00 to the first, 40.00 of 70.00 to the second
    assert [dialog.allocation_edit(i).text() for i in range(2)] == ["50.00", "40.00"]
    save_with_keyboard(qtbot, dialog)
    page = window.open_page("invoices")
    first, second = row_of(page, numbers[0]), row_of(page, numbers[1])
    assert (first["status"], first["open_amount"]) == ("paid", 0)
    assert (second["status"], second["open_amount"]) == ("posted", 3000)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    page.select_id(draft)
    page.delete_button.click()
    idle(qtbot)
    page.model.reload()
    assert draft not in [r["id"] for r in page.model.rows]


def posted_invoice(session: UserSession, customer: str, amount: int, issued: str, due: str) -> str:
    invoice_id = new_id()
    line = {"id": new_id(), "description": "Goods", "quantity": "1", "unit_price": amount}
    session.apply(
        "sales.create_invoice",
        {"id": invoice_id, "customer_id": customer, "issue_date": issued, "due_date": due, "lines": [line]},
    )
    session.apply("sales.post_invoice", {"id": invoice_id})
    return invoice_id


def test_receivables_aging_drills_down_to_invoices(qtbot: QtBot, window: MainWindow) -> None:
    session = window.session
    acme, wayne = add_customer(session, "Acme Builders"), add_customer(session, "Wayne Works")
    old = posted_invoice(session, acme, 10000, "2026-09-01", "2026-09-15")  # 79 days overdue on 3 Dec
    recent = posted_invoice(session, acme, 20000, "2026-11-20", "2026-12-20")  # not yet due
    middle = posted_invoice(session, wayne, 4500, "2026-10-01", "2026-10-31")  # 33 days overdue
    pay = {"currency": "EUR", "method": "bank_transfer"}
    session.apply(
        "sales.record_payment",
        {"id": new_id(), "invoice_id": recent, "amount": 5000, "paid_on": "2026-11-25", **pay},
    )
    session.apply(
        "sales.record_payment",
        {"id": new_id(), "invoice_id": old, "amount": 3000, "paid_on": "2026-12-10", **pay},
    )
    page = window.open_page("receivables_aging")
    assert isinstance(page, ReceivablesAgingPage)
    page.as_of.set_value("2026-12-03")
    rows = {r["customer"]: r for r in page.summary.rows}
    # as of 3 Dec the payment of 10 Dec has not happened yet: the old invoice is open in full
    assert (
        rows["Acme Builders"]["days_61_90"],
        rows["Acme Builders"]["current"],
        rows["Acme Builders"]["total"],
    ) == (
        10000,
        15000,
        25000,
    )
    assert rows["Wayne Works"]["days_31_60"] == 4500 and rows["Wayne Works"]["current"] is None  # shown blank
    assert rows["All customers"]["total"] == 25000 + 4500
    acme_row = next(i for i, r in enumerate(page.summary.rows) if r["customer"] == "Acme Builders")
    assert page.summary.text(acme_row, "days_61_90") == "100.00 EUR"
    page.summary.cellClicked.emit(acme_row, [c.key for c in page.summary.columns].index("current"))
    assert [r["id"] for r in page.drill.rows] == [recent]
    assert page.drill.rows[0]["open"] == 15000
    assert page.drill_label.text() == "1 invoice of Acme Builders, not yet due: 150.00 EUR open"
    total_row = len(page.summary.rows) - 1
    page.summary.cellClicked.emit(total_row, [c.key for c in page.summary.columns].index("total"))
    assert {r["id"] for r in page.drill.rows} == {old, recent, middle}
    dialog = page.open_invoice(0)
    assert dialog is not None and not dialog.save_button.isVisibleTo(dialog)
    dialog.reject()
    page.as_of.set_value("2026-12-31")  # now the 10 Dec payment counts: 70.00 left, 107 days overdue
    rows = {r["customer"]: r for r in page.summary.rows}
    assert rows["Acme Builders"]["over_90"] == 7000


# -- a sales clerk's day against a real server ---------------------------------------------------


@pytest.fixture
def network(live_server: LiveServer) -> Iterator[DroppingProxy]:
    """The way to the server: ``network.offline = True`` cuts it."""
    with DroppingProxy(live_server.http.port) as proxy:
        yield proxy


@pytest.fixture
def sales_org(live_server: LiveServer) -> dict[str, Any]:
    """An organization with its books, a warehouse, a stocked product and a tax rate on the
    server, and a sales clerk (role ``sales``)."""
    org_id = admin_ops.create_org(live_server.services.store, "Sales Co")
    live_server.orgs["Sales Co"] = org_id
    live_server.add_user("boss@sales.test", ("Sales Co", "admin"))
    live_server.add_user("clerk@sales.test", ("Sales Co", "sales"))
    ids = {"org": org_id, "main": new_id(), "chair": new_id(), "vat": new_id()}
    server_push(
        live_server,
        "boss@sales.test",
        org_id,
        command("inventory.create_warehouse", id=ids["main"], code="MAIN", name="Main warehouse"),
        command(
            "inventory.create_product", id=ids["chair"], sku="CHAIR-OAK-01", name="Oak dining chair",
            unit="pcs", sale_price=8900, currency="EUR",
        ),
        command(
            "inventory.record_stock_move", id=new_id(), product_id=ids["chair"], to_warehouse_id=ids["main"],
            quantity="10", unit_cost=4000, reason="receipt",
        ),
        command("finance.create_tax_rate", id=ids["vat"], code="VAT20", name="Standard rate", rate="20"),
    )  # fmt: skip
    return ids


def server_invoice(live_server: LiveServer, org_id: str, invoice_id: str) -> dict[str, Any]:
    with live_server.services.store.session(org_id) as db:
        row = db.execute(select(Invoice.__table__).where(Invoice.id == invoice_id)).mappings().one()
        return dict(row)


def test_a_sales_clerks_day(
    qtbot: QtBot, live_server: LiveServer, network: DroppingProxy, data_root: Path, sales_org: dict[str, Any]
) -> None:
    session = sign_in(data_root, network.url, "clerk@sales.test", live_server.password)
    try:
        window = open_window(qtbot, session)
        press_f5(qtbot, window)
        assert {"customers", "sales_orders", "invoices", "payments_received", "receivables_aging"} <= set(
            window.page_keys()
        )
        # a new customer
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow)
        dialog = open_dialog(qtbot, window, "customers")
        type_into(qtbot, dialog, "name", "Initech GmbH")
        type_into(qtbot, dialog, "email", "ap@initech.test")
        type_into(qtbot, dialog, "credit_limit", "5000")
        save_with_keyboard(qtbot, dialog)
        # a quotation: 3 chairs at the product's 89.00, VAT 20 % → 267.00 + 53.40 = 320.40
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow)
        quotation = open_dialog(qtbot, window, "sales_orders")
        choose(quotation, "customer_id", "Initech")
        choose(quotation, "warehouse_id", "MAIN")
        lines = quotation.lines
        qtbot.keyClicks(lines.picker(0), "CHAIR-OAK-01")
        qtbot.keyClicks(lines.cell_edit(0, QUANTITY), "3")
        assert quotation.total_label.text() == "Net 267.00 EUR   Tax 53.40 EUR   Total 320.40 EUR"
        save_with_keyboard(qtbot, quotation)
        orders = window.pages["sales_orders"]
        order = orders.model.rows[0]
        orders.select_id(order["id"])
        orders.confirm_button.click()
        idle(qtbot)
        orders.select_id(order["id"])
        orders.deliver_button.click()
        idle(qtbot)
        with session.store.read_session() as db:
            assert stock_on_hand(db, session.org_id, sales_org["chair"], sales_org["main"]) == 7
        orders.select_id(order["id"])
        orders.invoice_button.click()
        idle(qtbot)
        invoices = window.open_page("invoices")
        invoice = invoices.model.rows[0]
        assert invoice["total"] == 32040 and invoice["status"] == "draft"
        invoices.select_id(invoice["id"])
        invoices.post_button.click()
        idle(qtbot)
        invoice = row_of(invoices, invoice["id"])
        assert invoice["status"] == "posted" and invoice["number"].startswith("DRAFT-")
        # sync: the server posts it with its legal number, and it comes back
        press_f5(qtbot, window)
        assert session.store.pending_count() == 0, window.sync.last_error
        invoice = row_of(invoices, invoice["id"])
        assert (
            invoice["number"]
            == "INV-000001"
            == server_invoice(live_server, sales_org["org"], invoice["id"])["number"]
        )
        with live_server.services.store.session(sales_org["org"]) as db:
            assert stock_on_hand(db, sales_org["org"], sales_org["chair"], sales_org["main"]) == 7
        # a partial payment: 120.00 of 320.40 → 200.40 open
        invoices.select_id(invoice["id"])
        payment = invoices.receive_payment(invoice)
        qtbot.waitUntil(payment.isActiveWindow)
        type_into(qtbot, payment, "amount", "120.00")
        payment.spread()
        type_into(qtbot, payment, "reference", "Bank 4711")
        save_with_keyboard(qtbot, payment)
        invoice = row_of(invoices, invoice["id"])
        assert (invoice["status"], invoice["amount_paid"], invoice["open_amount"]) == ("posted", 12000, 20040)
        press_f5(qtbot, window)
        assert session.store.pending_count() == 0, window.sync.last_error
        on_server = server_invoice(live_server, sales_org["org"], invoice["id"])
        assert (on_server["amount_paid"], on_server["status"]) == (12000, "posted")
        # the aging: issued today without a due date, so not yet due; its figure drills down to it
        aging = window.open_page("receivables_aging")
        row = next(i for i, r in enumerate(aging.summary.rows) if r["customer"] == "Initech GmbH")
        assert aging.summary.rows[row]["current"] == 20040
        found = aging.drill_down(aging.summary.rows[row]["customer_id"], "EUR", "current")
        assert [(r["number"], r["open"]) for r in found] == [("INV-000001", 20040)]

        # offline: a direct invoice, posted; it waits, then gets the next number at sync
        network.offline = True
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow)
        direct = open_dialog(qtbot, window, "invoices")
        choose(direct, "customer_id", "Initech")
        qtbot.keyClicks(direct.lines.cell_edit(0, DESCRIPTION), "Delivery")
        qtbot.keyClicks(direct.lines.cell_edit(0, QUANTITY), "1")
        qtbot.keyClicks(direct.lines.cell_edit(0, PRICE), "50.00")
        save_with_keyboard(qtbot, direct)
        offline_invoice = invoices.model.rows[0]
        invoices.select_id(offline_invoice["id"])
        invoices.post_button.click()
        idle(qtbot)
        assert row_of(invoices, offline_invoice["id"])["number"].startswith("DRAFT-")
        press_f5(qtbot, window)
        assert window.sync.online is False and session.store.pending_count() == 2
        network.offline = False
        press_f5(qtbot, window)
        assert session.store.pending_count() == 0, window.sync.last_error
        assert row_of(invoices, offline_invoice["id"])["number"] == "INV-000002"
        assert row_of(invoices, offline_invoice["id"])["total"] == 6000  # 50.00 + 20 % tax
        # a chair comes back: credit 1 of the 3 on INV-000001, numbered CN-000001 at sync
        note = invoices.credit(row_of(invoices, invoice["id"]))
        qtbot.waitUntil(note.isActiveWindow)
        note.inputs["whole"].setChecked(False)
        note.quantity_edit(0).setText("1")
        save_with_keyboard(qtbot, note)
        press_f5(qtbot, window)
        assert session.store.pending_count() == 0, window.sync.last_error
        # 320.40 − 120.00 paid − 106.80 credited (89.00 + 17.80 tax) = 93.60 open
        assert row_of(invoices, invoice["id"])["open_amount"] == 9360
        customers = window.open_page("customers")
        account = customers.open_account(next(r for r in customers.model.rows if r["name"] == "Initech GmbH"))
        kinds = {(r["kind"], r["number"]) for r in account.documents.rows}
        assert {("Credit note", "CN-000001"), ("Invoice", "INV-000001"), ("Invoice", "INV-000002")} <= kinds
        assert account.statement.closing == 9360 + 6000
        account.reject()
    finally:
        session.close()


# -- permission shape ----------------------------------------------------------------------------

SALES_PAGES = {"customers", "sales_orders", "invoices", "payments_received", "receivables_aging"}


def test_a_reader_of_sales_sees_every_sales_page_but_cannot_write(qtbot: QtBot, data_root: Path) -> None:
    session = offline_session(data_root, roles=("accountant",))  # sales.read, no sales.write
    try:
        customer = add_customer_as_system(session, "Read Only Inc")
        win = MainWindow(session)
        qtbot.addWidget(win)
        assert set(win.page_keys()) >= SALES_PAGES
        customers = win.open_page("customers")
        assert not customers.new_button.isVisibleTo(customers) and customers.new_item() is None
        assert not customers.archive_button.isVisibleTo(customers)
        customers.select_id(customer)
        view = customers.edit(customers.current_row())
        assert not view.save_button.isVisibleTo(view) and not view.inputs["name"].isEnabled()
        view.reject()
        assert customers.account_button.isVisibleTo(customers)  # reading the account is allowed
        orders = win.open_page("sales_orders")
        for widget in (
            orders.new_button,
            orders.confirm_button,
            orders.deliver_button,
            orders.invoice_button,
        ):
            assert not widget.isVisibleTo(orders)
        assert orders.new_item() is None
        invoices = win.open_page("invoices")
        for widget in (
            invoices.new_button,
            invoices.post_button,
            invoices.credit_button,
            invoices.pay_button,
        ):
            assert not widget.isVisibleTo(invoices)
        assert invoices.print_button.isVisibleTo(invoices)
        payments = win.open_page("payments_received")
        assert not payments.new_button.isVisibleTo(payments) and payments.new_item() is None
    finally:
        session.close()


def add_customer_as_system(session: UserSession, name: str) -> str:
    """A customer as a sync would bring it (the reader may not create one)."""
    from common.commands import execute
    from common.local import client_context
    from common.permissions import ALL_PERMISSIONS

    customer_id = new_id()
    store = session.store
    with store.write_session() as db:
        ctx, _ = client_context(
            db,
            org_id=session.org_id,
            device_id=store.device_id,
            actor_id="system",
            permissions=ALL_PERMISSIONS,
        )
        execute(ctx, "sales.create_customer", {"id": customer_id, "name": name, "currency": "EUR"})
    return customer_id


@pytest.mark.parametrize("roles", [("warehouse",), ("hr",)])
def test_roles_without_sales_see_no_sales_page(qtbot: QtBot, data_root: Path, roles: tuple[str, ...]) -> None:
    session = offline_session(data_root, roles=roles)
    try:
        win = MainWindow(session)
        qtbot.addWidget(win)
        assert not (SALES_PAGES & set(win.page_keys()))
    finally:
        session.close()


def test_a_bookkeeper_role_without_sales_sees_no_sales_page(qtbot: QtBot, data_root: Path) -> None:
    """A custom accountant-like role: the finance permissions, none of sales."""
    session = offline_session(data_root, roles=("accountant",))
    permissions = frozenset(p for p in session.membership.permissions if not p.startswith("sales."))
    session.membership = Membership(session.org_id, session.org_name, ("bookkeeper",), permissions)
    try:
        assert "finance.post" in session.permissions and not session.can("sales.read")
        win = MainWindow(session)
        qtbot.addWidget(win)
        assert not (SALES_PAGES & set(win.page_keys()))
    finally:
        session.close()


# -- how it looks --------------------------------------------------------------------------------


def sales_demo(session: UserSession, ids: dict[str, Any]) -> None:
    """Customers, orders in every stage, invoices posted, paid and credited, payments."""
    vat = add_tax_rate(session)
    names = ["Northwind Builders", "Blue Ridge Construction", "Harbor Renovations", "Summit Facilities",
             "Oak & Iron Workshop", "Riverside Housing"]  # fmt: skip
    customers = [
        add_customer(
            session, name, email=f"buyer{n}@example.com", phone=f"+49 30 555 01{n:02d}", credit_limit=500000
        )
        for n, name in enumerate(names)
    ]
    session.apply(
        "privacy.set_communication_preference",
        {"subject_type": "customer", "subject_id": customers[1], "channel": "email", "purpose": "marketing", "opted_out": True},
    )  # fmt: skip
    skus = ["CHAIR-OAK-01", "TABLE-OAK-180", "SHELF-PINE-80", "LAMP-BRASS", "DESK-ASH-140", "VARNISH-MATT"]
    for n, customer in enumerate(customers):
        order = new_id()
        lines = [
            {
                "id": new_id(),
                "product_id": ids["products"][skus[n]],
                "quantity": str(n + 1),
                "tax_rate_id": vat,
            },
            {
                "id": new_id(),
                "product_id": ids["products"]["SCREW-4X40"],
                "quantity": "2",
                "tax_rate_id": vat,
            },
        ]
        session.apply("sales.create_sales_order", {"id": order, "customer_id": customer,
                                                   "warehouse_id": ids["warehouses"]["MAIN"], "lines": lines})  # fmt: skip
        if n < 5:
            session.apply("sales.confirm_sales_order", {"id": order})
        if n < 4:
            session.apply("sales.fulfil_sales_order", {"id": order})
            invoice = new_id()
            session.apply(
                "sales.create_invoice", {"id": invoice, "sales_order_id": order, "due_date": "2026-12-31"}
            )
            if n < 3:
                session.apply("sales.post_invoice", {"id": invoice})
            if n < 2:
                session.apply("sales.record_payment", {"id": new_id(), "invoice_id": invoice, "amount": 10000,
                                                       "reference": f"Transfer {n + 1}"})  # fmt: skip
    old = posted_invoice(session, customers[4], 125000, "2026-09-01", "2026-09-30")
    session.apply("sales.issue_credit_note", {"id": new_id(), "invoice_id": old,
                                              "lines": [{"invoice_line_id": first_line(session, old), "quantity": "0.2"}]})  # fmt: skip


def first_line(session: UserSession, invoice_id: str) -> str:
    from common.schema import InvoiceLine

    with session.store.read_session() as db:
        return str(
            db.execute(select(InvoiceLine.id).where(InvoiceLine.invoice_id == invoice_id)).scalar_one()
        )


def test_sales_screens_fit_their_text(qtbot: QtBot, qapp: Any, seeded: Any, tmp_path: Path) -> None:
    from desktop.ui.theme import apply_theme
    from tests.desktop.test_screenshots import clipped_texts

    def shoot(key: str, path: Path) -> list[str]:
        window.open_page(key)
        idle(qtbot)
        qtbot.wait(50)  # let queued layout events run
        assert window.size().width() == 1280, f"{key}: the window grew to {window.size().width()}"
        assert window.grab().save(str(path))
        return clipped_texts(window)

    apply_theme(qapp)
    session, ids = seeded
    sales_demo(session, ids)
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    directory = Path(os.environ.get("OPS_TEST_ARTIFACTS", tmp_path)) / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    problems = {}
    for key in sorted(SALES_PAGES):
        found = shoot(key, directory / f"sales-{key}-1280x800.png")
        if found:
            problems[key] = found
    aging = window.open_page("receivables_aging")
    aging.drill_down("__all__", "EUR", None)
    assert window.grab().save(str(directory / "sales-aging-drilled-1280x800.png"))
    found = clipped_texts(window)
    orders = window.pages["sales_orders"]
    dialog = orders.open_row(orders.model.rows[0])
    qtbot.waitExposed(dialog)
    assert dialog.grab().save(str(directory / "sales-order-dialog.png"))
    problems.update({"order dialog": clipped_texts(dialog)} if clipped_texts(dialog) else {})
    dialog.reject()
    invoices = window.pages["invoices"]
    for name, opened in (
        (
            "invoice-dialog",
            invoices.open_row(next(r for r in invoices.model.rows if r["status"] == "posted")),
        ),
        (
            "payment-dialog",
            invoices.receive_payment(next(r for r in invoices.model.rows if r["status"] == "posted")),
        ),
        (
            "credit-note-dialog",
            invoices.credit(next(r for r in invoices.model.rows if r["status"] == "posted")),
        ),
    ):
        qtbot.waitExposed(opened)
        assert opened.grab().save(str(directory / f"sales-{name}.png"))
        if clipped_texts(opened):
            problems[name] = clipped_texts(opened)
        opened.reject()
    customers = window.pages["customers"]
    account = customers.open_account(customers.model.rows[0])
    qtbot.waitExposed(account)
    account.tabs.setCurrentIndex(1)
    account.set_period(date(2026, 1, 1), date(2026, 12, 31))
    assert account.grab().save(str(directory / "sales-customer-statement.png"))
    account.reject()
    print(f"\nscreenshots: {directory}")
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())


def test_quotation_totals_in_the_users_locale_and_editing_a_draft(
    qtbot: QtBot, window: MainWindow, seeded: Any, use_locale: Any
) -> None:
    use_locale("de_DE")
    session, _ids = seeded
    add_tax_rate(session, "VAT7", "7")
    add_customer(session, "Müller KG")
    page = window.open_page("sales_orders")
    dialog = page.new_item()
    qtbot.waitUntil(dialog.isActiveWindow)
    choose(dialog, "customer_id", "Müller")
    lines = dialog.lines
    qtbot.keyClicks(lines.picker(0), "TABLE-OAK-180")
    assert lines.cell_edit(0, PRICE).text() == "749,00"
    qtbot.keyClicks(lines.cell_edit(0, QUANTITY), "2,5")
    qtbot.keyClicks(lines.cell_edit(0, DISCOUNT), "12,5")
    # 2,5 × 749,00 = 1.872,50 less 12,5 % = 1.638,4375 → 1.638,44; 7 % = 114,6908 → 114,69
    assert lines.item(0, TOTAL).text() == "1.753,13 EUR"
    assert dialog.total_label.text() == "Net 1.638,44 EUR   Tax 114,69 EUR   Total 1.753,13 EUR"
    save_with_keyboard(qtbot, dialog)
    order = page.model.rows[0]
    assert order["total"] == 175313
    edit = page.open_row(order)
    qtbot.waitUntil(edit.isActiveWindow)
    # The list price and the discount are kept apart, as typed.
    assert (edit.lines.cell_edit(0, PRICE).text(), edit.lines.cell_edit(0, DISCOUNT).text()) == (
        "749,00",
        "12,5",
    )
    assert "Nothing to save yet" in edit.validate()[1][""]
    edit.lines.cell_edit(0, QUANTITY).setText("3")
    save_with_keyboard(qtbot, edit)
    last = session.store.outbox()[-1]
    assert last["name"] == "sales.set_sales_order_lines"
    assert (last["args"]["lines"][0]["quantity"], last["args"]["lines"][0]["discount_percent"]) == (
        "3",
        "12.5",
    )
    # 3 × 749,00 = 2.247,00 less 12,5 % = 1.966,125 → 1.966,13; 7 % = 137,6291 → 137,63
    assert row_of(page, order["id"])["total"] == 196613 + 13763


def test_cancel_a_quotation(qtbot: QtBot, window: MainWindow, seeded: Any, monkeypatch: Any) -> None:
    session, ids = seeded
    customer = add_customer(session, "Cancel Co")
    order = new_id()
    line = {"id": new_id(), "product_id": ids["products"]["LAMP-BRASS"], "quantity": "1"}
    session.apply("sales.create_sales_order", {"id": order, "customer_id": customer, "lines": [line]})
    page = window.open_page("sales_orders")
    page.select_id(order)
    assert page.cancel_order_button.isEnabled() and not page.deliver_button.isEnabled()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    page.cancel_order_button.click()
    idle(qtbot)
    assert row_of(page, order)["stage"] == "Cancelled"
    page.select_id(order)
    assert not page.cancel_order_button.isEnabled() and not page.confirm_button.isEnabled()


def test_customer_statement_worked_out_by_hand(qtbot: QtBot, window: MainWindow) -> None:
    session = window.session
    customer = add_customer(session, "Statement GmbH")
    first = posted_invoice(session, customer, 40000, "2026-10-05", "2026-11-04")
    second = posted_invoice(session, customer, 25000, "2026-11-10", "2026-12-10")
    pay = {"currency": "EUR", "method": "bank_transfer"}
    session.apply(
        "sales.record_payment",
        {
            "id": new_id(),
            "invoice_id": first,
            "amount": 40000,
            "paid_on": "2026-10-30",
            "reference": "Oct",
            **pay,
        },
    )
    session.apply(
        "sales.issue_credit_note", {"id": new_id(), "invoice_id": second, "issue_date": "2026-11-15"}
    )
    third = posted_invoice(session, customer, 10000, "2026-11-18", "2026-12-18")
    session.apply(
        "sales.record_payment",
        {
            "id": new_id(),
            "invoice_id": third,
            "amount": 12500,
            "paid_on": "2026-11-25",
            "reference": "Over",
            **pay,
        },
    )
    page = window.open_page("customers")
    account = page.open_account(row_of(page, customer))
    account.set_period(date(2026, 11, 1), date(2026, 11, 30))
    statement = account.statement
    # before 1 Nov: invoice 400.00 − payment 400.00 = 0.00 brought forward
    assert statement.opening == 0
    # Nov: +250.00 (10th), −250.00 credit note (15th), +100.00 (18th), −125.00 paid (25th) → −25.00
    assert [(line.kind, line.charge, line.credit, line.balance) for line in statement.lines] == [
        ("Invoice", 25000, 0, 25000),
        ("Credit note", 0, 25000, 0),
        ("Invoice", 10000, 0, 10000),
        ("Payment", 0, 12500, -2500),
    ]
    assert account.closing_label.text() == "On 2026-11-30 Statement GmbH is in credit by 25.00 EUR"
    assert account.statement_table.text(3, "balance") == "-25.00 EUR"
    assert [r["kind"] for r in account.documents.rows][:2] == ["Payment", "Invoice"]  # newest first
    account.set_period(None, date(2026, 10, 31))
    assert account.statement.closing == 0 and len(account.statement.lines) == 2
    account.reject()


def test_credit_a_whole_invoice(qtbot: QtBot, window: MainWindow) -> None:
    session = window.session
    customer = add_customer(session, "Return Ltd")
    invoice = posted_invoice(session, customer, 8000, "2026-12-01", "2026-12-31")
    page = window.open_page("invoices")
    page.select_id(invoice)
    assert page.credit_button.isEnabled()
    dialog = page.credit(row_of(page, invoice))
    qtbot.waitUntil(dialog.isActiveWindow)
    assert dialog.raw()["whole"] is True and not dialog.table.isEnabled()
    type_into(qtbot, dialog, "reason", "Returned unopened")
    save_with_keyboard(qtbot, dialog)
    row = row_of(page, invoice)
    assert (row["status"], row["amount_credited"], row["open_amount"]) == ("credited", 8000, 0)
    last = session.store.outbox()[-1]
    assert last["name"] == "sales.issue_credit_note" and "lines" not in last["args"]


def test_a_customer_in_another_currency_is_invoiced_and_paid_at_a_rate(
    qtbot: QtBot, window: MainWindow, seeded: Any
) -> None:
    session, ids = seeded
    add_customer(session, "Euro Buyer")
    yankee = new_id()
    session.apply("sales.create_customer", {"id": yankee, "name": "Yankee Inc", "currency": "USD"})
    page = window.open_page("invoices")
    dialog = page.new_item()
    qtbot.waitUntil(dialog.isActiveWindow)
    choose(dialog, "customer_id", "Euro Buyer")
    assert not dialog.form_row_visible("exchange_rate")  # the books are in EUR
    choose(dialog, "customer_id", "Yankee")
    assert dialog.form_row_visible("exchange_rate")
    qtbot.keyClicks(dialog.lines.cell_edit(0, DESCRIPTION), "Consulting")
    qtbot.keyClicks(dialog.lines.cell_edit(0, QUANTITY), "1")
    qtbot.keyClicks(dialog.lines.cell_edit(0, PRICE), "100.00")
    dialog.try_save()
    assert (
        dialog.field_problem("exchange_rate")
        == "Exchange rate: is required: the document is in USD, the books in EUR"
    )
    type_into(qtbot, dialog, "exchange_rate", "0.92")
    save_with_keyboard(qtbot, dialog)
    assert session.store.outbox()[-1]["args"]["exchange_rate"] == "0.92"
    # an order in dollars is invoiced at the rate asked for
    order = new_id()
    line = {"id": new_id(), "product_id": ids["products"]["LAMP-BRASS"], "quantity": "1", "unit_price": 7500}
    session.apply("sales.create_sales_order", {"id": order, "customer_id": yankee, "lines": [line]})
    session.apply("sales.confirm_sales_order", {"id": order})
    orders = window.open_page("sales_orders")
    orders.invoice(row_of(orders, order))
    rate = orders.rate_dialog
    qtbot.waitUntil(rate.isActiveWindow)
    type_into(qtbot, rate, "exchange_rate", "0.93")
    save_with_keyboard(qtbot, rate)
    last = session.store.outbox()[-1]
    assert last["name"] == "sales.create_invoice" and last["args"] == {
        "id": last["args"]["id"], "sales_order_id": order, "exchange_rate": "0.93",
    }  # fmt: skip
    direct = next(
        r for r in session.store.outbox() if r["name"] == "sales.create_invoice" and "lines" in r["args"]
    )
    session.apply("sales.post_invoice", {"id": direct["args"]["id"]})
    payment = window.open_page("payments_received").new_item(yankee)
    qtbot.waitUntil(payment.isActiveWindow)
    assert payment.form_row_visible("exchange_rate")
    type_into(qtbot, payment, "amount", "100.00")
    payment.spread()
    payment.try_save()
    assert "is required" in payment.field_problem("exchange_rate")
    type_into(qtbot, payment, "exchange_rate", "0.95")  # the dollar rose: the difference is posted
    save_with_keyboard(qtbot, payment)
    assert session.store.outbox()[-1]["args"]["exchange_rate"] == "0.95"
    assert row_of(page, direct["args"]["id"])["status"] == "paid"

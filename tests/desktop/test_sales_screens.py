"""Sales screens on real widgets over a real encrypted store (offline), and a sales clerk's day
against a real server over HTTP (the invoice's legal number arrives at sync)."""

from __future__ import annotations

from typing import Any

from pytestqt.qtbot import QtBot

from common.ids import new_id
from common.stock import stock_on_hand
from desktop import background
from desktop.qt import QMessageBox
from desktop.session import UserSession
from desktop.ui.customers import CustomersPage
from desktop.ui.main_window import MainWindow
from desktop.ui.sales_lines import DISCOUNT, PRICE, QUANTITY, TOTAL
from desktop.ui.sales_order_dialog import SalesOrderDialog
from desktop.ui.sales_orders import SalesOrdersPage
from tests.desktop.test_inventory_screens import open_dialog, save_with_keyboard, type_into


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

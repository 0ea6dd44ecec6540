"""Sales screens on real widgets over a real encrypted store (offline), and a sales clerk's day
against a real server over HTTP (the invoice's legal number arrives at sync)."""

from __future__ import annotations

from typing import Any

from pytestqt.qtbot import QtBot

from common.ids import new_id
from desktop import background
from desktop.session import UserSession
from desktop.ui.customers import CustomersPage
from desktop.ui.main_window import MainWindow
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

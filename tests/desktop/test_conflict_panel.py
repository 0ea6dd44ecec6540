"""The conflict panel in a clerk's words (issue 13): the record named, field labels, formatted
money (not cents), who changed it and when, Keep theirs / Use mine per field, and never wider
than the window. Real widgets over a real encrypted store; the conflict is recorded as a sync
records it (the entry marked, the server's row written as a pull writes it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from common.ids import new_id
from common.wire import row_to_wire
from desktop import background
from desktop.qt import QComboBox, QLabel, QTableWidget
from desktop.rows import WRITERS
from desktop.session import UserSession
from desktop.ui.attention import AttentionPage
from desktop.ui.main_window import MainWindow
from tests.desktop.test_attention import confirm_by_server, mark, product_row


@pytest.fixture
def hard_hat(session: UserSession) -> str:
    product_id = new_id()
    entry, _ = session.apply(
        "inventory.create_product",
        {"id": product_id, "sku": "AC-0010", "name": "Hard hat", "sale_price": 17900, "currency": "EUR"},
    )
    confirm_by_server(session, entry, product_id, version=3)
    return product_id


def conflict(
    session: UserSession,
    product_id: str,
    changes: dict[str, Any],
    base: dict[str, Any],
    server: dict[str, Any],
) -> str:
    entry_id, _ = session.apply(
        "inventory.update_product", {"id": product_id, "changes": changes, "base": base}
    )
    mark(
        session,
        entry_id,
        status="conflict",
        code="conflict",
        message=f"{', '.join(server)} changed on the server since you read it",
        server_values=server,
    )
    pulled = {
        **row_to_wire(product_row(session, product_id) or {}),
        **server,
        "version": 4,
        "updated_by": new_id(),
        "updated_at": datetime(2026, 12, 3, 9, 41, tzinfo=UTC).isoformat(),
    }
    with session.store.write_session() as db:
        WRITERS["product"].upsert(db.connection(), [pulled])  # as the pull after the push writes it
    return entry_id


def open_panel(qtbot: QtBot, session: UserSession) -> tuple[MainWindow, AttentionPage]:
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
    page = window.open_page("attention")
    assert isinstance(page, AttentionPage)
    return window, page


def test_a_price_conflict_reads_in_the_users_words(
    qtbot: QtBot, session: UserSession, hard_hat: str, use_locale: Any
) -> None:
    use_locale("en_US")
    conflict(session, hard_hat, {"sale_price": 19900}, {"sale_price": 17900}, {"sale_price": 18900})
    window, page = open_panel(qtbot, session)
    assert page.list.count() == 1
    assert page.title.text() == "Change product: Hard hat — AC-0010"
    assert page.reason.text() == (
        "Conflict: Sale price was changed on the server after you read this product. "
        "Choose per field which value to keep."
    )
    assert page.changed_by.text().startswith("Changed on the server by another user, 12/3/2026")
    table = page.fields
    assert [table.horizontalHeaderItem(c).text() for c in range(3)] == [
        "Field",
        "Yours",
        "Theirs (server now)",
    ]
    assert [table.item(0, c).text() for c in range(3)] == ["Sale price", "199.00 EUR", "189.00 EUR"]
    assert table.item(0, 1).toolTip() == "You started from 179.00 EUR"
    choice = table.cellWidget(0, 3)
    assert isinstance(choice, QComboBox)
    assert [choice.itemText(i) for i in range(choice.count())] == ["Choose…", "Keep theirs", "Use mine"]
    assert not page.apply_button.isEnabled()  # the clashing field needs a decision first
    shown = " ".join(w.text() for w in page.findChildren(QLabel)) + " " + page.list.item(0).text()
    for developer_word in ("sale_price", "17900", "18900", "19900", "compare-and-set", "inventory."):
        assert developer_word not in shown
    # never wider than the window
    qtbot.wait(0)
    assert window.width() == 1000 and page.width() <= window.width()
    assert all(w.geometry().right() <= page.width() for w in page.findChildren(QTableWidget))

    choice.setCurrentIndex(1)  # Keep theirs
    assert page.apply_button.isEnabled()
    page.apply_button.click()
    qtbot.waitUntil(lambda: background.active_count() == 0 and page.list.count() == 0)
    assert session.store.outbox() == []
    assert product_row(session, hard_hat)["sale_price"] == 18900  # type: ignore[index]


def test_per_field_choice_sends_only_the_fields_kept_as_mine(
    qtbot: QtBot, session: UserSession, hard_hat: str, use_locale: Any
) -> None:
    use_locale("de_DE")
    conflict(
        session,
        hard_hat,
        {"sale_price": 19900, "name": "Safety helmet"},
        {"sale_price": 17900, "name": "Hard hat"},
        {"sale_price": 18900, "name": "Hard hat"},
    )
    _window, page = open_panel(qtbot, session)
    rows = {
        page.fields.item(r, 0).text(): page.fields.item(r, 2).text() for r in range(page.fields.rowCount())
    }
    assert rows == {"Sale price": "189,00 EUR", "Name": "Hard hat"}
    assert page.reason.text().startswith("Conflict: Sale price was changed")
    assert page.choices["name"].currentText() == "Use mine"  # not clashing: mine unless changed
    page.choices["sale_price"].setCurrentIndex(1)  # Keep theirs
    page.apply_button.click()
    qtbot.waitUntil(lambda: background.active_count() == 0 and page.list.count() == 0)
    (pending,) = session.store.outbox()
    assert pending["args"] == {
        "id": hard_hat,
        "changes": {"name": "Safety helmet"},
        "base": {"name": "Hard hat"},
    }
    row = product_row(session, hard_hat)
    assert row is not None and row["name"] == "Safety helmet" and row["sale_price"] == 18900

"""The main window: status bar, the needs-attention panel resolved both ways, history, screenshot."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update

from common.ids import new_id
from common.schema import SCHEMA_VERSION, Invoice, JournalEntry, OutboxEntry, Product
from desktop import background
from desktop.api_client import ApiClient
from desktop.formatting import money
from desktop.qt import QApplication, QMessageBox, Qt
from desktop.session import LAST_SYNC_KEY, UserSession
from desktop.signin import Credentials, SignIn
from desktop.sync_status import SyncSnapshot, status_text
from desktop.ui.attention import AttentionPage
from desktop.ui.history import HistoryDialog, describe_change
from desktop.ui.main_window import MainWindow
from desktop.ui.theme import apply_theme
from sync_server import admin_ops
from tests.desktop.conftest import LiveServer
from tests.desktop.test_sync_ui import command, server_push

SCREENSHOTS = Path("/tmp/ops-screenshots")


def make_window(qtbot: QtBot, session: UserSession) -> MainWindow:
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def product_id(session: UserSession, sku: str) -> str:
    with session.store.read_session() as db:
        return str(db.execute(select(Product.id).where(Product.sku == sku)).scalar_one())


def product_name(session: UserSession, pid: str) -> str:
    with session.store.read_session() as db:
        return str(db.execute(select(Product.name).where(Product.id == pid)).scalar_one())


def as_if_synced(session: UserSession) -> None:
    """What a completed sync leaves behind: an empty outbox, confirmed rows, a sync time."""
    with session.store.write_session() as db:
        db.execute(OutboxEntry.__table__.delete())
        db.execute(update(Product).values(version=7))
    session.store.set_state(LAST_SYNC_KEY, (datetime.now(UTC) - timedelta(minutes=3)).isoformat())


def test_status_text_says_synced_pending_offline_and_attention() -> None:
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    base = SyncSnapshot(
        online=True, syncing=False, pending=0, attention=0, last_sync_at=now - timedelta(minutes=4)
    )
    assert status_text(base, now) == "Synced 4 min ago"
    assert (
        status_text(SyncSnapshot(False, False, 3, 1, None), now) == "Offline · 3 pending · 1 needs attention"
    )
    assert (
        status_text(SyncSnapshot(None, True, 1200, 2, None), now)
        == "Syncing… · 1,200 pending · 2 need attention"
    )
    assert status_text(SyncSnapshot(True, False, 0, 0, None), now) == "Not synced yet"
    assert (
        status_text(SyncSnapshot(True, False, 0, 0, now - timedelta(days=3)), now) == "Synced on 2026-04-28"
    )


def test_the_status_bar_counts_pending_and_attention_and_links_to_the_panel(
    qtbot: QtBot, seeded: tuple[UserSession, dict[str, Any]]
) -> None:
    session, _ = seeded
    as_if_synced(session)
    window = make_window(qtbot, session)
    assert window.sync_label.text() == "Offline" or window.sync_label.text().startswith("Synced 3 min ago")
    window.sync.online = True
    window.update_sync_state()
    assert window.sync_label.text() == "Synced 3 min ago"
    pid = product_id(session, "LAMP-BRASS")
    entry, _ = session.apply(
        "inventory.update_product",
        {"id": pid, "changes": {"name": "Lamp"}, "base": {"name": "Brass desk lamp"}},
    )
    window.ctx.data_changed.emit()
    assert window.sync_label.text() == "Synced 3 min ago · 1 pending"
    with session.store.write_session() as db:
        session.store.mark(db, entry, status="rejected", code="forbidden", message="you may not rename lamps")
    window.ctx.data_changed.emit()
    assert "1 needs attention" in window.sync_label.text()
    assert window.attention_item.text() == "Needs attention (1)"
    window.sync_label.linkActivated.emit("attention")
    assert isinstance(window.current_page(), AttentionPage)


def test_conflict_resolved_by_keeping_the_servers(
    qtbot: QtBot, seeded: tuple[UserSession, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    session, _ = seeded
    as_if_synced(session)
    pid = product_id(session, "DESK-ASH-140")
    entry, _ = session.apply(
        "inventory.update_product",
        {"id": pid, "changes": {"name": "Desk, ash"}, "base": {"name": "Ash desk 140 cm"}},
    )
    with session.store.write_session() as db:
        session.store.mark(
            db,
            entry,
            status="conflict",
            code="conflict",
            message="name changed on the server since you read it",
            server_values={"name": "Ash writing desk"},
        )
    window = make_window(qtbot, session)
    page = window.open_page("attention")
    assert isinstance(page, AttentionPage)
    assert page.list.count() == 1 and "Name was changed on the server" in page.reason.text()
    assert [page.fields.item(0, c).text() for c in range(3)] == ["Name", "Desk, ash", "Ash writing desk"]
    assert page.fields.item(0, 1).toolTip() == "You started from Ash desk 140 cm"
    assert page.reapply_button.isEnabled() and page.keep_button.isEnabled()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    page.keep_button.click()
    qtbot.waitUntil(lambda: background.active_count() == 0)
    assert product_name(session, pid) == "Ash writing desk"
    assert page.stack.currentWidget() is page.empty
    assert session.store.outbox() == []
    assert "attention" not in window.sync_label.text()


def test_conflict_resolved_by_reapplying_mine(
    qtbot: QtBot, seeded: tuple[UserSession, dict[str, Any]]
) -> None:
    session, _ = seeded
    as_if_synced(session)
    pid = product_id(session, "DESK-ASH-140")
    entry, _ = session.apply(
        "inventory.update_product",
        {"id": pid, "changes": {"sale_price": 49900}, "base": {"sale_price": 52900}},
    )
    with session.store.write_session() as db:
        session.store.mark(
            db,
            entry,
            status="conflict",
            code="conflict",
            message="sale_price changed on the server",
            server_values={"sale_price": 54900},
        )
    window = make_window(qtbot, session)
    page = window.open_page("attention")
    page.reapply_button.click()
    qtbot.waitUntil(lambda: background.active_count() == 0)
    (pending,) = session.store.outbox()
    assert pending["status"] == "pending"
    assert pending["args"]["changes"] == {"sale_price": 49900} and pending["args"]["base"] == {
        "sale_price": 54900
    }
    assert page.list.count() == 0
    products = window.open_page("products")
    assert next(r for r in products.model.rows if r["id"] == pid)["sale_price"] == 49900
    assert "1 pending" in window.sync_label.text()


def test_a_rejected_create_can_only_be_undone(
    qtbot: QtBot, seeded: tuple[UserSession, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    session, _ = seeded
    create = next(e for e in session.store.outbox() if e["name"] == "inventory.create_product")
    with session.store.write_session() as db:
        session.store.mark(
            db, create["id"], status="rejected", code="invalid", message="sku: already used on the server"
        )
    window = make_window(qtbot, session)
    page = window.open_page("attention")
    assert not page.reapply_button.isEnabled() and page.keep_button.isEnabled()
    assert "already used on the server" in page.reason.text()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    page.keep_button.click()
    assert page.list.count() == 1  # "No" keeps it
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    page.keep_button.click()
    qtbot.waitUntil(lambda: background.active_count() == 0)
    assert page.list.count() == 0
    with session.store.read_session() as db:
        assert db.execute(select(Product.id).where(Product.id == create["args"]["id"])).first() is None


def test_history_comes_from_the_servers_audit_trail(
    qtbot: QtBot, live_server: LiveServer, data_root: Path
) -> None:
    result = SignIn(data_root, Credentials(live_server.url, "admin@acme.test", live_server.password)).start()
    assert isinstance(result, UserSession)
    session = result
    try:
        org_id = session.org_id
        api = ApiClient(live_server.url)
        api.login("admin@acme.test", live_server.password)
        pid = new_id()
        push = {
            "client_id": "test",
            "schema_version": SCHEMA_VERSION,
            "mutations": [
                {
                    "id": new_id(),
                    "name": "inventory.create_product",
                    "args": {
                        "id": pid,
                        "sku": "HIST-1",
                        "name": "History",
                        "sale_price": 100,
                        "currency": "EUR",
                    },
                },
                {
                    "id": new_id(),
                    "name": "inventory.update_product",
                    "args": {"id": pid, "changes": {"name": "History 2"}, "base": {"name": "History"}},
                },
            ],
        }
        results = api.request("POST", f"/orgs/{org_id}/sync/push", json=push)["results"]
        assert [r["status"] for r in results] == ["applied", "applied"]
        window = make_window(qtbot, session)
        dialog = window.ctx.open_history(window, "product", pid, "HIST-1")  # type: ignore[misc]
        assert isinstance(dialog, HistoryDialog)
        qtbot.waitUntil(lambda: dialog.stack.currentWidget() is dialog.table, timeout=10_000)
        changes = [dialog.table.item(r, 3).text() for r in range(dialog.table.rowCount())]
        assert "Name: History → History 2" in changes
        # The price as the reader reads money (never the minor units the trail stores).
        [created] = [c for c in changes if c.startswith("Created with")]
        assert f"Sale price: {money(100, 'EUR')};" in created and money(100, "EUR") == "1.00 EUR"
        # Opened from a list's row (its currency passed along), the same history.
        page = window.open_page("products")
        page.show_history({"id": pid, "currency": "EUR"}, "HIST-1")
        [from_row] = page.findChildren(HistoryDialog)
        qtbot.waitUntil(lambda: from_row.stack.currentWidget() is from_row.table, timeout=10_000)
        assert sorted(from_row.table.item(r, 3).text() for r in range(from_row.table.rowCount())) == sorted(
            changes
        )
        assert dialog.table.item(0, 1).text() == "You"
        what = {dialog.table.item(r, 2).text() for r in range(dialog.table.rowCount())}
        assert what == {"New product", "Change product"}  # titles, not inventory.create_product
        live_server.stop()
        offline = window.ctx.open_history(window, "product", pid, "HIST-1")  # type: ignore[misc]
        qtbot.waitUntil(lambda: "needs a connection" in offline.message.title.text(), timeout=10_000)
        assert window.sync.online is False
    finally:
        session.close()


def test_describe_change_lists_changed_fields_only() -> None:
    event = {
        "before": {"name": "A", "version": 1, "sku": "X"},
        "after": {"name": "B", "version": 2, "sku": "X"},
    }
    assert describe_change(event) == "Name: A → B"
    assert describe_change(
        {"before": None, "after": {"id": "1", "name": "New", "sku": "N-1", "deleted": False}}
    ) == ("Created with Name: New; SKU: N-1")


def test_screenshot_of_the_main_window_with_demo_like_data(
    qtbot: QtBot, seeded: tuple[UserSession, dict[str, Any]], tmp_path: Path, qapp: QApplication
) -> None:
    apply_theme(qapp)
    session, _ = seeded
    session.store.set_state(LAST_SYNC_KEY, (datetime.now(UTC) - timedelta(minutes=2)).isoformat())
    window = make_window(qtbot, session)
    window.resize(1280, 800)
    window.sync.online = True
    window.update_sync_state()
    page = window.open_page("products")
    page.table.selectRow(1)
    qtbot.waitUntil(lambda: page.model.rowCount() == 12)
    shots = {}
    for key in ("products", "stock", "purchase_orders"):
        window.open_page(key)
        qapp.processEvents()  # let pending layout requests run, as the event loop would before painting
        image = window.grab().toImage()
        assert image.width() == 1280 and image.height() == 800
        path = tmp_path / f"main-window-{key}.png"
        assert image.save(str(path))
        shots[key] = path
    # the picture shows real content: the table is not blank, money is right-aligned text
    products = window.open_page("products")
    assert products.model.data(products.model.index(0, 4)).endswith("EUR")
    assert (
        products.model.data(products.model.index(0, 4), Qt.ItemDataRole.TextAlignmentRole)
        & Qt.AlignmentFlag.AlignRight
    )
    SCREENSHOTS.mkdir(exist_ok=True)
    for path in shots.values():
        shutil.copy(path, SCREENSHOTS / path.name)
        assert path.stat().st_size > 20_000  # a rendered window, not an empty image


def test_describe_change_counts_the_rows_created_with_a_record() -> None:
    event = {
        "after": {"number": "JE-000001", "lines": [{"id": "a", "debit": 100}, {"id": "b", "credit": 100}]}
    }
    assert describe_change(event) == "Created with Number: JE-000001; Lines: 2"


def test_history_names_the_journal_entry_a_document_posted(live_server: LiveServer) -> None:
    """Over HTTP: an invoice posted and a payment recorded carry their journal entries inside
    their own events; the history reads each entry's number, not a list of images."""
    org_id = admin_ops.create_org(live_server.services.store, "Books Ltd")  # with its chart of accounts
    live_server.orgs["Books Ltd"] = org_id
    live_server.add_user("boss@books.test", ("Books Ltd", "admin"))
    customer, invoice, payment = new_id(), new_id(), new_id()
    line = {"id": new_id(), "description": "Service", "quantity": "2", "unit_price": 5000}
    server_push(
        live_server,
        "boss@books.test",
        org_id,
        command("sales.create_customer", id=customer, name="Ada"),
        command("sales.create_invoice", id=invoice, customer_id=customer, lines=[line]),
        command("sales.post_invoice", id=invoice),
        command("sales.record_payment", id=payment, invoice_id=invoice, amount=10000),
    )
    with live_server.services.store.session(org_id) as db:
        final_number = db.execute(select(Invoice.number).where(Invoice.id == invoice)).scalar_one()
        entry_numbers = dict(
            db.execute(
                select(JournalEntry.source_id, JournalEntry.number).where(JournalEntry.org_id == org_id)
            ).all()
        )
    api = ApiClient(live_server.url)
    api.login("boss@books.test", live_server.password)
    events = {e["action"]: e for e in api.audit(org_id, entity="invoice", entity_id=invoice)}
    draft_number = events["sales.create_invoice"]["after"]["number"]
    assert describe_change(events["sales.post_invoice"]) == (
        f"Number: {draft_number} → {final_number}; Status: draft → posted; Posted: {entry_numbers[invoice]}"
    )
    [recorded] = api.audit(org_id, entity="payment", entity_id=payment)
    created = describe_change(recorded)
    assert created.startswith("Created with Amount: 100.00 EUR; ") and "{" not in created
    assert created.endswith(f"; Posted: {entry_numbers[payment]}")


def test_describe_change_counts_the_entries_it_may_not_read() -> None:
    """A reader who may not read the books gets each posting's id and its lines' ids only (the
    audit API masks the rest): the entries are counted."""
    masked = {"id": "e1", "lines": [{"id": "l1"}, {"id": "l2"}]}
    event: dict[str, Any] = {
        "before": {"status": "draft"},
        "after": {"status": "posted", "postings": [masked]},
    }
    assert describe_change(event) == "Status: draft → posted; Posted: 1 journal entry"
    event["after"]["postings"] = [masked, {**masked, "id": "e2"}]
    assert describe_change(event) == "Status: draft → posted; Posted: 2 journal entries"


def test_describe_change_shows_amounts_in_the_readers_locale(use_locale: Any) -> None:
    """Amounts are stored in minor units; the history shows them as money, in the currency the
    event names, else the record's, with the reader's separators (German here)."""
    use_locale("de_DE")
    created = {"entity": "invoice", "after": {"number": "INV-1", "currency": "EUR", "total": 123456}}
    update = {"entity": "invoice", "before": {"amount_paid": 0}, "after": {"amount_paid": 5000}}
    assert describe_change(created) == "Created with Number: INV-1; Currency: EUR; Total: 1.234,56 EUR"
    assert describe_change(update, "USD") == "Amount paid: 0,00 USD → 50,00 USD"
    # A whole number that is not money (a line number) stays as it is.
    assert describe_change({"entity": "invoice_line", "after": {"line_no": 3}}) == "Created with Line no: 3"

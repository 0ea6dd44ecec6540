"""Business documents on the desktop, offline, over a real encrypted store: print preview of
each kind opens (offscreen), Save as PDF writes a file read back with pypdf, and the
organization profile page shows and edits the letterhead."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from common.documents import Period
from common.ids import new_id
from common.permissions import ALL_PERMISSIONS
from common.schema import Invoice, Payslip
from desktop import background
from desktop.qt import QLineEdit, QWidget
from desktop.session import UserSession
from desktop.sync import SyncEngine
from desktop.ui.main_window import PAGE_ROLE, MainWindow
from desktop.ui.organization_profile import OrganizationProfilePage
from desktop.ui.printing import PrintPreview, print_document, save_document_pdf
from tests.desktop.conftest import LiveServer
from tests.desktop.seed import offline_session
from tests.desktop.test_sync_engine import FAST, online

PROFILE = {
    "legal_name": "Acme Trading GmbH",
    "address_line1": "Hafenstraße 12",
    "postcode": "20457",
    "city": "Hamburg",
    "country": "DE",
    "tax_id": "DE123456789",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
}


def _sales_and_pay(session: UserSession) -> dict[str, str]:
    """A profile, an invoice at 20 % (posted offline, so provisional), a credit note, a payslip."""
    apply = session.apply
    apply("finance.set_organization_profile", {"changes": PROFILE, "base": dict.fromkeys(PROFILE)})
    ids = {k: new_id() for k in ("rate", "customer", "invoice", "line", "credit", "employee", "run")}
    apply("finance.create_tax_rate", {"id": ids["rate"], "code": "VAT20", "name": "VAT", "rate": "20"})
    apply("sales.create_customer", {"id": ids["customer"], "name": "Ada Lovelace Ltd", "currency": "EUR"})
    apply(
        "sales.create_invoice",
        {"id": ids["invoice"], "customer_id": ids["customer"], "issue_date": "2026-11-03",
         "lines": [{"id": ids["line"], "description": "Consulting", "quantity": "4", "unit_price": 12500,
                    "tax_rate_id": ids["rate"]}]},
    )  # fmt: skip
    apply("sales.post_invoice", {"id": ids["invoice"]})
    apply(
        "sales.issue_credit_note",
        {"id": ids["credit"], "invoice_id": ids["invoice"], "issue_date": "2026-11-10",
         "lines": [{"invoice_line_id": ids["line"], "quantity": "1"}]},
    )  # fmt: skip
    # Payroll needs rights the admin does not hold: applied to the store as HR would.
    store, actor = session.store, session.user.id
    for name, args in (
        ("hr.create_employee", {"id": ids["employee"], "name": "Cara Castro", "salary": 400000,
                                "salary_currency": "EUR", "hire_date": "2020-01-01"}),
        ("hr.run_payroll", {"id": ids["run"], "period_start": "2026-11-01", "period_end": "2026-11-30",
                            "currency": "EUR", "withholding_rate": "20"}),
    ):  # fmt: skip
        store.apply(name, args, actor_id=actor, permissions=ALL_PERMISSIONS)
    with store.read_session() as db:
        ids["payslip"] = db.execute(
            select(Payslip.id).where(Payslip.payroll_run_id == ids["run"])
        ).scalar_one()
    return ids


def _preview(qtbot: QtBot, parent: QWidget, session: UserSession, kind: str, doc_id: str, **kw: Any) -> str:
    preview = print_document(parent, session, kind, doc_id, **kw)
    assert isinstance(preview, PrintPreview)
    with qtbot.waitSignal(preview.ready, timeout=20_000):
        pass
    assert preview.dialog is not None and preview.dialog.isVisible()
    preview.dialog.close()
    return preview.html


def test_every_kind_previews_and_an_invoice_saves_as_pdf(
    qtbot: QtBot, seeded: tuple[UserSession, dict[str, Any]], tmp_path: Path
) -> None:
    session, seed = seeded
    ids = _sales_and_pay(session)
    parent = QWidget()
    qtbot.addWidget(parent)
    # 4 × 125.00 = 500.00 + 20 % = 600.00; one credited: 150.00.
    html = _preview(qtbot, parent, session, "invoice", ids["invoice"])
    for expected in ("Acme Trading GmbH", "Ada Lovelace Ltd", "DRAFT", "VAT 20 %", "500.00", "600.00"):
        assert expected in html, expected
    assert "150.00" in _preview(qtbot, parent, session, "credit_note", ids["credit"])
    statement = _preview(
        qtbot,
        parent,
        session,
        "statement",
        ids["customer"],
        period=Period(date(2026, 11, 1), date(2026, 11, 30)),
    )
    assert "Statement of account" in statement and "450.00" in statement  # 600.00 − 150.00
    order = _preview(qtbot, parent, session, "purchase_order", seed["orders"][0])
    assert "Nordic Timber AB" in order and "Purchase order" in order
    payslip = _preview(qtbot, parent, session, "payslip", ids["payslip"])
    assert "Cara Castro" in payslip and "Net pay" in payslip and "3,200.00 EUR" in payslip

    job = save_document_pdf(parent, session, "invoice", ids["invoice"], str(tmp_path / "invoice.pdf"))
    with qtbot.waitSignal(job.done, timeout=20_000) as blocker:
        pass
    assert blocker.args == [str(tmp_path / "invoice.pdf")]
    text = " ".join(
        PdfReader(io.BytesIO((tmp_path / "invoice.pdf").read_bytes())).pages[0].extract_text().split()
    )
    for expected in ("Acme Trading GmbH", "Invoice", "DRAFT", "VAT 20 % 500.00 100.00", "Total EUR 600.00"):
        assert expected in text, (expected, text)
    # A document that is not on this computer: the job says so, and nothing is written.
    missing = save_document_pdf(parent, session, "invoice", new_id(), str(tmp_path / "missing.pdf"))
    with qtbot.waitSignal(missing.failed, timeout=20_000) as failed:
        pass
    assert "is not here" in failed.args[0] and not (tmp_path / "missing.pdf").exists()
    qtbot.waitUntil(lambda: background.active_count() == 0)


def test_the_organization_profile_page_shows_and_edits_the_letterhead(
    qtbot: QtBot, session: UserSession
) -> None:
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    page = win.open_page("finance.organization")
    assert isinstance(page, OrganizationProfilePage)
    qtbot.waitUntil(lambda: page.loaded, timeout=10_000)
    assert page.values["iban"].text() == "—  not set" and "IBAN" in page.notice.text()
    assert page.edit_button.isVisible()
    dialog = page.edit()
    assert dialog is not None
    inputs = dialog.inputs
    for key, value in (("legal_name", "Acme Trading GmbH"), ("country", "de"), ("iban", "DE00 1234")):
        widget = inputs[key]
        assert isinstance(widget, QLineEdit)
        widget.setText(value)
    dialog.try_save()
    assert "IBAN" in dialog.field_problem("iban") and dialog.isVisible()
    inputs["iban"].setText("de89 3704 0044 0532 0130 00")  # type: ignore[attr-defined]
    dialog.try_save()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    qtbot.waitUntil(lambda: page.values["iban"].text() == "DE89 3704 0044 0532 0130 00", timeout=10_000)
    assert page.values["country"].text() == "DE" and page.values["legal_name"].text() == "Acme Trading GmbH"
    assert [e["name"] for e in session.store.outbox()][-1] == "finance.set_organization_profile"
    qtbot.waitUntil(lambda: background.active_count() == 0)


def test_without_finance_write_the_profile_is_read_only(qtbot: QtBot, data_root: Path) -> None:
    sales = offline_session(data_root, roles=("sales",), email="sales@acme.test")
    try:
        win = MainWindow(sales)
        qtbot.addWidget(win)
        win.show()
        keys = [win.navigation.item(i).data(PAGE_ROLE) for i in range(win.navigation.count())]
        assert "sales.overview" in keys or any(str(k).startswith("sales") for k in keys), keys
        assert "finance.organization" not in keys  # sales opens no finance pages at all
    finally:
        sales.close()
    auditor = offline_session(data_root / "aud", roles=("auditor",), email="auditor@acme.test")
    try:
        win = MainWindow(auditor)
        qtbot.addWidget(win)
        win.show()
        page = win.open_page("finance.organization")
        assert isinstance(page, OrganizationProfilePage)
        qtbot.waitUntil(lambda: page.loaded, timeout=10_000)
        assert not page.edit_button.isVisible() and page.edit() is None
        qtbot.waitUntil(lambda: background.active_count() == 0)
    finally:
        auditor.close()


def test_an_offline_invoice_prints_draft_then_its_legal_number_after_sync(
    qtbot: QtBot, live_server: LiveServer, data_root: Path
) -> None:
    """Posted offline the invoice has a provisional number: printed as DRAFT. After a sync with
    the real server it prints the gapless number the server gave, under the synced letterhead."""
    session = online(data_root, live_server, "admin@acme.test")
    try:
        engine = SyncEngine(session.store, session.api, session.org_id, policy=FAST)
        session.apply("finance.set_up_books", {"currency": "EUR"})
        engine.run()
        rate, customer, invoice = new_id(), new_id(), new_id()
        session.apply(
            "finance.set_organization_profile", {"changes": PROFILE, "base": dict.fromkeys(PROFILE)}
        )
        session.apply("finance.create_tax_rate", {"id": rate, "code": "VAT20", "name": "VAT", "rate": "20"})
        session.apply(
            "sales.create_customer", {"id": customer, "name": "Ada Lovelace Ltd", "currency": "EUR"}
        )
        session.apply(
            "sales.create_invoice",
            {"id": invoice, "customer_id": customer, "issue_date": "2026-11-03",
             "lines": [{"id": new_id(), "description": "Consulting", "quantity": "2", "unit_price": 10000,
                        "tax_rate_id": rate}]},
        )  # fmt: skip
        session.apply("sales.post_invoice", {"id": invoice})
        parent = QWidget()
        qtbot.addWidget(parent)
        offline = _preview(qtbot, parent, session, "invoice", invoice)
        assert "DRAFT" in offline and "240.00" in offline
        report = engine.run()
        assert session.store.pending_count() == 0, report
        with session.store.read_session() as db:
            number = db.execute(select(Invoice.number).where(Invoice.id == invoice)).scalar_one()
        assert not number.startswith("DRAFT")
        synced = _preview(qtbot, parent, session, "invoice", invoice)
        assert f"No. {number}" in synced and "DRAFT" not in synced and "Acme Trading GmbH" in synced
        qtbot.waitUntil(lambda: background.active_count() == 0)
    finally:
        session.close()


def test_the_invoices_page_prints_the_selected_invoice(qtbot: QtBot, window: MainWindow) -> None:
    """Sales → Invoices → Print… (or Ctrl+P): the selected invoice as its document."""
    ids = _sales_and_pay(window.session)
    page = window.open_page("invoices")
    qtbot.waitUntil(lambda: background.active_count() == 0)
    row = next(i for i, r in enumerate(page.model.rows) if r["id"] == ids["invoice"])
    page.table.selectRow(row)
    preview = page.print_selected()
    assert isinstance(preview, PrintPreview)
    with qtbot.waitSignal(preview.ready, timeout=20_000):
        pass
    for expected in ("Acme Trading GmbH", "Ada Lovelace Ltd", "VAT 20 %", "600.00"):
        assert expected in preview.html, expected
    assert preview.dialog is not None
    preview.dialog.close()

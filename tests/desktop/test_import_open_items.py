"""Open customer invoices and supplier bills through the import wizard on a real encrypted store:
ordinary commands queued for the server, found afterwards by the old system's number."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot
from sqlalchemy import delete

from common.ids import new_id
from common.imports import match_columns, read_table
from common.imports.kinds import KINDS
from common.schema import Account, AccountMapping
from desktop.importing import apply_import, plan_file
from desktop.search import search_records
from desktop.session import UserSession
from desktop.ui.context import UiContext
from desktop.ui.finance_settings import AccountMappingPage
from desktop.ui.import_wizard import ImportWizard

INVOICES = (
    "Customer;Invoice no;Date;Due date;Outstanding\n"
    "billing@initech.test;OLD-2024-17;2020-11-02;2020-12-02;1.250,40\n"
    "Umbrella;OLD-2024-18;2020-12-01;;99,60\n"
)
BILLS = "Supplier,Their number,Invoice date,Amount\nAcme Supplies,AC-5531,2020-12-03,450.00\n"


def test_the_wizard_imports_open_invoices_found_by_their_old_number(
    qtbot: QtBot, session: UserSession, tmp_path: Path
) -> None:
    session.apply("sales.create_customer", {"id": new_id(), "name": "Initech", "email": "billing@initech.test",
                                            "currency": "EUR"})  # fmt: skip
    session.apply("sales.create_customer", {"id": new_id(), "name": "Umbrella", "currency": "EUR"})
    session.apply("inventory.create_supplier", {"id": new_id(), "name": "Acme Supplies", "currency": "EUR"})
    wizard = ImportWizard(session)
    qtbot.addWidget(wizard)
    wizard.show()
    kinds = wizard.source_page.kind_box
    assert kinds.findText("Open customer invoices") >= 0 and kinds.findText("Open supplier bills") >= 0
    kinds.setCurrentIndex(kinds.findData("open_invoices"))
    path = tmp_path / "open.csv"
    path.write_text(INVOICES, "utf-8")
    wizard.load_file(str(path))
    qtbot.waitUntil(lambda: "2 rows" in wizard.source_page.file_label.text(), timeout=10_000)
    wizard.next()
    mapping = wizard.mapping_page
    assert not mapping.date_edit.isVisibleTo(wizard)  # each row has its own date
    assert mapping.boxes["reference"].currentText() == "Invoice no"
    assert mapping.boxes["amount"].currentText() == "Outstanding"
    with qtbot.waitSignal(wizard.planned, timeout=10_000):
        wizard.next()
    page = wizard.preview_page
    assert page.problems.count() == 0
    assert page.summary.text() == (
        "2 open invoices of 2 customers (1,350.00 EUR); 0 already in the books or with nothing open"
    )
    with qtbot.waitSignal(wizard.applied, timeout=10_000):
        page.apply_button.click()
    wizard.close()
    assert [e["name"] for e in session.store.outbox("pending")][-2:] == ["finance.record_opening_invoice"] * 2

    table = read_table(BILLS.encode(), "bills.csv")
    bills = plan_file(session, "open_bills", table, match_columns(table.header, KINDS["open_bills"]))
    assert bills.ok and apply_import(session, bills, dry_run=False).applied == 1

    # Found in the palette by the old numbers: the invoice's own, the bill's supplier number.
    (invoice,) = search_records(session, "OLD-2024-17")
    assert (invoice.entity, invoice.title, invoice.page) == ("invoice", "OLD-2024-17", "invoices")
    (bill,) = search_records(session, "AC-5531")
    assert (bill.entity, bill.page) == ("supplier_bill", "supplier_bills") and "AC-5531" in bill.subtitle
    again = plan_file(session, "open_invoices", read_table(INVOICES.encode(), "open.csv"),
                      match_columns(read_table(INVOICES.encode(), "open.csv").header, KINDS["open_invoices"]))  # fmt: skip
    assert again.ok and again.commands == [] and again.unchanged == 2


def test_books_without_the_opening_role_show_it_as_made_when_first_used(
    qtbot: QtBot, session: UserSession
) -> None:
    """A chart set up before the temporary opening account: the mapping page does not call it
    missing (the first opening invoice makes it), and after that import it shows the account."""
    with session.store.write_session() as db:  # as set up by a release without the role
        db.execute(delete(AccountMapping).where(AccountMapping.role == "opening"))
        db.execute(delete(Account).where(Account.code == "3900"))
    page = AccountMappingPage(UiContext(session))
    qtbot.addWidget(page)
    page.reload()
    assert page.missing.isHidden()
    assert page.combo("opening").currentText() == "— the default account, made when first used"
    session.apply("sales.create_customer", {"id": new_id(), "name": "Initech", "currency": "EUR"})
    table = read_table(
        b"Customer,Invoice number,Issue date,Open amount\nInitech,OLD-1,2020-12-01,10.00\n", "o.csv"
    )
    planned = plan_file(session, "open_invoices", table, match_columns(table.header, KINDS["open_invoices"]))
    assert apply_import(session, planned, dry_run=False).applied == 1
    page.reload()
    assert page.combo("opening").currentText() == "3900 — Temporary opening" and page.missing.isHidden()

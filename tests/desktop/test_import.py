"""Imports on a real encrypted store: problems named by row and column, a dry run that keeps
nothing, an apply that queues ordinary commands, and a second import that changes nothing."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from common.commands import CommandError
from common.imports import ImportFileError, match_columns, read_table
from common.imports.kinds import KINDS
from common.reports import trial_balance
from common.schema import Customer, Product, StockMove
from common.stock import stock_on_hand
from desktop.importing import apply_import, plan_file
from desktop.qt import QAction, QDate
from desktop.session import UserSession
from desktop.ui.import_wizard import ImportWizard
from desktop.ui.main_window import MainWindow
from tests.desktop.seed import offline_session

BAD = (
    "Item code;Name;Price;Currency;Reorder at\n"
    "IMP-1;Import one;12,50;EUR;5\n"
    "IMP-2;;3.00;EUR;\n"
    "IMP-3;Import three;abc;EUR;\n"
    "IMP-1;Again one;1.00;EUR;\n"
    "IMP-4;Import four;1.234;EUR;x\n"
    "IMP-5;Import five;0,125;EUR;\n"
)
GOOD = "Item code;Name;Price;Currency;Reorder at\nIMP-1;Import one;12,50;EUR;5\nIMP-2;Import two;3.00;EUR;\n"


def products(session: UserSession) -> dict[str, tuple[str, int, Decimal | None]]:
    with session.store.read_session() as db:
        rows = db.execute(select(Product.sku, Product.name, Product.sale_price, Product.reorder_point)).all()
    return {sku: (name, price, reorder) for sku, name, price, reorder in rows}


def plan_of(session: UserSession, kind: str, text: str, name: str = "p.csv"):  # type: ignore[no-untyped-def]
    table = read_table(text.encode("utf-8"), name)
    return plan_file(session, kind, table, match_columns(table.header, KINDS[kind]))


def test_errors_by_row_and_column_then_dry_run_apply_and_apply_again(session: UserSession) -> None:
    plan = plan_of(session, "products", BAD)
    assert [str(p) for p in plan.problems] == [
        "Row 3, Name: is required",
        "Row 4, Price: “abc” is not a number",
        "Row 5, Item code: “IMP-1” is also on row 2",
        "Row 6, Price: “1.234” is ambiguous: 1234 or 1,234? Write it without a thousands separator, "
        "or choose the file's decimal separator",
        "Row 6, Reorder at: “x” is not a number",
        "Row 7, Price: “0,125” has more decimals than EUR allows (2)",
    ]
    # Nothing is applied while problems remain.
    assert not apply_import(session, plan, dry_run=False).ok and products(session) == {}

    plan = plan_of(session, "products", GOOD)
    assert plan.ok and (plan.created, plan.updated, plan.unchanged) == (2, 0, 0)
    dry = apply_import(session, plan, dry_run=True)
    assert dry.ok and dry.applied == 0
    assert products(session) == {} and session.store.pending_count() == 0

    done = apply_import(session, plan, dry_run=False)
    assert done.ok and done.applied == 2
    assert products(session) == {
        "IMP-1": ("Import one", 1250, Decimal(5)),
        "IMP-2": ("Import two", 300, None),
    }
    # Ordinary commands, queued for the server like any typed in a form.
    assert [e["name"] for e in session.store.outbox("pending")] == ["inventory.create_product"] * 2

    again = plan_of(session, "products", GOOD)
    assert (again.created, again.updated, again.unchanged, again.commands) == (0, 0, 2, [])
    assert apply_import(session, again, dry_run=False).applied == 0
    assert session.store.pending_count() == 2

    changed = plan_of(session, "products", GOOD.replace("3.00", "3.10"))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 1)
    (update,) = changed.commands
    assert update.name == "inventory.update_product" and update.args["changes"] == {"sale_price": 310}
    assert update.args["base"] == {"sale_price": 300}
    assert apply_import(session, changed, dry_run=False).applied == 1
    assert products(session)["IMP-2"][1] == 310


def test_a_row_naming_an_unknown_product_is_a_problem_of_that_row(session: UserSession) -> None:
    text = "SKU,Warehouse,Quantity\nNOPE,MAIN,5\n"
    plan = plan_of(session, "opening_stock", text)
    assert [str(p) for p in plan.problems] == [
        "Row 2, SKU: no product has the SKU “NOPE” (import products first)"
    ]


def test_customers_from_xlsx_matched_by_email_case_insensitively(session: UserSession) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Company", "Email address", "Phone", "Credit limit"])
    sheet.append(["Initech", "Billing@Initech.test", "+1 555 0100", 2500])
    sheet.append(["Umbrella", "ops@umbrella.test", None, None])
    data = io.BytesIO()
    book.save(data)
    table = read_table(data.getvalue(), "customers.xlsx")
    mapping = match_columns(table.header, KINDS["customers"])
    assert mapping["name"] == 0 and mapping["email"] == 1 and mapping["credit_limit"] == 3
    plan = plan_file(session, "customers", table, mapping)
    assert plan.ok and apply_import(session, plan, dry_run=False).applied == 2
    with session.store.read_session() as db:
        limits = dict(db.execute(select(Customer.name, Customer.credit_limit)).all())
    assert limits == {"Initech": 250000, "Umbrella": None}
    # The same people with their e-mail typed differently: still the same customers.
    sheet["B2"] = "billing@initech.test"
    data = io.BytesIO()
    book.save(data)
    table = read_table(data.getvalue(), "customers.xlsx")
    again = plan_file(session, "customers", table, mapping)
    assert (again.unchanged, again.created, again.updated) == (2, 0, 0)


def test_opening_stock_is_recorded_once(seeded: tuple[UserSession, dict]) -> None:  # type: ignore[type-arg]
    session, ids = seeded
    text = "SKU,Warehouse,Quantity,Unit cost\nLAMP-BRASS,EAST,7,25.00\n"
    plan = plan_of(session, "opening_stock", text)
    assert plan.ok and apply_import(session, plan, dry_run=False).applied == 1
    with session.store.read_session() as db:
        on_hand = stock_on_hand(db, session.org_id, ids["products"]["LAMP-BRASS"], ids["warehouses"]["EAST"])
        moves = db.execute(
            select(func.count())
            .select_from(StockMove)
            .where(StockMove.reference == "OPENING", StockMove.to_warehouse_id == ids["warehouses"]["EAST"])
        )
        assert on_hand == 7 and moves.scalar() == 1
    again = plan_of(session, "opening_stock", text)
    assert again.unchanged == 1 and again.commands == []


def test_a_user_without_the_write_right_cannot_import(data_root) -> None:  # type: ignore[no-untyped-def]
    reader = offline_session(data_root, roles=("sales",))
    try:
        with pytest.raises(CommandError, match=r"inventory\.write"):
            plan_of(reader, "products", GOOD)
    finally:
        reader.close()


def test_unreadable_files_are_named() -> None:
    with pytest.raises(ImportFileError, match=r"choose a \.csv or \.xlsx"):
        read_table(b"x", "products.ods")
    with pytest.raises(ImportFileError, match="not a readable XLSX"):
        read_table(b"not a zip", "products.xlsx")
    with pytest.raises(ImportFileError, match="empty"):
        read_table(b"\n\n", "products.csv")


def test_the_wizard_names_problems_then_dry_runs_and_applies(
    qtbot: QtBot, session: UserSession, tmp_path: Path
) -> None:
    win = MainWindow(session)
    qtbot.addWidget(win)
    importing = win.findChild(QAction, "importAction")
    assert importing is not None
    importing.trigger()
    (wizard,) = win.findChildren(ImportWizard)
    assert wizard.source_page.kind_box.currentData() == "products"
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD, "utf-8")
    wizard.load_file(str(bad))
    qtbot.waitUntil(wizard.source_page.isComplete, timeout=10_000)
    with qtbot.waitSignal(wizard.planned, timeout=10_000):
        wizard.next()  # columns matched by name
        assert wizard.mapping_page.boxes["sale_price"].currentText() == "Price"
        wizard.next()
    page = wizard.preview_page
    shown = [page.problems.item(i).text() for i in range(page.problems.count())]
    assert "Row 4, Price: “abc” is not a number" in shown and not page.apply_button.isEnabled()

    good = tmp_path / "good.csv"
    good.write_text(GOOD, "utf-8")
    wizard.back()
    wizard.back()
    wizard.load_file(str(good))
    qtbot.waitUntil(lambda: "2 rows" in wizard.source_page.file_label.text(), timeout=10_000)
    with qtbot.waitSignal(wizard.planned, timeout=10_000):
        wizard.next()
        wizard.next()
    assert page.summary.text() == "2 new, 0 changed, 0 unchanged" and page.apply_button.isEnabled()
    with qtbot.waitSignal(wizard.finished_run, timeout=10_000):
        page.dry_run_button.click()
    assert "Nothing was changed" in page.summary.text() and products(session) == {}
    with qtbot.waitSignal(wizard.applied, timeout=10_000):
        page.apply_button.click()
    assert set(products(session)) == {"IMP-1", "IMP-2"}
    wizard.close()


# Opening balances as another program exports them: German headers, decimal commas, the account
# column named so that nothing matches it by name. Hand-worked: debits 12,500.00 + 350.75 +
# 8,000.00 = 20,850.75 = credits 2,850.75 + 18,000.00.
OPENING_BAD = (
    "Konto-Nr.;Soll;Haben;Text\n"
    "1000;12.500,00;;Bank\n"
    "9999;350,75;;Cash\n"
    "1300;8.000;;Inventory\n"
    "2000;100,00;2.850,75;Payables\n"
)


def opening_xlsx(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Konto-Nr.", "Soll", "Haben", "Text"])
    for row in (
        ["1000", 12500, None, "Bank"],
        [1010, 350.75, None, "Cash"],
        ["1300", 8000, None, "Inventory"],
        ["2000", None, 2850.75, "Payables"],
        ["3000", None, 18000, "Owner's capital"],
    ):
        sheet.append(row)
    book.save(path)


def test_the_wizard_imports_opening_balances_once(qtbot: QtBot, session: UserSession, tmp_path: Path) -> None:
    wizard = ImportWizard(session)
    qtbot.addWidget(wizard)
    wizard.show()
    kinds = wizard.source_page.kind_box
    kinds.setCurrentIndex(kinds.findData("opening_balances"))
    bad = tmp_path / "opening.csv"
    bad.write_text(OPENING_BAD, "utf-8")
    wizard.load_file(str(bad))
    qtbot.waitUntil(wizard.source_page.isComplete, timeout=10_000)

    def to_preview(file_rows: int) -> None:
        qtbot.waitUntil(lambda: f"{file_rows} rows" in wizard.source_page.file_label.text(), timeout=10_000)
        wizard.next()
        mapping = wizard.mapping_page
        assert mapping.date_edit.isVisibleTo(wizard) and mapping.boxes["debit"].currentText() == "Soll"
        assert mapping.boxes["account"].currentData() is None  # "Konto-Nr." matches no field's name
        mapping.boxes["account"].setCurrentIndex(mapping.boxes["account"].findText("Konto-Nr."))
        mapping.date_edit.setDate(QDate(2020, 12, 31))
        with qtbot.waitSignal(wizard.planned, timeout=10_000):
            wizard.next()

    to_preview(4)
    page = wizard.preview_page
    shown = [page.problems.item(i).text() for i in range(page.problems.count())]
    assert shown == [
        "Row 3, Konto-Nr.: no account has the code “9999” (import the chart of accounts first)",
        "Row 4, Soll: “8.000” is ambiguous: 8000 or 8,000? Write it without a thousands separator, "
        "or choose the file's decimal separator",
        "Row 5, Haben: the row has both a debit and a credit; give each its own row "
        "(or write the balance, 2,750.75 EUR, on the side it falls)",
    ]
    assert not page.apply_button.isEnabled() and not page.dry_run_button.isEnabled()

    # Fixed in the workbook: number cells are exact, whatever the decimal separator.
    fixed = tmp_path / "opening.xlsx"
    opening_xlsx(fixed)
    wizard.back()
    wizard.back()
    wizard.load_file(str(fixed))
    to_preview(5)
    assert page.problems.count() == 0
    assert page.summary.text() == (
        "One opening entry of 5 lines on 2020-12-31: debits 20,850.75 EUR = credits 20,850.75 EUR"
    )
    with qtbot.waitSignal(wizard.finished_run, timeout=10_000):
        page.dry_run_button.click()
    assert "Nothing was changed" in page.summary.text() and session.store.pending_count() == 0
    with qtbot.waitSignal(wizard.applied, timeout=10_000):
        page.apply_button.click()
    with session.store.read_session() as db:
        balances = {row.code: row.balance for row in trial_balance(db, session.org_id).rows}
    assert balances == {
        "1000": 1_250_000,
        "1010": 35_075,
        "1300": 800_000,
        "2000": -285_075,
        "3000": -1_800_000,
    }
    assert [e["name"] for e in session.store.outbox("pending")] == ["finance.post_opening_balances"]

    # The same workbook again: recognized as posted, nothing to apply.
    wizard.back()
    wizard.back()
    wizard.load_file(str(fixed))
    to_preview(5)
    assert page.summary.text().startswith("Already posted: these opening balances are entry")
    assert not page.apply_button.isEnabled() and session.store.pending_count() == 1
    wizard.close()

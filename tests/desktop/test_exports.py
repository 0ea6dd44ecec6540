"""Export…, Print… and the right-click menu on real list pages over a real encrypted store;
files read back with csv, openpyxl and pypdf."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pypdf import PdfReader
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from common.commands import execute
from common.ids import new_id
from common.local import client_context
from common.money import format_money
from common.permissions import ALL_PERMISSIONS
from common.reports import ReportError
from common.schema import Employee
from desktop import background
from desktop.list_export import readable_list_columns
from desktop.lists import Column, ListSource, live
from desktop.qt import QPoint, Qt, QWidget
from desktop.session import UserSession
from desktop.ui.context import UiContext
from desktop.ui.exporting import ExportJob, context_actions, export_page, export_report, report_export_table
from desktop.ui.list_page import ListPage
from desktop.ui.main_window import MainWindow
from desktop.ui.printing import PrintPreview, print_html_to_pdf, print_page, print_report


@pytest.fixture
def window(qtbot: QtBot, seeded: tuple[UserSession, dict[str, Any]]) -> MainWindow:
    session, _ids = seeded
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def run_export(qtbot: QtBot, page: ListPage, fmt: str, path: Path) -> None:
    job = export_page(page, fmt, str(path))
    assert isinstance(job, ExportJob)
    with qtbot.waitSignal(job.done, timeout=20_000) as blocker:
        pass
    assert blocker.args == [str(path)]


def pdf_text(path: Path) -> str:
    # Qt's PDFs separate words by tabs: compare with single spaces.
    return " ".join(" ".join(page.extract_text() for page in PdfReader(str(path)).pages).split())


def test_a_filtered_sorted_product_list_exported_to_each_format(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    page = window.open_page("products")
    page.search.setText("oak")
    page.table.sortByColumn(page.model.column_index("sale_price"), Qt.SortOrder.DescendingOrder)
    shown = [r["sku"] for r in page.model.rows]
    assert shown == ["TABLE-OAK-180", "CHAIR-OAK-01", "PLANK-OAK-2M"]

    run_export(qtbot, page, "csv", tmp_path / "p.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "p.csv").read_text("utf-8"))))
    assert rows[0] == ["SKU", "Name", "Barcode", "Unit", "Sale price", "Currency", "Reorder at", "On hand"]
    assert [r[0] for r in rows[1:]] == shown
    assert rows[1][4:6] == ["749.00", "EUR"] and rows[1][7] == "6"

    run_export(qtbot, page, "xlsx", tmp_path / "p.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "p.xlsx").active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert [v[0] for v in values[1:]] == shown
    assert values[1][4] == 749 and sheet["E2"].data_type == "n" and '"EUR"' in sheet["E2"].number_format

    run_export(qtbot, page, "pdf", tmp_path / "p.pdf")
    text = pdf_text(tmp_path / "p.pdf")
    assert "Products" in text and "Search: “oak”" in text and "Sale price (descending)" in text
    assert "749.00 EUR" in text and "TABLE-OAK-180" in text and "SCREW-4X40" not in text


def test_a_status_filtered_list_exports_only_its_rows_and_names_the_filter(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    page = window.open_page("purchase_orders")
    everything = {r["number"]: r["status"] for r in page.model.rows}
    status = page.model.rows[0]["status"]
    assert len(set(everything.values())) > 1  # the filter has something to leave out
    page.status_box.setCurrentIndex(page.status_box.findData(status))
    kept = sorted(number for number, s in everything.items() if s == status)
    assert sorted(r["number"] for r in page.model.rows) == kept

    run_export(qtbot, page, "csv", tmp_path / "po.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "po.csv").read_text("utf-8"))))
    assert sorted(r["Number"] for r in rows) == kept
    run_export(qtbot, page, "pdf", tmp_path / "po.pdf")
    text = pdf_text(tmp_path / "po.pdf")
    # Named as the filter shows it, not as it is stored.
    assert f"Status: {status.capitalize()}" in text
    assert all(number in text for number in kept)
    assert not any(number in text for number in set(everything) - set(kept))


def test_cancel_leaves_no_file_behind(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    page = window.open_page("products")
    target = tmp_path / "out"
    target.mkdir()
    job = ExportJob(page, _page_table(page), "xlsx", str(target / "never.xlsx"))
    job.cancel()
    with qtbot.waitSignal(job.cancelled, timeout=10_000):
        job.start()
    assert list(target.iterdir()) == []


def _page_table(page: ListPage) -> Any:
    from desktop.ui.exporting import page_table

    return page_table(page)


class EmployeesPage(ListPage):
    """An employee list with a salary column, as an HR list page would have it."""

    title = "Employees"
    noun = "employee"

    def make_source(self) -> ListSource:
        t = Employee.__table__.c
        org_id = self.ctx.session.org_id
        return ListSource(
            self.ctx.session.store,
            (Column("name", "Name"), Column("job_title", "Job title"),
             Column("salary", "Salary", kind="money", currency_key="salary_currency")),
            lambda: select(t.id, t.name, t.job_title, t.salary, t.salary_currency).where(live(Employee, org_id)),
            search_keys=("name",),
            default_sort="name",
        )  # fmt: skip


def test_a_field_the_user_may_not_read_is_never_exported(
    qtbot: QtBot, session: UserSession, tmp_path: Path
) -> None:
    # A salary sits in the local store (say, from before a role change); the admin role reads
    # employees but not their sensitive fields, so no export or printout shows it.
    store = session.store
    with store.write_session() as db:
        ctx, _ = client_context(db, org_id=store.profile.org_id, device_id=store.device_id, actor_id="system",
                                    permissions=ALL_PERMISSIONS)  # fmt: skip
        execute(ctx, "hr.create_employee", {"id": new_id(), "name": "Grace Hopper", "job_title": "Admiral",
                                            "salary": 987654, "salary_currency": "USD"})  # fmt: skip
    assert "hr.read" in session.permissions and "hr.sensitive.read" not in session.permissions
    page = EmployeesPage(UiContext(session))
    qtbot.addWidget(page)
    page.activate()
    assert [r["salary"] for r in page.model.rows] == [987654]  # on disk, yet never exported
    assert [c.key for c in readable_list_columns(page.source, session.permissions)] == ["name", "job_title"]
    for fmt in ("csv", "xlsx", "pdf"):
        run_export(qtbot, page, fmt, tmp_path / f"e.{fmt}")
    assert "9876" not in (tmp_path / "e.csv").read_text("utf-8")
    assert "Salary" not in (tmp_path / "e.csv").read_text("utf-8")
    cells = [
        v
        for row in openpyxl.load_workbook(tmp_path / "e.xlsx").active.iter_rows(values_only=True)
        for v in row
    ]
    assert "Grace Hopper" in cells and not any(str(v).startswith(("9876", "Salary")) for v in cells)
    text = pdf_text(tmp_path / "e.pdf")
    assert "Grace Hopper" in text and "9,876.54" not in text and "Salary" not in text
    preview = print_page(page, show=False)
    qtbot.waitUntil(lambda: preview.dialog is not None, timeout=10_000)
    assert "Grace Hopper" in preview.html and "9,876.54" not in preview.html
    preview.dialog.close()


def test_print_a_purchase_order_with_preview(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    page = window.open_page("purchase_orders")
    row = page.model.rows[0]
    page.select_id(row["id"])
    assert page.print_button.isEnabled()
    preview = page.print_row(row)
    assert isinstance(preview, PrintPreview)
    with qtbot.waitSignal(preview.ready, timeout=10_000):
        pass
    assert preview.dialog is not None and preview.dialog.isVisible()
    preview.dialog.close()
    print_html_to_pdf(preview.html, str(tmp_path / "po.pdf"))
    text = pdf_text(tmp_path / "po.pdf")
    assert "Purchase order" in text and f"Order number {row['number']}" in text and row["supplier"] in text
    total = format_money(row["total"], "EUR").removesuffix(" EUR")
    assert "Quantity Unit cost (EUR) Amount (EUR)" in text and f"Total EUR {total}" in text


def test_right_click_offers_open_print_and_export(qtbot: QtBot, window: MainWindow) -> None:
    page = window.open_page("purchase_orders")
    point = page.table.visualRect(page.model.index(0, 0)).center()
    texts = [a.text() for a in context_actions(page, point)]
    assert texts[:3] == ["Open", "Print purchase order…", "Copy"]
    assert "Export as CSV…" in texts and "Export as PDF…" in texts
    empty = [a.text() for a in context_actions(page, QPoint(5, 5000))]
    assert "Open" not in empty and "Print…" in empty
    qtbot.waitUntil(lambda: background.active_count() == 0)


def test_a_report_of_the_local_books_exported_and_printed(
    qtbot: QtBot, seeded: tuple[UserSession, dict[str, Any]], tmp_path: Path
) -> None:
    session, _ids = seeded  # the seed's receipts are posted to the local books
    page = QWidget()
    qtbot.addWidget(page)
    job = export_report(page, session, "trial_balance", {}, "xlsx", str(tmp_path / "tb.xlsx"))
    with qtbot.waitSignal(job.done, timeout=20_000):
        pass
    values = list(openpyxl.load_workbook(tmp_path / "tb.xlsx").active.iter_rows(values_only=True))
    assert values[0] == ("Code", "Name", "Type", "Debit", "Credit", "Balance")
    assert [values[-2][0], values[-1][0]] == ["Total debit", "Total credit"] and values[-2][1] == values[-1][
        1
    ]
    preview = print_report(page, session, "trial_balance", {}, show=False)
    qtbot.waitUntil(lambda: preview.dialog is not None, timeout=10_000)
    assert "Trial balance" in preview.html and "Debit (EUR)" in preview.html and "Total debit" in preview.html
    preview.dialog.close()
    # A warehouse login has no finance report to export.
    with pytest.raises(ReportError, match=r"finance\.read"):
        report_export_table(_as_roles(session, ("warehouse",)), "trial_balance", {})


def _as_roles(session: UserSession, roles: tuple[str, ...]) -> Any:
    from dataclasses import replace

    from common.permissions import permissions_for_roles

    membership = replace(session.membership, roles=roles, permissions=permissions_for_roles(roles))
    return replace(session, membership=membership)

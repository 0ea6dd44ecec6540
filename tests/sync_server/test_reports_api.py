"""The report API over the real app on both stores: the textbook month pushed by the people who
would do it, its statements read back, and every way a request can be wrong."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
from pypdf import PdfReader
from sqlalchemy import func, select

from common.ids import new_id
from common.schema import JournalEntry, JournalLine
from tests.common.textbook_month import END, START, Month, check_statements
from tests.sync_server.conftest import OrgInfo, World, set_up_books


def push_month(world: World, org: OrgInfo, month: Month) -> list[dict[str, Any]]:
    """Set up the books, then push each step as the role that would do it; all must apply."""
    set_up_books(world, org)
    results = []
    for role, name, args in month.steps(org.id):
        response = world.push(org.email(role), org, [{"id": new_id(), "name": name, "args": args}])
        assert response.status_code == 200, response.get_json()
        (result,) = response.get_json()["results"]
        assert result["status"] == "applied", (name, result)
        results.append(result)
    return results


def get(world: World, email: str, org: OrgInfo, name: str, **params: str) -> Any:
    return world.client.get(
        f"/api/v1/orgs/{org.id}/reports/{name}", query_string=params, headers=world.headers(email)
    )


def test_the_textbook_month_pushed_to_the_server_and_its_statements(world: World) -> None:
    month, org, accountant = Month(), world.a, world.a.email("accountant")
    push_month(world, org, month)
    statements = [
        get(world, accountant, org, "trial_balance", as_of=END),
        get(world, accountant, org, "profit_and_loss", **{"from": START, "to": END}),
        get(world, accountant, org, "balance_sheet", as_of=END),
    ]
    assert [r.status_code for r in statements] == [200, 200, 200]
    check_statements(*(r.get_json() for r in statements))
    assert statements[0].get_json()["currency"] == "EUR"
    # The server numbered the documents in their gapless series.
    with world.services.store.session(org.id) as db:
        numbers = sorted(db.execute(select(JournalEntry.number)).scalars())
        sources = sorted(db.execute(select(JournalEntry.source)).scalars())
    assert numbers == [f"JE-{n:06d}" for n in range(1, len(numbers) + 1)]
    assert sources == sorted(["manual", "stock_move", "supplier_bill", "stock_move", "invoice", "payment",
                              "supplier_payment", "payroll_run", "payroll_payment"])  # fmt: skip
    # The other organization's books are untouched.
    set_up_books(world, world.b)
    other = get(world, world.b.email("accountant"), world.b, "trial_balance").get_json()
    assert other["rows"] == [] and other["totals"] == {"debit": "0.00", "credit": "0.00"}


def test_a_retried_push_posts_nothing_twice(world: World) -> None:
    org, month = world.a, Month()
    mutations = [
        {"id": new_id(), "name": name, "args": args}
        for role, name, args in month.steps(org.id)
        if role in ("accountant", "warehouse")
    ][:9]  # capital, VAT, warehouse, product, supplier, order, ordered, received, billed
    set_up_books(world, org)
    admin = org.email("admin")
    first = world.push(admin, org, mutations).get_json()["results"]
    assert [r["status"] for r in first] == ["applied"] * 9

    def ledger() -> tuple[int, int]:
        with world.services.store.session(org.id) as db:
            entries = db.execute(select(func.count()).select_from(JournalEntry)).scalar()
            debits = db.execute(select(func.sum(JournalLine.debit))).scalar()
        return int(entries or 0), int(debits or 0)

    before = ledger()
    assert before == (3, 1_000_000 + 300_000 + 360_000)  # capital; receipt 3,000.00; bill 3,600.00
    again = world.push(admin, org, mutations).get_json()["results"]
    assert [r["status"] for r in again] == ["duplicate"] * 9
    assert ledger() == before


def test_a_document_in_a_closed_period_is_refused_by_the_server(world: World) -> None:
    org, month = world.a, Month()
    steps = month.steps(org.id)
    accountant = org.email("accountant")
    set_up_books(world, org)
    period = new_id()
    for mutation in (
        {"id": new_id(), "name": "finance.create_fiscal_period",
         "args": {"id": period, "name": "March 2031", "start_date": START, "end_date": END}},
        {"id": new_id(), "name": "finance.close_fiscal_period", "args": {"id": period}},
    ):  # fmt: skip
        assert world.push(accountant, org, [mutation]).get_json()["results"][0]["status"] == "applied"
    (result,) = world.push(
        accountant, org, [{"id": new_id(), "name": steps[0][1], "args": steps[0][2]}]
    ).get_json()["results"]
    assert (result["status"], result["code"]) == ("rejected", "period_closed")
    assert "March 2031" in result["message"] and result["details"]["field"] == "entry_date"


def test_report_parameters_permissions_and_organizations(world: World) -> None:
    org, accountant = world.a, world.a.email("accountant")
    set_up_books(world, org)
    set_up_books(world, world.b)
    bad = {
        "from": ({"from": "2031-13-01", "to": "2031-12-31"}, "profit_and_loss"),
        "to": ({"from": "2031-02-01", "to": "2031-01-01"}, "profit_and_loss"),
        "as_of": ({"as_of": "yesterday"}, "balance_sheet"),
        "account": ({"account": "1200"}, "general_ledger"),
        "bogus": ({"bogus": "1"}, "trial_balance"),
        "format": ({"format": "docx"}, "trial_balance"),
    }
    for field, (params, name) in bad.items():
        response = get(world, accountant, org, name, **params)
        assert response.status_code == 400, (field, response.get_json())
        error = response.get_json()["error"]
        assert error["message"].startswith(f"{field}:"), error
    missing = get(world, accountant, org, "profit_and_loss", to="2031-01-31").get_json()["error"]
    assert missing["details"]["field"] == "from"
    # A period starting on the first day a date can name has none before it to compare with.
    earliest = get(world, accountant, org, "profit_and_loss", **{"from": "0001-01-01", "to": "0001-12-31"})
    assert earliest.status_code == 400 and earliest.get_json()["error"]["message"].startswith("from:")
    assert get(world, accountant, org, "general_ledger").get_json()["error"]["details"]["field"] == "account"
    assert get(world, accountant, org, "cash_flow").status_code == 404
    # Another organization's reports: as if it did not exist.
    assert get(world, world.b.email("accountant"), org, "trial_balance").status_code == 404
    # Finance reports need finance.read; the stock valuation needs inventory.read.
    warehouse = org.email("warehouse")
    denied = get(world, warehouse, org, "profit_and_loss", **{"from": START, "to": END})
    assert (denied.status_code, denied.get_json()["error"]["details"]["permission"]) == (403, "finance.read")
    assert get(world, warehouse, org, "stock_valuation").status_code == 200
    assert get(world, org.email("hr"), org, "stock_valuation").status_code == 403


def test_reports_as_csv(world: World) -> None:
    org, month = world.a, Month()
    push_month(world, org, month)
    response = get(world, org.email("accountant"), org, "trial_balance", as_of=END, format="csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["code", "name", "type", "debit", "credit", "balance"]
    assert ["1000", "Bank", "asset", "13600.00", "5400.00", "8200.00"] in rows
    assert ["3000", "Owner's capital", "equity", "0.00", "10000.00", "-10000.00"] in rows


def test_reports_as_xlsx_and_pdf_read_back(world: World) -> None:
    org, month = world.a, Month()
    push_month(world, org, month)
    accountant = org.email("accountant")
    response = get(world, accountant, org, "trial_balance", as_of=END, format="xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="trial_balance.xlsx"' in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["Code", "Name", "Type", "Debit", "Credit", "Balance"]
    bank = next(row for row in values if row[0] == "1000")
    # Amounts are numbers in the spreadsheet, exact to the cent, in the ledger currency.
    assert bank[1:] == ["Bank", "asset", 13600, 5400, 8200]
    bank_row = next(row for row in sheet.iter_rows() if row[0].value == "1000")
    assert '"EUR"' in bank_row[3].number_format and ".00" in bank_row[3].number_format
    # The totals close the sheet: a trial balance balances.
    assert [values[-2][0], values[-1][0]] == ["Total debit", "Total credit"]
    assert values[-2][1] == values[-1][1] > 0

    pdf = get(world, accountant, org, "trial_balance", as_of=END, format="pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.get_data())).pages)
    assert "Trial balance" in text and "as of " + END in text
    assert "13,600.00" in text and "Owner's capital" in text and "Debit (EUR)" in text

    # The same permission check as the JSON: a warehouse login gets no finance file.
    denied = get(world, org.email("warehouse"), org, "trial_balance", as_of=END, format="pdf")
    assert denied.status_code == 403 and denied.mimetype == "application/json"
    stock = get(world, org.email("warehouse"), org, "stock_valuation", format="xlsx")
    assert stock.status_code == 200
    header = next(openpyxl.load_workbook(io.BytesIO(stock.get_data())).active.iter_rows(values_only=True))
    assert header == ("SKU", "Name", "Warehouse", "Quantity", "Unit cost", "Value")


def test_a_report_longer_than_a_sheet_is_refused_as_xlsx_and_served_as_csv(
    world: World, monkeypatch: Any
) -> None:
    """A general ledger past an XLSX sheet's last row is refused naming the format, never cut
    short (the limit made small here: a million journal lines take minutes to push)."""
    from common.exports import writers

    org, month = world.a, Month()
    push_month(world, org, month)
    accountant = org.email("accountant")
    monkeypatch.setattr(writers, "MAX_ROWS", 3)
    refused = get(world, accountant, org, "trial_balance", as_of=END, format="xlsx")
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert error["code"] == "invalid" and error["details"]["field"] == "format"
    assert "at most 2 rows" in error["message"] and "CSV" in error["message"]
    csv_answer = get(world, accountant, org, "trial_balance", as_of=END, format="csv")
    assert csv_answer.status_code == 200 and b"Owner's capital" in csv_answer.get_data()


def test_the_report_endpoint_is_in_the_openapi_document(world: World) -> None:
    spec = world.client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/orgs/{org_id}/reports/{name}"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {
        "org_id",
        "name",
        "from",
        "to",
        "as_of",
        "account",
        "format",
    }
    assert {"400", "401", "403", "404"} <= set(operation["responses"])

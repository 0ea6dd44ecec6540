"""Documents from the server: invoice, credit note, statement and purchase order PDFs read back
with pypdf (legal number, letterhead, tax per rate, totals), a SEPA file valid against the
pain.001.001.03 schema; other organizations' ids not found, permissions refused, every
download audited."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import xmlschema
from pypdf import PdfReader
from sqlalchemy import select

from common.ids import new_id
from common.schema import AuditEvent, Invoice
from tests.sync_server.conftest import OrgInfo, World, mutation, set_up_books
from tests.sync_server.pulling import applied

XSD = Path(__file__).resolve().parent.parent / "common" / "data" / "pain.001.001.03.xsd"
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


def _text(body: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages).split())


def _downloads(world: World, org: OrgInfo, entity_id: str) -> list[dict[str, Any]]:
    with world.services.store.session(org.id) as db:
        rows = db.execute(
            select(AuditEvent.action, AuditEvent.actor, AuditEvent.entity, AuditEvent.after).where(
                AuditEvent.org_id == org.id,
                AuditEvent.entity_id == entity_id,
                AuditEvent.action == "document.download",
            )
        ).all()
    return [dict(r._mapping) for r in rows]


def _profile(world: World, org: OrgInfo, **fields: Any) -> None:
    changes = {**PROFILE, **fields}
    applied(
        world,
        org.email("accountant"),
        org,
        [mutation("finance.set_organization_profile", changes=changes, base=dict.fromkeys(changes))],
    )


def _invoiced(world: World, org: OrgInfo) -> dict[str, str]:
    """A posted invoice at 20 % and 10 % with a partial payment, a credit note and an order."""
    set_up_books(world, org)
    _profile(world, org)
    ids = {k: new_id() for k in ("customer", "vat20", "vat10", "invoice", "line", "credit", "payment")}
    applied(
        world,
        org.email("accountant"),
        org,
        [
            mutation("finance.create_tax_rate", id=ids["vat20"], code="VAT20", name="VAT", rate="20"),
            mutation("finance.create_tax_rate", id=ids["vat10"], code="VAT10", name="VAT", rate="10"),
        ],
    )
    lines = [
        {"id": new_id(), "description": "Consulting", "quantity": "3", "unit_price": 15000, "tax_rate_id": ids["vat20"]},
        {"id": ids["line"], "description": "Manual", "quantity": "2", "unit_price": 1250, "tax_rate_id": ids["vat10"]},
    ]  # fmt: skip
    applied(
        world,
        org.email("sales"),
        org,
        [
            mutation("sales.create_customer", id=ids["customer"], name="Ada Lovelace Ltd", address="1 Analytical Row"),
            mutation("sales.create_invoice", id=ids["invoice"], customer_id=ids["customer"], issue_date="2026-11-03",
                     due_date="2026-12-03", lines=lines),
            mutation("sales.post_invoice", id=ids["invoice"]),
            mutation("sales.record_payment", id=ids["payment"], invoice_id=ids["invoice"], amount=20000,
                     paid_on="2026-11-20"),
            mutation("sales.issue_credit_note", id=ids["credit"], invoice_id=ids["invoice"], issue_date="2026-11-25",
                     lines=[{"invoice_line_id": ids["line"], "quantity": "1"}]),
        ],
    )  # fmt: skip
    return ids


def test_invoice_credit_note_and_statement_pdfs_audited_and_tenant_scoped(world: World) -> None:
    org, get = world.a, world.client.get
    ids = _invoiced(world, org)
    with world.services.store.session(org.id) as db:
        number = db.execute(select(Invoice.number).where(Invoice.id == ids["invoice"])).scalar_one()
    assert not number.startswith("DRAFT")
    sales = world.headers(org.email("sales"))
    url = f"/api/v1/orgs/{org.id}/invoices/{ids['invoice']}/pdf"
    response = get(url, headers=sales)
    assert response.status_code == 200 and response.mimetype == "application/pdf", response.get_json()
    assert f'filename="invoice-{number}.pdf"' in response.headers["Content-Disposition"]
    text = _text(response.data)
    # 3 × 150.00 at 20 % (tax 90.00) and 2 × 12.50 at 10 % (tax 2.50): total 567.50; paid
    # 200.00, credited one manual (12.50 + 1.25): 353.75 due.
    for expected in (
        "Acme Trading GmbH",
        "20457 Hamburg",
        f"No. {number}",
        f"Invoice number {number}",
        "Bill to Ada Lovelace Ltd",
        "VAT 20 % 450.00 90.00",
        "VAT 10 % 25.00 2.50",
        "Subtotal 475.00",
        "Total EUR 567.50",
        "Paid 200.00",
        "Credited 13.75",
        "Amount due 353.75",
        "IBAN DE89 3704 0044 0532 0130 00",
    ):
        assert expected in text, (expected, text)
    assert "DRAFT" not in text
    german = _text(get(url + "?locale=de", headers=sales).data)
    assert "Total EUR 567,50" in german and "03.11.2026" in german
    assert get(url + "?locale=xx", headers=sales).status_code == 400
    events = _downloads(world, org, ids["invoice"])
    assert len(events) == 2 and {e["actor"] for e in events} == {org.users["sales"]}
    assert events[0]["entity"] == "invoice" and events[0]["after"]["number"] == number

    note = get(f"/api/v1/orgs/{org.id}/credit-notes/{ids['credit']}/pdf", headers=sales)
    assert note.status_code == 200
    text = _text(note.data)
    assert (
        "Credit note" in text and f"Credits invoice {number}" in text and "Total credited EUR 13.75" in text
    )
    assert len(_downloads(world, org, ids["credit"])) == 1

    statement_url = f"/api/v1/orgs/{org.id}/customers/{ids['customer']}/statement.pdf"
    statement = get(
        statement_url + "?from=2026-11-01&to=2026-11-30", headers=world.headers(org.email("accountant"))
    )
    assert statement.status_code == 200
    text = _text(statement.data)
    for expected in (
        f"Invoice {number}",
        "567.50 567.50",
        "200.00 367.50",
        "13.75 353.75",
        "Balance due EUR 353.75",
    ):
        assert expected in text, (expected, text)
    (event,) = _downloads(world, org, ids["customer"])
    assert event["after"]["from"] == "2026-11-01"
    assert get(statement_url + "?from=2026-12-01&to=2026-11-01", headers=sales).status_code == 400
    assert get(statement_url + "?from=yesterday", headers=sales).status_code == 400

    # Without sales.read: forbidden. Another organization: not found, its own URL or ours.
    refused = get(url, headers=world.headers(org.email("warehouse")))
    assert refused.status_code == 403 and refused.get_json()["error"]["details"]["permission"] == "sales.read"
    intruder = world.headers(world.b.email("sales"))
    assert get(url, headers=intruder).status_code == 404
    foreign = get(f"/api/v1/orgs/{world.b.id}/invoices/{ids['invoice']}/pdf", headers=intruder)
    assert foreign.status_code == 404 and "Ada" not in foreign.get_data(as_text=True)
    assert get(f"/api/v1/orgs/{org.id}/invoices/not-an-id/pdf", headers=sales).status_code == 404
    assert len(_downloads(world, org, ids["invoice"])) == 2  # refusals download nothing


def test_a_purchase_order_pdf_for_the_warehouse(world: World) -> None:
    org = world.a
    set_up_books(world, org)
    _profile(world, org)
    ids = {k: new_id() for k in ("warehouse", "product", "supplier", "order")}
    applied(
        world,
        org.email("warehouse"),
        org,
        [
            mutation("inventory.create_warehouse", id=ids["warehouse"], code="MAIN", name="Main"),
            mutation("inventory.create_product", id=ids["product"], sku="WIRE", name="Copper wire",
                     sale_price=500, currency="EUR"),
            mutation("inventory.create_supplier", id=ids["supplier"], name="Wire & Co", currency="EUR"),
            mutation("inventory.create_purchase_order", id=ids["order"], supplier_id=ids["supplier"],
                     warehouse_id=ids["warehouse"],
                     lines=[{"id": new_id(), "product_id": ids["product"], "quantity": "12.5", "unit_cost": 399}]),
            mutation("inventory.order_purchase_order", id=ids["order"]),
        ],
    )  # fmt: skip
    url = f"/api/v1/orgs/{org.id}/purchase-orders/{ids['order']}/pdf"
    response = world.client.get(url, headers=world.headers(org.email("warehouse")))
    assert response.status_code == 200
    text = _text(response.data)
    for expected in ("Acme Trading GmbH", "Purchase order", "Supplier Wire & Co", "WIRE Copper wire 12.5 3.99 49.88",
                     "Total EUR 49.88", "Status Ordered"):  # fmt: skip
        assert expected in text, (expected, text)
    assert len(_downloads(world, org, ids["order"])) == 1
    assert world.client.get(url, headers=world.headers(org.email("hr"))).status_code == 403


def test_sepa_file_of_a_posted_run_from_the_profiles_account(world: World) -> None:
    org, get = world.a, world.client.get
    set_up_books(world, org)
    run, alice, ben = new_id(), new_id(), new_id()
    employee = {"salary_currency": "EUR", "hire_date": "2020-01-01"}
    applied(
        world,
        org.email("hr"),
        org,
        [
            mutation("hr.create_employee", id=alice, name="Alice Aalto", salary=300000,
                     bank_account="FI21 1234 5600 0007 85", **employee),
            mutation("hr.create_employee", id=ben, name="Ben Berg", salary=250000,
                     bank_account="DE44 5001 0517 5407 3249 31", **employee),
            mutation("hr.run_payroll", id=run, period_start="2026-01-01", period_end="2026-01-31", currency="EUR",
                     withholding_rate="20"),
            mutation("hr.approve_payroll_run", id=run),
            mutation("hr.post_payroll_run", id=run),
        ],
    )  # fmt: skip
    url = f"/api/v1/orgs/{org.id}/payroll-runs/{run}/sepa.xml?execution_date=2026-01-30"
    hr = world.headers(org.email("hr"))
    missing = get(url, headers=hr)
    assert missing.status_code == 409, missing.get_json()
    error = missing.get_json()["error"]
    assert error["code"] == "profile_incomplete" and "IBAN" in error["message"]
    assert error["details"]["field"] == "iban"
    _profile(world, org)
    response = get(url, headers=hr)
    assert response.status_code == 200 and response.mimetype == "application/xml"
    xml = response.data.decode()
    xmlschema.XMLSchema(str(XSD)).validate(xml)  # raises on any violation of the official schema
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
    root = ElementTree.fromstring(xml)  # noqa: S314 (schema-valid, made by our server)
    assert root.findtext(".//p:Dbtr/p:Nm", namespaces=ns) == "Acme Trading GmbH"
    assert root.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=ns) == "DE89370400440532013000"
    assert root.findtext(".//p:DbtrAgt/p:FinInstnId/p:BIC", namespaces=ns) == "COBADEFFXXX"
    # Net pay is gross less the flat 20 %: 2,400.00 and 2,000.00.
    transfers = {
        tx.findtext("p:Cdtr/p:Nm", namespaces=ns): tx.findtext("p:Amt/p:InstdAmt", namespaces=ns)
        for tx in root.iterfind(".//p:CdtTrfTxInf", ns)
    }
    assert transfers == {"Alice Aalto": "2400.00", "Ben Berg": "2000.00"}
    (event,) = _downloads(world, org, run)
    assert event["after"]["document"] == "sepa_credit_transfer" and event["actor"] == org.users["hr"]
    # payroll.run without hr.sensitive.read, and neither: refused; another organization: not found.
    admin = get(url, headers=world.headers(org.email("admin")))
    assert admin.status_code == 403
    assert get(url, headers=world.headers(world.b.email("hr"))).status_code == 404
    assert get(f"/api/v1/orgs/{org.id}/payroll-runs/{new_id()}/sepa.xml", headers=hr).status_code == 404


def test_the_openapi_document_lists_the_document_endpoints(world: World) -> None:
    paths = world.client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, media in (
        ("/api/v1/orgs/{org_id}/invoices/{invoice_id}/pdf", "application/pdf"),
        ("/api/v1/orgs/{org_id}/credit-notes/{credit_note_id}/pdf", "application/pdf"),
        ("/api/v1/orgs/{org_id}/customers/{customer_id}/statement.pdf", "application/pdf"),
        ("/api/v1/orgs/{org_id}/purchase-orders/{purchase_order_id}/pdf", "application/pdf"),
        ("/api/v1/orgs/{org_id}/payroll-runs/{payroll_run_id}/sepa.xml", "application/xml"),
    ):
        operation = paths[path]["get"]
        assert media in operation["responses"]["200"]["content"], path
        assert "404" in operation["responses"] and "403" in operation["responses"], path


def test_every_member_pulls_the_profile_and_only_finance_writes_it(world: World) -> None:
    org = world.a
    _profile(world, org)
    for role in ("warehouse", "employee", "sales"):
        pulled = world.client.get(f"/api/v1/orgs/{org.id}/sync/pull", headers=world.headers(org.email(role)))
        assert pulled.status_code == 200
        rows = [c for c in pulled.get_json()["changes"] if c["entity"] == "organization_profile"]
        assert len(rows) == 1 and rows[0]["id"] == org.id, role
        assert (
            rows[0]["data"]["legal_name"] == "Acme Trading GmbH"
            and rows[0]["data"]["iban"] == PROFILE["iban"]
        )
    change = mutation(
        "finance.set_organization_profile",
        changes={"legal_name": "Not Acme"},
        base={"legal_name": "Acme Trading GmbH"},
    )
    (result,) = world.push(org.email("warehouse"), org, [change]).get_json()["results"]
    assert result["status"] == "rejected" and result["code"] == "forbidden"
    other = world.client.get(
        f"/api/v1/orgs/{world.b.id}/sync/pull", headers=world.headers(world.b.email("admin"))
    )
    assert not [c for c in other.get_json()["changes"] if c["entity"] == "organization_profile"]

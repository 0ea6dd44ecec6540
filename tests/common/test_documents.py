"""Printed business documents from a real encrypted store: the organization profile command,
then an invoice, a credit note, a customer statement and a purchase order rendered as PDF (read
back with pypdf) and as HTML, with figures worked out by hand."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from common.documents import (
    LOCALES,
    DocumentLocale,
    DocumentNotFound,
    DocumentUnavailable,
    Letterhead,
    Period,
    document_html,
    document_pdf,
    load_document,
)
from common.documents.loaders import payslip_business_document
from common.ids import new_id
from common.payroll_documents import PayslipDocument
from common.schema.profile import OrganizationProfile
from tests.common.business import Business, role

ACCOUNTANT = role("accountant")
PROFILE = {
    "legal_name": "Acme Trading GmbH",
    "address_line1": "Hafenstraße 12",
    "postcode": "20457",
    "city": "Hamburg",
    "country": "de",
    "tax_id": "DE123456789",
    "email": "billing@acme.test",
    "phone": "+49 40 123456",
    "iban": "DE89 3704 0044 0532 0130 00",
    "bic": "COBADEFFXXX",
}


def pdf_text(body: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages).split())


def _set_profile(biz: Business) -> None:
    current = biz.rows(OrganizationProfile)
    base = {key: (current[0][key] if current else None) for key in PROFILE}
    biz.apply("finance.set_organization_profile", {"changes": PROFILE, "base": base}, permissions=ACCOUNTANT)


def test_the_organization_profile_is_set_by_finance_with_a_valid_iban(business: Business) -> None:
    biz = business
    error = biz.refused(
        "finance.set_organization_profile",
        {"changes": {"legal_name": "X"}, "base": {"legal_name": None}},
        permissions=role("sales"),
    )
    assert error.code == "forbidden" and "finance.write" in error.message
    error = biz.refused(
        "finance.set_organization_profile",
        {"changes": {"iban": "DE00 1234"}, "base": {"iban": None}},
        permissions=ACCOUNTANT,
    )
    assert error.field == "changes.iban" and "IBAN" in error.message
    assert biz.rows(OrganizationProfile) == []  # a refused first change creates nothing
    _set_profile(biz)
    (row,) = biz.rows(OrganizationProfile)
    assert row["id"] == biz.org_id
    assert (row["iban"], row["bic"], row["country"]) == ("DE89370400440532013000", "COBADEFFXXX", "DE")
    # Per-field compare-and-set: a stale base is a conflict; an empty text clears the field.
    stale = biz.refused(
        "finance.set_organization_profile",
        {"changes": {"phone": "+49 40 1"}, "base": {"phone": "+49 40 999"}},
        permissions=ACCOUNTANT,
    )
    assert stale.code == "conflict"
    biz.apply(
        "finance.set_organization_profile",
        {"changes": {"phone": ""}, "base": {"phone": "+49 40 123456"}},
        permissions=ACCOUNTANT,
    )
    assert biz.rows(OrganizationProfile)[0]["phone"] is None
    biz.apply(
        "finance.set_organization_profile",
        {"changes": {"phone": PROFILE["phone"]}, "base": {"phone": None}},
        permissions=role("admin"),
    )


def _sales_month(biz: Business) -> dict[str, str]:
    """A customer with an invoice before the period and one in it with three tax treatments,
    a partial payment and a credit note for one line."""
    _set_profile(biz)
    customer = biz.customer(
        name="Ada Lovelace Ltd",
        address="1 Analytical Row\nLondon N1 2AB",
        tax_id="GB999999973",
        currency="EUR",
    )
    vat20, vat10 = biz.tax_rate("20"), biz.tax_rate("10")
    earlier = new_id()
    biz.apply(
        "sales.create_invoice",
        {"id": earlier, "customer_id": customer, "issue_date": "2026-10-20",
         "lines": [{"id": new_id(), "description": "Setup", "quantity": "1", "unit_price": 10000}]},
    )  # fmt: skip
    biz.apply("sales.post_invoice", {"id": earlier})
    invoice, book_line = new_id(), new_id()
    lines = [
        {"id": new_id(), "description": "Consulting", "quantity": "3", "unit_price": 15000, "tax_rate_id": vat20},
        {"id": new_id(), "description": "Hex bolt M8", "quantity": "2.5", "unit_price": 1240, "tax_rate_id": vat20},
        {"id": book_line, "description": "Manual", "quantity": "1", "unit_price": 2500, "tax_rate_id": vat10},
        {"id": new_id(), "description": "Postage", "quantity": "1", "unit_price": 490},
    ]  # fmt: skip
    biz.apply(
        "sales.create_invoice",
        {"id": invoice, "customer_id": customer, "issue_date": "2026-11-03", "due_date": "2026-12-03",
         "lines": lines},
    )  # fmt: skip
    return {"customer": customer, "invoice": invoice, "book_line": book_line}


def test_an_invoice_credit_note_and_statement_as_pdf_and_html(business: Business) -> None:
    biz = business
    ids = _sales_month(biz)
    with biz.session() as session:
        draft = load_document(session, biz.org_id, "invoice", ids["invoice"])
    assert draft.draft
    text = pdf_text(document_pdf(draft))
    # Nets: 3 × 150.00 = 450.00 and 2.5 × 12.40 = 31.00 at 20 % (tax 90.00 + 6.20); 25.00 at
    # 10 % (tax 2.50); postage 4.90 untaxed. Subtotal 510.90, tax 98.70, total 609.60.
    for expected in (
        "Acme Trading GmbH",
        "Hafenstraße 12",
        "20457 Hamburg",
        "VAT / tax id DE123456789",
        "Invoice",
        "DRAFT",
        "Draft, not yet posted",
        "Bill to Ada Lovelace Ltd",
        "1 Analytical Row",
        "Issue date 2026-11-03",
        "Due date 2026-12-03",
        "Hex bolt M8 2.5 12.40 VAT 20 % 31.00",
        "VAT 20 % 481.00 96.20",
        "VAT 10 % 25.00 2.50",
        "No tax 4.90 0.00",
        "Subtotal 510.90",
        "Tax 98.70",
        "Total EUR 609.60",
        "IBAN DE89 3704 0044 0532 0130 00 · BIC COBADEFFXXX",
    ):
        assert expected in text, (expected, text)
    assert "Discount" not in text  # no line has one: no column for it
    biz.apply("sales.post_invoice", {"id": ids["invoice"]})
    biz.apply(
        "sales.record_payment",
        {"id": new_id(), "invoice_id": ids["invoice"], "amount": 30000, "paid_on": "2026-11-20",
         "reference": "BANK-77"},
    )  # fmt: skip
    credit = new_id()
    biz.apply(
        "sales.issue_credit_note",
        {"id": credit, "invoice_id": ids["invoice"], "issue_date": "2026-11-25", "reason": "Damaged manual",
         "lines": [{"invoice_line_id": ids["book_line"]}]},
    )  # fmt: skip
    with biz.session() as session:
        invoice = load_document(session, biz.org_id, "invoice", ids["invoice"])
        note = load_document(session, biz.org_id, "credit_note", credit)
        statement = load_document(
            session,
            biz.org_id,
            "statement",
            ids["customer"],
            period=Period(date(2026, 11, 1), date(2026, 11, 30)),
        )
        with pytest.raises(DocumentNotFound):
            load_document(session, biz.org_id, "invoice", new_id())
    # Paid 300.00 and credited 27.50 (25.00 + 2.50 tax) of 609.60: 282.10 still due.
    text = pdf_text(document_pdf(invoice))
    for expected in ("Paid 300.00", "Credited 27.50", "Amount due 282.10", "Total EUR 609.60"):
        assert expected in text, (expected, text)
    text = pdf_text(document_pdf(note))
    for expected in (
        "Credit note",
        "Credits invoice",
        "Manual 1 25.00 VAT 10 % 25.00",
        "VAT 10 % 25.00 2.50",
        "Total credited EUR 27.50",
        "Reason: Damaged manual",
    ):
        assert expected in text, (expected, text)
    assert "VAT 20 %" not in text
    # Brought forward 100.00 (October); +609.60 −300.00 −27.50 in November: 382.10 due.
    text = pdf_text(document_pdf(statement))
    for expected in (
        "Statement of account",
        "Customer Ada Lovelace Ltd",
        "From 2026-11-01",
        "To 2026-11-30",
        "2026-11-01 Balance brought forward 100.00",
        "609.60 709.60",
        "Payment of invoice",
        "(BANK-77) 300.00 409.60",
        "27.50 382.10",
        "Balance due EUR 382.10",
    ):
        assert expected in text, (expected, text)
    assert "not part of this statement" not in text
    dollars = new_id()
    biz.apply(
        "sales.create_invoice",
        {"id": dollars, "customer_id": ids["customer"], "issue_date": "2026-11-05", "currency": "USD",
         "exchange_rate": "0.9", "lines": [{"id": new_id(), "description": "Import", "quantity": "1",
                                            "unit_price": 5000}]},
    )  # fmt: skip
    biz.apply("sales.post_invoice", {"id": dollars})
    with biz.session() as session:
        again = load_document(
            session,
            biz.org_id,
            "statement",
            ids["customer"],
            period=Period(date(2026, 11, 1), date(2026, 11, 30)),
        )
    text = pdf_text(document_pdf(again))
    assert "Documents in USD are not part of this statement (it is in EUR)." in text
    assert "Balance due EUR 382.10" in text
    # The same document for a German reader: separators and dates from the locale passed in.
    german = pdf_text(document_pdf(statement, LOCALES["de"]))
    assert "Balance due EUR 382,10" in german and "01.11.2026" in german
    html = document_html(invoice, DocumentLocale(",", ".", "%d.%m.%Y"))
    assert "609,60" in html and "03.11.2026" in html and "VAT 20 %" in html and "Acme Trading GmbH" in html


def test_a_discount_column_is_printed_when_a_line_has_a_discount(business: Business) -> None:
    vat, customer = business.tax_rate("20"), business.customer(name="Grace Hopper")
    invoice_id, pens = new_id(), new_id()
    business.apply(
        "sales.create_invoice",
        {"id": invoice_id, "customer_id": customer, "issue_date": "2026-11-04", "lines": [
            {"id": pens, "description": "Pens", "quantity": "3", "unit_price": 1999, "discount_percent": "15",
             "tax_rate_id": vat},
            {"id": new_id(), "description": "Pads", "quantity": "1", "unit_price": 500, "tax_rate_id": vat},
        ]},
    )  # fmt: skip
    business.apply("sales.post_invoice", {"id": invoice_id})
    note_id = new_id()
    business.apply(
        "sales.issue_credit_note",
        {"id": note_id, "invoice_id": invoice_id, "issue_date": "2026-11-05",
         "lines": [{"invoice_line_id": pens, "quantity": "1"}]},
    )  # fmt: skip
    with business.session() as session:
        invoice = load_document(session, business.org_id, "invoice", invoice_id)
        note = load_document(session, business.org_id, "credit_note", note_id)
    # Pens: 3 × 19.99 = 59.97 less 15 % = 50.9745 → 50.97, VAT 10.19; pads 5.00, VAT 1.00.
    text = pdf_text(document_pdf(invoice))
    for expected in ("Discount", "Pens 3 19.99 15 % VAT 20 % 50.97", "Pads 1 5.00 VAT 20 % 5.00",
                     "VAT 20 % 55.97 11.19", "Subtotal 55.97", "Total EUR 67.16"):  # fmt: skip
        assert expected in text, (expected, text)
    # One pen credited: a third of the line's net and tax, 16.99 and 3.3967 → 3.40.
    text = pdf_text(document_pdf(note))
    for expected in ("Discount", "Pens 1 19.99 15 % VAT 20 % 16.99", "Total credited EUR 20.39"):
        assert expected in text, (expected, text)
    html = document_html(invoice, LOCALES["de"])
    assert "Discount" in html and "15 %" in html and "50,97" in html


def test_a_purchase_order_prints_with_the_letterhead(business: Business) -> None:
    biz = business
    _set_profile(biz)
    warehouse, product = biz.warehouse(), biz.product(name="Copper wire 2.5 mm²")
    supplier, order = new_id(), new_id()
    biz.apply("inventory.create_supplier", {"id": supplier, "name": "Wire & Co", "currency": "EUR"})
    biz.apply(
        "inventory.create_purchase_order",
        {"id": order, "supplier_id": supplier, "warehouse_id": warehouse,
         "lines": [{"id": new_id(), "product_id": product, "quantity": "12.5", "unit_cost": 399}]},
    )  # fmt: skip
    with biz.session() as session:
        doc = load_document(session, biz.org_id, "purchase_order", order)
    assert doc.draft and doc.totals[0].amount == Decimal("49.88")  # 12.5 × 3.99 = 49.875 → 49.88
    text = pdf_text(document_pdf(doc))
    for expected in (
        "Acme Trading GmbH",
        "Purchase order",
        "Supplier Wire & Co",
        "12.5 3.99 49.88",
        "Total EUR 49.88",
    ):
        assert expected in text, (expected, text)


def test_a_payslip_without_its_amounts_on_this_computer_is_unavailable() -> None:
    """An employee's own payslip as pulled without hr.sensitive.read: amounts masked (None)."""
    slip = {"currency": "EUR", "net": None, "period_start": date(2026, 11, 1), "period_end": date(2026, 11, 30),
            "paid_days": 21, "period_days": 21}  # fmt: skip
    run = {"status": "posted", "reverses_run_id": None}
    masked = PayslipDocument(slip, run, "Emma Employee", None, "Acme", [{"kind": "net", "description": "Net pay",
                             "amount": None}])  # fmt: skip
    with pytest.raises(DocumentUnavailable, match=r"hr\.sensitive\.read"):
        payslip_business_document(masked, Letterhead("Acme"))
    shown = PayslipDocument({**slip, "net": 100}, run, "Emma Employee", None, "Acme",
                            [{"kind": "net", "description": "Net pay", "amount": 100}])  # fmt: skip
    doc = payslip_business_document(shown, Letterhead("Acme"))
    assert doc.lines[0]["amount"] == Decimal("1.00") and not doc.draft

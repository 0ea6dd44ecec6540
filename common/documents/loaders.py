"""Business documents read from a store: invoices, credit notes, customer statements, purchase
orders and payslips, each as a :class:`~common.documents.model.BusinessDocument`.

Every loader takes a SQLAlchemy session and the organization's id (every query names it), so the
desktop reads its local copy and the server its own; neither writes anything. A document that is
not there (deleted, another organization's, not readable on this computer) is ``None``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.documents.model import (
    STRONG,
    BusinessDocument,
    Column,
    FactValue,
    Letterhead,
    Party,
    Section,
    TaxLine,
    Total,
    major,
)
from common.money import line_amount
from common.schema import (
    CreditNote,
    CreditNoteLine,
    Customer,
    Invoice,
    InvoiceLine,
    Organization,
    Payment,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
    TaxRate,
    Warehouse,
)
from common.schema.base import table_of
from common.schema.profile import OrganizationProfile

KINDS = ("invoice", "credit_note", "statement", "purchase_order", "payslip")
KIND_TITLES = {
    "invoice": "Invoice",
    "credit_note": "Credit note",
    "statement": "Statement",
    "purchase_order": "Purchase order",
    "payslip": "Payslip",
}
Row = dict[str, Any]


class DocumentNotFound(LookupError):
    """The document is not in this store (deleted, another organization's, or not readable)."""


class DocumentUnavailable(LookupError):
    """The document is here but not its figures: a payslip on a computer without
    ``hr.sensitive.read`` holds no pay amounts (the server makes its PDF)."""


@dataclass(frozen=True)
class Period:
    """A statement's period, both days included."""

    start: date
    end: date


def _row(session: Session, model: type[Any], org_id: str, entity_id: str) -> Row | None:
    table = table_of(model)
    found = (
        session.execute(
            select(*table.columns).where(
                table.c.org_id == org_id, table.c.id == entity_id, table.c.deleted.is_(False)
            )
        )
        .mappings()
        .first()
    )
    return dict(found) if found is not None else None


def _rows(session: Session, model: type[Any], org_id: str, *where: Any, order: Any = None) -> list[Row]:
    table = table_of(model)
    stmt = select(*table.columns).where(table.c.org_id == org_id, table.c.deleted.is_(False), *where)
    if order is not None:
        stmt = stmt.order_by(order)
    return [dict(r) for r in session.execute(stmt).mappings()]


def _lines(text: str | None) -> tuple[str, ...]:
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


def load_letterhead(session: Session, org_id: str, org_name: str | None = None) -> Letterhead:
    """The organization's profile as a letterhead; without one, its name alone."""
    profile = _row(session, OrganizationProfile, org_id, org_id)
    name = org_name or session.execute(select(Organization.name).where(Organization.id == org_id)).scalar()
    if profile is None:
        return Letterhead(name=name or "")
    city = " ".join(p for p in (profile["postcode"], profile["city"]) if p)
    address = tuple(
        p for p in (profile["address_line1"], profile["address_line2"], city, profile["country"]) if p
    )
    return Letterhead(
        name=profile["legal_name"] or name or "",
        address=address,
        tax_id=profile["tax_id"],
        email=profile["email"],
        phone=profile["phone"],
        iban=profile["iban"],
        bic=profile["bic"],
    )


def _customer_party(customer: Row | None, label: str) -> Party:
    if customer is None:
        return Party(label, "—")
    return Party(label, customer["name"], _lines(customer["address"]), customer["tax_id"])


def _tax_rates(session: Session, org_id: str, ids: set[str]) -> dict[str, Row]:
    if not ids:
        return {}
    table = table_of(TaxRate)
    found = session.execute(
        select(table.c.id, table.c.code, table.c.name, table.c.rate).where(
            table.c.org_id == org_id, table.c.id.in_(sorted(ids))
        )
    ).mappings()
    return {r["id"]: dict(r) for r in found}


def _rate_label(rate: Row | None) -> str:
    if rate is None:
        return "No tax"
    percent = Decimal(rate["rate"]).normalize()
    if percent == percent.to_integral():
        percent = percent.quantize(Decimal(1))
    return f"{rate['name']} {percent} %"


SALES_LINE_COLUMNS = (
    Column("line_no", "#", "number"),
    Column("description", "Description"),
    Column("quantity", "Quantity", "quantity"),
    Column("unit_price", "Unit price", "money"),
    Column("tax", "Tax"),
    Column("net", "Amount", "money"),
)
# Printed after the unit price when a line of the document has a discount (not otherwise).
DISCOUNT_COLUMN = Column("discount", "Discount", "percent")


def sales_line_columns(lines: list[Row]) -> tuple[Column, ...]:
    """The columns of a sales document's lines: the discount only when a line has one."""
    if not any(line["discount_percent"] for line in lines):
        return SALES_LINE_COLUMNS
    at = SALES_LINE_COLUMNS.index(next(c for c in SALES_LINE_COLUMNS if c.key == "unit_price")) + 1
    return (*SALES_LINE_COLUMNS[:at], DISCOUNT_COLUMN, *SALES_LINE_COLUMNS[at:])


def _sales_lines(
    session: Session, org_id: str, lines: list[Row], currency: str
) -> tuple[tuple[Row, ...], tuple[TaxLine, ...]]:
    """Printed lines (net amounts, after any discount) and the tax breakdown per rate, in the
    order rates appear."""
    rates = _tax_rates(session, org_id, {line["tax_rate_id"] for line in lines if line["tax_rate_id"]})
    printed = []
    base: dict[str | None, int] = defaultdict(int)
    tax: dict[str | None, int] = defaultdict(int)
    for line in lines:
        net = int(line["line_total"]) - int(line["tax_amount"])
        rate_id = line["tax_rate_id"]
        base[rate_id] += net
        tax[rate_id] += int(line["tax_amount"])
        printed.append(
            {
                "line_no": line["line_no"],
                "description": line["description"],
                "quantity": Decimal(line["quantity"]),
                "unit_price": major(line["unit_price"], currency),
                "discount": Decimal(line["discount_percent"]) or "",
                "tax": _rate_label(rates.get(rate_id)) if rate_id else "",
                "net": major(net, currency),
            }
        )
    breakdown = tuple(
        TaxLine(_rate_label(rates.get(rate_id) if rate_id else None), major(base[rate_id], currency),
                major(tax[rate_id], currency))
        for rate_id in base
    )  # fmt: skip
    return tuple(printed), breakdown


def load_invoice(
    session: Session, org_id: str, invoice_id: str, org_name: str | None = None
) -> BusinessDocument:
    """An invoice: its customer, dates, lines, tax per rate, totals and what is still due."""
    invoice = _row(session, Invoice, org_id, invoice_id)
    if invoice is None:
        raise DocumentNotFound(f"invoice {invoice_id} is not here")
    currency = invoice["currency"]
    customer = _row(session, Customer, org_id, invoice["customer_id"])
    lines = _rows(
        session, InvoiceLine, org_id, InvoiceLine.invoice_id == invoice_id, order=InvoiceLine.line_no
    )
    printed, breakdown = _sales_lines(session, org_id, lines, currency)
    draft = invoice["status"] == "draft" or invoice["number"].startswith("DRAFT")
    facts: list[tuple[str, FactValue]] = [
        ("Draft reference", invoice["number"]) if draft else ("Invoice number", invoice["number"]),
        ("Issue date", invoice["issue_date"]),
    ]
    if invoice["due_date"] is not None:
        facts.append(("Due date", invoice["due_date"]))
    totals = [
        Total("Subtotal", major(invoice["subtotal"], currency)),
        Total("Tax", major(invoice["tax_total"], currency)),
        Total(f"Total {currency}", major(invoice["total"], currency), strong=True),
    ]
    paid, credited = int(invoice["amount_paid"]), int(invoice["amount_credited"])
    if paid:
        totals.append(Total("Paid", major(paid, currency)))
    if credited:
        totals.append(Total("Credited", major(credited, currency)))
    if paid or credited:
        due = max(0, int(invoice["total"]) - paid - credited)
        totals.append(Total("Amount due", major(due, currency), strong=True))
    letterhead = load_letterhead(session, org_id, org_name)
    notes = []
    if letterhead.iban and not draft and invoice["status"] == "posted":
        notes.append(f"Please pay to {letterhead.bank}, quoting {invoice['number']}.")
    number = invoice["number"]
    return BusinessDocument(
        kind="invoice",
        title="Invoice",
        number=number,
        draft=draft,
        currency=currency,
        letterhead=letterhead,
        party=_customer_party(customer, "Bill to"),
        facts=tuple(facts),
        columns=sales_line_columns(lines),
        lines=printed,
        tax_lines=breakdown,
        totals=tuple(totals),
        notes=tuple(notes),
        filename=f"invoice-{'draft' if draft else number}.pdf",
    )


def load_credit_note(
    session: Session, org_id: str, credit_note_id: str, org_name: str | None = None
) -> BusinessDocument:
    """A credit note: the invoice it credits, its lines, tax per rate and total."""
    note = _row(session, CreditNote, org_id, credit_note_id)
    if note is None:
        raise DocumentNotFound(f"credit note {credit_note_id} is not here")
    currency = note["currency"]
    customer = _row(session, Customer, org_id, note["customer_id"])
    invoice = _row(session, Invoice, org_id, note["invoice_id"])
    lines = _rows(
        session,
        CreditNoteLine,
        org_id,
        CreditNoteLine.credit_note_id == credit_note_id,
        order=CreditNoteLine.line_no,
    )
    printed, breakdown = _sales_lines(session, org_id, lines, currency)
    draft = note["number"].startswith("DRAFT")
    facts: list[tuple[str, FactValue]] = [
        ("Draft reference", note["number"]) if draft else ("Credit note number", note["number"]),
        ("Issue date", note["issue_date"]),
    ]
    if invoice is not None:
        facts.append(("Credits invoice", invoice["number"]))
        facts.append(("Invoice date", invoice["issue_date"]))
    totals = (
        Total("Subtotal", major(note["subtotal"], currency)),
        Total("Tax", major(note["tax_total"], currency)),
        Total(f"Total credited {currency}", major(note["total"], currency), strong=True),
    )
    return BusinessDocument(
        kind="credit_note",
        title="Credit note",
        number=note["number"],
        draft=draft,
        currency=currency,
        letterhead=load_letterhead(session, org_id, org_name),
        party=_customer_party(customer, "Customer"),
        facts=tuple(facts),
        columns=sales_line_columns(lines),
        lines=printed,
        tax_lines=breakdown,
        totals=totals,
        notes=(f"Reason: {note['reason']}",) if note["reason"] else (),
        draft_note="Draft, not yet posted: this credit note has no legal number yet.",
        filename=f"credit-note-{'draft' if draft else note['number']}.pdf",
    )


STATEMENT_COLUMNS = (
    Column("day", "Date", "date"),
    Column("document", "Document"),
    Column("due", "Due", "date"),
    Column("charges", "Charges", "money"),
    Column("credits", "Paid / credited", "money"),
    Column("balance", "Balance", "money"),
)


def _statement_entries(
    session: Session, org_id: str, customer_id: str, currency: str
) -> list[tuple[date, int, str, date | None, int, int]]:
    """Every posted movement of the customer's account in ``currency``:
    (day, order within the day, document, charge, credit) in minor units."""
    entries: list[tuple[date, int, str, date | None, int, int]] = []
    for invoice in _rows(
        session, Invoice, org_id, Invoice.customer_id == customer_id, Invoice.currency == currency
    ):
        if invoice["status"] == "draft":
            continue
        text = f"Invoice {invoice['number']}"
        entries.append((invoice["issue_date"], 0, text, invoice["due_date"], int(invoice["total"]), 0))
    for note in _rows(
        session, CreditNote, org_id, CreditNote.customer_id == customer_id, CreditNote.currency == currency
    ):
        entries.append((note["issue_date"], 1, f"Credit note {note['number']}", None, 0, int(note["total"])))
    invoices = {
        r["id"]: r["number"] for r in _rows(session, Invoice, org_id, Invoice.customer_id == customer_id)
    }
    for payment in _rows(
        session, Payment, org_id, Payment.customer_id == customer_id, Payment.currency == currency
    ):
        text = "Payment"
        if payment["invoice_id"] in invoices:
            text += f" of invoice {invoices[payment['invoice_id']]}"
        if payment["reference"]:
            text += f" ({payment['reference']})"
        entries.append((payment["paid_on"], 2, text, None, 0, int(payment["amount"])))
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    return entries


def load_statement(
    session: Session, org_id: str, customer_id: str, period: Period, org_name: str | None = None
) -> BusinessDocument:
    """A customer's statement of account for ``period``: the balance brought forward, every
    posted invoice, credit note and payment in it with the running balance, and the balance due."""
    customer = _row(session, Customer, org_id, customer_id)
    if customer is None:
        raise DocumentNotFound(f"customer {customer_id} is not here")
    currency = customer["currency"]
    opening = charged = credited = 0
    printed: list[Row] = []
    balance = 0
    for day, _order, text, due, charge, credit in _statement_entries(session, org_id, customer_id, currency):
        if day < period.start:
            opening += charge - credit
            continue
        if day > period.end:
            continue
        if not printed:
            balance = opening
        balance += charge - credit
        charged, credited = charged + charge, credited + credit
        printed.append(
            {
                "day": day,
                "document": text,
                "due": due,
                "charges": major(charge, currency) if charge else None,
                "credits": major(credit, currency) if credit else None,
                "balance": major(balance, currency),
            }
        )
    closing = opening + charged - credited
    others = sorted(
        {
            r["currency"]
            for r in _rows(session, Invoice, org_id, Invoice.customer_id == customer_id)
            if r["status"] != "draft"
        }
        - {currency}
    )
    notes = (
        (f"Documents in {', '.join(others)} are not part of this statement (it is in {currency}).",)
        if others
        else ()
    )
    brought = {
        "day": period.start,
        "document": "Balance brought forward",
        "balance": major(opening, currency),
    }
    totals = (
        Total("Balance brought forward", major(opening, currency)),
        Total("Charges", major(charged, currency)),
        Total("Payments and credits", major(credited, currency)),
        Total(f"Balance due {currency}" if closing >= 0 else f"Credit balance {currency}",
              major(closing, currency), strong=True),
    )  # fmt: skip
    return BusinessDocument(
        kind="statement",
        title="Statement of account",
        number=None,
        draft=False,
        currency=currency,
        letterhead=load_letterhead(session, org_id, org_name),
        party=_customer_party(customer, "Customer"),
        facts=(("From", period.start), ("To", period.end), ("Currency", currency)),
        columns=STATEMENT_COLUMNS,
        lines=(brought, *printed),
        totals=totals,
        notes=notes,
        filename=f"statement-{period.start.isoformat()}-{period.end.isoformat()}.pdf",
    )


ORDER_COLUMNS = (
    Column("line_no", "#", "number"),
    Column("sku", "SKU"),
    Column("name", "Product"),
    Column("quantity", "Quantity", "quantity"),
    Column("unit_cost", "Unit cost", "money"),
    Column("amount", "Amount", "money"),
)


def load_purchase_order(
    session: Session, org_id: str, order_id: str, org_name: str | None = None
) -> BusinessDocument:
    """A purchase order: the supplier, where to deliver, when, the lines and the total."""
    order = _row(session, PurchaseOrder, org_id, order_id)
    if order is None:
        raise DocumentNotFound(f"purchase order {order_id} is not on this computer")
    currency = order["currency"]
    supplier = _row(session, Supplier, org_id, order["supplier_id"])
    warehouse = _row(session, Warehouse, org_id, order["warehouse_id"])
    line, p = PurchaseOrderLine, Product
    found = session.execute(
        select(line.line_no, line.quantity, line.unit_cost, p.sku, p.name)
        .join(p, (p.org_id == line.org_id) & (p.id == line.product_id), isouter=True)
        .where(line.org_id == org_id, line.purchase_order_id == order_id, line.deleted.is_(False))
        .order_by(line.line_no)
    ).all()
    printed = tuple(
        {"line_no": n, "sku": sku, "name": name, "quantity": Decimal(qty),
         "unit_cost": major(cost, currency), "amount": major(line_amount(Decimal(qty), cost), currency)}
        for n, qty, cost, sku, name in found
    )  # fmt: skip
    draft = order["status"] == "draft"
    facts: list[tuple[str, FactValue]] = [
        ("Order number", order["number"]),
        ("Status", order["status"].capitalize()),
    ]
    if order["ordered_at"] is not None:
        facts.append(("Ordered", order["ordered_at"].date()))
    if order["expected_on"] is not None:
        facts.append(("Expected", order["expected_on"]))
    if warehouse is not None:
        delivery = [f"{warehouse['code']} — {warehouse['name']}", *_lines(warehouse.get("address"))]
        facts.append(("Deliver to", ", ".join(delivery)))
    party = (
        Party("Supplier", supplier["name"], _lines(supplier["address"]), supplier["tax_id"])
        if supplier is not None
        else None
    )
    return BusinessDocument(
        kind="purchase_order",
        title="Purchase order",
        number=order["number"],
        draft=draft,
        currency=currency,
        letterhead=load_letterhead(session, org_id, org_name),
        party=party,
        facts=tuple(facts),
        columns=ORDER_COLUMNS,
        lines=printed,
        totals=(Total(f"Total {currency}", major(order["total"], currency), strong=True),),
        notes=(order["note"],) if order["note"] else (),
        draft_note="Draft, not yet ordered: this order has not been sent to the supplier.",
        filename=f"purchase-order-{order['number']}.pdf",
    )


PAYSLIP_COLUMNS = (
    Column("description", "Description"),
    Column("amount", "Amount", "money", with_currency=True),
)


def load_payslip_document(
    session: Session, org_id: str, payslip_id: str, org_name: str | None = None
) -> BusinessDocument:
    """A payslip: the employee, the period, the paid working days and every line of the payslip
    (employer contributions after net pay, for information)."""
    from common.payroll_documents import load_payslip

    found = load_payslip(session, org_id, payslip_id)
    if found is None:
        raise DocumentNotFound(f"payslip {payslip_id} is not here")
    return payslip_business_document(found, load_letterhead(session, org_id, org_name or found.organization))


def payslip_business_document(doc: Any, letterhead: Letterhead) -> BusinessDocument:
    """A :class:`common.payroll_documents.PayslipDocument` as a printed document."""
    slip, currency = doc.payslip, doc.payslip["currency"]
    if slip["net"] is None or any(line["amount"] is None for line in doc.lines):
        raise DocumentUnavailable(
            "the pay amounts of this payslip are not on this computer (reading them needs "
            "hr.sensitive.read): its PDF comes from the server"
        )
    title = "Payslip"
    if doc.run["reverses_run_id"] is not None:
        title = "Payslip reversal"
    facts: list[tuple[str, FactValue]] = [("Period", (slip["period_start"], slip["period_end"]))]
    if slip["paid_days"] is not None:
        facts.append(("Working days paid", f"{slip['paid_days']} of {slip['period_days']}"))
    body: list[Row] = []
    employer: list[Row] = []
    for line in doc.lines:
        row = {
            "description": line["description"],
            "amount": major(int(line["amount"]), currency),
            STRONG: line["kind"] in ("gross", "net"),
        }
        (employer if line["kind"] == "employer" else body).append(row)
    sections: tuple[Section, ...] = ()
    if employer:
        sections = (
            Section("Paid by the employer on top of your gross pay", PAYSLIP_COLUMNS, tuple(employer)),
        )
    return BusinessDocument(
        kind="payslip",
        title=title,
        number=None,
        draft=not doc.final,
        currency=currency,
        letterhead=letterhead,
        party=Party("Employee", doc.employee_name),
        facts=tuple(facts),
        columns=PAYSLIP_COLUMNS,
        lines=tuple(body),
        sections=sections,
        draft_note="Payslip (draft, not yet posted): the payroll run may still change.",
        filename=f"payslip-{slip['period_start'].isoformat()}.pdf",
    )


Loader = Callable[..., BusinessDocument]
LOADERS: Mapping[str, Loader] = {
    "invoice": load_invoice,
    "credit_note": load_credit_note,
    "purchase_order": load_purchase_order,
    "payslip": load_payslip_document,
}


def load_document(
    session: Session,
    org_id: str,
    kind: str,
    doc_id: str,
    *,
    period: Period | None = None,
    org_name: str | None = None,
) -> BusinessDocument:
    """The document of ``kind`` (one of :data:`KINDS`) with id ``doc_id``; a statement's id is
    the customer's and it needs ``period``. Raises :class:`DocumentNotFound`."""
    if kind == "statement":
        if period is None:
            raise ValueError("a statement needs a period")
        return load_statement(session, org_id, doc_id, period, org_name)
    if kind not in LOADERS:
        raise ValueError(f"unknown document kind {kind!r}: one of {', '.join(KINDS)}")
    return LOADERS[kind](session, org_id, doc_id, org_name)

"""What the finance report screens read besides the reports themselves (no Qt here).

Period presets for the date controls; the accounts to pick from; the document lines a tax
rate's figure sums (the tax summary's drill-down); and a posting's source document — invoice,
credit note, payment, supplier bill or payment, payroll run, stock move, or the journal entry
itself for manual entries — read from the local store through the read rules of sync, so a
user sees here only the columns their role may read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.access import readable_columns
from common.money import convert
from common.reports.base import ledger_currency
from common.schema import (
    ENTITIES,
    Account,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    JournalEntry,
    JournalLine,
    SupplierBill,
    SupplierBillLine,
)
from common.schema.base import table_of

# -- periods -------------------------------------------------------------------------------------
PRESETS = (
    ("this_month", "This month"),
    ("last_month", "Last month"),
    ("this_quarter", "This quarter"),
    ("this_year", "This year"),
    ("custom", "Custom"),
)


def _month_end(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """The first and last day of the period ``preset`` names, around ``today``."""
    if preset == "this_month":
        start = today.replace(day=1)
        return start, _month_end(start)
    if preset == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if preset == "this_quarter":
        start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        return start, _month_end(date(start.year, start.month + 2, 1))
    if preset == "this_year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    raise ValueError(f"period: unknown preset {preset!r}")


def preset_of(start: date, end: date, today: date) -> str:
    """The preset that gives exactly ``start``–``end`` around ``today``; ``custom`` for none."""
    for key, _title in PRESETS[:-1]:
        if preset_range(key, today) == (start, end):
            return key
    return "custom"


# -- accounts ------------------------------------------------------------------------------------
def account_choices(db: Session, org_id: str) -> list[dict[str, Any]]:
    """The organization's accounts in code order: ``id, code, name, type, archived``."""
    a = Account.__table__.c
    stmt = (
        select(a.id, a.code, a.name, a.type, a.archived)
        .where(a.org_id == org_id, a.deleted.is_(False))
        .order_by(a.code)
    )
    return [dict(row) for row in db.execute(stmt).mappings()]


# -- tax lines -----------------------------------------------------------------------------------
TAX_SOURCES = (
    # (source, document, line, link, date column, side, sign)
    ("invoice", Invoice, InvoiceLine, "invoice_id", "issue_date", "output", 1),
    ("credit_note", CreditNote, CreditNoteLine, "credit_note_id", "issue_date", "output", -1),
    ("supplier_bill", SupplierBill, SupplierBillLine, "supplier_bill_id", "bill_date", "input", 1),
)


def tax_lines(
    db: Session, org_id: str, tax_rate_id: str | None, start: date, end: date, side: str | None = None
) -> dict[str, Any]:
    """The document lines at one tax rate (``None``: lines with none) dated in ``[start, end]``:
    what the tax summary's figures for that rate sum, converted the same way (each document at
    its own rate, credit notes negative). ``side``: ``output`` or ``input`` only.

    Answers ``{currency, rows, totals}``; amounts in minor units of the ledger currency.
    """
    currency = ledger_currency(db, org_id)
    rows: list[dict[str, Any]] = []
    for source, doc, line, link, day_key, doc_side, sign in TAX_SOURCES:
        if side is not None and side != doc_side:
            continue
        d, ln = doc.__table__.c, line.__table__.c
        day = d[day_key]
        where = [
            ln.org_id == org_id,
            ln.deleted.is_(False),
            d.deleted.is_(False),
            day >= start,
            day <= end,
            ln.tax_rate_id.is_(None) if tax_rate_id is None else ln.tax_rate_id == tax_rate_id,
        ]
        if doc is Invoice:
            where.append(d.status != "draft")
        stmt = (
            select(
                day.label("date"), d.id.label("document_id"), d.number, d.currency, d.exchange_rate,
                ln.line_no, ln.description, ln.line_total, ln.tax_amount,
            )
            .join(doc.__table__, (d.org_id == ln.org_id) & (d.id == ln[link]))
            .where(*where)
        )  # fmt: skip
        for found in db.execute(stmt).mappings():
            at = Decimal(found["exchange_rate"]) if found["exchange_rate"] is not None else Decimal(1)
            tax = sign * convert(found["tax_amount"], found["currency"], at, currency)
            base = sign * convert(found["line_total"] - found["tax_amount"], found["currency"], at, currency)
            rows.append(
                {"date": found["date"], "source": source, "source_id": found["document_id"],
                 "document": f"{SOURCE_TITLES[source]} {found['number']}", "line_no": found["line_no"],
                 "description": found["description"], "side": doc_side, "base": base, "tax": tax,
                 "currency": currency}
            )  # fmt: skip
    rows.sort(key=lambda row: (row["date"], row["document"], row["line_no"]))
    return {
        "currency": currency,
        "rows": rows,
        "totals": {"base": sum(r["base"] for r in rows), "tax": sum(r["tax"] for r in rows)},
    }


# -- source documents ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DocField:
    """One shown value of a document: ``kind`` as :func:`desktop.formatting.display` knows it
    (``money`` in the currency ``currency_key`` names; ``ledger_currency`` for the books'),
    ``ref`` = ``(entity, column)`` shows the named row's column instead of an id."""

    key: str
    label: str
    kind: str = "text"
    ref: tuple[str, str] | None = None
    currency_key: str = "currency"


@dataclass(frozen=True)
class DocumentKind:
    title: str
    entity: str | None  # None: the journal entry is the document
    fields: tuple[DocField, ...] = ()
    lines_entity: str | None = None
    lines_link: str = ""
    line_fields: tuple[DocField, ...] = ()
    number_key: str | None = "number"


_MONEY = "money"
_TOTALS = (
    DocField("subtotal", "Subtotal", _MONEY),
    DocField("tax_total", "Tax", _MONEY),
    DocField("total", "Total", _MONEY),
)
_RATE = DocField("exchange_rate", "Exchange rate", "quantity")
_SALES_LINES = (
    DocField("line_no", "#", "number"),
    DocField("description", "Description"),
    DocField("quantity", "Quantity", "quantity"),
    DocField("unit_price", "Unit price", _MONEY),
    DocField("tax_rate_id", "Tax rate", ref=("tax_rate", "code")),
    DocField("tax_amount", "Tax", _MONEY),
    DocField("line_total", "Line total", _MONEY),
)
_ENTRY = DocumentKind("Journal entry", None)
_PAYROLL = DocumentKind(
    "Payroll run",
    "payroll_run",
    (
        DocField("period_start", "Period from", "date"),
        DocField("period_end", "Period to", "date"),
        DocField("status", "Status", "status"),
        DocField("currency", "Currency"),
        DocField("paid_on", "Paid on", "date"),
        DocField("total_gross", "Gross", _MONEY),
        DocField("total_deductions", "Deductions", _MONEY),
        DocField("total_employer", "Employer contributions", _MONEY),
        DocField("total_net", "Net", _MONEY),
    ),
    number_key=None,
)
DOCUMENT_KINDS: dict[str, DocumentKind] = {
    "invoice": DocumentKind(
        "Invoice",
        "invoice",
        (
            DocField("number", "Number"),
            DocField("customer_id", "Customer", ref=("customer", "name")),
            DocField("status", "Status", "status"),
            DocField("issue_date", "Issued", "date"),
            DocField("due_date", "Due", "date"),
            DocField("currency", "Currency"),
            _RATE,
            *_TOTALS,
            DocField("amount_paid", "Paid", _MONEY),
            DocField("amount_credited", "Credited", _MONEY),
        ),
        "invoice_line",
        "invoice_id",
        _SALES_LINES,
    ),
    "credit_note": DocumentKind(
        "Credit note",
        "credit_note",
        (
            DocField("number", "Number"),
            DocField("invoice_id", "Credits invoice", ref=("invoice", "number")),
            DocField("customer_id", "Customer", ref=("customer", "name")),
            DocField("issue_date", "Issued", "date"),
            DocField("currency", "Currency"),
            _RATE,
            *_TOTALS,
            DocField("reason", "Reason"),
        ),
        "credit_note_line",
        "credit_note_id",
        _SALES_LINES,
    ),
    "payment": DocumentKind(
        "Payment received",
        "payment",
        (
            DocField("customer_id", "Customer", ref=("customer", "name")),
            DocField("invoice_id", "Invoice", ref=("invoice", "number")),
            DocField("paid_on", "Paid on", "date"),
            DocField("amount", "Amount", _MONEY),
            DocField("credit_amount", "Kept as credit", _MONEY),
            DocField("currency", "Currency"),
            _RATE,
            DocField("method", "Method", "status"),
            DocField("reference", "Reference"),
        ),
        number_key=None,
    ),
    "supplier_bill": DocumentKind(
        "Supplier bill",
        "supplier_bill",
        (
            DocField("number", "Number"),
            DocField("supplier_reference", "Supplier's reference"),
            DocField("supplier_id", "Supplier", ref=("supplier", "name")),
            DocField("purchase_order_id", "Purchase order", ref=("purchase_order", "number")),
            DocField("status", "Status", "status"),
            DocField("bill_date", "Bill date", "date"),
            DocField("due_date", "Due", "date"),
            DocField("currency", "Currency"),
            _RATE,
            *_TOTALS,
            DocField("amount_paid", "Paid", _MONEY),
        ),
        "supplier_bill_line",
        "supplier_bill_id",
        (
            DocField("line_no", "#", "number"),
            DocField("description", "Description"),
            DocField("quantity", "Quantity", "quantity"),
            DocField("unit_price", "Unit price", _MONEY),
            DocField("tax_rate_id", "Tax rate", ref=("tax_rate", "code")),
            DocField("tax_amount", "Tax", _MONEY),
            DocField("line_total", "Line total", _MONEY),
        ),
    ),
    "supplier_payment": DocumentKind(
        "Supplier payment",
        "supplier_payment",
        (
            DocField("supplier_id", "Supplier", ref=("supplier", "name")),
            DocField("supplier_bill_id", "Bill", ref=("supplier_bill", "number")),
            DocField("paid_on", "Paid on", "date"),
            DocField("amount", "Amount", _MONEY),
            DocField("currency", "Currency"),
            _RATE,
            DocField("method", "Method", "status"),
            DocField("reference", "Reference"),
        ),
        number_key=None,
    ),
    "payroll_run": _PAYROLL,
    "payroll_payment": _PAYROLL,
    "stock_move": DocumentKind(
        "Stock move",
        "stock_move",
        (
            DocField("product_id", "Product", ref=("product", "name")),
            DocField("reason", "Reason", "status"),
            DocField("quantity", "Quantity", "quantity"),
            DocField("from_warehouse_id", "From", ref=("warehouse", "name")),
            DocField("to_warehouse_id", "To", ref=("warehouse", "name")),
            DocField("moved_at", "When", "datetime"),
            DocField("unit_cost", "Unit cost", _MONEY),
            DocField("value", "Value", _MONEY, currency_key="ledger_currency"),
            DocField("reference", "Reference"),
            DocField("note", "Note"),
        ),
        number_key=None,
    ),
    "manual": _ENTRY,
    "reversal": _ENTRY,
    "year_end": _ENTRY,
}
SOURCE_TITLES = {
    **{source: kind.title for source, kind in DOCUMENT_KINDS.items()},
    "manual": "Manual entry",
    "reversal": "Reversal",
    "year_end": "Year-end close",
    "payroll_payment": "Payroll payment",
}
ENTRY_LINE_FIELDS = (
    DocField("code", "Account"),
    DocField("account", "Name"),
    DocField("memo", "Memo"),
    DocField("debit", "Debit", _MONEY),
    DocField("credit", "Credit", _MONEY),
)


@dataclass
class SourceDocument:
    """A posting's source as the viewer shows it. ``header`` and ``lines`` hold only what the
    user may read (ids replaced by names); ``withheld`` says what their role may not open."""

    source: str
    title: str
    kind: DocumentKind
    header: dict[str, Any] = field(default_factory=dict)
    lines: list[dict[str, Any]] = field(default_factory=list)
    entry: dict[str, Any] | None = None
    entry_lines: list[dict[str, Any]] = field(default_factory=list)
    withheld: str | None = None
    found: bool = True

    @property
    def fields(self) -> list[DocField]:
        """The header fields the user may read and that have a value."""
        return [f for f in self.kind.fields if f.key in self.header and self.header[f.key] not in (None, "")]

    @property
    def line_fields(self) -> list[DocField]:
        readable = set().union(*(line.keys() for line in self.lines)) if self.lines else set()
        return [f for f in self.kind.line_fields if f.key in readable]


def _row(db: Session, entity: str, org_id: str, where: Any, columns: frozenset[str]) -> dict[str, Any] | None:
    table = table_of(ENTITIES[entity])
    found = db.execute(
        select(*(table.c[name] for name in sorted(columns)))
        .where(table.c.org_id == org_id, table.c.deleted.is_(False), where(table))
        .limit(1)
    ).mappings()
    row = found.first()
    return dict(row) if row is not None else None


def _resolve(
    db: Session, org_id: str, permissions: frozenset[str], fields: tuple[DocField, ...], row: dict[str, Any]
) -> None:
    """Replace referenced ids by the named column, where the user may read it."""
    for spec in fields:
        if spec.ref is None or row.get(spec.key) is None:
            continue
        entity, column = spec.ref
        if column not in readable_columns(entity, permissions):
            row[spec.key] = "—"
            continue
        value = row[spec.key]
        other = _row(db, entity, org_id, lambda t, v=value: t.c.id == v, frozenset({column}))
        row[spec.key] = other[column] if other is not None else "—"


def _entry_lines(db: Session, org_id: str, entry_id: str) -> list[dict[str, Any]]:
    lines, accounts = JournalLine.__table__.c, Account.__table__.c
    stmt = (
        select(accounts.code, accounts.name.label("account"), lines.memo, lines.debit, lines.credit,
               lines.currency, lines.account_id)
        .join(Account.__table__, (accounts.org_id == lines.org_id) & (accounts.id == lines.account_id))
        .where(lines.org_id == org_id, lines.journal_entry_id == entry_id, lines.deleted.is_(False))
        .order_by(lines.line_no)
    )  # fmt: skip
    return [dict(row) for row in db.execute(stmt).mappings()]


def _entry(db: Session, org_id: str, where: Any) -> dict[str, Any] | None:
    """The first entry (by number) ``where`` finds: a number's, or a document's (one or two).
    Ordered here, not in SQL: asked to order by number, SQLite (no statistics on the desktop)
    walked the number index to the entry rather than look the document up in
    ``ix_journal_entry_source``, 190 ms for a late invoice among 250,000 entries."""
    e = JournalEntry.__table__.c
    stmt = select(e.id, e.number, e.entry_date, e.memo, e.source, e.source_id, e.reverses_entry_id).where(
        e.org_id == org_id, e.deleted.is_(False), where
    )
    rows = [dict(row) for row in db.execute(stmt).mappings()]
    return min(rows, key=lambda row: str(row["number"])) if rows else None


def source_document(
    db: Session,
    org_id: str,
    permissions: frozenset[str],
    *,
    entry_number: str | None = None,
    source: str | None = None,
    source_id: str | None = None,
) -> SourceDocument:
    """The source document of the journal entry numbered ``entry_number`` (a general ledger
    line's), or the document ``source``/``source_id`` names (a tax line's) with its posting."""
    e = JournalEntry.__table__.c
    entry = None
    if entry_number is not None:
        entry = _entry(db, org_id, e.number == entry_number)
        if entry is None:
            return SourceDocument("manual", f"Entry {entry_number}", _ENTRY, found=False)
        source, source_id = entry["source"], entry["source_id"]
    elif source is not None and source_id is not None:
        entry = _entry(db, org_id, (e.source == source) & (e.source_id == source_id))
    source = source or "manual"
    kind = DOCUMENT_KINDS.get(source, _ENTRY)
    doc = SourceDocument(source, SOURCE_TITLES.get(source, source.replace("_", " ").capitalize()), kind)
    if entry is not None:
        doc.entry = entry
        doc.entry_lines = _entry_lines(db, org_id, entry["id"])
        if entry["reverses_entry_id"]:
            reversed_entry = _entry(db, org_id, e.id == entry["reverses_entry_id"])
            doc.entry["reverses"] = reversed_entry["number"] if reversed_entry else None
    if kind.entity is None or source_id is None:
        if entry is not None:
            doc.title = f"{doc.title} {entry['number']}"
        else:
            doc.found = False
        return doc
    columns = readable_columns(kind.entity, permissions)
    if not columns:
        doc.withheld = (
            f"Your role may not open {doc.title.lower()}s; the posting below is what the books hold."
        )
        return doc
    header = _row(db, kind.entity, org_id, lambda t: t.c.id == source_id, columns | {"id"})
    if header is None:
        doc.found = False
        doc.withheld = f"This {doc.title.lower()} is not on this computer (yet)."
        return doc
    header["ledger_currency"] = ledger_currency(db, org_id)
    hidden = [f.label.lower() for f in kind.fields if f.key not in columns]
    if hidden:
        doc.withheld = f"Your role may not see: {', '.join(hidden)}."
    _resolve(db, org_id, permissions, kind.fields, header)
    doc.header = header
    if kind.number_key and header.get(kind.number_key):
        doc.title = f"{doc.title} {header[kind.number_key]}"
    elif entry is not None:
        doc.title = f"{doc.title} (entry {entry['number']})"
    if kind.lines_entity is not None:
        line_columns = readable_columns(kind.lines_entity, permissions)
        table = table_of(ENTITIES[kind.lines_entity])
        wanted = {f.key for f in kind.line_fields} & line_columns
        stmt = (
            select(*(table.c[name] for name in sorted(wanted)))
            .where(
                table.c.org_id == org_id, table.c.deleted.is_(False), table.c[kind.lines_link] == source_id
            )
            .order_by(table.c.line_no)
        )
        for line in db.execute(stmt).mappings():
            shown = {**dict(line), "currency": header.get("currency")}
            _resolve(db, org_id, permissions, kind.line_fields, shown)
            doc.lines.append(shown)
    return doc

"""What the desktop prints (no Qt here): business documents and lists.

Invoices, credit notes, customer statements, purchase orders and payslips are read from the local
store by the one document renderer (:mod:`common.documents`), in the user's locale; lists become a
:class:`common.exports.document.PrintDocument` under the same read rules as exports.
:mod:`desktop.ui.printing` shows either in a print preview.
"""

from __future__ import annotations

from datetime import date

from common.documents import (
    KINDS,
    BusinessDocument,
    DocumentLocale,
    DocumentNotFound,
    Period,
    load_document,
)
from common.exports.document import PrintDocument
from desktop.list_export import ListView, list_table
from desktop.lists import ListSource
from desktop.numbers import NumberLocale
from desktop.session import UserSession

# What the desktop prints as a business document (``print_document`` kinds).
DOCUMENT_KINDS = KINDS
NotFound = DocumentNotFound


def default_period(today: date) -> Period:
    """A statement's period when none is given: the month so far."""
    return Period(today.replace(day=1), today)


def business_document(
    session: UserSession, kind: str, doc_id: str, *, period: Period | None = None
) -> BusinessDocument:
    """The document of ``kind`` read from the local store (statements: ``doc_id`` is the
    customer's, for ``period``, the month so far by default). Raises :class:`NotFound`."""
    if kind == "statement" and period is None:
        period = default_period(date.today())
    with session.store.read_session() as db:
        return load_document(db, session.org_id, kind, doc_id, period=period, org_name=session.org_name)


def purchase_order_document(session: UserSession, order_id: str) -> BusinessDocument:
    """A purchase order as a printable document: supplier, delivery, lines and total."""
    return business_document(session, "purchase_order", order_id)


_QT_DATE_PARTS = (("yyyy", "%Y"), ("yy", "%Y"), ("MM", "%m"), ("M", "%m"), ("dd", "%d"), ("d", "%d"))


def strftime_pattern(qt_format: str) -> str:
    """A Qt short date format (``dd.MM.yyyy``, ``M/d/yy``) as a ``strftime`` pattern with
    four-digit years and two-digit days and months; ISO for formats with names of days or months."""
    out, index = "", 0
    while index < len(qt_format):
        for token, directive in _QT_DATE_PARTS:
            if qt_format.startswith(token, index):
                if qt_format.startswith(token + token[0], index):  # MMM, ddd: names
                    return "%Y-%m-%d"
                out += directive
                index += len(token)
                break
        else:
            char = qt_format[index]
            if char.isalpha() or char == "'":
                return "%Y-%m-%d"
            out += "%%" if char == "%" else char
            index += 1
    return out if {"%Y", "%m", "%d"} <= {out[i : i + 2] for i in range(len(out) - 1)} else "%Y-%m-%d"


def document_locale(numbers: NumberLocale, qt_date_format: str | None = None) -> DocumentLocale:
    """The user's locale for printed documents: their separators and their date format."""
    pattern = strftime_pattern(qt_date_format) if qt_date_format else "%Y-%m-%d"
    return DocumentLocale(decimal=numbers.decimal, group=numbers.group, date_format=pattern)


def list_document(
    source: ListSource, title: str, view: ListView, session: UserSession, total: int | None = None
) -> PrintDocument:
    """A list as printed: its readable columns, current filter and sort."""
    return PrintDocument(title=title, table=list_table(source, title, view, session.permissions, total=total))

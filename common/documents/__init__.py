"""Printable business documents: one model, one renderer, two outputs (no Qt here).

:func:`load_document` reads an invoice, a credit note, a customer statement, a purchase order
or a payslip from a store into a :class:`BusinessDocument`; :func:`document_pdf` writes it as a
PDF (the server's downloads, the desktop's "Save as PDF") and :func:`document_html` as HTML for
the desktop's print preview. Both write amounts, quantities and dates in the
:class:`DocumentLocale` they are given.
"""

from __future__ import annotations

from common.documents.html import document_html
from common.documents.loaders import (
    KIND_TITLES,
    KINDS,
    DocumentNotFound,
    DocumentUnavailable,
    Period,
    load_document,
    load_letterhead,
)
from common.documents.model import (
    DEFAULT_LOCALE,
    LOCALES,
    BusinessDocument,
    Column,
    DocumentLocale,
    Letterhead,
    Party,
    Section,
    TaxLine,
    Total,
)
from common.documents.pdf import document_pdf

__all__ = [
    "DEFAULT_LOCALE",
    "KINDS",
    "KIND_TITLES",
    "LOCALES",
    "BusinessDocument",
    "Column",
    "DocumentLocale",
    "DocumentNotFound",
    "DocumentUnavailable",
    "Letterhead",
    "Party",
    "Period",
    "Section",
    "TaxLine",
    "Total",
    "document_html",
    "document_pdf",
    "load_document",
    "load_letterhead",
]

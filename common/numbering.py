"""Document numbers: provisional offline, final and gapless on the server."""

from __future__ import annotations

# Kind of document → prefix of its final number.
DOCUMENT_PREFIXES = {
    "invoice": "INV-",
    # An invoice's number while it is a draft: the gapless INV- number is given when it is posted.
    "invoice_draft": "DRAFT-INV-",
    "credit_note": "CN-",
    "supplier_bill": "BILL-",
    "purchase_order": "PO-",
    "sales_order": "SO-",
    "journal_entry": "JE-",
}
DRAFT_PREFIX = "DRAFT-"


def final_number(kind: str, value: int) -> str:
    """The final number of the ``value``-th document of ``kind``: ``INV-000042``."""
    return f"{DOCUMENT_PREFIXES[kind]}{value:06d}"


def provisional_number(device_tag: str, value: int) -> str:
    """A number given offline, replaced by the server: ``DRAFT-<device>-<n>``."""
    return f"{DRAFT_PREFIX}{device_tag}-{value}"

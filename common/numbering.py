"""Document numbers: provisional offline, final and gapless on the server."""

from __future__ import annotations

import re

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


# This system's own numbers of invoices and credit notes: the gapless series (``INV-000123``).
_OWN_NUMBER = re.compile(
    "(" + "|".join(re.escape(DOCUMENT_PREFIXES[kind]) for kind in ("invoice", "credit_note")) + r")[0-9]{6,}",
    re.IGNORECASE,
)


def is_own_number(number: str) -> bool:
    """Whether ``number`` is of this system's own series of invoices and credit notes, a draft's
    included: an open item brought from the old system never is (it keeps the old number)."""
    return number.upper().startswith(DRAFT_PREFIX) or _OWN_NUMBER.fullmatch(number) is not None


def final_number(kind: str, value: int) -> str:
    """The final number of the ``value``-th document of ``kind``: ``INV-000042``."""
    return f"{DOCUMENT_PREFIXES[kind]}{value:06d}"


def provisional_number(device_tag: str, value: int) -> str:
    """A number given offline, replaced by the server: ``DRAFT-<device>-<n>``."""
    return f"{DRAFT_PREFIX}{device_tag}-{value}"

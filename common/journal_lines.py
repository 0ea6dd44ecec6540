"""A journal entry's lines as stored in the entry (``journal_entry.lines_json``, revision 0019).

One JSON array per entry, one array per line in line order:
``[id, account_id, debit, credit, currency, memo]`` (amounts in minor units). ``line_no`` is a
line's place, from 1. The ``journal_line`` view shows the same lines as rows; these are for code
that holds an entry's row already (a reversal, the audit's check, the desktop's entry screen).
"""

from __future__ import annotations

import json
from typing import Any

FIELDS = ("id", "account_id", "debit", "credit", "currency", "memo")

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False).encode


def encode_lines(lines: list[list[Any]]) -> str:
    """The stored text of lines given as ``[id, account_id, debit, credit, currency, memo]``."""
    return _encode(lines)


def decode_lines(stored: str | None) -> list[dict[str, Any]]:
    """An entry's lines as dicts with ``line_no``; malformed text raises ``ValueError``."""
    lines = json.loads(stored or "[]")
    if not isinstance(lines, list):
        raise ValueError("an entry's lines are not a JSON array")
    decoded = []
    for line_no, line in enumerate(lines, start=1):
        if not isinstance(line, list) or len(line) != len(FIELDS):
            raise ValueError(f"line {line_no} of an entry is not a line")
        decoded.append({"line_no": line_no, **dict(zip(FIELDS, line, strict=True))})
    return decoded

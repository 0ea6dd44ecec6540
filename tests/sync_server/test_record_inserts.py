"""The audit image of a row the server's recorder writes down as new (``_new_image``). Lines of
a journal entry were written down here at once as rows (``ServerRecorder.record_inserts``) until
they moved into their entry's row (revision 0019): they are a column of the entry's image now
(``tests/sync_server/test_audit_ledger.py``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sync_server.writes import _new_image, _wire

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
ORG = "0193a1b2-c3d4-7000-8000-000000000001"


def _entry(entry_id: str, version: int) -> dict[str, Any]:
    return {"org_id": ORG, "id": entry_id, "number": f"JE-{version}", "entry_date": date(2026, 12, 1),
            "fiscal_period_id": None, "memo": "Invoice", "source": "invoice", "source_id": None,
            "reverses_entry_id": None, "version": version, "updated_at": NOW, "updated_by": "u",
            "deleted": False, "lines_json": '[["l1","acc-1",100,0,"EUR",null]]'}  # fmt: skip


E1 = "0193a1b2-c3d4-8000-8000-00000000e001"


def test_a_new_rows_image_is_its_columns_but_stamps_and_identity_as_json_values() -> None:
    """The audit image of a new row (``_new_image``): every column but the stamps and the
    identity, each value as :func:`_wire` converts it (dates, times, decimals, JSON)."""
    row = {
        **_entry(E1, 1),
        "amount": Decimal("1.50"),
        "extra": {"at": NOW, "n": [Decimal("2")]},
        "flag": True,
    }
    image = _new_image(row)
    assert image == _wire(
        {k: v for k, v in row.items() if k not in {"org_id", "id", "version", "updated_at", "updated_by"}}
    )
    assert image["entry_date"] == "2026-12-01" and "updated_at" not in image and "id" not in image
    assert image["lines_json"] == row["lines_json"]  # an entry's lines: its stored text, as is
    assert list(image) == [k for k in row if k not in {"org_id", "id", "version", "updated_at", "updated_by"}]

"""The server's recorder writes down several new rows of one entity at once
(``ServerRecorder.record_inserts``, a journal entry's lines) as it writes them down one by one
(``record_write``): the same audit events, the lines nested in their entry's event only where
that event is the command's last; the same change-log rows, but none for lines that took the
change sequences right after their entry's, in the same command (they travel with it)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from sync_server.writes import ServerRecorder, _new_image, _wire

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
ORG = "0193a1b2-c3d4-7000-8000-000000000001"


def _entry(entry_id: str, version: int) -> dict[str, Any]:
    return {"org_id": ORG, "id": entry_id, "number": f"JE-{version}", "entry_date": date(2026, 12, 1),
            "fiscal_period_id": None, "memo": "Invoice", "source": "invoice", "source_id": None,
            "reverses_entry_id": None, "version": version, "updated_at": NOW, "updated_by": "u",
            "deleted": False}  # fmt: skip


def _line(entry_id: str, n: int, version: int) -> dict[str, Any]:
    return {"org_id": ORG, "id": f"{entry_id[:-4]}{n:04d}", "journal_entry_id": entry_id, "line_no": n,
            "account_id": "acc-" + str(n), "debit": 100 * n, "credit": 0, "currency": "EUR", "memo": None,
            "entry_date": date(2026, 12, 1), "version": version, "updated_at": NOW, "updated_by": "u",
            "deleted": False}  # fmt: skip


E1 = "0193a1b2-c3d4-8000-8000-00000000e001"
E2 = "0193a1b2-c3d4-8000-8000-00000000e002"


def _scenario(case: str, bulk: bool) -> ServerRecorder:
    recorder = ServerRecorder(ORG, 0, NOW)
    recorder.action, recorder.actor = "sales.post_invoice", "u"
    recorder.mark()
    lines: list[dict[str, Any]]
    if case == "after_its_entry":
        recorder.record_write("journal_entry", E1, None, _entry(E1, 1))
        lines = [_line(E1, n, 1 + n) for n in (1, 2, 3)]
    elif case == "another_entry_between":
        recorder.record_write("journal_entry", E1, None, _entry(E1, 1))
        lines = [_line(E1, 1, 2), _line(E2, 1, 3), _line(E1, 2, 4)]
    elif case == "no_entry_event":
        lines = [_line(E1, n, n) for n in (1, 2)]
    else:  # "entry_of_the_previous_command"
        recorder.record_write("journal_entry", E1, None, _entry(E1, 1))
        recorder.mark()
        lines = [_line(E1, n, 1 + n) for n in (1, 2)]
    if bulk:
        recorder.record_inserts("journal_line", lines)
    else:
        for line in lines:
            recorder.record_write("journal_line", line["id"], None, line)
    return recorder


@pytest.mark.parametrize(
    "case", ["after_its_entry", "another_entry_between", "no_entry_event", "entry_of_the_previous_command"]
)
def test_lines_recorded_at_once_as_one_by_one(case: str) -> None:
    one_by_one, at_once = _scenario(case, bulk=False), _scenario(case, bulk=True)
    # Lines inserted right after their entry by the same command travel with the entry's
    # change-log row (LOGGED_WITH); any other lines keep a change-log row each.
    travelling = case == "after_its_entry"
    assert at_once.changes == [
        c for c in one_by_one.changes if not (travelling and c["entity"] == "journal_line")
    ]
    assert at_once.seq == one_by_one.seq
    assert [asdict(e) for e in at_once.events] == [asdict(e) for e in one_by_one.events]
    nested = [len((e.after or {}).get("lines", [])) for e in at_once.events]
    assert (
        nested
        == {
            "after_its_entry": [3],
            "another_entry_between": [1, 0, 0],
            "no_entry_event": [0, 0],
            "entry_of_the_previous_command": [0, 0, 0],
        }[case]
    )


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
    assert list(image) == [k for k in row if k not in {"org_id", "id", "version", "updated_at", "updated_by"}]

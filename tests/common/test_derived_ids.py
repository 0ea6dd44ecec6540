"""Derived ids (``CommandContext.derived_id``): scheme 1 as it always was; scheme 2 keeps the
command id's time prefix, so that a command's rows sit together in every index."""

from __future__ import annotations

import uuid

from common.commands import DERIVED_IDS, LEGACY_DERIVED_IDS, CommandContext
from common.ids import is_uuid, new_id

COMMAND = "0190f1e2-3a4b-7c5d-8e9f-a0b1c2d3e4f5"


def derive(command_id: str, scheme: int, *parts: str) -> str:
    ctx = CommandContext.__new__(CommandContext)  # derived_id reads nothing else
    ctx.command_id, ctx.derived_ids = command_id, scheme
    return ctx.derived_id(*parts)


def test_scheme_1_derives_exactly_what_it_always_did() -> None:
    # Computed by the code before scheme 2 existed: desktops of that version hold these rows.
    assert derive(COMMAND, LEGACY_DERIVED_IDS, "journal_entry") == "7638b183-dbd6-8d69-b203-3ab351e32cb0"
    assert derive(COMMAND, LEGACY_DERIVED_IDS, "journal_line", "1") == "646207d5-69ca-8c55-ae9d-dec763d316d1"


def test_scheme_2_keeps_the_command_ids_first_48_bits_and_the_digest_for_the_rest() -> None:
    entry = derive(COMMAND, DERIVED_IDS, "journal_entry")
    line = derive(COMMAND, DERIVED_IDS, "journal_line", "1")
    assert entry == "0190f1e2-3a4b-8d69-b203-3ab351e32cb0"
    assert line == "0190f1e2-3a4b-8c55-ae9d-dec763d316d1"
    for derived in (entry, line):
        value = uuid.UUID(derived)
        assert is_uuid(derived) and value.version == 8 and value.variant == uuid.RFC_4122
        assert value.int >> 80 == uuid.UUID(COMMAND).int >> 80


def test_scheme_2_is_deterministic_and_distinct_for_distinct_parts() -> None:
    command = new_id()
    parts = [("journal_entry",), *(("journal_line", str(n)) for n in range(200)), ("audit", "x")]
    first = [derive(command, DERIVED_IDS, *p) for p in parts]
    assert first == [derive(command, DERIVED_IDS, *p) for p in parts]
    assert len(set(first)) == len(parts)
    assert all(d[:13] == command[:13] for d in first)  # the UUIDv7's millisecond timestamp
    # Another command's rows are other rows, even made in the same millisecond.
    other = command[:14] + ("0" if command[14] != "0" else "1") + command[15:]
    assert not set(first) & {derive(other, DERIVED_IDS, *p) for p in parts}


def test_the_default_scheme_is_2_and_an_id_that_is_no_uuid_still_derives_a_uuid() -> None:
    assert CommandContext.__dataclass_fields__["derived_ids"].default == DERIVED_IDS
    derived = derive("not-a-uuid", DERIVED_IDS, "journal_entry")
    assert is_uuid(derived) and derived == derive("not-a-uuid", LEGACY_DERIVED_IDS, "journal_entry")


def test_ids_derived_in_a_series_are_the_ids_derived_one_by_one() -> None:
    """``derived_id_each`` (a journal entry's line ids, the shared digest prefix taken once)
    answers exactly what ``derived_id`` answers per line, in both schemes."""
    for command in (COMMAND, new_id(), "not-a-uuid"):
        for scheme in (LEGACY_DERIVED_IDS, DERIVED_IDS):
            ctx = CommandContext.__new__(CommandContext)
            ctx.command_id, ctx.derived_ids = command, scheme
            lasts = [str(n) for n in range(1, 12)]
            assert ctx.derived_id_each(("journal_line", "e"), lasts) == [
                ctx.derived_id("journal_line", "e", last) for last in lasts
            ]
    ctx = CommandContext.__new__(CommandContext)
    ctx.command_id, ctx.derived_ids = COMMAND, LEGACY_DERIVED_IDS
    assert ctx.derived_id_each(("journal_line",), ["1"]) == ["646207d5-69ca-8c55-ae9d-dec763d316d1"]

"""The organization profile form's builder: changed fields with their base, problems by field."""

from __future__ import annotations

from common.profile_forms import build_profile_update

STORED = {"legal_name": "Acme GmbH", "iban": "DE89370400440532013000", "bic": None, "city": "Hamburg"}


def test_only_changed_fields_are_sent_with_their_old_values() -> None:
    typed = {**STORED, "iban": "de89 3704 0044 0532 0130 00", "city": "  Bremen ", "bic": ""}
    update = build_profile_update(STORED, typed)
    assert update.problems == {}
    # The IBAN typed with spaces and lower case is the stored one: unchanged.
    assert update.args == {"changes": {"city": "Bremen"}, "base": {"city": "Hamburg"}}


def test_a_first_profile_has_empty_bases_and_problems_name_the_field() -> None:
    update = build_profile_update(None, {"legal_name": "Acme GmbH", "country": "Germany", "iban": "DE00 1"})
    assert set(update.problems) == {"country", "iban"}
    assert "IBAN" in update.problems["iban"]
    fine = build_profile_update(None, {"legal_name": "Acme GmbH", "country": "de"})
    assert fine.problems == {}
    assert fine.args == {
        "changes": {"legal_name": "Acme GmbH", "country": "de"},
        "base": {"legal_name": None, "country": None},
    }
    unchanged = build_profile_update(STORED, STORED)
    assert unchanged.problems == {"": "Nothing to save yet: no field was changed."}

"""The organization profile form, turned into ``finance.set_organization_profile`` args — no Qt,
unit-tested. Only changed fields are sent, with their old values as ``base``; the command's own
changes model names what is wrong, field by field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from common.commands.organization_profile import OrganizationProfileChanges
from common.schema.profile import PROFILE_FIELDS
from common.validation import problems

COMMAND = "finance.set_organization_profile"
# Field → label, in the form's order.
PROFILE_LABELS: Mapping[str, str] = {
    "legal_name": "Legal name",
    "address_line1": "Address",
    "address_line2": "Address (line 2)",
    "postcode": "Postcode",
    "city": "City",
    "country": "Country",
    "tax_id": "Tax / VAT id",
    "email": "E-mail",
    "phone": "Phone",
    "iban": "IBAN",
    "bic": "BIC",
}
assert tuple(PROFILE_LABELS) == PROFILE_FIELDS


@dataclass(frozen=True)
class ProfileUpdate:
    args: dict[str, Any]
    problems: dict[str, str]


def _clean(value: Any) -> str | None:
    text = str(value or "").strip()
    return text or None


def build_profile_update(before: Mapping[str, Any] | None, raw: Mapping[str, Any]) -> ProfileUpdate:
    """What was typed → the command's ``{changes, base}``; problems keyed by field (``""``: the
    whole form, e.g. nothing changed). IBANs and BICs compare without spaces and case."""
    old = {key: (before or {}).get(key) for key in PROFILE_FIELDS}
    typed = {key: _clean(raw.get(key)) for key in PROFILE_FIELDS}
    found = problems(OrganizationProfileChanges, typed)
    normalized = dict(typed)
    if not found:
        parsed = OrganizationProfileChanges.model_validate(typed)
        normalized = {key: getattr(parsed, key) for key in PROFILE_FIELDS}
    changes = {key: typed[key] for key in PROFILE_FIELDS if normalized[key] != old[key]}
    args = {"changes": changes, "base": {key: old[key] for key in changes}}
    if not found and not changes:
        found[""] = "Nothing to save yet: no field was changed."
    return ProfileUpdate(args, found)

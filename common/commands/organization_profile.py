"""The organization's profile (letterhead, tax id, bank account): one command sets its fields.

``finance.set_organization_profile {changes, base}`` is a per-field compare-and-set like every
update of master data (DESIGN §4); the organization's profile row (id = the organization's id)
is created by the first change, its fields compared with empty ``base`` values. An empty text
clears a field. The IBAN and BIC are checked (ISO 13616 mod 97, ISO 9362) and stored compact
and upper case, so a SEPA file made from them never fails on the organization's own account.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as NumberError

from common.commands.fields import NAME_TEXT, Args, Changes
from common.commands.framework import CommandContext, apply_field_changes, command, parse_changes
from common.schema.profile import PROFILE_FIELDS, OrganizationProfile


def _empty_is_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _iban(value: str) -> str:
    try:
        return str(stdnum_iban.validate(value))
    except NumberError as exc:
        raise ValueError(f"is not a valid IBAN ({exc})") from None


def _bic(value: str) -> str:
    try:
        return str(stdnum_bic.validate(value))
    except NumberError as exc:
        raise ValueError(f"is not a valid BIC ({exc})") from None


_EMPTY = BeforeValidator(_empty_is_none)
Line = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), NAME_TEXT] | None, _EMPTY
]
Short = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=20), NAME_TEXT] | None, _EMPTY
]
Medium = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), NAME_TEXT] | None, _EMPTY
]
TaxId = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=50), NAME_TEXT] | None, _EMPTY
]
Iban = Annotated[Annotated[str, StringConstraints(max_length=42), AfterValidator(_iban)] | None, _EMPTY]
Bic = Annotated[Annotated[str, StringConstraints(max_length=14), AfterValidator(_bic)] | None, _EMPTY]
Country = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")] | None,
    _EMPTY,
]
ProfileEmail = Annotated[
    Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    ]
    | None,
    _EMPTY,
]
ProfilePhone = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9+()\-. /]{3,50}$")] | None, _EMPTY
]


class OrganizationProfileChanges(Changes):
    """The profile's fields; each optional, an empty text clears it."""

    legal_name: Line = None
    address_line1: Line = None
    address_line2: Line = None
    postcode: Short = None
    city: Medium = None
    country: Country = None
    tax_id: TaxId = None
    email: ProfileEmail = None
    phone: ProfilePhone = None
    iban: Iban = None
    bic: Bic = None


assert tuple(OrganizationProfileChanges.model_fields) == PROFILE_FIELDS


class SetOrganizationProfileArgs(Args):
    changes: dict[str, Any] = Field(max_length=len(PROFILE_FIELDS))
    base: dict[str, Any] = Field(max_length=len(PROFILE_FIELDS))


@command("finance.set_organization_profile", args=SetOrganizationProfileArgs, permission="finance.write")
def set_organization_profile(ctx: CommandContext, args: SetOrganizationProfileArgs) -> None:
    """Change fields of the organization's profile (per-field compare-and-set; created when the
    organization has none yet)."""
    current = ctx.get(OrganizationProfile, ctx.org_id, include_deleted=True)
    if current is None:
        # Validate first, so a bad first change creates nothing.
        parse_changes(OrganizationProfileChanges, args.changes, args.base)
        current = ctx.insert(OrganizationProfile, {"id": ctx.org_id, **dict.fromkeys(PROFILE_FIELDS)})
    apply_field_changes(
        ctx,
        OrganizationProfile,
        ctx.org_id,
        OrganizationProfileChanges,
        args.changes,
        args.base,
        current=current,
        readable=frozenset(PROFILE_FIELDS),
    )

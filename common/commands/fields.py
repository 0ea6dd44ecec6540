"""Constrained argument types shared by every command: each string and list has a size limit."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Annotated, Any, Optional, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
)

from common.ids import is_uuid
from common.money import CURRENCIES, MAX_MINOR_UNITS, QuantityError, parse_quantity


def _check_uuid(value: str) -> str:
    if not is_uuid(value):
        raise ValueError("must be a lowercase UUID like 0190a0b2-7c4e-7d2a-9f00-3c5e8a1b2c3d")
    return value


def _check_currency(value: str) -> str:
    if value not in CURRENCIES:
        raise ValueError(f"'{value}' is not a supported ISO 4217 currency code")
    return value


# Longer number text is refused before parsing: no exact quantity needs more, and a megabyte of
# digits would overflow the decimal context instead of failing validation.
MAX_NUMBER_TEXT = 40


def _bounded_number(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_NUMBER_TEXT:
        raise QuantityError(f"is too long (at most {MAX_NUMBER_TEXT} characters)")
    return value


def _parse_quantity(value: Any) -> Decimal:
    try:
        return parse_quantity(_bounded_number(value))
    except QuantityError as exc:
        raise ValueError(str(exc)) from exc


def _parse_exact(value: Any) -> Decimal:
    try:
        return parse_quantity(_bounded_number(value))
    except QuantityError as exc:
        raise ValueError(str(exc)) from exc


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be greater than zero")
    return value


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _percent(value: Decimal) -> Decimal:
    if value < 0 or value > 100:
        raise ValueError("must be a percentage between 0 and 100")
    return value


def refuse_control_characters(value: str, *, multiline: bool) -> str:
    """``value``, unless it holds a control character (Unicode category Cc: C0, DEL, C1).

    Tabs and newlines are allowed in text that has lines (``multiline``), never elsewhere.
    Every string that arrives over the wire passes here (command args, API bodies): a NUL byte
    cannot be stored by PostgreSQL, and escape sequences have no place in stored text.
    """
    allowed = "\n\t" if multiline else ""
    for ch in value:
        if unicodedata.category(ch) == "Cc" and ch not in allowed:
            raise ValueError(f"must not contain control characters (found U+{ord(ch):04X})")
    return value


def check_name_text(value: str) -> str:
    """``value`` in Unicode NFC, unless it holds a control or an invisible format character.

    Names and e-mail addresses are what people recognise each other by, so they must look like
    what they are: besides controls (Cc), format characters (Cf: bidirectional overrides such
    as U+202E that show "moc.elgoog" as "google.com", zero-width spaces and joiners, soft
    hyphens) and line or paragraph separators are refused, and the text is stored composed
    (NFC), so that "é" typed as e + U+0301 and as U+00E9 are one and the same name.
    """
    for ch in value:
        category = unicodedata.category(ch)
        if category in ("Cc", "Zl", "Zp"):
            raise ValueError(f"must not contain control characters (found U+{ord(ch):04X})")
        if category == "Cf":
            raise ValueError(
                f"must not contain invisible formatting characters such as direction overrides "
                f"or zero-width characters (found U+{ord(ch):04X})"
            )
    return unicodedata.normalize("NFC", value)


def _no_control_chars(value: str) -> str:
    return refuse_control_characters(value, multiline=True)


def _single_line(value: str) -> str:
    return refuse_control_characters(value, multiline=False)


def _text(max_length: int, min_length: int = 1) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


_NO_CONTROL = AfterValidator(_no_control_chars)
# Shared with the HTTP API's models: text with lines, and single-line text.
NO_CONTROL = _NO_CONTROL
SINGLE_LINE = AfterValidator(_single_line)
# Names of people and things, and e-mail addresses: NFC, no controls, no format characters.
NAME_TEXT = AfterValidator(check_name_text)
# Texts of bounded length, stripped, without control characters; ``Opt…`` ones may be empty.
Text16 = Annotated[str, _text(16), _NO_CONTROL]
Text40 = Annotated[str, _text(40), _NO_CONTROL]
Text50 = Annotated[str, _text(50), _NO_CONTROL]
Text64 = Annotated[str, _text(64), _NO_CONTROL]
Text100 = Annotated[str, _text(100), _NO_CONTROL]
Text200 = Annotated[str, _text(200), _NO_CONTROL]
Text500 = Annotated[str, _text(500), _NO_CONTROL]
OptText500 = Annotated[str, _text(500, 0), _NO_CONTROL]
OptText1000 = Annotated[str, _text(1000, 0), _NO_CONTROL]
OptText2000 = Annotated[str, _text(2000, 0), _NO_CONTROL]
OptText4000 = Annotated[str, _text(4000, 0), _NO_CONTROL]

Id = Annotated[str, StringConstraints(max_length=36), AfterValidator(_check_uuid)]
Currency = Annotated[
    str, StringConstraints(min_length=3, max_length=3, to_upper=True), AfterValidator(_check_currency)
]
Name = Annotated[str, _text(200), NAME_TEXT]
PersonName = Name
Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._\-/]+$"),
]
# A short code such as an account number or a tax code (``4000``, ``VAT-20``).
ShortCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20, pattern=r"^[A-Za-z0-9._\-/]+$"),
]
Sku = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-/]+$"),
]
Note = OptText1000
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    NAME_TEXT,
]
# An account's sign-in address (the API): any ``local@domain``, as accounts have always allowed.
AccountEmail = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$"),
    NAME_TEXT,
]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=50, pattern=r"^[0-9+()\-. /]{3,50}$")
]
# Money in integer minor units (cents): never a float.
MinorUnits = Annotated[int, Field(strict=True, ge=0, le=MAX_MINOR_UNITS)]
PositiveMinorUnits = Annotated[int, Field(strict=True, gt=0, le=MAX_MINOR_UNITS)]
PositiveQuantity = Annotated[Decimal, BeforeValidator(_parse_quantity), AfterValidator(_positive)]
NonNegativeQuantity = Annotated[Decimal, BeforeValidator(_parse_quantity), AfterValidator(_not_negative)]
# An exact percentage, 0-100 inclusive (``"20"`` is 20 %), given as decimal text or an integer.
Percent = Annotated[Decimal, BeforeValidator(_parse_exact), AfterValidator(_percent)]


class Args(BaseModel):
    """Base of every command's args: unknown fields are refused, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Changes(BaseModel):
    """Base of the ``changes``/``base`` part of an update: only the named fields may appear."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


def text_limit(model: type[BaseModel], field_name: str) -> int:
    """The most characters ``field_name`` of ``model`` takes: what a form's input allows."""
    pending: list[Any] = [model.model_fields[field_name].annotation, *model.model_fields[field_name].metadata]
    while pending:
        item = pending.pop()
        limit = getattr(item, "max_length", None)
        if isinstance(limit, int):
            return limit
        if get_origin(item) is Annotated:
            pending.extend(item.__metadata__)
        pending.extend(get_args(item))
    raise ValueError(f"{model.__name__}.{field_name} has no length limit")


def changes_of(
    args: type[BaseModel],
    name: str,
    *,
    only: tuple[str, ...] | None = None,
    exclude: tuple[str, ...] = ("id",),
    extra: dict[str, Any] | None = None,
) -> type[Changes]:
    """The ``changes`` model of an ``update_<entity>`` command, derived from its create args:
    each field of ``args`` (``only`` those, or all but ``exclude``) optional, with the same
    limits, plus ``extra`` fields (``archived``) that only an update sets."""
    fields: dict[str, Any] = {}
    for field_name, info in args.model_fields.items():
        if field_name in exclude or (only is not None and field_name not in only):
            continue
        fields[field_name] = (Optional[info.rebuild_annotation()], None)  # noqa: UP045
    for field_name, annotation in (extra or {}).items():
        fields[field_name] = (Optional[annotation], None)  # noqa: UP045
    model: type[Changes] = create_model(name, __base__=Changes, __module__=args.__module__, **fields)
    return model


class UpdateArgs(Args):
    """Args of every ``update_<entity>`` command: per-field ``changes`` and their ``base`` values."""

    id: Id
    changes: dict[str, Any] = Field(max_length=50)
    base: dict[str, Any] = Field(max_length=50)

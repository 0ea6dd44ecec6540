"""Problems with command args, field by field, in words a user understands (no Qt, no Flask).

The forms of the desktop validate with the commands' own args models through :func:`problems`,
so a form and the server can never disagree on what is valid; the same phrases name a refused
command's field.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

_PATTERN_HINTS = {
    r"^[A-Za-z0-9._\-/]+$": "may only contain letters, digits and . _ - / (no spaces)",
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": "is not an e-mail address",
    r"^[0-9+()\-. /]{3,50}$": "is not a phone number",
}


def friendly(error: Any) -> str:
    """A pydantic error as a short phrase that follows the field's name."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "string_too_short":
        return (
            "is required"
            if ctx.get("min_length") == 1
            else f"needs at least {ctx.get('min_length')} characters"
        )
    if kind == "string_too_long":
        return f"is too long (at most {ctx.get('max_length')} characters)"
    if kind == "string_pattern_mismatch":
        return _PATTERN_HINTS.get(str(ctx.get("pattern")), "contains characters that are not allowed")
    if kind == "greater_than_equal":
        return "must not be negative" if ctx.get("ge") == 0 else f"must be at least {ctx.get('ge')}"
    if kind == "greater_than":
        return "must be greater than zero" if ctx.get("gt") == 0 else f"must be greater than {ctx.get('gt')}"
    if kind == "less_than_equal":
        return "is too large"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be a whole number"
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type"):
        return "is not a date (pick one from the calendar)"
    if kind == "extra_forbidden":
        return "is not a known field"
    message = str(error.get("msg", "is not valid"))
    return message.removeprefix("Value error, ")


def _field_in_message(message: str, keys: list[str]) -> str | None:
    """Model-level checks name the field first ("from_warehouse_id is required for …")."""
    for key in sorted(keys, key=len, reverse=True):
        if message.startswith(key):
            return key
    return None


def problems(model: type[BaseModel], args: dict[str, Any], *, prefix: str = "") -> dict[str, str]:
    """``{field: phrase}`` of everything wrong with ``args``; ``""`` keys a problem of the whole form.

    ``prefix`` strips a leading part of the location (``changes`` for update commands).
    """
    try:
        model.model_validate(args)
    except ValidationError as exc:
        found: dict[str, str] = {}
        for error in exc.errors(include_url=False):
            loc = [str(part) for part in error["loc"]]
            if prefix and loc and loc[0] == prefix:
                loc = loc[1:]
            phrase = friendly(error)
            key = ".".join(loc)
            if not key:
                key = _field_in_message(phrase, list(args)) or ""
                if key:
                    phrase = phrase[len(key) :].strip()
            found.setdefault(key, phrase)
        return found
    return {}

"""Wire encoding shared by both sides: JSON values of columns and the sync protocol models."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from common.money import quantity_text

MAX_PUSH_MUTATIONS = 1000
MAX_PULL_LIMIT = 5000
DEFAULT_PULL_LIMIT = 2000


_AS_IS = frozenset({str, int, bool, float, type(None)})


def to_wire(value: Any) -> Any:
    """A column value as JSON: quantities as exact decimal text, times as ISO 8601."""
    if type(value) in _AS_IS:  # most values, asked first: every row written passes here
        return value
    if isinstance(value, Decimal):
        return quantity_text(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def row_to_wire(row: dict[str, Any]) -> dict[str, Any]:
    """Every value of a row mapping, converted with :func:`to_wire`."""
    return {key: to_wire(value) for key, value in row.items()}


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


MutationName = Annotated[str, StringConstraints(min_length=3, max_length=64, pattern=r"^[a-z_]+\.[a-z_]+$")]
UuidText = Annotated[
    str, StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]


class Mutation(WireModel):
    """One command as pushed: a client-made UUID, its name and its args."""

    id: UuidText
    name: MutationName
    args: dict[str, Any]


class PushRequest(WireModel):
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    schema_version: int = Field(ge=1, le=10_000)
    mutations: list[Mutation] = Field(max_length=MAX_PUSH_MUTATIONS)


MutationStatus = Literal["applied", "duplicate", "rejected"]


class MutationResult(WireModel):
    id: str
    status: MutationStatus
    code: str | None = None
    message: str | None = None
    server_values: dict[str, Any] | None = None
    details: dict[str, Any] | None = None


class PushResponse(WireModel):
    results: list[MutationResult]


class Change(WireModel):
    entity: str
    id: str
    op: Literal["upsert", "delete"]
    version: int
    data: dict[str, Any] | None = None


class PullResponse(WireModel):
    changes: list[Change]
    cursor: str
    has_more: bool
    schema_version: int

"""Wire encoding shared by both sides: JSON values of columns and the sync protocol models."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from common.money import quantity_text

MAX_PUSH_MUTATIONS = 1000
# A push's optional request header: how its commands derive the ids of rows they create
# (``common.commands.framework``, ``DERIVED_IDS``); absent, scheme 1.
DERIVED_IDS_HEADER = "Ops-Derived-Ids"
MAX_PULL_LIMIT = 5000
DEFAULT_PULL_LIMIT = 2000
# The pull answer's layouts (``GET …/sync/pull?format=``, ``sync_server.pull.PullQuery``):
# ``changes`` is DESIGN §5's and the default; ``blocks`` is the same changes with each run's
# column names said once (:func:`changes_to_blocks`). A delete block's columns:
DELETE_COLUMNS = ("id", "version")


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


def changes_to_blocks(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pull changes in the ``blocks`` layout: each run of consecutive changes of one entity, one
    op and (upserts) the same data keys in the same order becomes one block
    ``{entity, op, columns, rows}``; an upsert's row is its ``data`` values in ``columns`` order
    (its ``id`` and ``version`` are among them), a delete's row is ``[id, version]``. The order
    of the changes is kept; :func:`blocks_to_changes` gives them back exactly."""
    blocks: list[dict[str, Any]] = []
    rows: list[list[Any]] = []
    key: tuple[Any, ...] | None = None
    for change in changes:
        entity, op = change["entity"], change["op"]
        if op == "delete":
            here: tuple[Any, ...] = (entity, op, DELETE_COLUMNS)
            values = [change["id"], change["version"]]
        else:
            data = change["data"]
            here = (entity, op, tuple(data))
            values = list(data.values())
        if here != key:
            key, rows = here, []
            blocks.append({"entity": entity, "op": op, "columns": list(here[2]), "rows": rows})
        rows.append(values)
    return blocks


def blocks_to_changes(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The changes of a ``blocks`` pull answer, as the ``changes`` layout has them."""
    changes: list[dict[str, Any]] = []
    for block in blocks:
        entity, op, columns = block["entity"], block["op"], block["columns"]
        for values in block["rows"]:
            if len(values) != len(columns):
                raise ValueError(
                    f"a row of the {entity} block has {len(values)} values for {len(columns)} columns"
                )
            row = dict(zip(columns, values, strict=True))
            if op == "delete":
                changes.append({"entity": entity, "id": row["id"], "op": op, "version": row["version"]})
            else:
                changes.append(
                    {"entity": entity, "id": row["id"], "op": op, "version": row["version"], "data": row}
                )
    return changes


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


class PullBlock(WireModel):
    """A run of changes of one entity and op, their column names said once (``format=blocks``)."""

    entity: str
    op: Literal["upsert", "delete"]
    columns: list[str] = Field(
        description="an upsert's data keys (id and version among them); a delete's: id, version"
    )
    rows: list[list[Any]] = Field(description="one array of values per change, in the order of columns")


class PullBlocksResponse(WireModel):
    """The pull answer with ``format=blocks``: the same changes, in the same order, as blocks."""

    blocks: list[PullBlock]
    cursor: str
    has_more: bool
    schema_version: int

"""Declarative base, column helpers that carry a classification, and the synced-row mixin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    MetaData,
    String,
    Table,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from common.classification import Classification
from common.schema.types import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 36


class Base(DeclarativeBase):
    """The one declarative base: one metadata for the whole ERP, client and server."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


def _column(classification: Classification, *args: Any, **kwargs: Any) -> Any:
    info = dict(kwargs.pop("info", {}) or {})
    info["classification"] = classification.value
    return mapped_column(*args, info=info, **kwargs)


def public(*args: Any, **kwargs: Any) -> Any:
    """A column every member of the organization may see."""
    return _column(Classification.PUBLIC, *args, **kwargs)


def business(*args: Any, **kwargs: Any) -> Any:
    """A column visible with the module's read permission."""
    return _column(Classification.BUSINESS, *args, **kwargs)


def personal(*args: Any, **kwargs: Any) -> Any:
    """Personal data of a person: exported and erased on request."""
    return _column(Classification.PERSONAL, *args, **kwargs)


def sensitive(*args: Any, **kwargs: Any) -> Any:
    """Salary, bank account, national id and the like: needs ``hr.sensitive.read``."""
    return _column(Classification.SENSITIVE, *args, **kwargs)


@dataclass(frozen=True)
class EntityInfo:
    """How an entity is synced and who reads it.

    ``read``: permission needed to read the entity's business/personal columns (``None``: only
    owners read it); ``also_read``: further permissions that read it as well.
    ``directory``: every member may read the ``public`` columns even without ``read``.
    ``owner``: a column naming the owning person (``employee_id`` or ``user_id``): a member reads
    their own rows even without ``read`` (never their ``sensitive`` columns without
    ``hr.sensitive.read``).
    ``self_service``: the owner rule applies only to callers holding ``hr.self_service`` (the HR
    and timesheet records of a person); without it, it applies to every member (notifications).
    ``append_only``: rows are corrected by reversal, never edited (``CommandContext.update``
    refuses them), except that a field named in ``set_once`` may be given a value once, while it
    is still empty (a mark such as the invoice line that billed a timesheet entry). Who may write rows is each command's permission, not the entity's: posting
    an invoice writes journal entries as ``sales.write``.
    """

    module: str
    read: str | None
    also_read: tuple[str, ...] = ()
    directory: bool = False
    owner: str | None = None
    self_service: bool = False
    append_only: bool = False
    set_once: tuple[str, ...] = ()

    @property
    def readers(self) -> tuple[str, ...]:
        """Permissions any one of which reads the entity."""
        return ((self.read,) if self.read else ()) + self.also_read


def ref(target: str, column: str, *, ondelete: str | None = None) -> ForeignKeyConstraint:
    """A composite foreign key ``(org_id, column) → target(org_id, id)``.

    Including ``org_id`` makes it impossible for a row to reference another organization's row.
    """
    return ForeignKeyConstraint(["org_id", column], [f"{target}.org_id", f"{target}.id"], ondelete=ondelete)


class TenantRow:
    """Columns of every row that belongs to one organization: primary key ``(org_id, id)``,
    ``org_id`` referencing ``organization``."""

    @declared_attr
    def org_id(cls) -> Mapped[str]:
        return public(String(ID_LENGTH), ForeignKey("organization.id"), primary_key=True)  # type: ignore[no-any-return]

    @declared_attr
    def id(cls) -> Mapped[str]:
        # Declared as ``org_id`` is, so that the two keep their order: ``(org_id, id)``.
        return public(String(ID_LENGTH), primary_key=True)  # type: ignore[no-any-return]


class SyncedEntity(TenantRow):
    """A row that syncs between server and clients (DESIGN §3)."""

    __entity__: ClassVar[EntityInfo]

    version: Mapped[int] = public(BigInteger, default=0, nullable=False)
    updated_at: Mapped[datetime] = business(default=utcnow, nullable=False)
    updated_by: Mapped[str | None] = business(String(ID_LENGTH))
    deleted: Mapped[bool] = public(Boolean, default=False, nullable=False)


def table_of(model: type[Any]) -> Table:
    """The ``Table`` of a mapped class (typed, for code that handles models generically)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table

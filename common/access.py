"""Who may read what: readable entities and columns for a set of permissions.

The one place that turns the column classification and each entity's :class:`EntityInfo` into
read rights. The server uses it to mask pulls and audit events; the desktop uses it to shape
its interface. Rules (DESIGN §3, §6):

- a caller holding one of the entity's reader permissions reads its ``public``, ``business`` and
  ``personal`` columns; ``sensitive`` columns also need ``hr.sensitive.read``;
- every member reads the ``public`` columns of ``directory`` entities (the employee directory,
  departments);
- the owner of a row (``EntityInfo.owner`` names the column holding a user id or an employee id)
  reads the ``public``, ``business`` and ``personal`` columns of that row: it is their own data.
  Never its ``sensitive`` columns without ``hr.sensitive.read``: the classification means the
  same for everyone, so an employee's own salary, bank account and national id, and the amounts
  of their payslips, stay with HR and payroll (sensitive means sensitive, self-service included);
- for ``self_service`` entities (employee records, leave, payslips, timesheets) the owner rule
  applies only to callers holding ``hr.self_service``: a warehouse or sales login linked to an
  employee record pulls none of it. Other owner entities (notifications) are read by their
  owner whatever their roles.

The link itself is guarded where it is written: ``employee.user_id`` is a sensitive column
(setting it needs ``hr.sensitive.read``) and may name only a member of the organization
(checked by the server, see ``CommandContext.require_member``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from common.classification import Classification, classification_of
from common.schema import ENTITIES, FORMER_ENTITIES
from common.schema.base import EntityInfo, table_of

SENSITIVE_PERMISSION = "hr.sensitive.read"
SELF_SERVICE_PERMISSION = "hr.self_service"
_ALWAYS = (Classification.PUBLIC,)
_READER = (Classification.PUBLIC, Classification.BUSINESS, Classification.PERSONAL)


@dataclass(frozen=True)
class EntityAccess:
    """What a caller may read of one entity.

    ``columns``: readable on every row (empty: no row is readable as such).
    ``owner_column``: the column naming a row's owner, when owners read their own rows;
    ``owner_kind`` says whether it holds a user id (``user``) or an employee id (``employee``).
    ``owner_columns``: readable on the caller's own rows.
    """

    entity: str
    columns: frozenset[str]
    owner_column: str | None
    owner_kind: str | None
    owner_columns: frozenset[str]

    @property
    def readable(self) -> bool:
        """True when at least some rows or columns of the entity may be sent to the caller."""
        return bool(self.columns) or self.owner_column is not None

    def columns_for(self, row: Mapping[str, Any], owner: OwnerIds) -> frozenset[str]:
        """Columns of ``row`` the caller may read (its own rows may show more)."""
        if self.owner_column is not None and owner.owns(self.owner_kind, row.get(self.owner_column)):
            return self.owner_columns
        return self.columns

    def mask(self, row: Mapping[str, Any], owner: OwnerIds) -> dict[str, Any] | None:
        """``row`` restricted to readable columns, or ``None`` when nothing of it is readable."""
        allowed = self.columns_for(row, owner)
        if not allowed:
            return None
        return {key: value for key, value in row.items() if key in allowed}


@dataclass(frozen=True)
class OwnerIds:
    """Who the caller is, for owner rules: their user id and the employee records linked to it."""

    user_id: str | None = None
    employee_ids: frozenset[str] = frozenset()

    def owns(self, kind: str | None, value: Any) -> bool:
        if value is None:
            return False
        if kind == "user":
            return value == self.user_id
        if kind == "employee":
            return value in self.employee_ids
        return False


def _model(entity: str) -> Any:
    """The model of ``entity``: a synced one, or one that old events still name
    (``FORMER_ENTITIES``: read by the same rule); ``KeyError`` for an unknown one."""
    model = ENTITIES.get(entity) or FORMER_ENTITIES.get(entity)
    if model is None:
        raise KeyError(entity)
    return model


def _columns_with(entity: str, classes: Iterable[Classification]) -> frozenset[str]:
    wanted = set(classes)
    return frozenset(c.name for c in table_of(_model(entity)).columns if classification_of(c) in wanted)


def _classes_read(permissions: frozenset[str]) -> tuple[Classification, ...]:
    """What a reader (or an owner) reads: the reader classes, sensitive ones with the right."""
    if SENSITIVE_PERMISSION in permissions:
        return (*_READER, Classification.SENSITIVE)
    return _READER


def _owner_rule_applies(info: EntityInfo, permissions: frozenset[str]) -> bool:
    return info.owner is not None and (not info.self_service or SELF_SERVICE_PERMISSION in permissions)


@lru_cache(maxsize=4096)
def _access(entity: str, permissions: frozenset[str]) -> EntityAccess:
    info = _model(entity).__entity__
    if any(p in permissions for p in info.readers):
        columns = _columns_with(entity, _classes_read(permissions))
    elif info.directory:
        columns = _columns_with(entity, _ALWAYS)
    else:
        columns = frozenset()
    if not _owner_rule_applies(info, permissions):
        return EntityAccess(
            entity=entity, columns=columns, owner_column=None, owner_kind=None, owner_columns=columns
        )
    return EntityAccess(
        entity=entity,
        columns=columns,
        owner_column=info.owner,
        owner_kind="user" if info.owner == "user_id" else "employee",
        owner_columns=columns | _columns_with(entity, _classes_read(permissions)),
    )


def entity_access(entity: str, permissions: Iterable[str]) -> EntityAccess:
    """What a caller with ``permissions`` may read of ``entity`` (or of one of
    ``FORMER_ENTITIES``, in old events); ``KeyError`` for an unknown one."""
    return _access(entity, frozenset(permissions))


def readable_columns(entity: str, permissions: Iterable[str]) -> frozenset[str]:
    """Columns of ``entity`` readable on every row with ``permissions`` (owner rules aside)."""
    return entity_access(entity, permissions).columns


def readable_entities(permissions: Iterable[str]) -> dict[str, EntityAccess]:
    """Every entity the caller may read at least partly, in dependency (snapshot) order."""
    perms = frozenset(permissions)
    found = {}
    for name in ENTITIES:
        access = _access(name, perms)
        if access.readable:
            found[name] = access
    return found


def access_fingerprint(permissions: Iterable[str], owner: OwnerIds) -> str:
    """A short digest of everything that decides what a caller reads.

    A pull cursor can carry it: when it differs at the next pull, the caller's rights changed
    and the client must re-download (``resync_required``).
    """
    material = "|".join(
        [",".join(sorted(permissions)), owner.user_id or "", ",".join(sorted(owner.employee_ids))]
    )
    return hashlib.sha256(material.encode()).hexdigest()[:16]

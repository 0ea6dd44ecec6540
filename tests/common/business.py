"""Helpers for the business command tests: apply as a role or person, read rows, seed records."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from common.commands import CommandError, CommandOutcome
from common.ids import new_id
from common.permissions import ALL_PERMISSIONS, BUILTIN_ROLES
from common.reports import run_report
from common.schema.base import SyncedEntity, table_of
from tests.common.sides import CommandSide

# Everything, including what even admin lacks (sensitive HR data, payroll).
EVERYTHING = ALL_PERMISSIONS


def role(*names: str) -> frozenset[str]:
    """The permissions of built-in roles."""
    granted: set[str] = set()
    for name in names:
        granted |= BUILTIN_ROLES[name]
    return frozenset(granted)


class Business:
    """Commands applied on one side (a client's copy or the server's store), as a given person
    and role."""

    def __init__(self, store: CommandSide, actor_id: str) -> None:
        self.store = store
        self.actor_id = actor_id

    @property
    def org_id(self) -> str:
        return self.store.org_id

    @property
    def side(self) -> str:
        return self.store.side

    def number_prefix(self, series: str) -> str:
        """How a new document number starts here: ``DRAFT-`` on a client's copy (the server gives
        the legal number at sync), the series' own prefix (``INV-``) on the server."""
        return "DRAFT-" if self.side == "client" else f"{series}-"

    def apply(
        self,
        name: str,
        args: dict[str, Any],
        *,
        permissions: frozenset[str] = EVERYTHING,
        actor_id: str | None = None,
        command_id: str | None = None,
    ) -> CommandOutcome:
        _, outcome = self.store.apply(
            name, args, actor_id=actor_id or self.actor_id, permissions=permissions, command_id=command_id
        )
        return outcome

    def refused(
        self,
        name: str,
        args: dict[str, Any],
        *,
        permissions: frozenset[str] = EVERYTHING,
        actor_id: str | None = None,
    ) -> CommandError:
        """Apply a command that must be refused; checks nothing was queued and returns the error."""
        before = len(self.store.outbox())
        with pytest.raises(CommandError) as info:
            self.apply(name, args, permissions=permissions, actor_id=actor_id)
        assert len(self.store.outbox()) == before
        return info.value

    def invalid(self, name: str, args: dict[str, Any], field: str, **kwargs: Any) -> CommandError:
        """Apply a command that must be refused as ``invalid`` naming ``field``."""
        error = self.refused(name, args, **kwargs)
        assert (error.code, error.field) == ("invalid", field), (error.code, error.field, error.message)
        assert error.message.startswith(f"{field}:"), error.message
        return error

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.store.read_session() as session:
            yield session

    def row(self, model: type[SyncedEntity], entity_id: str) -> dict[str, Any]:
        with self.session() as session:
            stmt = select(*table_of(model).columns).where(model.org_id == self.org_id, model.id == entity_id)
            return dict(session.execute(stmt).mappings().one())

    def rows(self, model: type[SyncedEntity], *where: ColumnElement[bool]) -> list[dict[str, Any]]:
        """Live rows of ``model`` matching ``where``, in insertion order."""
        with self.session() as session:
            stmt = select(*table_of(model).columns).where(
                model.org_id == self.org_id, model.deleted.is_(False), *where
            )
            return [dict(row) for row in session.execute(stmt.order_by(table_of(model).c.id)).mappings()]

    def set_up_books(self, currency: str = "EUR") -> Business:
        """The default chart and posting settings, as the server makes with every organization."""
        self.apply("finance.set_up_books", {"currency": currency})
        return self

    # -- seeds -----------------------------------------------------------------------------------
    def _create(self, name: str, args: dict[str, Any]) -> str:
        entity_id = new_id()
        self.apply(name, {"id": entity_id, **args})
        return entity_id

    def warehouse(self) -> str:
        return self._create("inventory.create_warehouse", {"code": f"W-{new_id()[-12:]}", "name": "Main"})

    def product(self, **extra: Any) -> str:
        args = {"sku": f"P-{new_id()[-12:]}", "name": "Hex bolt M8", "sale_price": 120, "currency": "EUR"}
        return self._create("inventory.create_product", {**args, **extra})

    def customer(self, **extra: Any) -> str:
        return self._create("sales.create_customer", {"name": "Ada Lovelace", **extra})

    def tax_rate(self, rate: str = "20") -> str:
        return self._create(
            "finance.create_tax_rate", {"code": f"T{new_id()[-12:]}", "name": "VAT", "rate": rate}
        )

    def account(self, type: str = "asset", **extra: Any) -> str:
        return self._create(
            "finance.create_account", {"code": f"A{new_id()[-12:]}", "name": "Cash", "type": type, **extra}
        )

    def department(self, **extra: Any) -> str:
        return self._create("hr.create_department", {"code": f"D-{new_id()[-12:]}", "name": "Sales", **extra})

    def employee(self, **extra: Any) -> str:
        return self._create("hr.create_employee", {"name": "Grace Hopper", **extra})

    def project(self, **extra: Any) -> str:
        return self._create(
            "projects.create_project", {"code": f"PR-{new_id()[-12:]}", "name": "Website", **extra}
        )


def report(biz: Business, name: str, **params: str) -> dict[str, Any]:
    """The report ``name`` of ``biz``'s organization, as its API answers it (every permission)."""
    with biz.session() as session:
        return run_report(session, biz.org_id, name, params, EVERYTHING)


Sums = dict[tuple[Any, ...], tuple[int, int, int]]


def ledger_sums(db: Any, org_id: str | None = None) -> tuple[Sums, Sums]:
    """What ``journal_balance`` holds and what it must hold (the triggers' invariant, revision
    0019): its rows, and the live lines of the ``journal_line`` view summed, each keyed by
    ``(org_id, account_id, currency, entry_date)`` → ``(debit, credit, lines)``; one
    organization's, or every one's. ``db``: a session or a connection, on any store."""
    from sqlalchemy import false, func

    from common.schema import JournalBalance, JournalLine

    kept, lines = table_of(JournalBalance), table_of(JournalLine)
    keys = (lines.c.org_id, lines.c.account_id, lines.c.currency, lines.c.entry_date)
    balances = select(kept.c.org_id, kept.c.account_id, kept.c.currency, kept.c.entry_date,
                      kept.c.debit, kept.c.credit, kept.c.lines)  # fmt: skip
    summed = select(*keys, func.sum(lines.c.debit), func.sum(lines.c.credit), func.count()).where(
        lines.c.deleted == false()
    )
    if org_id is not None:
        balances, summed = balances.where(kept.c.org_id == org_id), summed.where(lines.c.org_id == org_id)

    def keyed(rows: Any) -> Sums:
        return {tuple(row[:4]): (int(row[4]), int(row[5]), int(row[6])) for row in rows}

    return keyed(db.execute(balances)), keyed(db.execute(summed.group_by(*keys)))


def balances_disagreeing(store: Any) -> list[tuple[Any, ...]]:
    """The ``journal_balance`` rows that differ from the live lines summed (:func:`ledger_sums`),
    each as ``(key, kept, summed)``; empty when they agree."""
    with store.read_session() as session:
        kept, summed = ledger_sums(session)
    return [(key, kept.get(key), summed.get(key)) for key in sorted(kept.keys() | summed.keys(), key=str)
            if kept.get(key) != summed.get(key)]  # fmt: skip

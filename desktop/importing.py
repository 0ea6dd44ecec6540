"""Imports into the local store (no Qt here): plan a file, try it, apply it in one step.

The plan comes from :mod:`common.imports`. A dry run applies every command inside one write
transaction, each in a savepoint so a refusal is named by row and the rest go on, then rolls the
whole transaction back. Applying does the same and commits only when no command was refused:
all rows or none. Each command goes through :meth:`LocalStore.apply` like one typed in a form,
so it is queued in the outbox, synced, re-validated and audited by the server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from common.commands import CommandError
from common.imports import KINDS, ImportPlan, Planned, Problem, RawTable, plan_import, refusal, run_plan
from common.schema import Ledger
from desktop.session import UserSession

ProgressFn = Callable[[int, int], None]


class _RollBack(Exception):
    pass


class _Refused(Exception):
    """A command refused while applying for real: the whole import is rolled back."""

    def __init__(self, error: CommandError) -> None:
        super().__init__(error.message)
        self.error = error

    def problem(self, plan: ImportPlan) -> Problem:
        planned = getattr(self, "import_planned", None) or Planned(0, "", {})
        return refusal(plan.kind, planned, self.error)


@dataclass(frozen=True)
class ImportResult:
    """What an apply or a dry run did: ``applied`` commands (0 when rolled back) and problems."""

    applied: int
    problems: list[Problem]
    dry_run: bool

    @property
    def ok(self) -> bool:
        return not self.problems


def default_currency(session: UserSession) -> str:
    with session.store.read_session() as db:
        found = db.get(Ledger, (session.org_id, session.org_id))
    return found.currency if found is not None else "EUR"


def plan_file(
    session: UserSession,
    kind: str,
    table: RawTable,
    mapping: dict[str, int | None],
    progress: ProgressFn | None = None,
    *,
    decimal_mark: str | None = None,
    opening_date: date | None = None,
) -> ImportPlan:
    """The import's plan against what the local store holds now (``decimal_mark`` and
    ``opening_date`` as :func:`common.imports.plan_import` takes them)."""
    spec = KINDS[kind]
    if not session.can(spec.permission):
        raise CommandError(
            "forbidden", f"importing {spec.title.lower()} needs the permission {spec.permission}"
        )
    currency = default_currency(session)
    with session.store.read_session() as db:
        return plan_import(
            db,
            session.org_id,
            kind,
            table,
            mapping,
            default_currency=currency,
            decimal_mark=decimal_mark,
            opening_date=opening_date,
            progress=progress,
        )


def apply_import(
    session: UserSession, plan: ImportPlan, *, dry_run: bool, progress: ProgressFn | None = None
) -> ImportResult:
    """Apply ``plan``'s commands in one transaction; kept only when not a dry run and all applied."""
    if plan.problems:
        return ImportResult(0, list(plan.problems), dry_run)
    store = session.store
    problems: list[Problem] = []

    def apply_one(db: Any) -> Callable[[str, dict[str, Any]], None]:
        def apply(name: str, args: dict[str, Any]) -> None:
            if not dry_run:
                # All or nothing: the first refusal ends the transaction (the dry run, with a
                # savepoint per command, is the one that names every refusal).
                try:
                    store.apply(
                        name, args, actor_id=session.user.id, permissions=session.permissions, session=db
                    )
                except CommandError as exc:
                    raise _Refused(exc) from exc
                return
            with db.begin_nested():
                store.apply(name, args, actor_id=session.user.id, permissions=session.permissions, session=db)

        return apply

    try:
        with store.write_session() as db:
            problems = run_plan(plan, apply_one(db), progress=progress)
            if dry_run or problems:
                raise _RollBack
    except _RollBack:
        return ImportResult(0, problems, dry_run)
    except _Refused as refused:
        return ImportResult(0, [refused.problem(plan)], dry_run)
    return ImportResult(len(plan.commands), [], dry_run)

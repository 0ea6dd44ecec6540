"""Rules the business commands of every module share: state machines, hierarchies, self-service
and percentages of money.

A document's life cycle is declared as data (state → the states it may move to) next to its
commands; :func:`require_transition` is the one place that enforces such a table (purchase and sales orders,
invoices, fiscal periods, leave, projects and tasks, data subject requests). Checks that are not
a move between states (no goods received yet, a period still open) refuse with ``invalid_state``
where they are made.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from common.access import SELF_SERVICE_PERMISSION
from common.commands.framework import CommandContext, CommandError, invalid
from common.money import currency_exponent, round_money
from common.schema.base import SyncedEntity

Transitions = Mapping[str, frozenset[str]]
# ``alternatives`` of a self-service command: holders of ``hr.self_service`` may call it, and
# the handler then limits them to their own records (see ``hr.require_own_employee``). The same
# permission opens those records to their owner for reading (``common.access``).
SELF_SERVICE: tuple[str, ...] = (SELF_SERVICE_PERMISSION,)
# A parent chain longer than this is refused rather than walked forever.
MAX_HIERARCHY_DEPTH = 64


def require_transition(transitions: Transitions, row: Mapping[str, Any], target: str, what: str) -> None:
    """Refuse with ``invalid_state`` unless ``row['status']`` may move to ``target``.

    ``what`` names the document for the message (``"invoice INV-000042"``).
    """
    status = row["status"]
    allowed = transitions.get(status, frozenset())
    if target not in allowed:
        raise CommandError(
            "invalid_state",
            f"{what} is {status} and cannot become {target}",
            details={"status": status, "wanted": target, "allowed": sorted(allowed)},
        )


def require_status(row: Mapping[str, Any], allowed: frozenset[str], what: str, action: str) -> None:
    """Refuse with ``invalid_state`` unless the row is in one of the ``allowed`` states."""
    if row["status"] not in allowed:
        raise CommandError(
            "invalid_state",
            f"{what} is {row['status']}; only {' or '.join(sorted(allowed))} ones can {action}",
            details={"status": row["status"], "allowed": sorted(allowed)},
        )


def require_parent(
    ctx: CommandContext, model: type[SyncedEntity], entity_id: str, parent_id: str, field: str
) -> None:
    """``parent_id`` must exist and must not be ``entity_id`` itself or one of its descendants."""
    seen = {entity_id}
    current: str | None = parent_id
    for _ in range(MAX_HIERARCHY_DEPTH):
        if current is None:
            return
        if current in seen:
            raise invalid(field, "would make the hierarchy circular")
        seen.add(current)
        row = ctx.require(model, current, field)
        current = row["parent_id"]
    raise invalid(field, f"the hierarchy is deeper than {MAX_HIERARCHY_DEPTH} levels")


def percent_of(amount: int, rate_percent: Decimal, currency: str) -> int:
    """``rate_percent`` % of ``amount`` minor units (a tax), rounded by the one money helper."""
    return round_money(Decimal(amount).scaleb(-currency_exponent(currency)) * rate_percent / 100, currency)

"""Statements and reports: one implementation for the desktop and the server.

:func:`run_report` checks the caller's permission, parses the parameters (naming a bad one)
and answers the report's wire form ``{report, params, currency, columns, rows, totals}``
(DESIGN §5) with amounts as exact decimal text in the ledger currency.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, cast

from sqlalchemy.orm import Session

from common.modules import Report, resolve
from common.modules import reports as module_reports
from common.reports.base import PARAMETERS, ReportError, ReportParams
from common.reports.ledger import (
    TrialBalance,
    TrialBalanceRow,
    balance_sheet,
    general_ledger,
    profit_and_loss,
    trial_balance,
)
from common.reports.stock import StockValuationRow, stock_valuation

Maker = Callable[[Session, str, ReportParams, frozenset[str]], dict[str, Any]]


def _maker(report: Report) -> Maker:
    made = resolve(report.maker)
    if report.takes_permissions:
        return cast(Maker, made)
    return lambda session, org_id, params, permissions: made(session, org_id, params)


# name → (permission needed, how it is made): every module's reports (``ModuleSpec.reports``).
REPORTS: Mapping[str, tuple[str, Maker]] = MappingProxyType(
    {name: (report.permission, _maker(report)) for name, (_module, report) in module_reports().items()}
)


def report_permission(name: str) -> str:
    """The permission report ``name`` needs; :class:`ReportError` ``not_found`` for no such report."""
    if name not in REPORTS:
        raise ReportError("not_found", f"there is no report called {name!r}; reports: {', '.join(REPORTS)}")
    return REPORTS[name][0]


def run_report(
    session: Session, org_id: str, name: str, raw_params: Mapping[str, str], permissions: frozenset[str]
) -> dict[str, Any]:
    """Make report ``name`` for a caller holding ``permissions``. Raises :class:`ReportError`."""
    permission = report_permission(name)
    if permission not in permissions:
        raise ReportError("forbidden", f"the report {name} needs the permission {permission}")
    params = ReportParams.parse(raw_params)
    return REPORTS[name][1](session, org_id, params, permissions)


__all__ = [
    "PARAMETERS",
    "REPORTS",
    "ReportError",
    "ReportParams",
    "StockValuationRow",
    "TrialBalance",
    "TrialBalanceRow",
    "balance_sheet",
    "general_ledger",
    "profit_and_loss",
    "report_permission",
    "run_report",
    "stock_valuation",
    "trial_balance",
]

"""Statements and reports: one implementation for the desktop and the server.

:func:`run_report` checks the caller's permission, parses the parameters (naming a bad one)
and answers the report's wire form ``{report, params, currency, columns, rows, totals}``
(DESIGN §5) with amounts as exact decimal text in the ledger currency.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from sqlalchemy.orm import Session

from common.reports.aging import ap_aging, ar_aging
from common.reports.base import PARAMETERS, ReportError, ReportParams
from common.reports.ledger import (
    TrialBalance,
    TrialBalanceRow,
    balance_sheet,
    general_ledger,
    profit_and_loss,
    trial_balance,
    trial_balance_report,
)
from common.reports.stock import StockValuationRow, stock_valuation, stock_valuation_report
from common.reports.tax import tax_summary

Maker = Callable[[Session, str, ReportParams, frozenset[str]], dict[str, Any]]


def _plain(fn: Callable[[Session, str, ReportParams], dict[str, Any]]) -> Maker:
    return lambda session, org_id, params, permissions: fn(session, org_id, params)


# name → (permission needed, how it is made)
REPORTS: Mapping[str, tuple[str, Maker]] = MappingProxyType(
    {
        "trial_balance": ("finance.read", _plain(trial_balance_report)),
        "profit_and_loss": ("finance.read", _plain(profit_and_loss)),
        "balance_sheet": ("finance.read", _plain(balance_sheet)),
        "general_ledger": ("finance.read", _plain(general_ledger)),
        "ar_aging": ("finance.read", ar_aging),
        "ap_aging": ("finance.read", ap_aging),
        "tax_summary": ("finance.read", _plain(tax_summary)),
        "stock_valuation": ("inventory.read", _plain(stock_valuation_report)),
    }
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

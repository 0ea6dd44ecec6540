"""The gadgets module's report: how many gadgets there are."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.reports.base import ReportParams
from tests.modules.gadgets.schema import Gadget


def gadget_count(session: Session, org_id: str, params: ReportParams) -> dict[str, Any]:
    total = session.execute(
        select(func.count()).where(Gadget.org_id == org_id, Gadget.deleted.is_(False))
    ).scalar_one()
    return {
        "report": "gadget_count",
        "params": {},
        "currency": "",
        "columns": ["gadgets"],
        "rows": [{"gadgets": total}],
        "totals": {},
    }

"""Statements and reports of an organization (DESIGN §5): one answer per report of
``common.reports``, which checks the permission, parses the parameters and makes the report.

``GET /api/v1/orgs/<org_id>/reports/<name>?from=&to=&as_of=&account=&format=`` answers the
report as JSON, or as a file with ``format=csv|xlsx|pdf`` (``common.exports``: the same report,
made under the same permission check, written by the same engine as the desktop's exports).
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint, Response
from pydantic import ConfigDict, Field, StringConstraints

from common.exports import FORMATS, ExportTooLarge, export_bytes, report_table
from common.reports import ReportError, report_permission, run_report
from common.wire import WireModel
from sync_server.api import ApiContext, endpoint
from sync_server.errors import ApiError, bad_request, forbidden

bp = Blueprint("reports", __name__, url_prefix="/api/v1/orgs")

DateText = Annotated[str, StringConstraints(max_length=10)]
_STATUS = {"invalid": 400, "forbidden": 403, "not_found": 404, "books_not_set_up": 409}


class ReportQuery(WireModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: DateText | None = Field(default=None, alias="from", description="First day (YYYY-MM-DD)")
    to: DateText | None = Field(default=None, description="Last day (YYYY-MM-DD)")
    as_of: DateText | None = Field(default=None, description="Balances as of this day (YYYY-MM-DD)")
    account: Annotated[str, StringConstraints(max_length=36)] | None = Field(
        default=None, description="Account id (general ledger)"
    )
    format: Annotated[str, StringConstraints(max_length=8)] | None = Field(
        default=None, description="json (default), csv, xlsx or pdf"
    )


class ReportResponse(WireModel):
    report: str
    params: dict[str, Any]
    currency: str
    columns: list[str]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]


@endpoint(
    bp,
    "GET",
    "/<org_id>/reports/<name>",
    summary="A statement or report: trial_balance, profit_and_loss, balance_sheet, general_ledger, "
    "ar_aging, ap_aging, tax_summary, stock_valuation",
    auth="org",
    query=ReportQuery,
    response=ReportResponse,
    errors=(400, 401, 403, 404, 409),
)
def get_report(ctx: ApiContext, org_id: str, name: str) -> Any:
    query: ReportQuery = ctx.query
    kind = (query.format or "json").lower()
    if kind != "json" and kind not in FORMATS:
        raise bad_request(f"format: must be json, {', '.join(FORMATS)}", field="format")
    raw = {"from": query.from_, "to": query.to, "as_of": query.as_of, "account": query.account}
    try:
        made = run_report(
            ctx.db, org_id, name, {k: v for k, v in raw.items() if v is not None}, ctx.user.permissions
        )
    except ReportError as exc:
        if exc.code == "forbidden":
            raise forbidden(report_permission(name)) from None
        details = {"field": exc.field} if exc.field else None
        raise ApiError(_STATUS.get(exc.code, 400), exc.code, exc.message, details) from None
    if kind in FORMATS:
        try:
            data = export_bytes(report_table(made), kind)
        except ExportTooLarge as exc:
            raise bad_request(f"format: {exc}", field="format") from None
        return Response(
            data,
            mimetype=FORMATS[kind],
            headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'},
        )
    return made

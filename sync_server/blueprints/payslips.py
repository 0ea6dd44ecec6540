"""Payslip documents (issue 15): one payslip as a PDF, made from the server's store.

``GET /api/v1/orgs/<org_id>/payslips/<payslip_id>/pdf``:

- with ``payroll.run`` and ``hr.sensitive.read`` (the HR role): any payslip of the organization,
  drafts included (marked as such);
- with ``hr.self_service``: one's own payslips (the employee record linked to the caller's user)
  once their run is posted. Another person's payslip, or one of a draft run, is not found (404),
  as is every payslip of another organization: their existence is never revealed.

A workstation holds no pay amounts without ``hr.sensitive.read`` (DESIGN §6), so this is how an
employee gets their own payslip. Every download is audited (``document.download``), under the
organization's letterhead (its profile).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from common.documents.loaders import load_letterhead
from common.ids import is_uuid
from common.payroll_documents import load_payslip, payslip_pdf
from sync_server.api import ApiContext, endpoint
from sync_server.audit import PendingEvent, append_events
from sync_server.errors import forbidden, not_found

bp = Blueprint("payslips", __name__, url_prefix="/api/v1/orgs")

# Reading anyone's payslip: running payroll and reading pay.
PAYROLL_READERS = frozenset({"payroll.run", "hr.sensitive.read"})


@endpoint(
    bp,
    "GET",
    "/<org_id>/payslips/<payslip_id>/pdf",
    summary="A payslip as a PDF: one's own (hr.self_service, posted runs) or anyone's "
    "(payroll.run with hr.sensitive.read)",
    auth="org",
    write=True,
    errors=(401, 403, 404),
    media_type="application/pdf",
)
def get_payslip_pdf(ctx: ApiContext, org_id: str, payslip_id: str) -> Any:
    permissions = ctx.user.permissions
    anyone = permissions >= PAYROLL_READERS
    if not anyone and "hr.self_service" not in permissions:
        raise forbidden("hr.self_service")
    if not is_uuid(payslip_id):
        raise not_found("payslip")
    doc = load_payslip(ctx.db, org_id, payslip_id)
    if doc is None:
        raise not_found("payslip")
    if not anyone and (doc.employee_user_id != ctx.user.user_id or not doc.final):
        raise not_found("payslip")
    start = doc.payslip["period_start"].isoformat()
    body = payslip_pdf(doc, load_letterhead(ctx.db, org_id, doc.organization))
    append_events(
        ctx.db,
        org_id,
        [
            PendingEvent(
                action="document.download",
                actor=ctx.user.user_id,
                device=ctx.user.device_id,
                entity="payslip",
                entity_id=payslip_id,
                after={"document": "payslip", "format": "pdf", "own": not anyone},
            )
        ],
    )
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="payslip-{start}.pdf"'},
    )

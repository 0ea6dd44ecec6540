"""Business documents as files (issues 14, 15, 17): made from the server's store by the one
renderer of :mod:`common.documents`, each download audited.

- ``GET /api/v1/orgs/<org>/invoices/<id>/pdf`` and ``/credit-notes/<id>/pdf`` (``sales.read``);
- ``GET /api/v1/orgs/<org>/customers/<id>/statement.pdf?from=&to=`` (``sales.read``): the
  customer's statement of account for the period (default: the month so far);
- ``GET /api/v1/orgs/<org>/purchase-orders/<id>/pdf`` (``inventory.read``);
- ``GET /api/v1/orgs/<org>/payroll-runs/<id>/sepa.xml?execution_date=`` (``payroll.run`` and
  ``hr.sensitive.read``): the run's net pay as a SEPA credit transfer (``pain.001.001.03``)
  from the organization's account in its profile (IBAN, BIC); refused naming the missing setting.

PDFs take ``?locale=`` (``en`` by default; ``de``, ``fr``…) for how amounts and dates are written.
Another organization's ids are not found (404), like ids that exist nowhere.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from flask import Blueprint, Response
from pydantic import ConfigDict, Field, StringConstraints

from common.documents import LOCALES, DocumentLocale, DocumentNotFound, Period, document_pdf, load_document
from common.documents.loaders import load_letterhead
from common.ids import is_uuid
from common.payroll_documents import Debtor, PayrollDocumentError, sepa_credit_transfer
from common.schema.profile import OrganizationProfile
from common.schema.types import utcnow
from common.wire import WireModel
from sync_server.api import ApiContext, endpoint
from sync_server.audit import PendingEvent, append_events
from sync_server.errors import ApiError, bad_request, forbidden, not_found

bp = Blueprint("documents", __name__, url_prefix="/api/v1/orgs")

PDF = "application/pdf"
DateText = Annotated[str, StringConstraints(max_length=10)]
LocaleText = Annotated[str, StringConstraints(max_length=8)]
LONGEST_STATEMENT = timedelta(days=3660)  # ten years


class DocumentQuery(WireModel):
    model_config = ConfigDict(extra="forbid")

    locale: LocaleText | None = Field(default=None, description="en (default), de, fr, nl, fi, en-gb, en-us")


class StatementQuery(WireModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: DateText | None = Field(default=None, alias="from", description="First day (YYYY-MM-DD)")
    to: DateText | None = Field(default=None, description="Last day (YYYY-MM-DD); default today")
    locale: LocaleText | None = Field(default=None, description="en (default), de, fr, nl, fi, en-gb, en-us")


class SepaQuery(WireModel):
    model_config = ConfigDict(extra="forbid")

    execution_date: DateText | None = Field(
        default=None, description="The day the bank pays (YYYY-MM-DD); default today"
    )


def _locale(name: str | None) -> DocumentLocale:
    if name is None:
        return LOCALES["en"]
    found = LOCALES.get(name.lower())
    if found is None:
        raise bad_request(f"locale: must be one of {', '.join(LOCALES)}", field="locale")
    return found


def _day(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise bad_request(f"{field}: must be a date like 2026-12-31", field=field) from None


def _audited_download(
    ctx: ApiContext, org_id: str, entity: str, entity_id: str, after: dict[str, Any]
) -> None:
    """Who took which document off the server, in the organization's audit trail."""
    append_events(
        ctx.db,
        org_id,
        [
            PendingEvent(
                action="document.download",
                actor=ctx.user.user_id,
                device=ctx.user.device_id,
                entity=entity,
                entity_id=entity_id,
                after=after,
            )
        ],
    )


def _pdf(
    ctx: ApiContext,
    org_id: str,
    kind: str,
    entity: str,
    doc_id: str,
    locale: str | None,
    period: Period | None = None,
) -> Response:
    shown = _locale(locale)
    what = entity.replace("_", " ")
    if not is_uuid(doc_id):
        raise not_found(what)
    try:
        doc = load_document(ctx.db, org_id, kind, doc_id, period=period)
    except DocumentNotFound:
        raise not_found(what) from None
    body = document_pdf(doc, shown)
    after: dict[str, Any] = {"document": kind, "format": "pdf"}
    if doc.number and not doc.draft:
        after["number"] = doc.number
    if period is not None:
        after["from"], after["to"] = period.start.isoformat(), period.end.isoformat()
    _audited_download(ctx, org_id, entity, doc_id, after)
    return Response(
        body, mimetype=PDF, headers={"Content-Disposition": f'attachment; filename="{doc.filename}"'}
    )


@endpoint(
    bp,
    "GET",
    "/<org_id>/invoices/<invoice_id>/pdf",
    summary="An invoice as a PDF (letterhead, legal number or DRAFT, tax per rate, totals); audited",
    auth="org",
    permission="sales.read",
    query=DocumentQuery,
    write=True,
    errors=(400, 401, 403, 404),
    media_type=PDF,
)
def get_invoice_pdf(ctx: ApiContext, org_id: str, invoice_id: str) -> Response:
    return _pdf(ctx, org_id, "invoice", "invoice", invoice_id, ctx.query.locale)


@endpoint(
    bp,
    "GET",
    "/<org_id>/credit-notes/<credit_note_id>/pdf",
    summary="A credit note as a PDF; audited",
    auth="org",
    permission="sales.read",
    query=DocumentQuery,
    write=True,
    errors=(400, 401, 403, 404),
    media_type=PDF,
)
def get_credit_note_pdf(ctx: ApiContext, org_id: str, credit_note_id: str) -> Response:
    return _pdf(ctx, org_id, "credit_note", "credit_note", credit_note_id, ctx.query.locale)


@endpoint(
    bp,
    "GET",
    "/<org_id>/customers/<customer_id>/statement.pdf",
    summary="A customer's statement of account for a period (from, to; default the month so far) "
    "as a PDF; audited",
    auth="org",
    permission="sales.read",
    query=StatementQuery,
    write=True,
    errors=(400, 401, 403, 404),
    media_type=PDF,
)
def get_statement_pdf(ctx: ApiContext, org_id: str, customer_id: str) -> Response:
    query: StatementQuery = ctx.query
    end = _day(query.to, "to") or utcnow().date()
    start = _day(query.from_, "from") or end.replace(day=1)
    if start > end:
        raise bad_request("from: must not be after to", field="from")
    if end - start > LONGEST_STATEMENT:
        raise bad_request("from: a statement covers at most ten years", field="from")
    return _pdf(ctx, org_id, "statement", "customer", customer_id, query.locale, Period(start, end))


@endpoint(
    bp,
    "GET",
    "/<org_id>/purchase-orders/<purchase_order_id>/pdf",
    summary="A purchase order as a PDF; audited",
    auth="org",
    permission="inventory.read",
    query=DocumentQuery,
    write=True,
    errors=(400, 401, 403, 404),
    media_type=PDF,
)
def get_purchase_order_pdf(ctx: ApiContext, org_id: str, purchase_order_id: str) -> Response:
    return _pdf(ctx, org_id, "purchase_order", "purchase_order", purchase_order_id, ctx.query.locale)


@endpoint(
    bp,
    "GET",
    "/<org_id>/payroll-runs/<payroll_run_id>/sepa.xml",
    summary="A posted payroll run's net pay as a SEPA credit transfer (pain.001.001.03) from the "
    "organization profile's IBAN and BIC (payroll.run and hr.sensitive.read); audited",
    auth="org",
    permission="payroll.run",
    query=SepaQuery,
    write=True,
    errors=(400, 401, 403, 404, 409),
    media_type="application/xml",
)
def get_payroll_sepa(ctx: ApiContext, org_id: str, payroll_run_id: str) -> Response:
    if "hr.sensitive.read" not in ctx.user.permissions:
        raise forbidden("hr.sensitive.read")
    if not is_uuid(payroll_run_id):
        raise not_found("payroll run")
    execution_date = _day(ctx.query.execution_date, "execution_date") or utcnow().date()
    profile = ctx.db.get(OrganizationProfile, (org_id, org_id))
    if profile is None or profile.deleted or not profile.iban:
        raise ApiError(
            409,
            "profile_incomplete",
            "the organization profile has no IBAN: set the organization's bank account (IBAN, and "
            "BIC) in Finance → Organization profile before making a SEPA file",
            {"field": "iban"},
        )
    letterhead = load_letterhead(ctx.db, org_id)
    debtor = Debtor(letterhead.name, profile.iban, profile.bic or None)
    try:
        xml = sepa_credit_transfer(ctx.db, org_id, payroll_run_id, debtor, execution_date)
    except PayrollDocumentError as exc:
        if str(exc).startswith("no payroll run"):
            raise not_found("payroll run") from None
        raise ApiError(409, "cannot_pay", str(exc), {"field": exc.field} if exc.field else None) from None
    _audited_download(
        ctx,
        org_id,
        "payroll_run",
        payroll_run_id,
        {
            "document": "sepa_credit_transfer",
            "format": "pain.001.001.03",
            "execution_date": execution_date.isoformat(),
        },
    )
    return Response(
        xml,
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="salaries-{execution_date.isoformat()}.xml"'},
    )

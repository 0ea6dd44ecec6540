"""Payslip PDFs from the server: one's own with hr.self_service, anyone's with payroll.run and
hr.sensitive.read, nothing of another organization, and never a draft to its employee."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from common.ids import new_id
from common.schema import AuditEvent, Payslip
from tests.sync_server.conftest import World, mutation, set_up_books
from tests.sync_server.pulling import applied, seed_every_module


def _url(org_id: str, payslip_id: str) -> str:
    return f"/api/v1/orgs/{org_id}/payslips/{payslip_id}/pdf"


def _text(body: bytes) -> str:
    return " ".join(PdfReader(io.BytesIO(body)).pages[0].extract_text().split())


def test_payslip_pdf_for_oneself_and_for_payroll_never_across_organizations(world: World) -> None:
    org = world.a
    set_up_books(world, org)
    ids = seed_every_module(world, org)  # a draft January run for both employees
    with world.services.store.session(org.id) as db:
        slips = dict(
            db.execute(
                select(Payslip.employee_id, Payslip.id).where(Payslip.payroll_run_id == ids["payroll"])
            ).all()
        )
    own, other = slips[ids["own_employee"]], slips[ids["other_employee"]]
    employee, hr = org.email("employee"), org.email("hr")
    get = world.client.get
    # A draft is HR's preview: its employee does not get it yet.
    assert get(_url(org.id, own), headers=world.headers(employee)).status_code == 404
    draft = get(_url(org.id, own), headers=world.headers(hr))
    assert draft.status_code == 200 and "draft" in _text(draft.data)
    applied(
        world,
        hr,
        org,
        [
            mutation("hr.approve_payroll_run", id=ids["payroll"]),
            mutation("hr.post_payroll_run", id=ids["payroll"]),
        ],
    )
    mine = get(_url(org.id, own), headers=world.headers(employee))
    assert mine.status_code == 200 and mine.mimetype == "application/pdf"
    assert 'filename="payslip-2026-01-01.pdf"' in mine.headers["Content-Disposition"]
    text = _text(mine.data)
    # 5,000.00 a month; the pension of 7.15 % is 357.50, the flat 20 % tax 1,000.00.
    for expected in (
        "Emma Employee",
        "2026-01-01 to 2026-01-31",
        "Gross pay 5,000.00 EUR",
        "Net pay 3,642.50 EUR",
    ):
        assert expected in text, (expected, text)
    # Every download is audited: HR's draft preview and the employee's own copy.
    with world.services.store.session(org.id) as db:
        downloads = db.execute(
            select(AuditEvent.actor, AuditEvent.after)
            .where(AuditEvent.action == "document.download", AuditEvent.entity_id == own)
            .order_by(AuditEvent.seq)
        ).all()
    assert [actor for actor, _after in downloads] == [org.users["hr"], org.users["employee"]]
    assert [after["own"] for _actor, after in downloads] == [False, True]
    # A colleague's payslip is not found for the employee, and found for HR.
    assert get(_url(org.id, other), headers=world.headers(employee)).status_code == 404
    assert get(_url(org.id, other), headers=world.headers(hr)).status_code == 200
    # Without either right: forbidden. The admin holds hr.self_service (not payroll.run nor
    # sensitive reads) and is no employee: the payslip is not theirs, so not found.
    assert get(_url(org.id, own), headers=world.headers(org.email("warehouse"))).status_code == 403
    assert get(_url(org.id, own), headers=world.headers(org.email("admin"))).status_code == 404
    # Another organization's HR learns nothing, not even that the payslip exists.
    foreign = get(_url(org.id, own), headers=world.headers(world.b.email("hr")))
    assert foreign.status_code == 404
    assert get(_url(world.b.id, own), headers=world.headers(world.b.email("hr"))).status_code == 404
    assert get(_url(org.id, new_id()), headers=world.headers(hr)).status_code == 404
    assert get(_url(org.id, "not-an-id"), headers=world.headers(hr)).status_code == 404


def test_the_openapi_document_describes_the_payslip_pdf(world: World) -> None:
    paths = world.client.get("/api/v1/openapi.json").get_json()["paths"]
    operation = paths["/api/v1/orgs/{org_id}/payslips/{payslip_id}/pdf"]["get"]
    assert operation["responses"]["200"]["content"] == {
        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
    }
    assert {"401", "403", "404"} <= set(operation["responses"])

"""Privacy commands (opt-outs, data subject requests, erasure) through a real encrypted store."""

from __future__ import annotations

from typing import Any

import pytest

from common.classification import personal_columns
from common.commands.privacy import CHANNELS, PURPOSES, may_contact
from common.ids import new_id
from common.schema import (
    CommunicationPreference,
    Customer,
    DataSubjectRequest,
    Employee,
    Invoice,
    Payment,
    Supplier,
)
from tests.common.business import Business, role

PRIVACY = frozenset({"privacy.manage", "sales.read", "hr.read", "inventory.read"})
SALES = role("sales")


def _prefer(
    biz: Business, subject_id: str, opted_out: bool, subject_type: str = "customer", **kwargs: Any
) -> None:
    args = {
        "subject_type": subject_type,
        "subject_id": subject_id,
        "channel": "email",
        "purpose": "newsletter",
        "opted_out": opted_out,
    }
    biz.apply("privacy.set_communication_preference", args, **kwargs)


def _may_email(
    biz: Business, subject_id: str, subject_type: str = "customer", purpose: str = "newsletter"
) -> bool:
    with biz.session() as session:
        return may_contact(session, biz.org_id, subject_type, subject_id, "email", purpose)


def _request(biz: Business, subject_id: str, kind: str, subject_type: str = "customer") -> str:
    request_id = new_id()
    args = {
        "id": request_id,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "kind": kind,
        "details": "Asked by phone",
    }
    biz.apply("privacy.open_data_subject_request", args, permissions=PRIVACY)
    return request_id


# -- communication preferences ---------------------------------------------------------------


def test_opting_out_and_back_in_decides_who_may_be_contacted(business: Business) -> None:
    customer_id = business.customer()
    assert _may_email(business, customer_id)
    _prefer(business, customer_id, True, permissions=PRIVACY)
    assert not _may_email(business, customer_id)
    assert _may_email(business, customer_id, purpose="surveys")  # only what they opted out of
    (preference,) = business.rows(CommunicationPreference, CommunicationPreference.subject_id == customer_id)
    assert (preference["channel"], preference["purpose"], preference["opted_out"]) == (
        "email",
        "newsletter",
        True,
    )
    _prefer(business, customer_id, False, permissions=PRIVACY)
    assert _may_email(business, customer_id)
    assert len(business.rows(CommunicationPreference, CommunicationPreference.subject_id == customer_id)) == 1


def test_sales_may_record_a_customers_opt_out_but_never_an_opt_in(business: Business) -> None:
    customer_id, supplier_id = business.customer(), new_id()
    business.apply("inventory.create_supplier", {"id": supplier_id, "name": "Bolt Works", "currency": "EUR"})
    _prefer(business, customer_id, True, permissions=SALES)
    assert not _may_email(business, customer_id)
    error = business.refused(
        "privacy.set_communication_preference",
        {
            "subject_type": "customer",
            "subject_id": customer_id,
            "channel": "email",
            "purpose": "newsletter",
            "opted_out": False,
        },
        permissions=SALES,
    )
    assert (error.code, error.field) == ("forbidden", "opted_out")
    error = business.refused(
        "privacy.set_communication_preference",
        {
            "subject_type": "supplier",
            "subject_id": supplier_id,
            "channel": "email",
            "purpose": "newsletter",
            "opted_out": True,
        },
        permissions=SALES,
    )
    assert error.code == "forbidden"
    error = business.refused(
        "privacy.set_communication_preference",
        {
            "subject_type": "customer",
            "subject_id": customer_id,
            "channel": "email",
            "purpose": "newsletter",
            "opted_out": True,
        },
        permissions=role("warehouse"),
    )
    assert error.code == "forbidden" and "privacy.manage" in error.message


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"subject_type": "visitor"}, "subject_type"),
        ({"subject_id": "unknown"}, "subject_id"),
        ({"subject_id": "x" * 37}, "subject_id"),
        ({"channel": "pigeon"}, "channel"),
        ({"purpose": "p" * 33}, "purpose"),
        ({"opted_out": "maybe"}, "opted_out"),
        ({"id": new_id()}, "id"),
    ],
)
def test_each_invalid_preference_argument_is_named(
    business: Business, override: dict[str, Any], field: str
) -> None:
    args = {
        "subject_type": "customer",
        "subject_id": business.customer(),
        "channel": "email",
        "purpose": "marketing",
        "opted_out": True,
        **override,
    }
    if args["subject_id"] == "unknown":
        args["subject_id"] = new_id()
    business.invalid("privacy.set_communication_preference", args, field)


# -- data subject requests -------------------------------------------------------------------


def test_requests_are_opened_then_completed_or_rejected_once(business: Business) -> None:
    customer_id = business.customer()
    access = _request(business, customer_id, "access")
    request = business.row(DataSubjectRequest, access)
    assert (request["status"], request["kind"], request["details"]) == ("open", "access", "Asked by phone")
    business.apply(
        "privacy.complete_data_subject_request", {"id": access, "note": "Sent by post"}, permissions=PRIVACY
    )
    request = business.row(DataSubjectRequest, access)
    assert (request["status"], request["outcome"]) == ("completed", {"note": "Sent by post"})
    assert request["completed_at"] is not None
    assert business.refused("privacy.complete_data_subject_request", {"id": access}).code == "invalid_state"
    assert (
        business.refused("privacy.reject_data_subject_request", {"id": access, "reason": "x"}).code
        == "invalid_state"
    )
    correction = _request(business, customer_id, "correction")
    business.invalid("privacy.reject_data_subject_request", {"id": correction, "reason": ""}, "reason")
    business.apply(
        "privacy.reject_data_subject_request",
        {"id": correction, "reason": "Data is correct"},
        permissions=PRIVACY,
    )
    assert business.row(DataSubjectRequest, correction)["outcome"] == {"reason": "Data is correct"}
    error = business.refused("privacy.complete_data_subject_request", {"id": correction}, permissions=SALES)
    assert error.code == "forbidden"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"kind": "delete_everything"}, "kind"),
        ({"subject_type": "robot"}, "subject_type"),
        ({"subject_id": "unknown"}, "subject_id"),
        ({"details": "d" * 2001}, "details"),
    ],
)
def test_each_invalid_request_argument_is_named(
    business: Business, override: dict[str, Any], field: str
) -> None:
    args = {
        "id": new_id(),
        "subject_type": "customer",
        "subject_id": business.customer(),
        "kind": "access",
        **override,
    }
    if args["subject_id"] == "unknown":
        args["subject_id"] = new_id()
    business.invalid("privacy.open_data_subject_request", args, field)


def test_an_opt_out_request_opts_out_of_everything(business: Business) -> None:
    customer_id = business.customer()
    _prefer(business, customer_id, False)
    business.apply(
        "privacy.complete_data_subject_request", {"id": _request(business, customer_id, "opt_out")}
    )
    preferences = business.rows(CommunicationPreference, CommunicationPreference.subject_id == customer_id)
    assert len(preferences) == len(CHANNELS) * len(PURPOSES)
    assert all(p["opted_out"] for p in preferences)
    assert not any(_may_email(business, customer_id, purpose=purpose) for purpose in PURPOSES)


def test_erasure_blanks_personal_data_and_keeps_legal_documents(business: Business) -> None:
    customer_id = business.customer(
        email="ada@example.test", phone="+44 1234 5678", address="London", tax_id="GB123"
    )
    invoice_id = new_id()
    business.apply(
        "sales.create_invoice",
        {
            "id": invoice_id,
            "customer_id": customer_id,
            "lines": [
                {"id": new_id(), "description": "Analytical engine", "quantity": "1", "unit_price": 9900}
            ],
        },
    )
    business.apply("sales.post_invoice", {"id": invoice_id})
    business.apply("sales.record_payment", {"id": new_id(), "invoice_id": invoice_id, "amount": 9900})
    request_id = _request(business, customer_id, "erasure")
    business.apply("privacy.complete_data_subject_request", {"id": request_id}, permissions=PRIVACY)
    customer = business.row(Customer, customer_id)
    personal = personal_columns(Customer.__table__)
    assert {"name", "email", "phone", "address"} <= set(personal)
    assert all(customer[name] in (None, "[erased]") for name in personal)
    assert (customer["erased"], customer["archived"], customer["tax_id"]) == (True, True, "GB123")
    outcome = business.row(DataSubjectRequest, request_id)["outcome"]
    assert outcome["erased"]["customer"] == sorted(personal)
    assert outcome["complete"] is True
    assert any("invoices" in kept["data"] for kept in outcome["kept"])
    invoice = business.row(Invoice, invoice_id)
    assert (invoice["customer_id"], invoice["total"], invoice["status"]) == (customer_id, 9900, "paid")
    assert len(business.rows(Payment, Payment.invoice_id == invoice_id)) == 1
    assert not _may_email(business, customer_id)
    business.invalid("sales.create_sales_order", {"id": new_id(), "customer_id": customer_id}, "customer_id")


def test_erasure_of_a_supplier_contact_a_sole_trader_and_an_employee_under_hold(business: Business) -> None:
    supplier_id = new_id()
    business.apply(
        "inventory.create_supplier",
        {
            "id": supplier_id,
            "name": "Bolt Works",
            "contact_name": "Bob",
            "email": "bob@bolts.example",
            "currency": "EUR",
        },
    )
    business.apply(
        "privacy.complete_data_subject_request",
        {"id": _request(business, supplier_id, "erasure", "supplier")},
    )
    supplier = business.row(Supplier, supplier_id)
    assert (supplier["name"], supplier["contact_name"], supplier["email"], supplier["archived"]) == (
        "Bolt Works",
        None,
        None,
        True,
    )
    trader_id = new_id()
    business.apply(
        "inventory.create_supplier",
        {
            "id": trader_id,
            "name": "Jane Doe",
            "address": "1 Home Lane",
            "currency": "EUR",
            "sole_trader": True,
        },
    )
    business.apply(
        "privacy.complete_data_subject_request",
        {"id": _request(business, trader_id, "erasure", "supplier")},
    )
    trader = business.row(Supplier, trader_id)
    assert (trader["name"], trader["address"]) == ("[erased]", None)
    # An employee still employed: their record is under a legal hold, kept and reported.
    employee_id = business.employee(home_address="Paris")
    employee_request = _request(business, employee_id, "erasure", "employee")
    business.apply("privacy.complete_data_subject_request", {"id": employee_request})
    outcome = business.row(DataSubjectRequest, employee_request)["outcome"]
    assert outcome["complete"] is False
    assert outcome["kept"][0]["data"] == "employee record"
    assert "employment" in outcome["kept"][0]["reason"]
    assert business.row(Employee, employee_id)["home_address"] == "Paris"


def test_a_request_is_due_in_30_days_and_records_who_opened_it_and_how_identity_was_verified(
    business: Business,
) -> None:
    from datetime import timedelta

    from common.commands.privacy import is_overdue

    request_id = new_id()
    business.apply(
        "privacy.open_data_subject_request",
        {
            "id": request_id,
            "subject_type": "customer",
            "subject_id": business.customer(),
            "kind": "access",
            "verification": "photo ID seen at the counter",
        },
        permissions=PRIVACY,
    )
    request = business.row(DataSubjectRequest, request_id)
    assert request["due_at"] - request["requested_at"] == timedelta(days=30)
    assert (request["opened_by"], request["verification"]) == (
        business.actor_id,
        "photo ID seen at the counter",
    )
    assert not is_overdue(request, request["requested_at"] + timedelta(days=30))
    assert is_overdue(request, request["requested_at"] + timedelta(days=31))

"""What every business command shares: declared permissions, size limits, life-cycle tables."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import BaseModel

from common.commands import REGISTRY, CommandError, finance, hr, invoicing, privacy, projects, sales
from common.commands.fields import Changes
from common.commands.rules import SELF_SERVICE
from common.permissions import ALL_PERMISSIONS
from tests.common.business import Business

BUSINESS_MODULES = ("sales.", "finance.", "hr.", "projects.", "privacy.")
BUSINESS_COMMANDS = sorted(name for name in REGISTRY if name.startswith(BUSINESS_MODULES))
LIFE_CYCLES = {
    "sales order": sales.SALES_ORDER_TRANSITIONS,
    "invoice": invoicing.INVOICE_TRANSITIONS,
    "fiscal period": finance.FISCAL_PERIOD_TRANSITIONS,
    "leave": hr.LEAVE_TRANSITIONS,
    "project": projects.PROJECT_TRANSITIONS,
    "task": projects.TASK_TRANSITIONS,
    "data subject request": privacy.DATA_SUBJECT_REQUEST_TRANSITIONS,
}


def test_the_business_commands_exist() -> None:
    expected = {
        "sales.create_customer", "sales.update_customer", "sales.create_sales_order", "sales.update_sales_order",
        "sales.set_sales_order_lines", "sales.confirm_sales_order", "sales.fulfil_sales_order",
        "sales.cancel_sales_order", "sales.create_invoice", "sales.post_invoice", "sales.delete_invoice",
        "sales.update_invoice", "sales.set_invoice_lines", "sales.record_payment", "sales.issue_credit_note",
        "finance.create_account", "finance.update_account", "finance.create_tax_rate", "finance.update_tax_rate",
        "finance.create_fiscal_period", "finance.close_fiscal_period", "finance.reopen_fiscal_period",
        "finance.post_journal_entry", "finance.reverse_journal_entry", "finance.post_opening_balances",
        "finance.set_up_books", "finance.update_account_mapping", "finance.close_year",
        "finance.set_organization_profile",
        "finance.record_supplier_bill", "finance.record_supplier_payment",
        "finance.record_opening_invoice", "finance.record_opening_bill",
        "hr.create_department", "hr.update_department", "hr.create_employee", "hr.update_employee",
        "hr.request_leave", "hr.approve_leave", "hr.reject_leave", "hr.cancel_leave", "hr.run_payroll",
        "hr.pay_payroll_run", "hr.approve_payroll_run", "hr.discard_payroll_run", "hr.post_payroll_run",
        "hr.reverse_payroll_run", "hr.create_pay_component", "hr.update_pay_component",
        "hr.create_leave_type", "hr.update_leave_type", "hr.update_own_contact_details",
        "projects.create_project", "projects.update_project", "projects.create_task", "projects.update_task",
        "projects.log_time", "projects.reverse_time_entry", "projects.invoice_time",
        "privacy.set_communication_preference", "privacy.open_data_subject_request",
        "privacy.complete_data_subject_request", "privacy.reject_data_subject_request",
        "privacy.apply_retention", "privacy.record_request_verification",
    }  # fmt: skip
    assert set(BUSINESS_COMMANDS) == expected


@pytest.mark.parametrize("name", BUSINESS_COMMANDS)
def test_every_command_declares_known_permissions_and_a_summary(name: str) -> None:
    spec = REGISTRY[name]
    assert spec.permission in ALL_PERMISSIONS
    assert set(spec.alternatives) <= ALL_PERMISSIONS
    assert spec.summary and spec.summary != name
    # Self-service commands are open to hr.self_service holders and narrowed by the handler.
    assert spec.alternatives in ((), SELF_SERVICE, ("sales.write",))


@pytest.mark.parametrize("name", BUSINESS_COMMANDS)
def test_every_command_refuses_a_caller_without_its_permission(business: Business, name: str) -> None:
    error = business.refused(name, {}, permissions=frozenset())
    assert error.code == "forbidden" and REGISTRY[name].permission in error.message


def _unbounded(schema: dict[str, Any], path: str = "") -> list[str]:
    """Strings without maxLength (dates and enums aside) and arrays or open objects without a
    size limit, anywhere in a JSON schema. Exact numbers given as text are bounded by their
    parser instead (see the test with a megabyte of digits below)."""
    found = []
    kind = schema.get("type")
    fixed_size = "enum" in schema or "const" in schema or schema.get("format") in ("date", "date-time")
    if kind == "string" and "maxLength" not in schema and not fixed_size:
        found.append(path or "<root>")
    if kind == "array" and "maxItems" not in schema:
        found.append(path)
    if (
        kind == "object"
        and schema.get("additionalProperties", False) is not False
        and "maxProperties" not in schema
    ):
        found.append(path)
    for key, sub in schema.get("properties", {}).items():
        found += _unbounded(sub, f"{path}.{key}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += _unbounded(schema[key], f"{path}[]")
    for key in ("anyOf", "allOf", "oneOf"):
        alternatives = schema.get(key, [])
        numeric = any(sub.get("type") == "number" for sub in alternatives)
        for sub in alternatives:
            if not (numeric and sub.get("type") == "string"):
                found += _unbounded(sub, path)
    for name, sub in schema.get("$defs", {}).items():
        found += _unbounded(sub, f"${name}")
    return found


def _all_subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_all_subclasses(sub)]
    return out


def test_every_string_and_list_in_every_business_args_model_is_size_limited() -> None:
    models: list[type[BaseModel]] = [REGISTRY[name].args_model for name in BUSINESS_COMMANDS]
    models += [
        m
        for m in _all_subclasses(Changes)
        if m.__module__.split(".")[-1] in ("sales", "finance", "hr", "projects")
    ]
    problems = {m.__name__: _unbounded(m.model_json_schema()) for m in models}
    # UpdateArgs carries changes/base dicts, limited by count; their values are checked by a Changes model.
    assert {name: found for name, found in problems.items() if found} == {}


@pytest.mark.parametrize("life_cycle", sorted(LIFE_CYCLES))
def test_life_cycles_are_closed_tables(life_cycle: str) -> None:
    transitions = LIFE_CYCLES[life_cycle]
    for state, targets in transitions.items():
        assert targets <= set(transitions), f"{life_cycle}: {state} leads to an unknown state"
        assert state not in targets
    assert any(not targets for targets in transitions.values()) or life_cycle in ("fiscal period", "task")


def test_oversized_values_are_refused_before_anything_is_read(business: Business) -> None:
    """A hostile client sending megabytes gets a named refusal, not a slow query."""
    huge = "x" * 1_000_000
    for name, args, field in [
        ("sales.create_customer", {"id": "x", "name": huge}, "name"),
        ("finance.create_account", {"id": huge, "code": "1", "name": "x", "type": "asset"}, "id"),
        (
            "hr.request_leave",
            {"id": "x", "employee_id": "y", "kind": huge, "start_date": "2030-01-01"},
            "kind",
        ),
        (
            "projects.log_time",
            {"id": "x", "employee_id": "y", "project_id": "z", "work_date": huge},
            "work_date",
        ),
        ("sales.record_payment", {"id": "x", "invoice_id": "y", "amount": 10**400}, "amount"),
        ("finance.post_journal_entry", {"id": "x", "lines": [{}] * 100_000}, "lines"),
    ]:
        error = business.refused(name, args)
        assert isinstance(error, CommandError) and error.code == "invalid"
        assert field in {problem["field"] for problem in error.details["errors"]}


def _huge_args(model: type[BaseModel]) -> dict[str, Any]:
    """Every field of ``model`` set to a megabyte of digits (lists of lines: one such line)."""
    args: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        nested = [
            arg
            for outer in (info.annotation, *get_args(info.annotation))
            for arg in get_args(outer)
            if isinstance(arg, type) and issubclass(arg, BaseModel)
        ]
        args[name] = [_huge_args(nested[0])] if nested else "1" * 1_000_001
    return args


@pytest.mark.parametrize("name", BUSINESS_COMMANDS)
def test_a_megabyte_in_every_field_is_refused_naming_each_field(business: Business, name: str) -> None:
    model = REGISTRY[name].args_model
    error = business.refused(name, _huge_args(model))
    assert error.code == "invalid"
    named = {problem["field"].split(".")[0] for problem in error.details["errors"]}
    assert named == set(model.model_fields)

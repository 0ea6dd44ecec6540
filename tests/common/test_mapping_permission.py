"""The account mappings are edited with ``finance.write`` (issue 12), not ``finance.post``."""

from __future__ import annotations

from typing import Any

from common.commands.postings import chart_account_id, mapping_id
from common.permissions import BUILTIN_ROLES
from common.schema import AccountMapping
from tests.common.business import Business, role


def _bank_to_cash(biz: Business) -> dict[str, Any]:
    """Point the bank role from 1000 Bank at 1010 Cash."""
    return {
        "id": mapping_id(biz.org_id, "bank"),
        "changes": {"account_id": chart_account_id(biz.org_id, "1010")},
        "base": {"account_id": chart_account_id(biz.org_id, "1000")},
    }


def _bank_account(biz: Business) -> str:
    return str(biz.row(AccountMapping, mapping_id(biz.org_id, "bank"))["account_id"])


def test_finance_write_edits_a_mapping(books: Business) -> None:
    books.apply("finance.update_account_mapping", _bank_to_cash(books), permissions=frozenset({"finance.read", "finance.write"}))  # fmt: skip
    assert _bank_account(books) == chart_account_id(books.org_id, "1010")
    # Every built-in role holding finance.post holds finance.write too: none loses the setting.
    back = {
        **_bank_to_cash(books),
        "changes": _bank_to_cash(books)["base"],
        "base": _bank_to_cash(books)["changes"],
    }
    for name in ("accountant", "admin"):
        assert {"finance.post", "finance.write"} <= BUILTIN_ROLES[name]
        books.apply("finance.update_account_mapping", back, permissions=role(name))
        assert _bank_account(books) == chart_account_id(books.org_id, "1000")
        books.apply("finance.update_account_mapping", _bank_to_cash(books), permissions=role(name))
        assert _bank_account(books) == chart_account_id(books.org_id, "1010")


def test_finance_post_alone_does_not_edit_a_mapping(books: Business) -> None:
    error = books.refused(
        "finance.update_account_mapping",
        _bank_to_cash(books),
        permissions=frozenset({"finance.read", "finance.post"}),
    )
    assert error.code == "forbidden" and error.message.endswith("needs the permission finance.write")
    assert _bank_account(books) == chart_account_id(books.org_id, "1000")
    # Nor do the built-in roles without finance.write.
    for name in ("auditor", "warehouse", "sales"):
        assert "finance.write" not in BUILTIN_ROLES[name]
        error = books.refused("finance.update_account_mapping", _bank_to_cash(books), permissions=role(name))
        assert error.code == "forbidden"
    assert _bank_account(books) == chart_account_id(books.org_id, "1000")

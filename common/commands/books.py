"""Setting up the books: the default small-business chart of accounts and the posting settings.

``finance.set_up_books`` runs once per organization (the server runs it when it creates one, so
its change log and audit trail carry the chart and every client pulls it). It creates the ledger
in the organization's currency, the accounts of :data:`DEFAULT_CHART` that do not exist yet
(an account already using a chart code is kept and used), and one setting per posting role.
Ids are derived from the organization and the code or role, so a workstation and the server
create the same rows. ``finance.update_account_mapping`` points a role at another account.

Organizations whose books were set up before a role existed get it when a command first needs
it (:func:`role_account`): the chart's account for the role (or the account already using its
code) and the setting are created then, with the same derived ids on every workstation and the
server, and audited with that command. A setting the user emptied stays empty (refused, naming it).
"""

from __future__ import annotations

from common.commands.fields import Args, Changes, Currency, Id, UpdateArgs
from common.commands.finance import usable_account
from common.commands.framework import CommandContext, CommandError, apply_field_changes, command
from common.commands.postings import POSTING_ROLES, account_for, books_on, chart_account_id, mapping_id
from common.schema import Account, AccountMapping, Ledger

# code, name, type, the posting role it serves (None: an account with no role of its own).
DEFAULT_CHART: tuple[tuple[str, str, str, str | None], ...] = (
    ("1000", "Bank", "asset", "bank"),
    ("1010", "Cash", "asset", "cash"),
    ("1200", "Accounts receivable", "asset", "receivables"),
    ("1300", "Inventory", "asset", "inventory"),
    ("1400", "Input tax", "asset", "input_tax"),
    ("2000", "Accounts payable", "liability", "payables"),
    ("2100", "Goods received not invoiced", "liability", "grni"),
    ("2200", "Output tax", "liability", "output_tax"),
    ("2300", "Customer credit", "liability", "customer_credit"),
    ("2400", "Withholdings payable", "liability", "withholdings_payable"),
    ("2410", "Contributions payable", "liability", "contributions_payable"),
    ("2420", "Net wages payable", "liability", "net_wages_payable"),
    ("3000", "Owner's capital", "equity", None),
    ("3200", "Retained earnings", "equity", "retained_earnings"),
    ("3900", "Temporary opening", "equity", "opening"),
    ("4000", "Sales revenue", "income", "revenue"),
    ("5000", "Cost of goods sold", "expense", "cogs"),
    ("5100", "Stock adjustments", "expense", "stock_adjustments"),
    ("5200", "Purchase price variance", "expense", "purchase_price_variance"),
    ("6000", "Wages", "expense", "wages"),
    ("6010", "Employer contributions", "expense", "employer_contributions"),
    ("6500", "Rent", "expense", None),
    ("6900", "General expenses", "expense", None),
    ("7900", "Rounding differences", "expense", "rounding"),
    ("7910", "Exchange differences", "expense", "exchange_differences"),
)
assert {role for *_, role in DEFAULT_CHART if role} == set(POSTING_ROLES)


class SetUpBooksArgs(Args):
    currency: Currency


class AccountMappingChanges(Changes):
    account_id: Id | None = None


@command("finance.set_up_books", args=SetUpBooksArgs, permission="finance.post")
def set_up_books(ctx: CommandContext, args: SetUpBooksArgs) -> None:
    """Create the ledger, the default chart of accounts and the posting settings (once)."""
    found = ctx.get(Ledger, ctx.org_id, include_deleted=True)
    if found is not None:
        raise CommandError(
            "invalid_state",
            f"the books of this organization are already set up (ledger in {found['currency']})",
        )
    ctx.insert(Ledger, {"id": ctx.org_id, "currency": args.currency})
    by_code = {row["code"]: row["id"] for row in ctx.session.execute(ctx.select(Account)).mappings()}
    for code, name, kind, role in DEFAULT_CHART:
        account_id = by_code.get(code)
        if account_id is None:
            account_id = chart_account_id(ctx.org_id, code)
            ctx.insert(
                Account,
                {
                    "id": account_id,
                    "code": code,
                    "name": name,
                    "type": kind,
                    "parent_id": None,
                    "archived": False,
                },
            )
        if role is not None:
            ctx.insert(
                AccountMapping, {"id": mapping_id(ctx.org_id, role), "role": role, "account_id": account_id}
            )
    ctx.outcome.data["accounts"] = len(DEFAULT_CHART)


# Roles added after organizations had set up their books: created by the first command that
# needs them (:func:`role_account`), so a chart without them is not missing a setting.
ADDED_WHEN_NEEDED = frozenset({"opening"})


def role_account(ctx: CommandContext, role: str) -> str:
    """The account ``role`` posts to, creating the default chart's account and setting for a role
    added after the organization's books were set up (``""`` before the books are set up)."""
    assert role in ADDED_WHEN_NEEDED, role
    if books_on(ctx) and ctx.get(AccountMapping, mapping_id(ctx.org_id, role), include_deleted=True) is None:
        code, name, kind, _ = next(entry for entry in DEFAULT_CHART if entry[3] == role)
        found = ctx.session.execute(ctx.select(Account, Account.code == code)).mappings().first()
        account_id = found["id"] if found is not None else chart_account_id(ctx.org_id, code)
        if found is None:
            ctx.insert(
                Account,
                {
                    "id": account_id,
                    "code": code,
                    "name": name,
                    "type": kind,
                    "parent_id": None,
                    "archived": False,
                },
            )
        ctx.insert(
            AccountMapping, {"id": mapping_id(ctx.org_id, role), "role": role, "account_id": account_id}
        )
    return account_for(ctx, role)


@command("finance.update_account_mapping", args=UpdateArgs, permission="finance.write")
def update_account_mapping(ctx: CommandContext, args: UpdateArgs) -> None:
    """Point a posting role at another account (compare-and-set on ``account_id``).

    A setting of the books, edited with ``finance.write`` (issue 12) like the organization's
    profile; posting (``finance.post``) alone does not change where postings go.
    """
    if isinstance(args.changes.get("account_id"), str):
        usable_account(ctx, args.changes["account_id"], "changes.account_id")
    apply_field_changes(ctx, AccountMapping, args.id, AccountMappingChanges, args.changes, args.base)

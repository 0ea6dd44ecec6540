"""Finance and accounting: accounts, journal, periods, tax rates, the books, supplier bills.

Where its files live: entities ``common/schema/{finance,books,bills}.py``; commands
``common/commands/{finance,books,bills,opening_items,year_end}.py`` (posting and period helpers
``common/commands/{postings,periods}.py``); reports ``common/reports/{ledger,aging,tax}.py``;
demo data ``demo.py`` here; desktop screens ``desktop/ui/finance_*.py`` (their Qt-free form
builders ``common/finance_forms.py``) and the report screens ``desktop/ui/finance_reports.py``
(with ``reports_view.py``, ``reports_drill.py``, ``reports_data.py``); tests
``tests/common/test_commands_finance.py``, ``tests/common/test_books_scenario.py``,
``tests/common/test_import_open_items.py``,
``tests/desktop/test_finance_screens.py``, ``tests/desktop/test_report_screens.py``.
"""

from common.modules import DemoData, ModuleSpec, Report

_READ = "finance.read"

SPEC = ModuleSpec(
    key="finance",
    title="Finance & accounting",
    position=30,
    permissions={
        "finance.read": "See accounts, journal entries, periods and tax rates",
        "finance.post": "Post journal entries",
        "finance.close_period": "Close and reopen fiscal periods",
        "finance.write": "Edit the organization profile (letterhead, tax id, bank account) and the account mappings",
    },
    schema=(
        "common.schema.finance",
        "common.schema.books",
        "common.schema.bills",
        "common.schema.profile",
    ),
    commands=(
        "common.commands.finance",
        "common.commands.books",
        "common.commands.bills",
        "common.commands.opening_items",
        "common.commands.year_end",
        "common.commands.organization_profile",
    ),
    reports={
        "trial_balance": Report(_READ, "common.reports.ledger:trial_balance_report"),
        "profit_and_loss": Report(_READ, "common.reports.ledger:profit_and_loss"),
        "balance_sheet": Report(_READ, "common.reports.ledger:balance_sheet"),
        "general_ledger": Report(_READ, "common.reports.ledger:general_ledger"),
        "ar_aging": Report(_READ, "common.reports.aging:ar_aging", takes_permissions=True),
        "ap_aging": Report(_READ, "common.reports.aging:ap_aging", takes_permissions=True),
        "tax_summary": Report(_READ, "common.reports.tax:tax_summary"),
    },
    demo=(
        DemoData(5, "common.modules.finance.demo:tax_data"),
        DemoData(50, "common.modules.finance.demo:finance_data"),
    ),
)

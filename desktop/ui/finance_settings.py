"""Finance settings: which account each posting role uses, and the tax rates.

Every business event posts through an account named by a posting role (receivables, revenue,
goods received not invoiced…). A role with no account makes its events refused, naming the
setting: the page names the missing ones at the top. Tax rates: a percentage with, optionally,
their own output and input tax accounts (else the ``output_tax`` and ``input_tax`` roles').
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from common.commands.books import ADDED_WHEN_NEEDED
from common.commands.postings import POSTING_ROLES
from common.finance_forms import build_tax_rate, missing_mappings
from common.ids import new_id
from common.schema import AccountMapping, Customer, Ledger, TaxRate
from desktop.formatting import quantity, quantity_input
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.qt import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.finance_common import account_choices, fill_accounts, parse_percent
from desktop.ui.forms import FormDialog, FormField, apply_from_form
from desktop.ui.list_page import ListPage
from desktop.ui.widgets import Notice, PageHeader, ask_once, button, label


def role_title(role: str) -> str:
    return {
        "grni": "Goods received not invoiced",
        "cogs": "Cost of goods sold",
        "opening": "Temporary opening",
    }.get(role, role.replace("_", " ").capitalize())


@page("finance", "account_mapping", "Account mapping", writes="finance.update_account_mapping", position=60)
class AccountMappingPage(QWidget):
    """One row per posting role: what posts there and the account it goes to (a choice)."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.mappings: dict[str, dict[str, Any]] = {}
        self._stale = True
        self._filling = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.SPACING * 2)
        layout.setSpacing(theme.SPACING * 2)
        layout.addWidget(
            PageHeader(
                "Account mapping",
                "The account each kind of business event posts to. Change one by picking another account; "
                "it applies to what is posted from now on.",
            )
        )
        self.missing = Notice()
        self.missing.setObjectName("notice")
        layout.addWidget(self.missing)
        # An organization from before the books: its documents post nothing until they are set up.
        self.set_up = QWidget()
        row = QHBoxLayout(self.set_up)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(label("Ledger currency"))
        self.currency = QLineEdit()
        self.currency.setMaxLength(3)
        self.currency.setFixedWidth(80)
        self.currency.setToolTip("The currency the books are kept in (ISO code, e.g. EUR); it never changes")
        row.addWidget(self.currency)
        self.set_up_button = button("Set up the books", primary=True)
        self.set_up_button.clicked.connect(self.set_up_books)
        row.addWidget(self.set_up_button)
        row.addStretch(1)
        self.set_up.hide()
        layout.addWidget(self.set_up)
        self.filler = QWidget()  # takes the table's room while there is no table to show
        self.filler.hide()
        layout.addWidget(self.filler, 1)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Posting role", "What posts there", "Account"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().setDefaultSectionSize(44)
        self.table.setWordWrap(True)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        head.resizeSection(0, 210)
        head.resizeSection(2, 340)
        layout.addWidget(self.table, 1)
        self.status = label("", "muted")
        layout.addWidget(self.status)
        ctx.data_changed.connect(self.refresh)

    def activate(self) -> None:
        if self._stale:
            self.reload()

    def refresh(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def reload(self) -> None:
        self._stale = False
        t = AccountMapping.__table__.c
        with self.ctx.session.store.read_session() as db:
            rows = db.execute(
                select(t.id, t.role, t.account_id).where(live(AccountMapping, self.ctx.session.org_id))
            ).mappings()
            self.mappings = {row["role"]: dict(row) for row in rows}
            org = self.ctx.session.org_id
            books = db.get(Ledger, (org, org)) is not None
            # Offered: the currency most of the organization's customers are invoiced in.
            usual = db.execute(
                select(Customer.currency).where(live(Customer, org)).group_by(Customer.currency)
                .order_by(func.count().desc(), Customer.currency).limit(1)
            ).scalar()  # fmt: skip
        choices = account_choices(self.ctx.session)
        roles = list(POSTING_ROLES)
        self._filling = True
        self.table.setRowCount(len(roles))
        for row, role in enumerate(roles):
            title = QTableWidgetItem(role_title(role))
            title.setData(Qt.ItemDataRole.UserRole, role)
            self.table.setItem(row, 0, title)
            what = label(POSTING_ROLES[role], wrap=True)  # two lines where it needs them, never cut
            what.setContentsMargins(6, 0, 6, 0)
            self.table.setCellWidget(row, 1, what)
            combo = QComboBox()
            later = role not in self.mappings and role in ADDED_WHEN_NEEDED
            fill_accounts(
                combo,
                choices,
                empty="— the default account, made when first used"
                if later
                else "— no account (its events are refused)",
            )
            current = self.mappings.get(role, {}).get("account_id")
            combo.setCurrentIndex(max(0, combo.findData(current)))
            combo.setEnabled(self.ctx.writable and role in self.mappings)
            combo.currentIndexChanged.connect(lambda _i, r=role, c=combo: self.change(r, c.currentData()))
            self.table.setCellWidget(row, 2, combo)
        self._filling = False
        # A role added since the books were set up gets its account when first used, not refused.
        missing = missing_mappings(
            self.mappings.values(), [r for r in roles if r in self.mappings or r not in ADDED_WHEN_NEEDED]
        )
        if not books:
            # Nothing is refused then: documents are recorded and post nothing (postings.py).
            can = self.ctx.can("finance.post")
            self.missing.show_text(
                "The books of this organization are not set up: invoices, bills, payments and stock "
                "moves are recorded but post nothing to the ledger. "
                + (
                    "Setting them up makes the default chart of accounts and these mappings; "
                    "what is posted from then on reaches the ledger."
                    if can
                    else "Someone with the permission finance.post can set them up here."
                )
            )
            if not self.currency.text():
                self.currency.setText(usual or "EUR")
            self.set_up.setVisible(True)
            self.table.hide()
            self.filler.show()
            self.set_up_button.setEnabled(can)
            self.currency.setEnabled(can)
            return
        self.set_up.hide()
        self.filler.hide()
        self.table.show()
        self.missing.show_text(
            "No account is set for: "
            + ", ".join(role_title(r) for r in missing)
            + ". Events that post there are refused until one is chosen."
            if missing
            else None
        )

    def set_up_books(self) -> QMessageBox:
        """Ask first (the ledger currency is for good), then ``finance.set_up_books`` in the currency
        typed (the command checks it is a currency)."""
        currency = self.currency.text().strip().upper()
        self.question = ask_once(
            self,
            "Set up the books",
            f"Keep the books in {currency}? The ledger currency cannot be changed afterwards. What is "
            "posted from now on reaches the ledger; what was recorded before is not posted.",
            "Set up the books",
            lambda: self._set_up(currency),
            stay_text="Not now",
        )
        return self.question

    def _set_up(self, currency: str) -> None:
        self.set_up_button.setEnabled(False)
        self.status.setText("Setting up the books…")

        def refused(error: Any) -> None:
            self.status.setText("")
            self.set_up_button.setEnabled(True)
            QMessageBox.warning(self, "Books not set up", error.message)

        self.ctx.apply(
            self,
            "finance.set_up_books",
            {"currency": currency},
            on_done=lambda _o: self.status.setText(f"The books are set up, kept in {currency}."),
            on_refused=refused,
        )

    def combo(self, role: str) -> QComboBox:
        row = list(POSTING_ROLES).index(role)
        widget = self.table.cellWidget(row, 2)
        assert isinstance(widget, QComboBox)
        return widget

    def change(self, role: str, account_id: str | None) -> None:
        """Point ``role`` at ``account_id`` (compare-and-set against the account it had)."""
        if self._filling or role not in self.mappings:
            return
        mapping = self.mappings[role]
        before = mapping.get("account_id")
        if account_id == before:
            return
        self.status.setText(f"Saving {role_title(role)}…")

        def refused(error: Any) -> None:
            self.status.setText("")
            QMessageBox.warning(self, "Not changed", error.message)
            self.reload()

        self.ctx.apply(
            self,
            "finance.update_account_mapping",
            {"id": mapping["id"], "changes": {"account_id": account_id}, "base": {"account_id": before}},
            on_done=lambda _o: self.status.setText(f"{role_title(role)} saved."),
            on_refused=refused,
        )


TAX_COLUMNS = (
    Column("code", "Code", width=110),
    Column("name", "Name", stretch=True),
    Column("rate_text", "Rate", kind="number", width=100, sortable=False),
    Column("archived", "Archived", kind="bool", width=90),
)
TAX_FIELDS = (
    FormField("code", "Code", required=True, max_length=20, placeholder="VAT20"),
    FormField("name", "Name", required=True, placeholder="Standard rate"),
    FormField("rate", "Rate (%)", kind="quantity", required=True, placeholder="20"),
    FormField("output_account_id", "Output tax account", kind="choice",
              hint="Tax charged on invoices; empty: the Output tax mapping"),
    FormField("input_account_id", "Input tax account", kind="choice",
              hint="Tax paid on bills; empty: the Input tax mapping"),
)  # fmt: skip
TAX_KEYS = ("code", "name", "rate", "output_account_id", "input_account_id")


def tax_source(ctx: UiContext, include_archived: bool) -> ListSource:
    t = TaxRate.__table__

    def build() -> Any:
        stmt = select(
            t.c.id, t.c.code, t.c.name, t.c.rate, t.c.archived, t.c.output_account_id, t.c.input_account_id
        ).where(live(TaxRate, ctx.session.org_id))
        return stmt if include_archived else stmt.where(t.c.archived.is_(False))

    def decorate(_db: Any, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            row["rate_text"] = f"{quantity(Decimal(row['rate']).normalize())} %"

    return ListSource(
        ctx.session.store,
        TAX_COLUMNS,
        build,
        search_keys=("code", "name"),
        default_sort="code",
        decorate=decorate,
    )


@page("finance", "tax_rates", "Tax rates", writes="finance.create_tax_rate", position=70)
class TaxRatesPage(ListPage):
    title = "Tax rates"
    subtitle = "The rates invoice and bill lines are taxed at. Lines already recorded keep their tax."
    noun = "tax rate"
    search_placeholder = "Search by code or name  (Ctrl+F)"
    empty_hint = "Add one with New tax rate (Ctrl+N)."
    history_entity = "tax_rate"

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        self.include_archived = False
        super().__init__(ctx, parent)

    def make_source(self) -> ListSource:
        return tax_source(self.ctx, self.include_archived)

    @property
    def can_create(self) -> bool:
        return self.ctx.writable

    def add_actions(self, header: PageHeader) -> None:
        self.archive_button = button("Archive")
        self.edit_button = button("Edit…", tooltip="Edit the selected rate (Enter)")
        self.new_button = button("New tax rate", primary=True, tooltip="Ctrl+N")
        self.archive_button.clicked.connect(self._archive)
        self.edit_button.clicked.connect(self.open_current)
        self.new_button.clicked.connect(self.new_item)
        for widget in (self.archive_button, self.edit_button, self.new_button):
            header.add_action(widget)
        self.archive_button.setVisible(self.ctx.writable)
        self.new_button.setVisible(self.ctx.writable)

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        self.edit_button.setEnabled(row is not None)
        self.archive_button.setEnabled(row is not None)
        self.edit_button.setText("Edit…" if self.ctx.writable else "View…")
        if row is not None:
            self.archive_button.setText("Restore" if row["archived"] else "Archive")

    def _dialog(self, title: str, rate_id: str, before: dict[str, Any] | None) -> FormDialog:
        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
            built = build_tax_rate(rate_id, raw, parse_percent, before)
            return built.args, built.problems

        command = "finance.create_tax_rate" if before is None else "finance.update_tax_rate"
        dialog = FormDialog(
            self,
            title,
            TAX_FIELDS,
            build=build,
            save=apply_from_form(self.ctx, command),
            save_text="Create tax rate" if before is None else "Save",
        )
        choices = account_choices(self.ctx.session)
        for key in ("output_account_id", "input_account_id"):
            combo = dialog.inputs[key]
            assert isinstance(combo, QComboBox)
            fill_accounts(combo, choices, empty="— the default mapping")
        if before is not None:
            for key in TAX_KEYS:
                value = before.get(key)
                shown = (
                    quantity_input(Decimal(str(value)).normalize())
                    if key == "rate" and value is not None
                    else value
                )
                dialog.set_value(key, shown)
            dialog.touched.clear()
            dialog.validate()
        dialog.accepted.connect(lambda: setattr(self, "_kept_id", rate_id))
        return dialog

    def new_item(self) -> FormDialog | None:
        if not self.can_create:
            return None
        dialog = self._dialog("New tax rate", new_id(), None)
        dialog.open()
        return dialog

    def open_row(self, row: dict[str, Any]) -> FormDialog:
        before = {key: row.get(key) for key in TAX_KEYS}
        dialog = self._dialog(f"Tax rate {row['code']}", row["id"], before)
        if not self.ctx.writable:
            dialog.save_button.hide()
            dialog.cancel_button.setText("Close")
            for widget in dialog.inputs.values():
                widget.setEnabled(False)
        dialog.open()
        return dialog

    def _archive(self) -> None:
        row = self.current_row()
        if row is None:
            return
        archived = bool(row["archived"])
        self.ctx.apply(
            self,
            "finance.update_tax_rate",
            {"id": row["id"], "changes": {"archived": not archived}, "base": {"archived": archived}},
            on_refused=lambda e: QMessageBox.warning(self, "Not saved", e.message),
        )

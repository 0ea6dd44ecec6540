"""Chart of accounts: the accounts as a tree with their balances; create and edit accounts.

Balances are every posted line up to today, debit minus credit, shown on their side (a debit or
a credit column) in the ledger currency; a parent shows its own lines plus everything under it.
They are summed off the GUI thread (:func:`common.reports.ledger.trial_balance`, one aggregate).
"""

from __future__ import annotations

from typing import Any

from common.finance_forms import AccountNode, account_tree, balance_sides, build_account
from common.ids import new_id
from common.reports.ledger import trial_balance
from desktop.modules import page
from desktop.qt import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QSize,
    Qt,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.finance_common import TYPE_TITLES, account_label, accounts, amount, ledger_currency
from desktop.ui.forms import FormDialog, FormField, apply_from_form
from desktop.ui.widgets import PageHeader, SearchBox, button, label

COLUMNS = ("Account", "Type", "Debit", "Credit")
TYPE_GROUPS = (
    ("asset", "Assets"),
    ("liability", "Liabilities"),
    ("equity", "Equity"),
    ("income", "Income"),
    ("expense", "Expenses"),
)
ID_ROLE = Qt.ItemDataRole.UserRole
ACCOUNT_FIELDS = (
    FormField("code", "Code", required=True, max_length=20, placeholder="6510"),
    FormField("name", "Name", required=True, placeholder="Office rent"),
    FormField("type", "Type", kind="choice", required=True, choices=tuple(TYPE_TITLES.items())),
    FormField("parent_id", "Under", kind="choice", hint="The account it is grouped under in the chart"),
)


@page("finance", "accounts", "Chart of accounts", writes="finance.create_account", position=10)
class AccountsPage(QWidget):
    """The chart as a tree; Enter or double-click opens an account, Ctrl+N adds one."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.currency = "EUR"
        self.rows: dict[str, dict[str, Any]] = {}
        self.roots: list[AccountNode] = []
        self._stale = True
        self._select_after: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.SPACING * 2)
        layout.setSpacing(theme.SPACING * 2)
        self.header = PageHeader(
            "Chart of accounts",
            "Every account with its balance of all posted lines; a parent shows the total of the accounts under it.",
        )
        self.edit_button = button("Edit…", tooltip="Edit the selected account (Enter)")
        self.new_button = button("New account", primary=True, tooltip="Ctrl+N")
        self.archive_button = button("Archive", tooltip="Hide the account from pickers; its history stays")
        self.archive_button.clicked.connect(self.toggle_archive)
        self.archive_button.setVisible(ctx.writable)
        self.edit_button.clicked.connect(self.open_current)
        self.new_button.clicked.connect(self.new_item)
        self.header.add_action(self.archive_button)
        self.header.add_action(self.edit_button)
        self.header.add_action(self.new_button)
        self.new_button.setVisible(ctx.writable)
        layout.addWidget(self.header)
        bar = QHBoxLayout()
        self.search = SearchBox("Find an account by code or name  (Ctrl+F)")
        self.search.textChanged.connect(self._filter)
        bar.addWidget(self.search)
        self.archived_box = QCheckBox("Show archived")
        self.archived_box.toggled.connect(lambda _checked: self.reload())
        bar.addWidget(self.archived_box)
        bar.addStretch(1)
        self.total_label = label("", "muted")
        bar.addWidget(self.total_label)
        layout.addLayout(bar)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        head = self.tree.header()
        head.setStretchLastSection(False)
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in ((1, 110), (2, 160), (3, 160)):
            head.resizeSection(column, width)
        for column in (2, 3):
            self.tree.headerItem().setTextAlignment(
                column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            )
        self.tree.itemActivated.connect(lambda item, _column: self.open_account(item.data(0, ID_ROLE)))
        self.tree.currentItemChanged.connect(lambda *_: self._selection_changed())
        layout.addWidget(self.tree, 1)
        ctx.data_changed.connect(self.refresh)
        self._selection_changed()

    # -- loading -------------------------------------------------------------------------------
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
        session = self.ctx.session
        include_archived = self.archived_box.isChecked()

        def work() -> tuple[str, list[dict[str, Any]], dict[str, int]]:
            currency = ledger_currency(session)
            rows = accounts(session, include_archived=include_archived)
            with session.store.read_session() as db:
                balances = {
                    row.account_id: row.balance
                    for row in trial_balance(db, session.org_id).rows
                    if row.currency == currency
                }
            return currency, rows, balances

        self.ctx.run(self, work, on_success=self._loaded, busy_text="Summing balances…")

    def _loaded(self, result: tuple[str, list[dict[str, Any]], dict[str, int]]) -> None:
        self.currency, rows, balances = result
        self.rows = {row["id"]: row for row in rows}
        self.roots = account_tree(rows, balances)
        kept, self._select_after = self._select_after or self.current_id(), None
        self.tree.clear()
        self.tree.setHeaderLabels(
            ["Account", "Type", f"Debit ({self.currency})", f"Credit ({self.currency})"]
        )
        for kind, heading in TYPE_GROUPS:
            members = [root for root in self.roots if root.type == kind]
            if not members:
                continue
            group = QTreeWidgetItem(
                [
                    heading,
                    "",
                    *map(lambda v: amount(v, self.currency), balance_sides(sum(m.total for m in members))),
                ]
            )
            font = group.font(0)
            font.setBold(True)
            for column in range(len(COLUMNS)):
                group.setFont(column, font)
            for column in (2, 3):
                group.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            group.setSizeHint(0, QSize(0, 30))
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for member in members:
                group.addChild(self._item(member))
            self.tree.addTopLevelItem(group)
        for root in self.roots:
            if root.type not in TYPE_TITLES:
                self.tree.addTopLevelItem(self._item(root))
        self.tree.expandAll()
        if kept:
            self.select_id(kept)
        debit = sum(b for b in balances.values() if b > 0)
        credit = -sum(b for b in balances.values() if b < 0)
        self.total_label.setText(
            f"{len(rows)} accounts · debits {amount(debit, self.currency)} · credits {amount(credit, self.currency)}"
        )
        self._filter(self.search.text())
        self._selection_changed()

    def _item(self, node: AccountNode) -> QTreeWidgetItem:
        debit, credit = balance_sides(node.total)
        name = f"{node.code}  {node.name}" + ("  (archived)" if node.archived else "")
        item = QTreeWidgetItem([name, TYPE_TITLES.get(node.type, node.type), amount(debit, self.currency),
                                amount(credit, self.currency)])  # fmt: skip
        item.setData(0, ID_ROLE, node.id)
        item.setSizeHint(0, QSize(0, 28))
        for column in (2, 3):
            item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if node.children:
            font = item.font(0)
            font.setBold(True)
            for column in range(len(COLUMNS)):
                item.setFont(column, font)
        for child in node.children:
            item.addChild(self._item(child))
        return item

    def items(self) -> list[QTreeWidgetItem]:
        found: list[QTreeWidgetItem] = []

        def walk(item: QTreeWidgetItem | None) -> None:
            if item is None:
                return
            found.append(item)
            for index in range(item.childCount()):
                walk(item.child(index))

        for index in range(self.tree.topLevelItemCount()):
            walk(self.tree.topLevelItem(index))
        return found

    def item_of(self, account_id: str) -> QTreeWidgetItem | None:
        return next((i for i in self.items() if i.data(0, ID_ROLE) == account_id), None)

    def _filter(self, text: str) -> None:
        """Show the accounts matching every word (with their parents, so the tree stays a tree)."""
        words = text.lower().split()

        def show(item: QTreeWidgetItem | None) -> bool:
            if item is None:
                return False
            own = all(w in item.text(0).lower() for w in words)
            shown_child = False
            for index in range(item.childCount()):
                shown_child = show(item.child(index)) or shown_child
            visible = own or shown_child
            item.setHidden(not visible)
            return visible

        for index in range(self.tree.topLevelItemCount()):
            show(self.tree.topLevelItem(index))

    # -- selection and actions -----------------------------------------------------------------
    def current_id(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, ID_ROLE) if item is not None else None

    def select_id(self, account_id: str) -> bool:
        item = self.item_of(account_id)
        if item is not None:
            self.tree.setCurrentItem(item)
        return item is not None

    def _selection_changed(self) -> None:
        row = self.rows.get(self.current_id() or "")
        self.archive_button.setEnabled(row is not None)
        if row is not None:
            self.archive_button.setText("Restore" if row["archived"] else "Archive")
        self.edit_button.setEnabled(self.current_id() is not None)
        self.edit_button.setText("Edit…" if self.ctx.writable else "View…")

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def open_current(self) -> None:
        account_id = self.current_id()
        if account_id is not None:
            self.open_account(account_id)

    def _parent_choices(self, dialog: FormDialog, exclude: str | None) -> None:
        combo = dialog.inputs["parent_id"]
        combo.clear()  # type: ignore[attr-defined]
        combo.addItem("— (top level)", None)  # type: ignore[attr-defined]
        for row in self.rows.values():
            if row["id"] != exclude and not row["archived"]:
                combo.addItem(account_label(row), row["id"])  # type: ignore[attr-defined]

    def new_item(self) -> FormDialog | None:
        if not self.ctx.writable:
            return None
        account_id = new_id()
        under = self.current_id()
        dialog = FormDialog(
            self,
            "New account",
            ACCOUNT_FIELDS,
            build=lambda raw: self._args(account_id, raw, None),
            save=apply_from_form(self.ctx, "finance.create_account"),
            save_text="Create account",
        )
        self._parent_choices(dialog, None)
        if under is not None and under in self.rows:
            dialog.set_value("parent_id", under)
            dialog.set_value("type", self.rows[under]["type"])
        dialog.touched.clear()
        dialog.validate()
        dialog.accepted.connect(lambda: self.after_save(account_id))
        dialog.open()
        return dialog

    def _args(
        self, account_id: str, raw: dict[str, Any], before: dict[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        built = build_account(account_id, raw, before)
        return built.args, built.problems

    def open_account(self, account_id: str | None) -> FormDialog | None:
        row = self.rows.get(account_id or "")
        if row is None:
            return None
        before = {key: row.get(key) for key in ("code", "name", "type", "parent_id")}
        dialog = FormDialog(
            self,
            f"Account {account_label(row)}",
            ACCOUNT_FIELDS,
            build=lambda raw: self._args(row["id"], raw, before),
            save=apply_from_form(self.ctx, "finance.update_account"),
        )
        self._parent_choices(dialog, row["id"])
        for key, value in before.items():
            dialog.set_value(key, value)
        dialog.touched.clear()
        dialog.validate()
        dialog.baseline = None
        if not self.ctx.writable:
            dialog.save_button.hide()
            dialog.cancel_button.setText("Close")
            for widget in dialog.inputs.values():
                widget.setEnabled(False)
        dialog.accepted.connect(lambda: self.after_save(row["id"]))
        dialog.open()
        return dialog

    def toggle_archive(self) -> None:
        """Archive the selected account (posted lines stay; new postings to it are refused)."""
        row = self.rows.get(self.current_id() or "")
        if row is None or not self.ctx.writable:
            return
        archived = bool(row["archived"])
        self._select_after = row["id"]
        self.ctx.apply(
            self,
            "finance.update_account",
            {"id": row["id"], "changes": {"archived": not archived}, "base": {"archived": archived}},
            on_refused=lambda e: QMessageBox.warning(self, "Not saved", e.message),
        )

    def after_save(self, account_id: str) -> None:
        """Saving reloads the tree (``data_changed``); the saved account is selected then."""
        self._select_after = account_id

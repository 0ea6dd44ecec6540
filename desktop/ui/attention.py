"""The "needs attention" panel: refused and conflicting changes, and the two ways to resolve them."""

from __future__ import annotations

import json
from typing import Any

from common.commands import CommandError
from desktop.attention import AttentionItem, ResolutionError, attention_items, keep_server, reapply_mine
from desktop.formatting import timestamp
from desktop.qt import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QStackedWidget,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.widgets import EmptyState, PageHeader, button, label

ITEM_ROLE = Qt.ItemDataRole.UserRole + 1


def shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value)


class AttentionPage(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.items: list[AttentionItem] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.SPACING * 2)
        layout.setSpacing(theme.SPACING * 2)
        layout.addWidget(
            PageHeader(
                "Needs attention",
                "Changes the server refused, or that clash with someone else's change. Nothing is "
                "thrown away until you decide.",
            )
        )
        self.stack = QStackedWidget()
        layout.addWidget(self.stack, 1)
        self.empty = EmptyState()
        self.empty.show_message(
            "Nothing needs your attention",
            "When the server refuses one of your changes, or someone changed the same field first, "
            "it is listed here with the choices to resolve it.",
        )
        self.stack.addWidget(self.empty)
        body = QWidget()
        row = QHBoxLayout(body)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(theme.SPACING * 2)
        self.list = QListWidget()
        self.list.setObjectName("attentionList")
        self.list.setFixedWidth(340)
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.currentItemChanged.connect(lambda *_: self._show_current())
        row.addWidget(self.list)
        detail = QWidget()
        detail.setObjectName("card")
        detail_layout = QVBoxLayout(detail)
        detail_layout.setSpacing(theme.SPACING)
        self.title = label("", "pageTitle")
        self.when = label("", "muted")
        self.reason = label("", "formError", wrap=True)
        self.fields = QTableWidget(0, 4)
        self.fields.setHorizontalHeaderLabels(
            ["Field", "Your value", "You started from", "Server's value now"]
        )
        self.fields.verticalHeader().setVisible(False)
        self.fields.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.fields.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.explain = label("", "muted", wrap=True)
        buttons = QHBoxLayout()
        self.keep_button = button("Keep the server's", tooltip="Undo your change on this computer")
        self.reapply_button = button(
            "Re-apply mine on the server's values",
            primary=True,
            tooltip="Send your change again, based on what the server has now",
        )
        self.keep_button.clicked.connect(self.keep_server)
        self.reapply_button.clicked.connect(self.reapply_mine)
        buttons.addStretch(1)
        buttons.addWidget(self.keep_button)
        buttons.addWidget(self.reapply_button)
        for widget in (self.title, self.when, self.reason, self.fields, self.explain):
            detail_layout.addWidget(widget)
        detail_layout.addLayout(buttons)
        row.addWidget(detail, 1)
        self.stack.addWidget(body)
        self.body = body
        ctx.data_changed.connect(self.reload)

    def activate(self) -> None:
        self.reload()

    def reload(self) -> None:
        current = self.current()
        self.items = attention_items(self.ctx.session)
        self.list.clear()
        for item in self.items:
            entry = QListWidgetItem(f"{item.summary}\n{item.message}")
            entry.setData(ITEM_ROLE, item.id)
            entry.setToolTip(item.message)
            self.list.addItem(entry)
        self.stack.setCurrentWidget(self.body if self.items else self.empty)
        ids = [i.id for i in self.items]
        index = ids.index(current.id) if current is not None and current.id in ids else 0
        if self.items:
            self.list.setCurrentRow(index)
        self._show_current()

    def current(self) -> AttentionItem | None:
        entry = self.list.currentItem()
        if entry is None:
            return None
        return next((i for i in self.items if i.id == entry.data(ITEM_ROLE)), None)

    def _show_current(self) -> None:
        item = self.current()
        self.keep_button.setEnabled(item is not None)
        self.reapply_button.setEnabled(item is not None and item.can_reapply)
        if item is None:
            return
        self.title.setText(item.summary)
        self.when.setText(f"Made {timestamp(item.created_at)} · {item.name}")
        kind = "Conflict" if item.status == "conflict" else "Refused by the server"
        self.reason.setText(f"{kind}: {item.message}")
        rows = item.changed_fields() or [
            {"field": key, "mine": value, "base": None, "server": None}
            for key, value in item.args.items()
            if key != "id"
        ]
        is_field_change = bool(item.changed_fields())
        self.fields.setColumnHidden(2, not is_field_change)
        self.fields.setColumnHidden(3, not is_field_change)
        self.fields.setRowCount(len(rows))
        for r, field in enumerate(rows):
            for c, key in enumerate(("field", "mine", "base", "server")):
                self.fields.setItem(r, c, QTableWidgetItem(shown(field[key])))
        if item.can_reapply:
            self.explain.setText(
                "Keep the server's: your change is undone here. Re-apply mine: your values are sent "
                "again, this time based on the server's current values."
            )
        else:
            self.explain.setText(
                "Keep the server's undoes this change on this computer and removes it from the list."
            )

    def keep_server(self) -> None:
        item = self.current()
        if item is None:
            return
        answer = QMessageBox.question(
            self, "Keep the server's", f"Undo “{item.summary}” on this computer? This cannot be undone."
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self._resolve(lambda: keep_server(self.ctx.session, item.id), "Undoing your change…")

    def reapply_mine(self) -> None:
        item = self.current()
        if item is None or not item.can_reapply:
            return
        self._resolve(lambda: reapply_mine(self.ctx.session, item.id), "Re-applying your change…")

    def _resolve(self, work: Any, text: str) -> None:
        self.keep_button.setEnabled(False)
        self.reapply_button.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self._show_current()
            if isinstance(exc, ResolutionError | CommandError):
                QMessageBox.warning(self, "Not resolved", str(exc))
            else:
                QMessageBox.critical(self, "Not resolved", f"Something went wrong: {exc}")

        self.ctx.run(
            self, work, on_success=lambda _r: self.ctx.data_changed.emit(), on_failure=failed, busy_text=text
        )

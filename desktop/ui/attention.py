"""The "needs attention" panel: refused and conflicting changes, and the two ways to resolve them."""

from __future__ import annotations

from typing import Any

from common.commands import CommandError
from desktop.attention import (
    AttentionItem,
    ItemView,
    ResolutionError,
    attention_items,
    keep_server,
    reapply_mine,
    resolve_fields,
    view_of,
)
from desktop.formatting import timestamp
from desktop.qt import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QSizePolicy,
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
COLUMNS = ("Field", "Yours", "Theirs (server now)", "Choice")


class AttentionPage(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.items: list[AttentionItem] = []
        self.views: dict[str, ItemView] = {}
        # Names of the members who made clashing changes, as the server told them (this session).
        self.names: dict[str, str] = {}
        self._asked: set[str] = set()
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
        # Never wider than the window: long values wrap or elide, the panel does not grow.
        detail.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        detail.setMinimumWidth(320)
        detail_layout = QVBoxLayout(detail)
        detail_layout.setSpacing(theme.SPACING)
        self.title = label("", "pageTitle", wrap=True)
        self.when = label("", "muted", wrap=True)
        self.changed_by = label("", "muted", wrap=True)
        self.reason = label("", "formError", wrap=True)
        self.fields = QTableWidget(0, len(COLUMNS))
        self.fields.setHorizontalHeaderLabels(list(COLUMNS))
        self.fields.verticalHeader().setVisible(False)
        self.fields.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.fields.setWordWrap(True)
        self.fields.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.fields.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.fields.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COLUMNS.index("Field"), QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("Choice"), QHeaderView.ResizeMode.ResizeToContents)
        self.choices: dict[str, QComboBox] = {}
        self.explain = label("", "muted", wrap=True)
        buttons = QHBoxLayout()
        self.keep_button = button("Keep theirs for all", tooltip="Undo your change on this computer")
        self.reapply_button = button(
            "Use mine for all", tooltip="Send your values again, based on what the server has now"
        )
        self.apply_button = button(
            "Apply choices", primary=True, tooltip="Keep theirs or use mine, per field"
        )
        self.keep_button.clicked.connect(self.keep_server)
        self.reapply_button.clicked.connect(self.reapply_mine)
        self.apply_button.clicked.connect(self.apply_choices)
        buttons.addStretch(1)
        buttons.addWidget(self.keep_button)
        buttons.addWidget(self.reapply_button)
        buttons.addWidget(self.apply_button)
        for widget in (self.title, self.when, self.changed_by, self.reason, self.fields, self.explain):
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
        self.views = {item.id: view_of(self.ctx.session, item, self.names) for item in self.items}
        for item in self.items:
            view = self.views[item.id]
            entry = QListWidgetItem(f"{view.title}\n{view.reason}")
            entry.setData(ITEM_ROLE, item.id)
            entry.setToolTip(item.message)
            self.list.addItem(entry)
        self.stack.setCurrentWidget(self.body if self.items else self.empty)
        self._ask_names()
        ids = [i.id for i in self.items]
        index = ids.index(current.id) if current is not None and current.id in ids else 0
        if self.items:
            self.list.setCurrentRow(index)
        self._show_current()

    def _ask_names(self) -> None:
        """Ask the server, in the background, who made the clashing changes (offline: not at all,
        the panel says "another user")."""
        wanted = sorted({v.unnamed_user for v in self.views.values() if v.unnamed_user} - self._asked)
        session = self.ctx.session
        if not wanted or not session.online:
            return
        self._asked.update(wanted)

        def learned(names: dict[str, str]) -> None:
            if not names:
                return
            self.names.update(names)
            self.views = {item.id: view_of(session, item, self.names) for item in self.items}
            self._show_current()

        self.ctx.run(
            self,
            lambda: session.api.member_names(session.org_id, wanted),
            on_success=learned,
            on_failure=lambda _exc: None,  # offline or refused: "another user" stays
            busy_text="Asking who changed it…",
        )

    def current(self) -> AttentionItem | None:
        entry = self.list.currentItem()
        if entry is None:
            return None
        return next((i for i in self.items if i.id == entry.data(ITEM_ROLE)), None)

    def _show_current(self) -> None:
        item = self.current()
        self.keep_button.setEnabled(item is not None)
        self.reapply_button.setEnabled(item is not None and item.can_reapply)
        self.reapply_button.setVisible(item is None or item.can_reapply)
        self.apply_button.setVisible(item is not None and item.can_reapply)
        if item is None:
            return
        view = self.views.get(item.id) or view_of(self.ctx.session, item)
        self.title.setText(view.title)
        self.when.setText(f"Your change, made {timestamp(item.created_at)}")
        self.changed_by.setText(view.changed_by)
        self.changed_by.setVisible(bool(view.changed_by))
        self.reason.setText(view.reason)
        per_field = view.per_field
        self.fields.setColumnHidden(COLUMNS.index("Theirs (server now)"), not per_field)
        self.fields.setColumnHidden(COLUMNS.index("Choice"), not per_field)
        self.fields.setRowCount(len(view.fields))
        self.choices = {}
        for r, field in enumerate(view.fields):
            for c, text in enumerate((field.label, field.mine, field.theirs)):
                cell = QTableWidgetItem(text)
                if c == 1 and field.base:
                    cell.setToolTip(f"You started from {field.base}")
                self.fields.setItem(r, c, cell)
            if per_field:
                choice = QComboBox()
                choice.setObjectName(f"choice_{field.key}")
                choice.addItem("Choose…", None)
                choice.addItem("Keep theirs", "theirs")
                choice.addItem("Use mine", "mine")
                if not field.conflicting:
                    choice.setCurrentIndex(2)  # only the clashing fields need a decision
                choice.currentIndexChanged.connect(lambda *_: self._choices_changed())
                self.fields.setCellWidget(r, COLUMNS.index("Choice"), choice)
                self.choices[field.key] = choice
        self.fields.resizeRowsToContents()
        self._choices_changed()
        if item.can_reapply:
            self.explain.setText(
                "Keep theirs: the server's value stays and yours is dropped. Use mine: your value is "
                "sent again, this time based on the server's current one."
            )
        else:
            self.explain.setText(
                "Keep theirs for all undoes this change on this computer and removes it from the list."
            )

    def _choices_changed(self) -> None:
        chosen = [box.currentData() for box in self.choices.values()]
        self.apply_button.setEnabled(bool(chosen) and None not in chosen)

    def apply_choices(self) -> None:
        item = self.current()
        if item is None or not self.choices or not self.apply_button.isEnabled():
            return
        mine = {key for key, box in self.choices.items() if box.currentData() == "mine"}
        self._resolve(lambda: resolve_fields(self.ctx.session, item.id, mine), "Applying your choices…")

    def keep_server(self) -> None:
        item = self.current()
        if item is None:
            return
        title = self.views[item.id].title if item.id in self.views else item.summary
        answer = QMessageBox.question(
            self, "Keep theirs", f"Undo “{title}” on this computer? This cannot be undone."
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
        self.apply_button.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self._show_current()
            if isinstance(exc, ResolutionError | CommandError):
                QMessageBox.warning(self, "Not resolved", str(exc))
            else:
                QMessageBox.critical(self, "Not resolved", f"Something went wrong: {exc}")

        self.ctx.run(
            self, work, on_success=lambda _r: self.ctx.data_changed.emit(), on_failure=failed, busy_text=text
        )

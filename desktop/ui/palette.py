"""The command palette (Ctrl+K): records, screens and actions, ranked as the user types.

Each keystroke starts a search off the GUI thread; an answer for older text is dropped. Enter
opens the best hit: a screen or an action runs, a record opens on its list page (selected and
opened) or, when it has no page yet, in a read-only card of the fields the user may read. A
barcode scanner types digits and Enter: the exact barcode ranks its product first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from desktop.background import run_op
from desktop.formatting import timestamp
from desktop.qt import (
    QDialog,
    QFormLayout,
    QKeyEvent,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.search import Hit, record_fields, search_actions, search_records

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow

HIT_ROLE = Qt.ItemDataRole.UserRole + 7


class RecordCard(QDialog):
    """A record without a page of its own, read-only, only fields the user may read."""

    def __init__(self, parent: QWidget, title: str, fields: list[tuple[str, Any]]) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        form = QFormLayout(self)
        for name, value in fields:
            text = timestamp(value) if hasattr(value, "tzinfo") else str(value)
            form.addRow(name, QLabel(text))
        self.shown = [name for name, _ in fields]


class CommandPalette(QDialog):
    """``results_shown`` fires after the list shows the hits for the current text."""

    results_shown = Signal()

    def __init__(
        self, window: MainWindow, actions: list[tuple[str, str]], run_action: Callable[[str], Any]
    ) -> None:
        super().__init__(window)
        self.window_ = window
        self.actions_, self.run_action = actions, run_action
        self.setWindowTitle("Search and commands")
        self.resize(560, 420)
        layout = QVBoxLayout(self)
        self.input = QLineEdit()
        self.input.setPlaceholderText(
            "Search records, screens and actions — type a name, number, SKU, e-mail or barcode"
        )
        self.list = QListWidget()
        layout.addWidget(self.input)
        layout.addWidget(self.list, 1)
        self.input.textChanged.connect(self.search)
        self.list.itemActivated.connect(lambda item: self.open_hit(item.data(HIT_ROLE)))
        self.generation = 0
        self.opened: Any = None
        self.search("")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.list.count():
            step = 1 if key == Qt.Key.Key_Down else -1
            self.list.setCurrentRow(max(0, min(self.list.count() - 1, self.list.currentRow() + step)))
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            item = self.list.currentItem() or self.list.item(0)
            if item is not None:
                self.open_hit(item.data(HIT_ROLE))
            return
        super().keyPressEvent(event)

    def search(self, text: str) -> None:
        self.generation += 1
        generation, session = self.generation, self.window_.session
        actions = search_actions(self.actions_, text)

        def done(records: list[Hit]) -> None:
            if generation == self.generation:
                self._show(
                    sorted([*records, *actions], key=lambda h: (h.rank, h.action is None, h.title.lower()))
                )

        if not text.strip():
            self._show(actions)
            return
        run_op(
            self, lambda _p: search_records(session, text), on_success=done, on_failure=lambda _e: done([])
        )

    def _show(self, hits: list[Hit]) -> None:
        self.list.clear()
        for hit in hits:
            item = QListWidgetItem(f"{hit.title}    —  {hit.subtitle}")
            item.setData(HIT_ROLE, hit)
            self.list.addItem(item)
        if hits:
            self.list.setCurrentRow(0)
        self.results_shown.emit()

    def hits(self) -> list[Hit]:
        return [self.list.item(i).data(HIT_ROLE) for i in range(self.list.count())]

    def open_hit(self, hit: Hit) -> Any:
        self.accept()
        if hit.action is not None:
            self.opened = self.run_action(hit.action)
        elif hit.page is not None and hit.page in self.window_.page_keys():
            page = self.window_.open_page(hit.page)
            self.opened = open_record_on_page(page, hit)
        elif hit.entity is not None and hit.entity_id is not None:
            fields = record_fields(self.window_.session, hit.entity, hit.entity_id)
            card = RecordCard(self.window_, hit.title, fields)
            card.open()
            self.opened = card
        return self.opened


def open_record_on_page(page: Any, hit: Hit) -> Any:
    """Show the record on its list: searched for, selected and opened."""
    search = getattr(page, "search", None)
    if search is not None:
        search.setText(hit.title)
    if page.select_id(hit.entity_id):
        row = page.current_row()
        if row is not None:
            before = set(page.findChildren(QDialog))
            opened = page.open_row(row)
            new = [d for d in page.findChildren(QDialog) if d not in before]
            return opened or (new[0] if new else page)
    return page

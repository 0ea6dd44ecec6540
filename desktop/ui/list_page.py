"""The common shape of a list screen: header with actions, search box, lazy table, empty state.

Screens subclass :class:`ListPage` and give it a list source and, when they allow it, what
"new", "open" and "history" do. The main window's shortcuts (Ctrl+N, Ctrl+F, Enter) call
:meth:`new_item`, :meth:`focus_search` and :meth:`open_current` of the page on show.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from desktop.background import run_op
from desktop.formatting import count
from desktop.lists import Column, ListSource
from desktop.qt import (
    QAbstractItemView,
    QComboBox,
    QFont,
    QFontMetrics,
    QHBoxLayout,
    QHeaderView,
    QKeyEvent,
    QModelIndex,
    QShowEvent,
    QStackedWidget,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.exporting import install_list_tools
from desktop.ui.table_model import LazyTableModel
from desktop.ui.widgets import EmptyState, PageHeader, SearchBox, label
from desktop.words import plural


class ListTable(QTableView):
    """A table that opens the current row on Enter."""

    def __init__(self, page: ListPage) -> None:
        super().__init__(page)
        self.page = page

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.page.open_current()
            return
        super().keyPressEvent(event)


# Room a header needs besides its text: padding and the sort arrow (theme.py).
HEADER_ROOM = 30
SAMPLE_TEXT = {"datetime": "2026-12-31 23:59", "date": "2026-12-31"}


def header_metrics(table: QTableView) -> QFontMetrics:
    """Metrics of the header titles as painted: the stylesheet draws them semi-bold (theme.py)."""
    font = QFont(table.horizontalHeader().font())
    font.setBold(True)
    return QFontMetrics(font)


def column_width(table: QTableView, column: Column) -> int:
    """The column's width, never narrower than its title with the sort arrow, or a full
    date and time (a "When" column shows the time, not half of it)."""
    metrics = table.fontMetrics()
    needed = header_metrics(table).horizontalAdvance(column.title) + HEADER_ROOM
    sample = SAMPLE_TEXT.get(column.kind)
    if sample is not None:
        needed = max(needed, metrics.horizontalAdvance(sample) + 24)
    return max(column.width or 0, needed)


class ListPage(QWidget):
    title = ""
    subtitle = ""
    noun = "item"  # "product" → "12 products", "No products yet"
    noun_plural = ""
    search_placeholder = "Search"
    empty_hint = ""
    empty_title = ""  # default: "No <items> yet"
    history_entity: str | None = None

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._kept_id: str | None = None
        self.source = self.make_source()
        self.model = LazyTableModel(self.source, parent=self)
        self._build()
        self.model.loaded.connect(self._after_load)
        self.model.rowsInserted.connect(lambda *_: self._update_count())
        ctx.data_changed.connect(self.refresh)
        self._stale = True
        self._counting = -1

    # -- to override ---------------------------------------------------------------------------
    def make_source(self) -> ListSource:
        raise NotImplementedError

    @property
    def can_create(self) -> bool:
        return False

    def new_item(self) -> Any:
        """Ctrl+N: start creating a record (returns the dialog, if one opened)."""
        return None

    def open_row(self, row: dict[str, Any]) -> Any:
        """Enter or double-click on a row."""
        return None

    def add_actions(self, header: PageHeader) -> None:
        """Add the page's buttons to its header."""

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        """The current row changed (enable or disable row actions)."""

    # -- building ------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.SPACING * 2)
        layout.setSpacing(theme.SPACING * 2)
        self.header = PageHeader(self.title, self.subtitle)
        layout.addWidget(self.header)
        self.add_actions(self.header)
        self.export_button: QWidget | None = None
        bar = QHBoxLayout()
        bar.setSpacing(theme.SPACING)
        self.search = SearchBox(self.search_placeholder)
        self.search.textChanged.connect(self.model.set_search)
        bar.addWidget(self.search)
        self.add_filters(bar)
        bar.addStretch(1)
        self.count_label = label("", "muted")
        bar.addWidget(self.count_label)
        layout.addLayout(bar)
        self.stack = QStackedWidget()
        self.table = ListTable(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSortIndicatorShown(True)
        key = self.source.sort_key(None)
        header.setSortIndicator(
            self.model.column_index(key),
            Qt.SortOrder.DescendingOrder if self.source.default_descending else Qt.SortOrder.AscendingOrder,
        )
        for index, column in enumerate(self.model.columns):
            if column.stretch:
                header.setSectionResizeMode(index, QHeaderView.ResizeMode.Stretch)
            elif column.width:
                header.resizeSection(index, column_width(self.table, column))
        self.table.doubleClicked.connect(lambda index: self._open_index(index))
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self._current_changed(self.model.row_at(current.row()))
        )
        self.empty = EmptyState()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        layout.addWidget(self.stack, 1)
        self.setTabOrder(self.search, self.table)
        install_list_tools(self)  # Export…, Print…, the right-click menu (desktop/ui/exporting.py)

    def add_filters(self, bar: QHBoxLayout) -> None:
        """Extra filter widgets next to the search box."""

    def export_filters(self) -> list[str]:
        """The page's own filters in words ("Status: ordered"), printed on exports."""
        return []

    def print_row(self, row: dict[str, Any]) -> Any:
        """Print the row's document with preview (pages of documents override it); ``None``: none."""
        return None

    # -- behaviour -----------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit_columns()

    def fit_columns(self) -> None:
        """Widen fixed columns whose painted title (bold, with the sort arrow) would be clipped;
        the fonts are final only once shown and polished."""
        header = self.table.horizontalHeader()
        for index, column in enumerate(self.model.columns):
            if not column.stretch and column.width:
                wanted = column_width(self.table, column)
                if header.sectionSize(index) < wanted:
                    header.resizeSection(index, wanted)

    def activate(self) -> None:
        """Shown: load if anything changed since the last time."""
        self.fit_columns()
        if self._stale:
            self._stale = False
            self.model.reload(keep_loaded=True)

    def refresh(self) -> None:
        if self.isVisible():
            self.model.reload(keep_loaded=True)
        else:
            self._stale = True

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def current_row(self) -> dict[str, Any] | None:
        index = self.table.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def open_current(self) -> None:
        row = self.current_row()
        if row is not None:
            self.open_row(row)

    def _open_index(self, index: QModelIndex) -> None:
        row = self.model.row_at(index.row())
        if row is not None:
            self.open_row(row)

    def plural(self) -> str:
        return self.noun_plural or plural(self.noun)

    def _after_load(self) -> None:
        has_rows = self.model.rowCount() > 0
        self.stack.setCurrentWidget(self.table if has_rows else self.empty)
        if not has_rows:
            if self.model.search.strip():
                self.empty.show_message(
                    f"No {self.plural()} match “{self.model.search.strip()}”",
                    "Check the spelling or search for part of a name, code or number.",
                )
            else:
                self.empty.show_message(self.empty_title or f"No {self.plural()} yet", self.empty_hint)
        kept = self._kept_id
        current = self.current_row()
        if kept is not None and (current is None or current.get("id") != kept):
            self.select_id(kept)  # the selection survives refreshes and syncs
            self._kept_id = kept
        self.selection_changed(self.current_row())
        self._update_count()

    def _current_changed(self, row: dict[str, Any] | None) -> None:
        if row is not None:
            self._kept_id = row.get("id")
        self.selection_changed(row)

    def _update_count(self) -> None:
        shown = self.model.rowCount()
        if self.model.exhausted:
            text = f"{count(shown)} {self.noun if shown == 1 else self.plural()}"
        elif self.model.total is not None:
            text = f"{count(shown)} of {count(self.model.total)} {self.plural()} loaded"
        else:
            text = f"{count(shown)}+ {self.plural()}"
            self._count_in_background()
        self.count_label.setText(text)

    def _count_in_background(self) -> None:
        """Counting every matching row scans them all: done off the GUI thread, shown when known."""
        generation, source, search = self.model.generation, self.model.source, self.model.search
        if self._counting == generation:
            return
        self._counting = generation

        def counted(total: int) -> None:
            if self.model.set_total(generation, total):
                self._update_count()

        run_op(self, lambda _progress: source.count(search), on_success=counted, on_failure=lambda _exc: None)

    def select_id(self, entity_id: str) -> bool:
        """Make the row with ``entity_id`` current if it is loaded."""
        for index, row in enumerate(self.model.rows):
            if row.get("id") == entity_id:
                self.table.selectRow(index)
                return True
        return False

    def show_history(self, row: dict[str, Any], title: str) -> None:
        if self.history_entity and self.ctx.open_history is not None:
            currency = row.get("currency")
            self.ctx.open_history(
                self, self.history_entity, row["id"], title, currency if isinstance(currency, str) else None
            )


class StatusListPage(ListPage):
    """A list with a status filter beside its search box: ``statuses`` ``(status, as shown)``.
    Choosing one remakes the list's source (``make_source`` reads ``self.status``), and exports
    and prints name the filter as it is shown (``filter_word``: the chosen text)."""

    statuses: Sequence[tuple[str, str]] = ()
    all_statuses = "All statuses"
    filter_word = "Status"
    status: str | None = None

    def add_filters(self, bar: QHBoxLayout) -> None:
        self.status_box = QComboBox()
        self.status_box.addItem(self.all_statuses, None)
        for status, text in self.statuses:
            self.status_box.addItem(text, status)
        self.status_box.currentIndexChanged.connect(self._filter)
        bar.addWidget(self.status_box)

    def _filter(self) -> None:
        self.status = self.status_box.currentData()
        self.model.source = self.source = self.make_source()
        self.model.reload()

    def export_filters(self) -> list[str]:
        return [f"{self.filter_word}: {self.status_box.currentText()}"] if self.status else []

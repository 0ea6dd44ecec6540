"""A table model over a :class:`desktop.lists.ListSource`: rows arrive a page at a time.

Like Anki's browser model: a row cache filled by ``fetchMore`` as the view scrolls, the filter and
the sort done in SQL. Changing the search or the sort resets the model to its first page; a
refresh after a change keeps as many rows as were loaded, so the view does not jump.
"""

from __future__ import annotations

from typing import Any

from desktop.formatting import display
from desktop.lists import PAGE_SIZE, Column, ListSource
from desktop.qt import QAbstractTableModel, QColor, QModelIndex, QPersistentModelIndex, Qt, Signal
from desktop.ui import theme

ROW_ROLE = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


class LazyTableModel(QAbstractTableModel):
    """Rows of a list source, loaded on demand; ``loaded`` fires after each (re)load."""

    loaded = Signal()

    def __init__(self, source: ListSource, *, page_size: int = PAGE_SIZE, parent: Any = None) -> None:
        super().__init__(parent)
        self.source = source
        self.page_size = page_size
        self.columns: list[Column] = list(source.columns)
        self.rows: list[dict[str, Any]] = []
        self.search = ""
        self.sort_key: str | None = None
        self.descending: bool | None = None
        self.exhausted = False
        self.total: int | None = None
        # Bumped on every reload: a count computed in the background for an older search is dropped.
        self.generation = 0

    # -- loading -------------------------------------------------------------------------------
    def _fetch(self, offset: int, limit: int) -> list[dict[str, Any]]:
        return self.source.fetch(
            self.search, sort=self.sort_key, descending=self.descending, offset=offset, limit=limit
        )

    def reload(self, *, keep_loaded: bool = False) -> None:
        """Load the first page again (or as many rows as were shown, after an edit)."""
        limit = max(self.page_size, len(self.rows)) if keep_loaded else self.page_size
        rows = self._fetch(0, limit)
        self.beginResetModel()
        self.rows = rows
        self.exhausted = len(rows) < limit
        self.total = len(rows) if self.exhausted else None
        self.generation += 1
        self.endResetModel()
        self.loaded.emit()

    def set_search(self, text: str) -> None:
        if text == self.search:
            return
        self.search = text
        self.reload()

    def count_all(self) -> int:
        """How many rows match the search (one COUNT query; cached until the next reload)."""
        if self.total is None:
            self.total = self.source.count(self.search)
        return self.total

    def set_total(self, generation: int, total: int) -> bool:
        """Take a count made in the background, if it is still about the rows shown."""
        if generation != self.generation:
            return False
        self.total = total
        return True

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return not parent.isValid() and not self.exhausted

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if parent.isValid() or self.exhausted:
            return
        more = self._fetch(len(self.rows), self.page_size)
        self.exhausted = len(more) < self.page_size
        if more:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(more) - 1)
            self.rows.extend(more)
            self.endInsertRows()

    # -- Qt model API --------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return display(column.kind, row, column.key, column.currency_key)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignRight if column.numeric else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if row.get("archived"):
                return QColor(theme.MUTED)
            if row.get("flagged"):  # e.g. an overdue request: the whole row in the error colour
                return QColor(theme.ERROR)
            if column.kind == "quantity" and _negative(row.get(column.key)):
                return QColor(theme.ERROR)
            return None
        if role == ROW_ROLE:
            return row
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or section >= len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignRight if column.numeric else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if column < 0 or column >= len(self.columns) or not self.columns[column].sortable:
            return
        self.sort_key = self.columns[column].key
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.reload()

    def row_at(self, row: int) -> dict[str, Any] | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def column_index(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.key == key)


def _negative(value: Any) -> bool:
    try:
        return value is not None and value < 0
    except TypeError:
        return False

"""The dashboard: the landing page, one card per figure the user may read, charts drawn with
Qt Charts; clicking a card opens its list. Figures are made off the GUI thread."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from desktop.background import run_op
from desktop.dashboard import Tile, dashboard
from desktop.qt import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QFont,
    QFrame,
    QGridLayout,
    QLabel,
    QLocale,
    QMargins,
    QMouseEvent,
    QPainter,
    Qt,
    QValueAxis,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.widgets import PageHeader, label

COLUMNS = 3


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def category_label(name: str) -> str:
    """A category as the axis shows it: ``2026-07`` → the locale's short month name."""
    month = _MONTH.match(name)
    if month is not None:
        return str(QLocale().standaloneMonthName(int(month.group(2)), QLocale.FormatType.ShortFormat))
    return name if len(name) <= 18 else name[:17] + "…"


def _chart(tile: Tile) -> QChartView:
    bars = QBarSet(tile.title)
    for _name, value in tile.series:
        bars.append(float(value))  # drawing only: the exact figures are in the lists
    series = QBarSeries()
    series.append(bars)
    chart = QChart()
    chart.addSeries(series)
    chart.legend().hide()
    chart.setBackgroundVisible(False)
    chart.setMargins(QMargins(0, 0, 0, 0))
    small = QFont()
    small.setPointSizeF(max(small.pointSizeF() - 1.5, 7.0))
    axis = QBarCategoryAxis()
    axis.append([category_label(name) for name, _ in tile.series])
    axis.setLabelsFont(small)
    values = QValueAxis()
    values.setLabelFormat("%.0f")
    values.setLabelsFont(small)
    chart.addAxis(axis, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(values, Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(axis)
    series.attachAxis(values)
    view = QChartView(chart)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(160)
    return view


class TileCard(QFrame):
    clicked = Signal(str)

    def __init__(self, tile: Tile, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tile = tile
        self.setObjectName("card")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"Open {tile.title.lower()}" if tile.opens else "")
        layout = QVBoxLayout(self)
        layout.addWidget(label(tile.title, "muted"))
        self.headline = label(tile.headline, "pageTitle")
        layout.addWidget(self.headline)
        self.chart = _chart(tile) if tile.series else None
        if self.chart is not None:
            layout.addWidget(self.chart)
        for line in tile.lines[:5]:
            layout.addWidget(QLabel(line))
        layout.addStretch(1)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.tile.opens:
            self.clicked.emit(self.tile.opens)
        super().mouseReleaseEvent(event)


class DashboardPage(QWidget):
    """``loaded`` fires after the cards are (re)made."""

    loaded = Signal()

    def __init__(
        self, ctx: UiContext, open_page: Callable[[str], Any], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx, self.open_page = ctx, open_page
        self.cards: list[TileCard] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.SPACING * 2)
        layout.addWidget(
            PageHeader("Dashboard", "Your figures from this computer's data, as of the last sync.")
        )
        self.grid = QGridLayout()
        self.grid.setSpacing(theme.SPACING * 2)
        layout.addLayout(self.grid)
        layout.addStretch(1)
        self.empty = label("Nothing to show for your role yet.", "muted")
        layout.addWidget(self.empty)
        ctx.data_changed.connect(self.refresh)
        self._stale = True

    def activate(self) -> None:
        if self._stale:
            self._stale = False
            self.reload()

    def refresh(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def reload(self) -> None:
        session = self.ctx.session
        run_op(self, lambda _p: dashboard(session, date.today()), on_success=self._show)

    def _show(self, tiles: list[Tile]) -> None:
        for card in self.cards:
            self.grid.removeWidget(card)
            card.deleteLater()
        self.cards = []
        for index, tile in enumerate(tiles):
            card = TileCard(tile)
            card.clicked.connect(self.open_page)
            self.grid.addWidget(card, index // COLUMNS, index % COLUMNS)
            self.cards.append(card)
        self.empty.setVisible(not tiles)
        self.loaded.emit()

    def tile_keys(self) -> list[str]:
        return [card.tile.key for card in self.cards]

"""Small widgets every screen shares: page header, empty state, search box, notices."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desktop.qt import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    Qt,
    QVBoxLayout,
    QWidget,
)
from desktop.ui import theme


def label(text: str = "", name: str | None = None, *, wrap: bool = False) -> QLabel:
    widget = QLabel(text)
    if name:
        widget.setObjectName(name)
    widget.setWordWrap(wrap)
    return widget


def button(
    text: str, *, primary: bool = False, danger: bool = False, tooltip: str | None = None
) -> QPushButton:
    widget = QPushButton(text)
    if primary:
        widget.setObjectName("primary")
    elif danger:
        widget.setObjectName("danger")
    if tooltip:
        widget.setToolTip(tooltip)
    return widget


class PageHeader(QWidget):
    """Title, one line of explanation, and the page's main actions on the right."""

    def __init__(self, title: str, subtitle: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.SPACING)
        texts = QVBoxLayout()
        texts.setSpacing(2)
        self.title = label(title, "pageTitle")
        self.subtitle = label(subtitle, "pageSubtitle", wrap=True)
        texts.addWidget(self.title)
        if subtitle:
            texts.addWidget(self.subtitle)
        layout.addLayout(texts, 1)
        self.action_row = QHBoxLayout()
        self.action_row.setSpacing(theme.SPACING)
        layout.addLayout(self.action_row)

    def add_action(self, widget: QWidget) -> None:
        self.action_row.addWidget(widget)


class EmptyState(QFrame):
    """What a list shows when it has nothing: what is missing and how to add it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, 48, theme.PAGE_MARGIN, 48)
        layout.setSpacing(theme.SPACING)
        layout.addStretch(1)
        self.title = label("", "emptyTitle")
        self.text = label("", "emptyText", wrap=True)
        for widget in (self.title, self.text):
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(widget)
        layout.addStretch(2)

    def show_message(self, title: str, text: str) -> None:
        self.title.setText(title)
        self.text.setText(text)


class SearchBox(QLineEdit):
    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setClearButtonEnabled(True)
        self.setMaxLength(100)
        # wide enough for its whole hint (padding, the clear button and the frame beside it)
        self.setMinimumWidth(max(320, self.fontMetrics().horizontalAdvance(placeholder) + 56))
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)


class Notice(QLabel):
    """A calm yellow note (offline, no keyring…); hidden while empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notice")
        self.setWordWrap(True)
        self.hide()

    def show_text(self, text: str | None) -> None:
        self.setText(text or "")
        self.setVisible(bool(text))


def set_invalid(widget: QWidget, invalid: bool) -> None:
    """Mark an input as invalid (red border through the stylesheet's ``invalid`` property)."""
    if widget.property("invalid") == invalid:
        return
    widget.setProperty("invalid", invalid)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


def ask_once(
    parent: QWidget,
    title: str,
    text: str,
    go_text: str,
    proceed: Callable[[], None],
    back: Callable[[], None] | None = None,
    *,
    stay_text: str = "Go back",
) -> QMessageBox:
    """A warning that asks once and does not block: ``proceed`` on ``go_text``, ``back`` otherwise.

    Non-blocking (``open()``): the question is a child of ``parent`` (tests find it there).
    """
    box = QMessageBox(parent)
    box.setObjectName("guardrail")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(text)
    go = box.addButton(go_text, QMessageBox.ButtonRole.AcceptRole)
    stay = box.addButton(stay_text, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(stay)
    box.setEscapeButton(stay)

    def answered(clicked: Any) -> None:
        if clicked is go:
            proceed()
        elif back is not None:
            back()

    box.buttonClicked.connect(answered)
    box.open()
    return box

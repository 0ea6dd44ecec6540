"""The look: a calm light theme on Qt's Fusion style, one spacing scale, readable type."""

from __future__ import annotations

from pathlib import Path

from desktop.qt import QApplication, QColor, QFont, QPalette

ICONS = (Path(__file__).parent / "icons").as_posix()

SPACING = 8  # the unit every margin and gap is a multiple of
PAGE_MARGIN = 3 * SPACING
FONT_POINT_SIZE = 10

ACCENT = "#2f6fb0"
ACCENT_DARK = "#245a91"
TEXT = "#1f2933"
MUTED = "#616e7c"
BORDER = "#d6dbe1"
SURFACE = "#ffffff"
BACKGROUND = "#f4f6f8"
NAV_BACKGROUND = "#eceff3"
ERROR = "#b42318"
WARNING = "#b54708"
SUCCESS = "#067647"

STYLESHEET = f"""
QWidget {{ color: {TEXT}; }}
QMainWindow, QDialog {{ background: {BACKGROUND}; }}
QLabel#pageTitle {{ font-size: 16pt; font-weight: 600; }}
QLabel#pageSubtitle, QLabel#muted {{ color: {MUTED}; }}
QLabel#fieldError, QLabel#formError {{ color: {ERROR}; }}
QLabel#notice {{ background: #fff8e6; border: 1px solid #f3d48a; border-radius: 4px; padding: 8px; }}
QLabel#windowNotice {{ background: #fff8e6; border: 1px solid #f3d48a; border-radius: 4px; padding: 8px;
    margin: 16px 24px 0 24px; }}
QLabel#demoBox {{ background: #eef4fb; border: 1px solid #bcd3ec; border-radius: 4px; padding: 10px; }}
QLabel#emptyTitle {{ font-size: 13pt; font-weight: 600; color: {MUTED}; }}
QLabel#emptyText {{ color: {MUTED}; }}
QLabel#brand {{ font-size: 18pt; font-weight: 600; color: {ACCENT_DARK}; }}
QLabel#badge {{ background: {ERROR}; color: white; border-radius: 8px; padding: 1px 7px; font-weight: 600; }}
QListWidget#navigation {{
    background: {NAV_BACKGROUND}; border: none; border-right: 1px solid {BORDER}; padding: 8px 0;
    outline: 0;
}}
QListWidget#navigation::item {{ padding: 0 16px; border: none; }}
QListWidget#navigation::item:selected {{ background: {SURFACE}; color: {ACCENT_DARK}; font-weight: 600;
    border-left: 3px solid {ACCENT}; }}
QListWidget#attentionList {{ background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 4px; }}
QListWidget#attentionList::item {{ padding: 10px 12px; border-bottom: 1px solid #eef0f3; }}
QListWidget#attentionList::item:selected {{ background: #dbe8f6; color: {TEXT}; }}
QTableView {{
    background: {SURFACE}; alternate-background-color: #f9fafb; border: 1px solid {BORDER};
    border-radius: 4px; gridline-color: #eef0f3; selection-background-color: #dbe8f6;
    selection-color: {TEXT};
}}
QTableView::item {{ padding: 0 6px; }}
QHeaderView::section {{
    background: #f0f2f5; color: {MUTED}; font-weight: 600; border: none;
    border-bottom: 1px solid {BORDER}; padding: 6px 22px 6px 8px;
}}
QHeaderView::up-arrow, QHeaderView::down-arrow {{ subcontrol-position: center right; right: 6px; }}
QLineEdit, QPlainTextEdit, QComboBox, QDateEdit {{
    background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 4px; padding: 5px 7px;
}}
QLineEdit:focus, QPlainTextEdit:focus, QComboBox:focus, QDateEdit:focus {{ border: 1px solid {ACCENT}; }}
QLineEdit[invalid="true"], QComboBox[invalid="true"], QPlainTextEdit[invalid="true"] {{
    border: 1px solid {ERROR};
}}
QComboBox::drop-down, QDateEdit::drop-down {{ border: none; width: 24px; }}
QComboBox, QDateEdit {{ padding-right: 26px; }}
QDateEdit::down-arrow {{ image: url({ICONS}/chevron-down.svg); width: 12px; height: 12px; }}
QToolButton[popupMode="2"] {{ padding-right: 22px; }}
QToolButton::menu-indicator {{ subcontrol-origin: padding; subcontrol-position: center right; right: 6px; }}
QComboBox::down-arrow {{ image: url({ICONS}/chevron-down.svg); width: 12px; height: 12px; }}
QToolButton {{ border: 1px solid transparent; border-radius: 4px; padding: 5px 10px; }}
QToolButton:hover {{ border-color: {BORDER}; background: {BACKGROUND}; }}
QToolButton#syncButton {{ border-color: {BORDER}; }}
QPushButton {{
    background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 4px; padding: 6px 14px;
}}
QPushButton:hover {{ border-color: {ACCENT}; }}
QPushButton:disabled {{ color: #9aa5b1; background: #f4f5f7; }}
QPushButton#primary, QPushButton:default {{
    background: {ACCENT}; color: white; border: 1px solid {ACCENT_DARK}; font-weight: 600;
}}
QPushButton#primary:disabled, QPushButton:default:disabled {{ background: #9db8d6; border-color: #9db8d6; }}
QPushButton#danger {{ color: {ERROR}; }}
QPushButton#danger:disabled {{ color: #9aa5b1; }}
QPushButton#lineRemove {{ padding: 2px 6px; min-width: 22px; }}
QToolBar {{ background: {SURFACE}; border: none; border-bottom: 1px solid {BORDER}; spacing: 8px; padding: 4px 8px; }}
QStatusBar {{ background: {SURFACE}; border-top: 1px solid {BORDER}; }}
QStatusBar QLabel {{ padding: 0 6px; }}
QFrame#card {{ background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 6px; }}
"""


def apply_theme(app: QApplication) -> None:
    """Fusion style, a light palette and the stylesheet, the same on every platform."""
    app.setStyle("Fusion")
    font = QFont(app.font())
    font.setPointSize(FONT_POINT_SIZE)
    app.setFont(font)
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor(BACKGROUND))
    palette.setColor(QPalette.ColorRole.Base, QColor(SURFACE))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#f9fafb"))
    palette.setColor(QPalette.ColorRole.Text, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.Button, QColor(SURFACE))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#dbe8f6"))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor("#9aa5b1"))
    app.setPalette(palette)
    app.setStyleSheet(STYLESHEET)

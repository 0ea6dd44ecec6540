"""The one place the desktop imports Qt from (like Anki's ``aqt.qt``).

Screens import Qt names from here, never from PySide6 directly, so a binding upgrade or a switch
happens in one file. Nothing outside ``desktop/ui``, ``desktop/background`` and ``desktop/app``
imports this module: the store, the API client and the sign-in logic stay free of Qt.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QEvent,
    QItemSelectionModel,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRunnable,
    QSize,
    QSortFilterProxyModel,
    QStringListModel,
    Qt,
    QThread,
    QThreadPool,
    QTimer,
    Signal,
    Slot,
    qVersion,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QColor,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPalette,
    QPixmap,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QStatusBar,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QToolBar,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

__all__ = [
    "QAbstractButton",
    "QAbstractItemView",
    "QAbstractTableModel",
    "QAction",
    "QApplication",
    "QCheckBox",
    "QCloseEvent",
    "QColor",
    "QComboBox",
    "QCompleter",
    "QDate",
    "QDateEdit",
    "QDialog",
    "QDialogButtonBox",
    "QEvent",
    "QFont",
    "QFontMetrics",
    "QFormLayout",
    "QFrame",
    "QGridLayout",
    "QGuiApplication",
    "QHBoxLayout",
    "QHeaderView",
    "QIcon",
    "QItemSelectionModel",
    "QKeyEvent",
    "QKeySequence",
    "QLabel",
    "QLineEdit",
    "QListWidget",
    "QListWidgetItem",
    "QLocale",
    "QMainWindow",
    "QMenu",
    "QMessageBox",
    "QModelIndex",
    "QObject",
    "QPainter",
    "QPalette",
    "QPersistentModelIndex",
    "QPixmap",
    "QPlainTextEdit",
    "QPoint",
    "QProgressBar",
    "QPushButton",
    "QRadioButton",
    "QRunnable",
    "QScrollArea",
    "QShortcut",
    "QShowEvent",
    "QSize",
    "QSizePolicy",
    "QSortFilterProxyModel",
    "QSplitter",
    "QStackedWidget",
    "QStatusBar",
    "QStringListModel",
    "QTabWidget",
    "QTableView",
    "QTableWidget",
    "QTableWidgetItem",
    "QTextBrowser",
    "QThread",
    "QThreadPool",
    "QTimer",
    "QToolBar",
    "QToolButton",
    "QTreeWidget",
    "QTreeWidgetItem",
    "QVBoxLayout",
    "QWidget",
    "Qt",
    "Signal",
    "Slot",
    "qVersion",
]

# Exports, printing and the import wizard (issue 17).
from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QTextDocument
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWizard, QWizardPage

__all__ += [
    "QFileDialog",
    "QMarginsF",
    "QPageLayout",
    "QPageSize",
    "QPrintPreviewDialog",
    "QPrinter",
    "QProgressDialog",
    "QTextDocument",
    "QWizard",
    "QWizardPage",
]

# Dashboard charts (PySide6-Addons).
from PySide6.QtCharts import (  # noqa: E402
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QValueAxis,
)
from PySide6.QtCore import QMargins  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402

__all__ += [
    "QBarCategoryAxis",
    "QBarSeries",
    "QBarSet",
    "QChart",
    "QChartView",
    "QMargins",
    "QMouseEvent",
    "QValueAxis",
]

# The task board's drag and drop, the week grid's colours (issue 15).
from PySide6.QtCore import QMimeData, QPointF  # noqa: E402
from PySide6.QtGui import QBrush, QDragEnterEvent, QDragMoveEvent, QDropEvent  # noqa: E402

__all__ += ["QBrush", "QDragEnterEvent", "QDragMoveEvent", "QDropEvent", "QMimeData", "QPointF"]

# Opening a saved document in the system's viewer.
from PySide6.QtCore import QUrl  # noqa: E402
from PySide6.QtGui import QDesktopServices  # noqa: E402

__all__ += ["QDesktopServices", "QUrl"]

"""What issue 17 adds to the main window: the dashboard, Import… in the user menu, Ctrl+P.

Installed by one call at the end of the window's actions so the window itself stays about
navigation; each tool works on whichever page is showing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desktop.qt import QAction, QKeySequence, Qt

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow


def current_page(window: MainWindow) -> Any:
    return window.stack.currentWidget()


def open_import(window: MainWindow) -> Any:
    """Open the import wizard (refreshes the lists when an import is applied)."""
    from desktop.ui.import_wizard import ImportWizard

    ctx = getattr(window, "ctx", None)
    wizard = ImportWizard(
        window.session, window, on_applied=(ctx.data_changed.emit if ctx is not None else None)
    )
    wizard.open()
    return wizard


def print_current(window: MainWindow) -> Any:
    """Ctrl+P: the selected row's document where the page has one, else the list."""
    from desktop.ui.list_page import ListPage
    from desktop.ui.printing import print_page

    page = current_page(window)
    if not isinstance(page, ListPage):
        return None
    row = page.current_row()
    if row is not None:
        found = page.print_row(row)
        if found is not None:
            return found
    return print_page(page)


DASHBOARD_KEY = "dashboard"


def install_dashboard(window: MainWindow) -> None:
    """The dashboard as the first page of the navigation: where every role lands."""
    from desktop.qt import QListWidgetItem
    from desktop.ui.dashboard import DashboardPage
    from desktop.ui.main_window import PAGE_ROLE

    page = DashboardPage(window.ctx, window.open_page)
    window.pages[DASHBOARD_KEY] = page
    window.stack.addWidget(page)
    item = QListWidgetItem("Dashboard")
    item.setData(PAGE_ROLE, DASHBOARD_KEY)
    item.setSizeHint(window.attention_item.sizeHint())
    window.navigation.insertItem(0, item)


def install_window_tools(window: MainWindow) -> None:
    from desktop.ui.import_wizard import importable_kinds

    install_dashboard(window)

    printing = QAction("Print…", window)
    printing.setShortcut(QKeySequence(QKeySequence.StandardKey.Print))
    printing.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    printing.triggered.connect(lambda: print_current(window))
    window.addAction(printing)
    printing.setObjectName("printAction")
    menu = getattr(window, "user_menu", None)
    if menu is not None and importable_kinds(window.session):
        importing = QAction("Import…", window)
        importing.triggered.connect(lambda: open_import(window))
        menu.insertAction(menu.actions()[2] if len(menu.actions()) > 2 else None, importing)
        importing.setObjectName("importAction")

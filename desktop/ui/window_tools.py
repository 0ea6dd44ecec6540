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
    if callable(getattr(page, "print_shown", None)):  # a report (desktop/ui/reports_view.py)
        return page.print_shown()
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


HELP = (
    ("Ctrl+K", "Search records, screens and actions"),
    ("Ctrl+N", "New record on the current list"),
    ("Ctrl+F", "Search the current list"),
    ("Enter", "Open the selected row"),
    ("Ctrl+P", "Print the selected document, or the list"),
    ("Ctrl+S", "Save a form"),
    ("F5", "Sync now"),
    ("Right-click", "Open, copy, print or export from a list"),
)


def palette_actions(window: MainWindow) -> list[tuple[str, str]]:
    """Every screen the user may open and every action they may run, for the palette."""
    from desktop.ui.import_wizard import importable_kinds
    from desktop.ui.main_window import PAGE_ROLE

    found = []
    for row in range(window.navigation.count()):
        item = window.navigation.item(row)
        key = item.data(PAGE_ROLE)
        if key:
            found.append((str(key), item.text()))
    found += [("action:new", "New record"), ("action:sync", "Sync now"), ("action:print", "Print…"),
              ("action:help", "Keyboard shortcuts (F1)")]  # fmt: skip
    if importable_kinds(window.session):
        found.append(("action:import", "Import…"))
    for fmt, title in (
        ("csv", "Export list as CSV…"),
        ("xlsx", "Export list as Excel…"),
        ("pdf", "Export list as PDF…"),
    ):
        found.append((f"action:export:{fmt}", title))
    return found


def run_palette_action(window: MainWindow, key: str) -> Any:
    from desktop.ui.exporting import export_page
    from desktop.ui.list_page import ListPage

    if not key.startswith("action:"):
        return window.open_page(key)
    name = key.removeprefix("action:")
    if name == "new":
        page = current_page(window)
        return page.new_item() if isinstance(page, ListPage) else None
    if name == "sync":
        return window.sync.sync_now()
    if name == "print":
        return print_current(window)
    if name == "help":
        return show_help(window)
    if name == "import":
        return open_import(window)
    if name.startswith("export:"):
        page = current_page(window)
        if callable(getattr(page, "export_shown", None)):  # a report (desktop/ui/reports_view.py)
            return page.export_shown(name.removeprefix("export:"))
        return export_page(page, name.removeprefix("export:")) if isinstance(page, ListPage) else None
    return None


def open_palette(window: MainWindow) -> Any:
    from desktop.ui.palette import CommandPalette

    palette = CommandPalette(window, palette_actions(window), lambda key: run_palette_action(window, key))
    palette.open()
    return palette


def show_help(window: MainWindow) -> Any:
    from desktop.qt import QMessageBox

    rows = "".join(f"<tr><td><b>{key}</b>&nbsp;&nbsp;</td><td>{text}</td></tr>" for key, text in HELP)
    box = QMessageBox(
        QMessageBox.Icon.Information, "Keyboard shortcuts", f"<table>{rows}</table>", parent=window
    )
    box.setObjectName("helpBox")
    box.open()
    return box


def _shortcut(window: MainWindow, name: str, keys: Any, slot: Any) -> QAction:
    act = QAction(name, window)
    act.setShortcut(QKeySequence(keys))
    act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    act.triggered.connect(slot)
    window.addAction(act)
    return act


def install_window_tools(window: MainWindow) -> None:
    from desktop.ui.import_wizard import importable_kinds

    install_dashboard(window)
    _shortcut(window, "Search and commands", "Ctrl+K", lambda: open_palette(window)).setObjectName(
        "paletteAction"
    )
    _shortcut(window, "Help", Qt.Key.Key_F1, lambda: show_help(window)).setObjectName("helpAction")

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

"""The main window: navigation by module, one page per screen, sync state in the status bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desktop.formatting import count
from desktop.modules import PAGES, landing_page, load_screens, page_spec, visible_modules
from desktop.qt import (
    QAction,
    QCloseEvent,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSize,
    QSizePolicy,
    QStackedWidget,
    Qt,
    QTimer,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.session import UserSession
from desktop.ui.about import AboutDialog
from desktop.ui.attention import AttentionPage
from desktop.ui.context import UiContext
from desktop.ui.history import open_history
from desktop.ui.overview import ModuleOverviewPage
from desktop.ui.privacy_tools import install_privacy_tools
from desktop.ui.session_prompts import ask_before_leaving, attach_password_prompt, unsent_summary
from desktop.ui.sync_controller import BusyWidget, SyncController
from desktop.ui.widgets import Notice, label
from desktop.ui.window_tools import install_window_tools
from desktop.version import PRODUCT_NAME

PAGE_ROLE = Qt.ItemDataRole.UserRole + 1
ATTENTION_KEY = "attention"
STATUS_REFRESH_MS = 30_000
NAV_ITEM_HEIGHT = 32
NAV_HEADING_HEIGHT = 40


def page_factories() -> dict[str, Callable[[UiContext], QWidget]]:
    """Page key → constructor: every page the screens register (``desktop.modules.page``)."""
    load_screens()
    return {key: spec.factory for key, spec in PAGES.items() if spec.factory is not None}


class MainWindow(QMainWindow):
    sign_out_requested = Signal()
    switch_requested = Signal(str)

    def __init__(self, session: UserSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle(f"{session.org_name} — Operations")
        self.resize(1280, 800)
        self.busy = BusyWidget()
        self.ctx = UiContext(session, busy=self.busy, parent=self)
        self.sync = SyncController(self.ctx, parent=self)
        self.ctx.open_history = lambda owner, entity, entity_id, title, currency=None: open_history(
            owner, self.ctx, self.sync, entity, entity_id, title, currency
        )
        self.pages: dict[str, QWidget] = {}
        self.factories = page_factories()
        self._build_toolbar()
        self._build_body()
        self._build_status_bar()
        self._build_actions()
        self.sync.changed.connect(self.update_sync_state)
        self.sync.message.connect(self.show_notice)
        self.sync.finished.connect(lambda _report: self.show_notice(None))  # back online: no stale note
        attach_password_prompt(self, self.sync)
        self.leaving_confirmed = False
        self.leave_prompt: QMessageBox | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.update_sync_state)
        self.timer.start(STATUS_REFRESH_MS)
        self.update_sync_state()
        self.show_notice(" ".join(session.notices) or None)
        self.select_first_page()

    # -- layout --------------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        bar = QToolBar("Main")
        bar.setMovable(False)
        bar.setIconSize(QSize(16, 16))
        self.addToolBar(bar)
        org = QToolButton()
        org.setText(self.session.org_name)
        org.setObjectName("orgButton")
        org.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        org.setStyleSheet("font-weight: 600; font-size: 11pt; border: none; padding: 4px 8px;")
        if len(self.session.memberships) > 1:
            menu = QMenu(org)
            for membership in self.session.memberships:
                action = menu.addAction(membership.org_name or membership.org_id)
                action.setEnabled(membership.org_id != self.session.org_id)
                action.triggered.connect(
                    lambda _=False, oid=membership.org_id: self.switch_requested.emit(oid)
                )
            org.setMenu(menu)
            org.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            org.setToolTip("Switch organization")
        self.org_button = org
        bar.addWidget(org)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        self.sync_button = QToolButton()
        self.sync_button.setText("⟳  Sync now")
        self.sync_button.setObjectName("syncButton")
        self.sync_button.setToolTip("Send your changes and fetch others' (F5)")
        self.sync_button.clicked.connect(self.sync.sync_now)
        bar.addWidget(self.sync_button)
        user = QToolButton()
        user.setText(self.session.user.name or self.session.user.email)
        user.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(user)
        who = menu.addAction(self.session.user.email)
        who.setEnabled(False)
        roles = ", ".join(self.session.membership.roles) or "—"
        menu.addAction(f"Roles: {roles}").setEnabled(False)
        menu.addSeparator()
        self.about_action = menu.addAction(f"About {PRODUCT_NAME}…")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)  # macOS: the application menu
        self.about_action.triggered.connect(self.show_about)
        menu.addAction("Sign out").triggered.connect(self.confirm_sign_out)
        self.user_menu = menu
        user.setMenu(menu)
        bar.addWidget(user)

    def _build_body(self) -> None:
        body = QWidget()
        layout = QHBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setFixedWidth(230)
        self.navigation.currentItemChanged.connect(self._navigate)
        self._fill_navigation()
        layout.addWidget(self.navigation)
        column = QWidget()
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.setSpacing(0)
        self.notice = Notice()
        self.notice.setObjectName("windowNotice")
        column_layout.addWidget(self.notice)
        self.stack = QStackedWidget()
        column_layout.addWidget(self.stack, 1)
        layout.addWidget(column, 1)
        self.setCentralWidget(body)

    def _fill_navigation(self) -> None:
        self.attention_item = QListWidgetItem("Needs attention")
        self.attention_item.setData(PAGE_ROLE, ATTENTION_KEY)
        self.attention_item.setSizeHint(QSize(0, NAV_ITEM_HEIGHT))
        self.navigation.addItem(self.attention_item)
        for module in visible_modules(self.session.permissions):
            heading = QListWidgetItem(module.title.upper())
            heading.setFlags(Qt.ItemFlag.NoItemFlags)
            font = heading.font()
            font.setPointSize(8)
            font.setBold(True)
            heading.setFont(font)
            heading.setForeground(Qt.GlobalColor.darkGray)
            heading.setSizeHint(QSize(0, NAV_HEADING_HEIGHT))
            heading.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
            self.navigation.addItem(heading)
            for page in module.pages:
                item = QListWidgetItem(page.title)
                item.setData(PAGE_ROLE, page.key)
                item.setSizeHint(QSize(0, NAV_ITEM_HEIGHT))
                self.navigation.addItem(item)

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.sync_label = QLabel("")
        self.sync_label.setObjectName("syncState")
        self.sync_label.setTextFormat(Qt.TextFormat.RichText)
        self.sync_label.linkActivated.connect(lambda _link: self.open_page(ATTENTION_KEY))
        status.addWidget(self.sync_label)
        status.addWidget(self.busy, 1)
        mode = "demo server" if self.session.demo else self.session.server_url
        self.who_label = label(f"{self.session.user.email} · {mode}", "muted")
        status.addPermanentWidget(self.who_label)

    def _build_actions(self) -> None:
        def action(text: str, shortcut: Any, slot: Callable[[], Any]) -> QAction:
            act = QAction(text, self)
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(slot)
            self.addAction(act)
            return act

        self.new_action = action("New", QKeySequence.StandardKey.New, lambda: self._page_call("new_item"))
        self.find_action = action(
            "Find", QKeySequence.StandardKey.Find, lambda: self._page_call("focus_search")
        )
        self.sync_action = action("Sync now", Qt.Key.Key_F5, self.sync.sync_now)
        self.quit_action = action("Quit", QKeySequence.StandardKey.Quit, self.close)
        install_window_tools(self)  # Import…, Ctrl+P (desktop/ui/window_tools.py)
        install_privacy_tools(self)  # My data, notifications, policy prompt (desktop/ui/privacy_tools.py)

    # -- behaviour -----------------------------------------------------------------------------
    def select_first_page(self) -> None:
        """Open the page this user lands on (``desktop.modules.landing_page``), else the first."""
        landing = landing_page(self.session.permissions)
        for row in range(self.navigation.count()):
            item = self.navigation.item(row)
            if item.data(PAGE_ROLE) not in (None, ATTENTION_KEY) and landing in (None, item.data(PAGE_ROLE)):
                self.navigation.setCurrentItem(item)
                return
        self.navigation.setCurrentItem(self.attention_item)

    def page_keys(self) -> list[str]:
        """Keys of every page the navigation offers (what this user may open)."""
        keys = []
        for row in range(self.navigation.count()):
            key = self.navigation.item(row).data(PAGE_ROLE)
            if key:
                keys.append(str(key))
        return keys

    def open_page(self, key: str) -> QWidget:
        if key not in self.pages and key.endswith(".overview") and key not in self.page_keys():
            # a module that has screens now has no overview: its first page stands for it
            module = key.split(".")[0]
            key = next((k for k in self.page_keys() if k in PAGES and PAGES[k].module == module), key)
        for row in range(self.navigation.count()):
            item = self.navigation.item(row)
            if item.data(PAGE_ROLE) == key:
                self.navigation.setCurrentItem(item)
                break
        return self.pages[key]

    def _navigate(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None = None) -> None:
        if item is None or not item.data(PAGE_ROLE):
            return
        key = str(item.data(PAGE_ROLE))
        page = self.pages.get(key)
        if page is None:
            page = self._make_page(key)
            self.pages[key] = page
            self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        activate = getattr(page, "activate", None)
        if activate is not None:
            activate()

    def _make_page(self, key: str) -> QWidget:
        if key == ATTENTION_KEY:
            return AttentionPage(self.ctx)
        spec = page_spec(key)
        if spec.factory is None:
            return ModuleOverviewPage(self.ctx.for_page(spec), spec.module)
        return self.factories[key](self.ctx.for_page(spec))

    def current_page(self) -> QWidget | None:
        return self.stack.currentWidget()

    def _page_call(self, name: str) -> None:
        page = self.current_page()
        method = getattr(page, name, None)
        if callable(method):
            method()

    def start_auto_sync(self, interval_ms: int) -> None:
        """Sync every ``interval_ms`` while the window is open (skipped while one is running)."""
        self.auto_sync_timer = QTimer(self)
        self.auto_sync_timer.timeout.connect(self.sync.sync_now)
        self.auto_sync_timer.start(interval_ms)

    def update_sync_state(self) -> None:
        snapshot = self.sync.snapshot()
        text = status_html = self.sync.status_text()
        if snapshot.attention:
            status_html = (
                text.replace(
                    f"{count(snapshot.attention)} need",
                    f"<a href='attention'>{count(snapshot.attention)} need",
                )
                + "</a>"
            )
        self.sync_label.setText(status_html)
        self.sync_label.setToolTip(self.sync.last_error or "")
        self.attention_item.setText(
            f"Needs attention ({snapshot.attention})" if snapshot.attention else "Needs attention"
        )
        self.sync_button.setEnabled(not snapshot.syncing)

    def show_notice(self, text: str | None) -> None:
        self.notice.show_text(text)

    def show_about(self) -> AboutDialog:
        dialog = AboutDialog("" if self.session.demo else self.session.server_url, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def confirm_sign_out(self) -> None:
        """Sign out, after saying how many changes are unsent (they stay on this computer)."""

        def proceed() -> None:
            self.leaving_confirmed = True
            self.sign_out_requested.emit()

        self.leave_prompt = ask_before_leaving(self, self.session, "Sign out", proceed)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.leaving_confirmed and self.isVisible() and unsent_summary(self.session) is not None:
            event.ignore()

            def proceed() -> None:
                self.leaving_confirmed = True
                self.close()

            self.leave_prompt = ask_before_leaving(self, self.session, "Quit", proceed)
            return
        self.timer.stop()
        super().closeEvent(event)

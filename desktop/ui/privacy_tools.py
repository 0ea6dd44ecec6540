"""What issue 16 adds to the main window: My data and the notification centre for every user (a
"You" section of the navigation, the user menu, a bell with the unread count in the toolbar),
and the policy prompt: at sign-in, or when an offline session reaches the server again, a policy
version the user has not acknowledged is shown with its summary and the acknowledgement is
recorded on the server.

Installed by one call at the end of the window's construction; nothing here blocks on the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop import privacy_client
from desktop.privacy_client import PolicyStatus
from desktop.qt import (
    QAction,
    QDialog,
    QDialogButtonBox,
    QListWidgetItem,
    QObject,
    QSize,
    Qt,
    QTextBrowser,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from desktop.ui import theme
from desktop.ui.notifications import NOTIFICATIONS_KEY, NotificationsPage, unread_count
from desktop.ui.privacy_common import problem_text
from desktop.ui.privacy_my_data import MY_DATA_KEY, MyDataPage
from desktop.ui.widgets import button, label

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow


class PolicyDialog(QDialog):
    """A new policy version: its date and summary, the full text on request, "I have read it"."""

    def __init__(self, watcher: PolicyWatcher, policy: PolicyStatus, parent: QWidget) -> None:
        super().__init__(parent)
        self.watcher = watcher
        self.policy = policy
        self.setObjectName("policyDialog")
        self.setWindowTitle(f"Privacy policy version {policy.version}")
        self.setModal(True)
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN)
        layout.setSpacing(theme.SPACING)
        layout.addWidget(
            label(f"The privacy policy changed: version {policy.version}", "pageTitle", wrap=True)
        )
        layout.addWidget(label(f"Effective {policy.effective_date}.", "muted"))
        self.summary = label(policy.summary, None, wrap=True)
        self.summary.setObjectName("policySummary")
        layout.addWidget(self.summary)
        self.text = QTextBrowser()
        self.text.setObjectName("policyText")
        self.text.setMinimumHeight(260)
        self.text.hide()
        layout.addWidget(self.text)
        self.error = label("", "formError", wrap=True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.read_button = button("Read the full policy")
        self.read_button.clicked.connect(self.show_text)
        buttons.addButton(self.read_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.ack_button = buttons.addButton("I have read it", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ack_button.setObjectName("primary")
        self.ack_button.setDefault(True)
        buttons.addButton("Later", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.acknowledge)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def show_text(self) -> None:
        api = self.watcher.window.session.api
        self.read_button.setEnabled(False)

        def shown(text: str) -> None:
            self.text.setPlainText(text)
            self.text.show()

        self.watcher.window.ctx.run(
            self,
            lambda: privacy_client.policy_text(api),
            on_success=shown,
            on_failure=lambda exc: self.show_error(problem_text(exc, "Reading the policy")),
            busy_text="Fetching the policy…",
        )

    def acknowledge(self) -> None:
        api = self.watcher.window.session.api
        self.ack_button.setEnabled(False)

        def done(status: PolicyStatus) -> None:
            self.watcher.acknowledged = status
            self.accept()

        self.watcher.window.ctx.run(
            self,
            lambda: privacy_client.acknowledge_policy(api, self.policy.version),
            on_success=done,
            on_failure=lambda exc: self.show_error(problem_text(exc, "Recording that you read it")),
            busy_text="Recording…",
        )

    def show_error(self, text: str) -> None:
        self.ack_button.setEnabled(True)
        self.read_button.setEnabled(True)
        self.error.setText(text)
        self.error.show()


class PolicyWatcher(QObject):
    """Asks the server once per window, at the first contact, whether a newer policy version
    waits for this user's acknowledgement (an offline window asks when it heals)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.checked = False
        self.checking = False
        self.dialog: PolicyDialog | None = None
        self.acknowledged: PolicyStatus | None = None
        window.sync.finished.connect(lambda _result: self.check())

    def check(self) -> None:
        if self.checked or self.checking:
            return
        self.checking = True
        api = self.window.session.api
        self.window.ctx.run(
            self, lambda: privacy_client.my_policy(api), on_success=self._answered, on_failure=self._failed
        )

    def _answered(self, policy: PolicyStatus) -> None:
        self.checking = False
        self.checked = True
        if policy.needs_acknowledgement:
            self.dialog = PolicyDialog(self, policy, self.window)
            self.dialog.open()

    def _failed(self, _exc: BaseException) -> None:
        self.checking = False  # asked again after the next successful sync


def _nav_item(window: MainWindow, key: str, text: str) -> QListWidgetItem:
    from desktop.ui.main_window import PAGE_ROLE

    item = QListWidgetItem(text)
    item.setData(PAGE_ROLE, key)
    item.setSizeHint(window.attention_item.sizeHint())
    return item


class PrivacyTools:
    """The window's privacy pieces: the two pages, the bell, the navigation item, the watcher."""

    def __init__(self, window: MainWindow) -> None:
        from desktop.ui.main_window import NAV_HEADING_HEIGHT

        self.window = window
        self.my_data = MyDataPage(window.ctx)
        self.notifications = NotificationsPage(window.ctx)
        self.notifications.after_marking = window.sync.sync_now
        for key, page in ((MY_DATA_KEY, self.my_data), (NOTIFICATIONS_KEY, self.notifications)):
            window.pages[key] = page
            window.stack.addWidget(page)
        heading = QListWidgetItem("YOU")
        heading.setFlags(Qt.ItemFlag.NoItemFlags)
        font = heading.font()
        font.setPointSize(8)
        font.setBold(True)
        heading.setFont(font)
        heading.setForeground(Qt.GlobalColor.darkGray)
        heading.setSizeHint(QSize(0, NAV_HEADING_HEIGHT))
        heading.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
        window.navigation.addItem(heading)
        self.notifications_item = _nav_item(window, NOTIFICATIONS_KEY, "Notifications")
        window.navigation.addItem(self.notifications_item)
        window.navigation.addItem(_nav_item(window, MY_DATA_KEY, "My data"))

        self.bell = QToolButton()
        self.bell.setObjectName("notificationBell")
        self.bell.clicked.connect(lambda: window.open_page(NOTIFICATIONS_KEY))
        toolbar = window.findChild(QToolBar)
        if toolbar is not None:
            toolbar.insertWidget(toolbar.actions()[-1], self.bell)  # before the user button
        action = QAction("My data…", window)
        action.setObjectName("myDataAction")
        action.triggered.connect(lambda: window.open_page(MY_DATA_KEY))
        window.user_menu.insertAction(window.about_action, action)
        window.ctx.data_changed.connect(self.update_unread)
        self.update_unread()
        self.policy = PolicyWatcher(window)
        window.sync.finished.connect(self._healed)

    def _healed(self, _result: object) -> None:
        """Back in touch with the server: My data loads what it could not."""
        if self.my_data.notice.isVisible() and not self.my_data.loading:
            self.my_data.reload()

    def update_unread(self) -> int:
        """Show the unread count on the bell and in the navigation."""
        unread = unread_count(self.window.session)
        self.bell.setText(f"Notifications ({unread})" if unread else "Notifications")
        self.bell.setStyleSheet("font-weight: 600;" if unread else "")
        self.bell.setToolTip(f"{unread} unread notification{'s' if unread != 1 else ''}")
        self.notifications_item.setText(f"Notifications ({unread})" if unread else "Notifications")
        return unread


def install_privacy_tools(window: MainWindow) -> PrivacyTools:
    tools = PrivacyTools(window)
    window.privacy_tools = tools  # type: ignore[attr-defined]
    if window.session.online:
        tools.policy.check()
    return tools


def privacy_tools_of(window: MainWindow) -> PrivacyTools:
    tools: PrivacyTools = window.privacy_tools  # type: ignore[attr-defined]
    return tools

"""Help → About: the program's version and its parts, to quote when asking for support."""

from __future__ import annotations

from desktop.profiles import data_root
from desktop.qt import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGuiApplication,
    QLabel,
    Qt,
    QVBoxLayout,
    QWidget,
    qVersion,
)
from desktop.ui.widgets import label
from desktop.version import PRODUCT_NAME, build_details


def about_facts(server_url: str = "") -> dict[str, str]:
    """What the dialog lists, in order."""
    facts = build_details()
    facts["qt"] = qVersion()
    facts["data folder"] = str(data_root())
    if server_url:
        facts["server"] = server_url
    return facts


class AboutDialog(QDialog):
    def __init__(self, server_url: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {PRODUCT_NAME}")
        self.facts = about_facts(server_url)
        layout = QVBoxLayout(self)
        title = label(f"{PRODUCT_NAME} {self.facts['version']}", "pageTitle")
        layout.addWidget(title)
        layout.addWidget(
            label("Offline-first operations management: inventory, sales, finance, HR, projects.", wrap=True)
        )
        form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        for name, value in self.facts.items():
            shown = label(value)
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[name] = shown
            form.addRow(f"{name.capitalize()}:", shown)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("Copy details", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_details)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def details_text(self) -> str:
        return "\n".join(f"{name}: {value}" for name, value in self.facts.items())

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details_text())

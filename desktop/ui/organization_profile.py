"""Finance → Organization profile: the letterhead, tax id and bank account documents print.

Everyone who opens Finance sees the profile; those with ``finance.write`` edit it in a form that
sends only the changed fields (``finance.set_organization_profile``, works offline, syncs later).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.commands.fields import text_limit
from common.commands.organization_profile import OrganizationProfileChanges
from common.profile_forms import COMMAND, PROFILE_LABELS, build_profile_update
from common.schema.base import table_of
from common.schema.profile import PROFILE_FIELDS, OrganizationProfile
from desktop.modules import page
from desktop.qt import QFrame, QGridLayout, Qt, QVBoxLayout, QWidget
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.forms import FormDialog, FormField, apply_from_form
from desktop.ui.widgets import PageHeader, button, label

_HINTS = {
    "country": "Two-letter code, e.g. DE, FR, GB",
    "iban": "Where customers pay invoices and salaries are paid from",
}
_PLACEHOLDERS = {
    "iban": "e.g. DE89 3704 0044 0532 0130 00",
    "bic": "e.g. COBADEFFXXX",
    "postcode": "e.g. 20457",
}


def _limit(key: str) -> int:
    try:
        return text_limit(OrganizationProfileChanges, key)
    except ValueError:
        return 50


FIELDS = tuple(
    FormField(
        key,
        text,
        required=key == "legal_name",
        placeholder=_PLACEHOLDERS.get(key, ""),
        max_length=_limit(key),
    )
    for key, text in PROFILE_LABELS.items()
)


def load_profile(ctx: UiContext) -> dict[str, Any] | None:
    """The organization's profile row from the local store (``None`` before it is set)."""
    table = table_of(OrganizationProfile)
    org_id = ctx.session.org_id
    with ctx.session.store.read_session() as db:
        found = (
            db.execute(
                select(*(table.c[key] for key in PROFILE_FIELDS)).where(
                    table.c.org_id == org_id, table.c.id == org_id, table.c.deleted.is_(False)
                )
            )
            .mappings()
            .first()
        )
    return dict(found) if found is not None else None


def _shown(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—  not set"
    if key == "iban":
        text = str(value)
        return " ".join(text[i : i + 4] for i in range(0, len(text), 4))
    return str(value)


@page("finance", "finance.organization", "Organization profile", writes=COMMAND, position=900)
class OrganizationProfilePage(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.title = "Organization profile"
        self.profile: dict[str, Any] | None = None
        self.loaded = False
        self.dialog: FormDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN)
        layout.setSpacing(theme.SPACING * 2)
        header = PageHeader(
            "Organization profile",
            "What invoices, credit notes, statements, purchase orders and payslips print as the "
            "letterhead, and the bank account customers pay into and salaries are paid from.",
        )
        self.edit_button = button("Edit…", primary=True, tooltip="Edit the organization profile")
        self.edit_button.clicked.connect(self.edit)
        self.edit_button.setVisible(ctx.writable)
        header.add_action(self.edit_button)
        layout.addWidget(header)
        card = QFrame()
        card.setObjectName("card")
        card.setMaximumWidth(640)
        grid = QGridLayout(card)
        grid.setContentsMargins(theme.SPACING * 2, theme.SPACING * 2, theme.SPACING * 2, theme.SPACING * 2)
        grid.setHorizontalSpacing(theme.SPACING * 4)
        grid.setVerticalSpacing(theme.SPACING)
        grid.setColumnStretch(1, 1)
        self.values: dict[str, Any] = {}
        for row, (key, text) in enumerate(PROFILE_LABELS.items()):
            name = label(text, "muted")
            value = label("")
            value.setObjectName(f"value_{key}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(name, row, 0)
            grid.addWidget(value, row, 1)
            self.values[key] = value
        layout.addWidget(card)
        self.notice = label("", "muted", wrap=True)
        self.notice.setMaximumWidth(640)
        layout.addWidget(self.notice)
        if not ctx.writable:
            layout.addWidget(
                label(
                    "Changing the profile needs the finance.write permission (accountants, admins).", "muted"
                )
            )
        layout.addStretch(1)
        ctx.data_changed.connect(self.activate)

    def activate(self) -> None:
        """Read the profile off the GUI thread, then show it."""
        self.ctx.run(self, lambda: load_profile(self.ctx), on_success=self._show, busy_text="Loading…")

    def _show(self, profile: dict[str, Any] | None) -> None:
        self.profile, self.loaded = profile, True
        for key, widget in self.values.items():
            widget.setText(_shown(key, (profile or {}).get(key)))
        missing = [
            PROFILE_LABELS[k]
            for k in ("legal_name", "address_line1", "tax_id", "iban")
            if not (profile or {}).get(k)
        ]
        if not missing:
            self.notice.setText("")
        elif not (profile or {}).get("iban"):
            self.notice.setText(
                f"Not set yet: {', '.join(missing)}. Without an IBAN, invoices show no payment "
                "details and no SEPA salary transfer file can be made."
            )
        else:
            self.notice.setText(f"Not set yet: {', '.join(missing)}.")

    def edit(self) -> FormDialog | None:
        if not self.ctx.writable:
            return None
        before = dict(self.profile or {})

        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
            update = build_profile_update(before, raw)
            return update.args, update.problems

        initial = {key: ("" if before.get(key) is None else before[key]) for key in PROFILE_FIELDS}
        dialog = FormDialog(
            self,
            "Edit organization profile",
            FIELDS,
            build=build,
            save=apply_from_form(self.ctx, COMMAND),
            initial=initial,
        )
        self.dialog = dialog
        dialog.open()
        return dialog

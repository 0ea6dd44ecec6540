"""List screens of master data (products, warehouses, suppliers): create, edit, archive, history.

A subclass says which fields its form has, how typed text becomes the create command's args
(``args_from_form``), how a stored row looks in the form (``form_from_row``) and in command terms
(``values_from_row``); editing sends only the changed fields with their old values as ``base``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from common.ids import new_id
from desktop.qt import QCheckBox, QHBoxLayout, QMessageBox, QWidget
from desktop.ui.context import UiContext
from desktop.ui.forms import FormDialog, FormField, apply_from_form
from desktop.ui.list_page import ListPage
from desktop.ui.widgets import PageHeader, ask_once, button

Problems = dict[str, str]


def update_args(
    entity_id: str, before: dict[str, Any], after: dict[str, Any], keys: Sequence[str]
) -> dict[str, Any]:
    """``update_*`` args: the fields whose value changed, and their old values as ``base``."""
    changes = {key: after.get(key) for key in keys if before.get(key) != after.get(key)}
    return {"id": entity_id, "changes": changes, "base": {key: before.get(key) for key in changes}}


class MasterDataPage(ListPage):
    entity = ""  # "product": commands inventory.create_product / inventory.update_product
    command_module = "inventory"  # the commands' prefix: "hr" → hr.create_department
    archivable = True  # False: no Archive button nor "Show archived" (records without ``archived``)
    dialog_class: type[FormDialog] = FormDialog  # the form's dialog (a subclass may lay it out)
    fields: Sequence[FormField] = ()
    editable: Sequence[str] = ()

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        self.include_archived = False
        self.history_entity = self.entity
        super().__init__(ctx, parent)

    # -- to override ---------------------------------------------------------------------------
    def args_from_form(self, raw: dict[str, Any], entity_id: str) -> tuple[dict[str, Any], Problems]:
        raise NotImplementedError

    def form_from_row(self, row: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def values_from_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """The row's editable values as the command would carry them (wire form)."""
        return {key: row.get(key) for key in self.editable}

    def new_defaults(self) -> dict[str, Any]:
        return {}

    def row_title(self, row: dict[str, Any]) -> str:
        return str(row.get("name") or row.get("id"))

    # -- common behaviour ----------------------------------------------------------------------
    @property
    def can_create(self) -> bool:
        return self.ctx.writable

    def add_filters(self, bar: QHBoxLayout) -> None:
        if not self.archivable:
            return
        self.archived_box = QCheckBox("Show archived")
        self.archived_box.toggled.connect(self._toggle_archived)
        bar.addWidget(self.archived_box)

    def _toggle_archived(self, checked: bool) -> None:
        self.include_archived = checked
        self.model.source = self.source = self.make_source()
        self.model.reload()

    def add_actions(self, header: PageHeader) -> None:
        self.history_button = button("History", tooltip=f"Changes to this {self.noun} on the server")
        self.archive_button = button("Archive")
        self.edit_button = button("Edit…", tooltip=f"Edit the selected {self.noun} (Enter)")
        self.new_button = button(f"New {self.noun}", primary=True, tooltip="Ctrl+N")
        self.history_button.clicked.connect(self._history)
        self.archive_button.clicked.connect(self._archive)
        self.edit_button.clicked.connect(self.open_current)
        self.new_button.clicked.connect(self.new_item)
        for widget in (self.history_button, self.archive_button, self.edit_button, self.new_button):
            header.add_action(widget)
        self.new_button.setVisible(self.ctx.writable)
        self.archive_button.setVisible(self.ctx.writable and self.archivable)
        # The server's audit trail is readable with admin.audit only.
        self.history_button.setVisible(self.ctx.can("admin.audit"))

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        for widget in (self.history_button, self.archive_button, self.edit_button):
            widget.setEnabled(row is not None)
        if row is not None:
            self.archive_button.setText("Restore" if row.get("archived") else "Archive")
        self.edit_button.setText("Edit…" if self.ctx.writable else "View…")

    def _history(self) -> None:
        row = self.current_row()
        if row is not None:
            self.show_history(row, self.row_title(row))

    def _archive(self) -> None:
        row = self.current_row()
        if row is not None:
            self.toggle_archive(row)

    def new_item(self) -> FormDialog | None:
        if not self.can_create:
            return None
        entity_id = new_id()
        dialog = self.dialog_class(
            self,
            f"New {self.noun}",
            self.fields,
            build=lambda raw: self.args_from_form(raw, entity_id),
            save=apply_from_form(self.ctx, f"{self.command_module}.create_{self.entity}"),
            initial=self.new_defaults(),
            save_text=f"Create {self.noun}",
        )

        def created() -> None:
            self.model.reload()
            self.select_id(entity_id)

        dialog.accepted.connect(created)
        dialog.open()
        return dialog

    def open_row(self, row: dict[str, Any]) -> None:
        self.edit(row)

    def edit(self, row: dict[str, Any]) -> FormDialog:
        before = self.values_from_row(row)

        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], Problems]:
            args, found = self.args_from_form(raw, row["id"])
            update = update_args(row["id"], before, args, self.editable)
            if not found and not update["changes"]:
                found[""] = "Nothing to save yet: no field was changed."
            return update, found

        dialog = self.dialog_class(
            self,
            f"Edit {self.noun}: {self.row_title(row)}",
            self.fields,
            build=build,
            save=apply_from_form(self.ctx, f"{self.command_module}.update_{self.entity}"),
            initial=self.form_from_row(row),
        )
        if not self.ctx.writable:
            dialog.setWindowTitle(self.row_title(row))
            dialog.save_button.hide()
            for widget in dialog.inputs.values():
                widget.setEnabled(False)
        dialog.open()
        return dialog

    def archive_warning(self, row: dict[str, Any]) -> str | None:
        """What archiving ``row`` would mean beyond the usual (products: their stock)."""
        return None

    def toggle_archive(self, row: dict[str, Any]) -> None:
        archived = bool(row.get("archived"))
        warning = None if archived else self.archive_warning(row)
        if warning is not None:
            self.guardrail = ask_once(
                self,
                f"Archive {self.noun} with stock",
                warning,
                "Archive anyway",
                lambda: self._set_archived(row),
            )
            return
        if not archived:
            answer = QMessageBox.question(
                self,
                f"Archive {self.noun}",
                f"Archive {self.row_title(row)}? It disappears from lists and pickers; its history "
                "stays. You can bring it back with Show archived → Restore.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._set_archived(row)

    def _set_archived(self, row: dict[str, Any]) -> None:
        archived = bool(row.get("archived"))
        self.ctx.apply(
            self,
            f"{self.command_module}.update_{self.entity}",
            {"id": row["id"], "changes": {"archived": not archived}, "base": {"archived": archived}},
            on_refused=lambda error: QMessageBox.warning(self, "Not saved", error.message),
        )

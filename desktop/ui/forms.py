"""Form dialogs that validate as you type and name the problem under the field.

A screen describes its fields and gives two functions: ``build(raw) -> (args, problems)`` turns
what was typed into command args and lists what is wrong (with the command's args model, see
:mod:`desktop.validation`), and ``save(dialog, args)`` applies the command. Ctrl+S saves, Esc
cancels; while saving, the inputs are disabled and the work runs off the GUI thread.

Forms stay still while typing: every message has its space reserved (nothing is pushed down), a
problem shows only once its field was touched or after Save, and Esc, Cancel or closing a form
with changes asks before discarding them. Dates are picked from a calendar in the locale's format.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from common.commands import CommandError
from desktop.formatting import number_example
from desktop.qt import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDate,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QKeySequence,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QShortcut,
    QShowEvent,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui import short_date_format, theme
from desktop.ui.widgets import ask_once, label, set_invalid
from desktop.validation import refusal_field

Raw = dict[str, Any]
Problems = dict[str, str]


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    kind: str = "text"  # text | multiline | money | quantity | choice | date | bool
    required: bool = False
    choices: Sequence[tuple[str, str]] = ()  # (value, shown text)
    placeholder: str = ""
    hint: str = ""
    max_length: int = 200


class DateInput(QDateEdit):
    """A date picked from a calendar, shown in the user's locale; optional dates may stay empty.

    Reads and writes ISO text (``2026-12-15``, ``""`` when empty), like the other inputs.
    """

    changed = Signal()
    EMPTY = QDate(1900, 1, 1)

    def __init__(self, *, optional: bool) -> None:
        super().__init__()
        self.setCalendarPopup(True)
        self.setDisplayFormat(short_date_format())
        self.optional = optional
        if optional:
            self.setMinimumDate(self.EMPTY)
            self.setSpecialValueText("—  (none)")
            self.setDate(self.EMPTY)
        else:
            self.setDate(QDate.currentDate())
        self.dateChanged.connect(lambda *_: self.changed.emit())

    def value(self) -> str:
        if self.optional and self.date() == self.EMPTY:
            return ""
        return str(self.date().toString("yyyy-MM-dd"))

    def set_value(self, value: object) -> None:
        text = "" if value is None else str(value)[:10]
        parsed = QDate.fromString(text, "yyyy-MM-dd") if text else QDate()
        if parsed.isValid():
            self.setDate(parsed)
        elif self.optional:
            self.setDate(self.EMPTY)

    def mousePressEvent(self, event: Any) -> None:  # an empty optional date opens on today
        if self.optional and self.date() == self.EMPTY:
            self.calendarWidget().setSelectedDate(QDate.currentDate())
        super().mousePressEvent(event)


def reserve_line(widget: QLabel) -> None:
    """Keep one line of space for a message even when it is empty, so nothing below moves."""
    widget.setMinimumHeight(widget.fontMetrics().height() + 2)


def make_input(field: FormField) -> QWidget:
    if field.kind == "multiline":
        edit = QPlainTextEdit()
        edit.setPlaceholderText(field.placeholder)
        edit.setTabChangesFocus(True)
        edit.setFixedHeight(72)
        return edit
    if field.kind == "choice":
        combo = QComboBox()
        for value, text in field.choices:
            combo.addItem(text, value)
        return combo
    if field.kind == "bool":
        return QCheckBox(field.hint or field.label)
    if field.kind == "date":
        return DateInput(optional=not field.required)
    line = QLineEdit()
    line.setPlaceholderText(field.placeholder or (number_example() if field.kind == "money" else ""))
    line.setMaxLength(field.max_length)
    if field.kind in ("money", "quantity"):
        line.setAlignment(Qt.AlignmentFlag.AlignRight)
    return line


def read_input(widget: QWidget) -> Any:
    if callable(getattr(widget, "value", None)):  # pickers
        return widget.value()  # type: ignore[attr-defined]
    if isinstance(widget, QPlainTextEdit):
        return widget.toPlainText()
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QLineEdit):
        return widget.text()
    return None


def write_input(widget: QWidget, value: Any) -> None:
    if callable(getattr(widget, "set_value", None)):
        widget.set_value(value)  # type: ignore[attr-defined]
    elif isinstance(widget, QPlainTextEdit):
        widget.setPlainText("" if value is None else str(value))
    elif isinstance(widget, QComboBox):
        index = widget.findData(value)
        if index >= 0:
            widget.setCurrentIndex(index)
    elif isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, QLineEdit):
        widget.setText("" if value is None else str(value))


def changed_signal(widget: QWidget) -> Any:
    if hasattr(widget, "changed"):  # pickers
        return widget.changed
    if isinstance(widget, QPlainTextEdit):
        return widget.textChanged
    if isinstance(widget, QComboBox):
        return widget.currentIndexChanged
    if isinstance(widget, QCheckBox):
        return widget.toggled
    return widget.textChanged  # type: ignore[attr-defined]


class FormDialog(QDialog):
    """A dialog of labelled inputs with an error line under each."""

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        fields: Sequence[FormField],
        *,
        build: Callable[[Raw], tuple[dict[str, Any], Problems]],
        save: Callable[[FormDialog, dict[str, Any]], None],
        intro: str = "",
        initial: Raw | None = None,
        save_text: str = "Save",
        extra_widgets: dict[str, QWidget] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.setMinimumWidth(520)
        self.fields = list(fields)
        self.build = build
        self.save_action = save
        self.inputs: dict[str, QWidget] = {}
        self.rows: dict[str, int] = {}
        self.error_labels: dict[str, QLabel] = {}
        self.touched: set[str] = set()
        self.saving = False
        self.show_all = False
        self.saved_outcome: Any = None
        self.baseline: Any = None  # what the form held when it opened (unsaved-changes prompt)
        self.discard_confirmed = False
        self.discard_prompt: Any = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN)
        layout.setSpacing(theme.SPACING * 2)
        heading = label(title, "pageTitle")
        layout.addWidget(heading)
        if intro:
            layout.addWidget(label(intro, "muted", wrap=True))
        form = QFormLayout()
        form.setHorizontalSpacing(theme.SPACING * 2)
        form.setVerticalSpacing(theme.SPACING)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for field in self.fields:
            widget = (extra_widgets or {}).get(field.key) or make_input(field)
            widget.setObjectName(f"field_{field.key}")
            self.inputs[field.key] = widget
            error = label("", "fieldError", wrap=True)
            error.setObjectName("fieldError")
            reserve_line(error)
            self.error_labels[field.key] = error
            cell = QVBoxLayout()
            cell.setSpacing(2)
            cell.addWidget(widget)
            if field.hint and field.kind != "bool":
                cell.addWidget(label(field.hint, "muted", wrap=True))
            cell.addWidget(error)
            text = f"{field.label}{' *' if field.required else ''}" if field.kind != "bool" else ""
            self.rows[field.key] = form.rowCount()
            form.addRow(text, cell)
        self.form = form
        layout.addLayout(form)
        self.form_error = label("", "formError", wrap=True)
        reserve_line(self.form_error)
        layout.addWidget(self.form_error)
        self.buttons = QDialogButtonBox()
        self.save_button = self.buttons.addButton(save_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("primary")
        self.save_button.setDefault(True)
        self.save_button.setToolTip("Save (Ctrl+S)")
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setToolTip("Cancel (Esc)")
        self.save_text = save_text
        self.save_button.clicked.connect(self.try_save)
        self.cancel_button.clicked.connect(self.reject)
        layout.addWidget(self.buttons)
        save_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self)
        save_shortcut.activated.connect(self.try_save)
        for key, value in (initial or {}).items():
            if key in self.inputs:
                write_input(self.inputs[key], value)
        for key, widget in self.inputs.items():
            changed_signal(widget).connect(lambda *_args, k=key: self._changed(k))
        self.validate()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.baseline is None:
            self.baseline = self.snapshot()
            focus = QApplication.focusWidget()
            self.return_focus = focus if focus is not None and not self.isAncestorOf(focus) else None
        self.activateWindow()  # keyboard first: typing and Ctrl+S go to the dialog at once
        first = next((w for w in self.inputs.values() if w.isEnabled() and w.isVisible()), None)
        if first is not None and not any(w.hasFocus() for w in self.inputs.values()):
            first.setFocus()

    # -- validation ----------------------------------------------------------------------------
    def raw(self) -> Raw:
        return {key: read_input(widget) for key, widget in self.inputs.items()}

    def set_value(self, key: str, value: Any) -> None:
        write_input(self.inputs[key], value)

    def snapshot(self) -> Any:
        """What counts as the form's content for "unsaved changes" (dialogs with more extend it)."""
        return self.raw()

    def has_unsaved_changes(self) -> bool:
        return self.baseline is not None and self.save_button.isVisible() and self.snapshot() != self.baseline

    def reject(self) -> None:
        """Esc, Cancel and closing the window: ask before discarding changes."""
        if self.saving:
            return
        if self.discard_confirmed or not self.has_unsaved_changes():
            super().reject()
            return
        self.discard_prompt = ask_once(
            self,
            "Discard changes?",
            "You changed this form and it is not saved. Discard your changes?",
            "Discard changes",
            self._discard,
            stay_text="Keep editing",
        )

    def done(self, result: int) -> None:
        """Close, and give the keyboard back to where it was (the list the dialog came from)."""
        super().done(result)
        back = getattr(self, "return_focus", None)
        if back is not None:
            with contextlib.suppress(RuntimeError):  # the widget may be gone meanwhile
                back.window().activateWindow()
                back.setFocus()

    def _discard(self) -> None:
        self.discard_confirmed = True
        self.reject()

    def loose_problem_visible(self, key: str) -> bool:
        """Whether a problem not under a field (``Line 2 quantity``) may show yet."""
        return self.show_all or key in self.touched

    def _changed(self, key: str) -> None:
        self.touched.add(key)
        self.validate()

    def validate(self) -> tuple[dict[str, Any], Problems]:
        args, found = self.build(self.raw())
        for key, error in self.error_labels.items():
            phrase = found.get(key) if self.form_row_visible(key) else None
            visible = phrase is not None and (self.show_all or key in self.touched)
            field = next(f for f in self.fields if f.key == key)
            error.setText(f"{field.label}: {phrase}" if visible else "")
            set_invalid(self.inputs[key], visible)
        loose = [
            f"{k}: {v}" if k else v
            for k, v in found.items()
            if k not in self.error_labels and self.loose_problem_visible(k)
        ]
        if loose:
            self.show_form_error("; ".join(loose))
        elif not self.saving:
            self.show_form_error(None)
        visible_problems = any(self.error_labels[k].text() for k in found if k in self.error_labels)
        self.save_button.setEnabled(not self.saving and not visible_problems)
        return args, found

    def form_row_visible(self, key: str) -> bool:
        return not hasattr(self, "form") or self.form.isRowVisible(self.rows[key])

    def show_form_error(self, text: str | None) -> None:
        self.form_error.setText(text or "")

    def set_field_visible(self, key: str, visible: bool) -> None:
        self.form.setRowVisible(self.rows[key], visible)

    def set_field_label(self, key: str, text: str) -> None:
        item = self.form.itemAt(self.rows[key], QFormLayout.ItemRole.LabelRole)
        widget = item.widget() if item is not None else None
        if isinstance(widget, QLabel):
            widget.setText(text)

    def field_problem(self, key: str) -> str:
        """The problem shown under ``key`` (empty when none); for tests and screen readers."""
        error = self.error_labels.get(key)
        return error.text() if error is not None else ""

    # -- saving --------------------------------------------------------------------------------
    def try_save(self) -> None:
        if self.saving:
            return
        self.show_all = True
        args, found = self.validate()
        if found:
            first = next((f.key for f in self.fields if f.key in found), None)
            if first is not None:
                self.inputs[first].setFocus()
            return
        self.set_saving(True)
        self.save_action(self, args)

    def set_saving(self, saving: bool) -> None:
        self.saving = saving
        for widget in self.inputs.values():
            widget.setEnabled(not saving)
        self.save_button.setText("Saving…" if saving else self.save_text)
        self.save_button.setEnabled(not saving)

    def saved(self, outcome: Any = None) -> None:
        self.saved_outcome = outcome
        self.set_saving(False)
        self.accept()

    def refused(self, error: CommandError) -> None:
        """Show a refusal from the command under its field (or above the buttons)."""
        self.set_saving(False)
        key, phrase = refusal_field(error)
        if key in self.error_labels:
            field = next(f for f in self.fields if f.key == key)
            self.error_labels[key].setText(f"{field.label}: {phrase}")
            set_invalid(self.inputs[key], True)
            self.inputs[key].setFocus()
        else:
            self.show_form_error(f"{key}: {phrase}" if key else phrase)

    def failed(self, exc: BaseException) -> None:
        self.set_saving(False)
        self.show_form_error(f"Could not save: {exc}")


def apply_from_form(ctx: Any, name: str) -> Callable[[FormDialog, dict[str, Any]], None]:
    """The usual ``save``: apply command ``name`` with the form's args through the UI context."""

    def save(dialog: FormDialog, args: dict[str, Any]) -> None:
        ctx.apply(dialog, name, args, on_done=dialog.saved, on_refused=dialog.refused, on_error=dialog.failed)

    return save

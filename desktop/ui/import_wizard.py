"""The import wizard: choose what and which file, match columns, preview problems, try, apply.

Reading the file, planning, the dry run and the apply all run off the GUI thread; the wizard
only shows their results. The preview names every problem by row and column; Apply stays
disabled until the plan has none. Applying is one transaction of ordinary commands.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from common.imports import KINDS, ImportFileError, ImportPlan, RawTable, match_columns, read_table
from desktop.background import run_op
from desktop.importing import ImportResult, apply_import, plan_file
from desktop.qt import (
    QComboBox,
    QDate,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
    Signal,
)
from desktop.session import UserSession
from desktop.ui.forms import DateInput

NOT_IMPORTED = "— not imported —"
# How the file writes decimals: read from each number (the ambiguous 1,234 refused), or chosen.
DECIMAL_CHOICES = (
    ("Read from each number (refuse 1,234 / 1.234)", None),
    ("Point: 1,234.50", "."),
    ("Comma: 1.234,50", ","),
)
MAX_PROBLEMS_SHOWN = 1000


def importable_kinds(session: UserSession) -> list[str]:
    """The imports this user may run (each needs its module's write permission)."""
    return [name for name, kind in KINDS.items() if session.can(kind.permission)]


class SourcePage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.wizard_ = wizard
        self.setTitle("What to import")
        self.setSubTitle(
            "Choose what the file holds and the CSV or Excel file. Its first line names the columns."
        )
        form = QFormLayout(self)
        self.kind_box = QComboBox()
        for name in importable_kinds(wizard.session):
            self.kind_box.addItem(KINDS[name].title, name)
        form.addRow("Import", self.kind_box)
        row = QHBoxLayout()
        self.file_label = QLabel("No file chosen")
        browse = QPushButton("Choose file…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.file_label, 1)
        row.addWidget(browse)
        holder = QWidget()
        holder.setLayout(row)
        form.addRow("File", holder)
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        form.addRow(self.error)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import file", str(Path.home()), "Tables (*.csv *.xlsx)")
        if path:
            self.wizard_.load_file(path)

    def isComplete(self) -> bool:
        return self.wizard_.table is not None and self.kind_box.count() > 0


class MappingPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.wizard_ = wizard
        self.setTitle("Match the columns")
        self.setSubTitle("Columns were matched by name; change any that are wrong.")
        layout = QVBoxLayout(self)
        self.form = QFormLayout()
        self.boxes: dict[str, QComboBox] = {}
        options = QFormLayout()
        self.decimal_box = QComboBox()
        for text, mark in DECIMAL_CHOICES:
            self.decimal_box.addItem(text, mark)
        options.addRow("Decimal separator", self.decimal_box)
        self.date_label = QLabel("Opening date")
        self.date_edit = DateInput(optional=False)
        self.date_edit.setDate(QDate(QDate.currentDate().year() - 1, 12, 31))
        options.addRow(self.date_label, self.date_edit)
        layout.addLayout(self.form)
        layout.addSpacing(12)
        layout.addLayout(options)
        layout.addStretch(1)

    def initializePage(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.boxes.clear()
        table = self.wizard_.table
        assert table is not None
        kind = KINDS[self.wizard_.kind]
        # Rows that post on one date (opening balances) ask for it.
        self.date_label.setVisible(kind.asks_date is not None)
        self.date_edit.setVisible(kind.asks_date is not None)
        self.date_label.setText(kind.asks_date or "")
        matched = match_columns(table.header, kind)
        for spec in kind.fields:
            box = QComboBox()
            box.addItem(NOT_IMPORTED, None)
            for index, name in enumerate(table.header):
                box.addItem(name or f"Column {index + 1}", index)
            found = matched.get(spec.key)
            box.setCurrentIndex(0 if found is None else found + 1)
            self.boxes[spec.key] = box
            self.form.addRow(spec.title + (" *" if spec.required else ""), box)

    def mapping(self) -> dict[str, int | None]:
        return {key: box.currentData() for key, box in self.boxes.items()}

    def options(self) -> dict[str, Any]:
        """The ``plan_file`` keywords the user chose: the decimal separator, the opening date."""
        asks_date = KINDS[self.wizard_.kind].asks_date is not None
        return {
            "decimal_mark": self.decimal_box.currentData(),
            "opening_date": date.fromisoformat(self.date_edit.value()) if asks_date else None,
        }


class PreviewPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.wizard_ = wizard
        self.setTitle("Check and apply")
        self.setSubTitle("Every problem is named by its row and column. Fix the file and choose it again.")
        layout = QVBoxLayout(self)
        self.summary = QLabel("Checking…")
        self.summary.setWordWrap(True)
        self.problems = QListWidget()
        buttons = QHBoxLayout()
        self.dry_run_button = QPushButton("Try (dry run)")
        self.apply_button = QPushButton("Apply")
        self.apply_button.setObjectName("primary")
        self.dry_run_button.clicked.connect(lambda: wizard.run(dry_run=True))
        self.apply_button.clicked.connect(lambda: wizard.run(dry_run=False))
        buttons.addStretch(1)
        buttons.addWidget(self.dry_run_button)
        buttons.addWidget(self.apply_button)
        layout.addWidget(self.summary)
        layout.addWidget(self.problems, 1)
        layout.addLayout(buttons)

    def initializePage(self) -> None:
        page = self.wizard_.mapping_page
        self.wizard_.make_plan(page.mapping(), **page.options())

    def show_plan(self, plan: ImportPlan) -> None:
        self.summary.setText(plan.summary())
        self.show_problems(plan.problems)
        ready = plan.ok and bool(plan.commands)
        self.dry_run_button.setEnabled(ready)
        self.apply_button.setEnabled(ready)

    def show_problems(self, problems: list[Any]) -> None:
        self.problems.clear()
        for problem in problems[:MAX_PROBLEMS_SHOWN]:
            self.problems.addItem(str(problem))
        if len(problems) > MAX_PROBLEMS_SHOWN:
            self.problems.addItem(f"… and {len(problems) - MAX_PROBLEMS_SHOWN:,} more")


class ImportWizard(QWizard):
    """``planned(plan)`` after each check, ``finished_run(result)`` after a dry run or an apply."""

    planned = Signal(object)
    finished_run = Signal(object)
    applied = Signal()

    def __init__(self, session: UserSession, parent: QWidget | None = None, on_applied: Any = None) -> None:
        super().__init__(parent)
        self.session = session
        self.table: RawTable | None = None
        self.plan: ImportPlan | None = None
        self.on_applied = on_applied
        self.setWindowTitle("Import")
        self.source_page = SourcePage(self)
        self.mapping_page = MappingPage(self)
        self.preview_page = PreviewPage(self)
        for page in (self.source_page, self.mapping_page, self.preview_page):
            self.addPage(page)

    @property
    def kind(self) -> str:
        return str(self.source_page.kind_box.currentData())

    def load_file(self, path: str) -> None:
        """Read ``path`` in the background; the page completes when it is read."""
        self.source_page.error.setText("Reading…")

        def read(_progress: Any) -> RawTable:
            return read_table(Path(path).read_bytes(), Path(path).name)

        def done(table: RawTable) -> None:
            self.table = table
            self.source_page.file_label.setText(f"{Path(path).name} — {len(table.rows):,} rows")
            self.source_page.error.setText("")
            self.source_page.completeChanged.emit()

        def failed(exc: BaseException) -> None:
            self.table = None
            message = str(exc) if isinstance(exc, ImportFileError | OSError) else f"could not read: {exc}"
            self.source_page.error.setText(message)
            self.source_page.completeChanged.emit()

        run_op(self, read, on_success=done, on_failure=failed)

    def make_plan(
        self,
        mapping: dict[str, int | None],
        *,
        decimal_mark: str | None = None,
        opening_date: date | None = None,
    ) -> None:
        table, kind = self.table, self.kind
        assert table is not None
        self.preview_page.summary.setText("Checking…")
        self.preview_page.apply_button.setEnabled(False)
        self.preview_page.dry_run_button.setEnabled(False)

        def done(plan: ImportPlan) -> None:
            self.plan = plan
            self.preview_page.show_plan(plan)
            self.planned.emit(plan)

        run_op(
            self,
            lambda _p: plan_file(
                self.session, kind, table, mapping, decimal_mark=decimal_mark, opening_date=opening_date
            ),
            on_success=done,
            on_failure=lambda exc: self.preview_page.summary.setText(f"Could not check the file: {exc}"),
        )

    def run(self, *, dry_run: bool) -> None:
        plan = self.plan
        if plan is None:
            return
        self.preview_page.apply_button.setEnabled(False)
        self.preview_page.dry_run_button.setEnabled(False)
        self.preview_page.summary.setText("Trying every row…" if dry_run else "Applying…")

        def done(result: ImportResult) -> None:
            page = self.preview_page
            if result.problems:
                page.summary.setText(f"{len(result.problems):,} problems; nothing was changed.")
                page.show_problems(result.problems)
            elif dry_run:
                page.summary.setText(
                    f"Dry run: all {len(plan.commands):,} changes would apply. Nothing was changed."
                )
                page.apply_button.setEnabled(True)
                page.dry_run_button.setEnabled(True)
            else:
                page.summary.setText(f"Imported: {plan.summary()}. The changes sync with the next sync.")
                self.applied.emit()
                if self.on_applied is not None:
                    self.on_applied()
            self.finished_run.emit(result)

        run_op(
            self,
            lambda _p: apply_import(self.session, plan, dry_run=dry_run),
            on_success=done,
            on_failure=lambda exc: self.preview_page.summary.setText(
                f"Import failed; nothing was changed: {exc}"
            ),
        )

"""The task board: one column per task status, a card per task; moving a card (drag and drop,
or the Move buttons) changes its status through the task's life cycle
(:func:`common.project_forms.move_task`: todo → in progress → done, one step per command)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from common.commands import CommandError
from common.commands.fields import text_limit
from common.commands.projects import WORKABLE, CreateTaskArgs
from common.ids import new_id
from common.money import quantity_text
from common.project_forms import TASK_FIELDS, build_task, move_task, update_args
from common.schema import EmployeeDirectory, Project, Task
from desktop.formatting import parse_quantity_input, quantity_input
from desktop.lists import live
from desktop.modules import page
from desktop.qt import (
    QAbstractItemView,
    QColor,
    QComboBox,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFrame,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMimeData,
    QSize,
    Qt,
    QVBoxLayout,
    QWidget,
)
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.forms import FormDialog, FormField, apply_from_form
from desktop.ui.pickers import fill_combo
from desktop.ui.projects_timesheet import hours_text
from desktop.ui.widgets import PageHeader, button, label

STATUSES = (("todo", "To do"), ("in_progress", "In progress"), ("done", "Done"))
TASK_MIME = "application/x-ops-task-id"
TASK_ROLE = Qt.ItemDataRole.UserRole + 7
OVERDUE = QColor("#b42318")


class BoardColumn(QListWidget):
    """A column of cards; a card dropped here asks the board to move its task to ``status``."""

    def __init__(self, board: TaskBoardPage, status: str) -> None:
        super().__init__()
        self.board, self.status = board, status
        self.setObjectName(f"column_{status}")
        self.setDragEnabled(board.ctx.writable)
        self.setAcceptDrops(board.ctx.writable)
        self.setDragDropMode(
            QAbstractItemView.DragDropMode.DragDrop
            if board.ctx.writable
            else QAbstractItemView.DragDropMode.NoDragDrop
        )
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSpacing(4)
        self.setWordWrap(True)
        self.setStyleSheet(
            "QListWidget { background: #eef1f5; border: 1px solid #d6dbe1; border-radius: 6px; padding: 6px; }"
            "QListWidget::item { background: white; border: 1px solid #d6dbe1; border-radius: 4px;"
            " padding: 8px; margin: 2px; }"
            "QListWidget::item:selected { border: 2px solid #2f6fb0; background: #f5f9fd; }"
        )

    def mimeData(self, items: Any) -> QMimeData:
        data = QMimeData()
        if items:
            data.setData(TASK_MIME, str(items[0].data(TASK_ROLE)).encode())
        return data

    def mimeTypes(self) -> list[str]:
        return [TASK_MIME]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(TASK_MIME):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(TASK_MIME):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        data = event.mimeData()
        if not data.hasFormat(TASK_MIME):
            event.ignore()
            return
        task_id = bytes(data.data(TASK_MIME).data()).decode()
        # The board redraws from the store once the command is applied: Qt must not move the item.
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        self.board.move_task_to(task_id, self.status)


def task_card_text(
    task: dict[str, Any], project: dict[str, Any] | None, assignee: str | None, today: date
) -> str:
    """A card: the title; project and assignee; due date (overdue said in words) and estimate."""
    when = []
    if task.get("due_date"):
        late = task["status"] != "done" and task["due_date"] < today
        when.append(f"due {task['due_date']:%d %b}" + ("  (overdue)" if late else ""))
    if task.get("estimate_hours") is not None:
        when.append(f"{hours_text(task['estimate_hours'])} h estimated")
    who = f"{project['code'] if project else '—'}  ·  {assignee or 'unassigned'}"
    return "\n".join([task["title"], who, "  ·  ".join(when) or "no due date"])


@page("projects", "task_board", "Task board", writes="projects.update_task", position=20, lands=5)
class TaskBoardPage(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.tasks: dict[str, dict[str, Any]] = {}
        self.projects: dict[str, dict[str, Any]] = {}
        self.people: dict[str, str] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.SPACING * 2)
        layout.setSpacing(theme.SPACING * 2)
        header = PageHeader(
            "Task board",
            "Tasks by status. Drag a card to another column, or select it and use Move.",
        )
        self.back_button = button("◀ Move back")
        self.forward_button = button("Move on ▶")
        self.new_button = button("New task", primary=True, tooltip="Ctrl+N")
        self.back_button.clicked.connect(lambda: self._step(-1))
        self.forward_button.clicked.connect(lambda: self._step(1))
        self.new_button.clicked.connect(self.new_item)
        for widget in (self.back_button, self.forward_button, self.new_button):
            header.add_action(widget)
            widget.setVisible(ctx.writable)
        layout.addWidget(header)
        bar = QHBoxLayout()
        self.project_filter = QComboBox()
        self.project_filter.setMinimumWidth(260)
        self.project_filter.currentIndexChanged.connect(lambda *_: self.reload())
        bar.addWidget(label("Project", "muted"))
        bar.addWidget(self.project_filter)
        bar.addStretch(1)
        self.count_label = label("", "muted")
        bar.addWidget(self.count_label)
        layout.addLayout(bar)
        columns = QHBoxLayout()
        columns.setSpacing(theme.SPACING * 2)
        self.columns: dict[str, BoardColumn] = {}
        self.column_titles: dict[str, Any] = {}
        for status, title in STATUSES:
            box = QFrame()
            box_layout = QVBoxLayout(box)
            box_layout.setContentsMargins(0, 0, 0, 0)
            heading = label(title, "sectionTitle")
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            column = BoardColumn(self, status)
            column.itemDoubleClicked.connect(lambda item: self.edit(str(item.data(TASK_ROLE))))
            column.currentItemChanged.connect(lambda current, _prev, c=column: self._selected(c, current))
            box_layout.addWidget(heading)
            box_layout.addWidget(column, 1)
            columns.addWidget(box, 1)
            self.columns[status] = column
            self.column_titles[status] = heading
        layout.addLayout(columns, 1)
        self.problem = label("", "formError", wrap=True)
        layout.addWidget(self.problem)
        ctx.data_changed.connect(self.refresh)
        self._stale = True
        self._selected(None, None)

    # -- loading -------------------------------------------------------------------------------
    def activate(self) -> None:
        if self._stale:
            self._stale = False
            self.reload()

    def refresh(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def load_records(self) -> None:
        org_id = self.ctx.session.org_id
        p, d = Project.__table__.c, EmployeeDirectory.__table__.c
        with self.ctx.session.store.read_session() as db:
            self.projects = {
                r["id"]: dict(r)
                for r in db.execute(
                    select(p.id, p.code, p.name, p.status).where(live(Project, org_id))
                ).mappings()
            }
            self.tasks = {
                r["id"]: dict(r)
                for r in db.execute(select(*Task.__table__.columns).where(live(Task, org_id))).mappings()
            }
            self.people = dict(db.execute(select(d.id, d.name).where(live(EmployeeDirectory, org_id))).all())

    def reload(self) -> None:
        self.load_records()
        chosen = self.project_filter.currentData()
        self.project_filter.blockSignals(True)
        fill_combo(
            self.project_filter,
            [
                (pid, f"{q['code']} — {q['name']}")
                for pid, q in sorted(self.projects.items(), key=lambda kv: kv[1]["code"])
            ],
            empty="All projects",
        )
        self.project_filter.blockSignals(False)
        chosen = self.project_filter.currentData()
        selected = self.selected_task_id()
        today = date.today()
        shown = 0
        for status, column in self.columns.items():
            column.clear()
            tasks = [
                task
                for task in self.tasks.values()
                if task["status"] == status and (chosen is None or task["project_id"] == chosen)
            ]
            tasks.sort(key=lambda task: (task["due_date"] or date.max, task["title"]))
            for task in tasks:
                item = QListWidgetItem(
                    task_card_text(
                        task,
                        self.projects.get(task["project_id"]),
                        self.people.get(task["assignee_employee_id"] or ""),
                        today,
                    )
                )
                item.setData(TASK_ROLE, task["id"])
                item.setSizeHint(QSize(0, 76))
                if status != "done" and task["due_date"] is not None and task["due_date"] < today:
                    item.setForeground(OVERDUE)
                    item.setToolTip("Overdue")
                column.addItem(item)
                if task["id"] == selected:
                    column.setCurrentItem(item)
            title = dict(STATUSES)[status]
            self.column_titles[status].setText(f"{title}  ({len(tasks)})")
            shown += len(tasks)
        self.count_label.setText(f"{shown} task{'s' if shown != 1 else ''}")

    # -- selection and moves -------------------------------------------------------------------
    def _selected(self, column: BoardColumn | None, item: QListWidgetItem | None) -> None:
        if column is not None and item is not None:
            for other in self.columns.values():
                if other is not column:
                    other.blockSignals(True)
                    other.setCurrentRow(-1)
                    other.clearSelection()
                    other.blockSignals(False)
        task = self.tasks.get(self.selected_task_id() or "")
        order = [s for s, _ in STATUSES]
        index = order.index(task["status"]) if task else -1
        self.back_button.setEnabled(task is not None and index > 0)
        self.forward_button.setEnabled(task is not None and index < len(order) - 1)

    def selected_task_id(self) -> str | None:
        for column in self.columns.values():
            item = column.currentItem()
            if item is not None and item.isSelected():
                return str(item.data(TASK_ROLE))
        return None

    def select_task(self, task_id: str) -> bool:
        for column in self.columns.values():
            for row in range(column.count()):
                item = column.item(row)
                if item.data(TASK_ROLE) == task_id:
                    column.setCurrentItem(item)
                    item.setSelected(True)
                    return True
        return False

    def card_status(self, task_id: str) -> str | None:
        """The column showing the task's card (``None``: not shown)."""
        for status, column in self.columns.items():
            if any(column.item(row).data(TASK_ROLE) == task_id for row in range(column.count())):
                return status
        return None

    def _step(self, direction: int) -> None:
        task_id = self.selected_task_id()
        task = self.tasks.get(task_id or "")
        if task is None:
            return
        order = [s for s, _ in STATUSES]
        index = order.index(task["status"]) + direction
        if 0 <= index < len(order):
            self.move_task_to(task["id"], order[index])

    def move_task_to(self, task_id: str, status: str) -> None:
        """Move the task to ``status``, one life-cycle step per command, in the background."""
        task = self.tasks.get(task_id)
        if task is None or task["status"] == status or not self.ctx.writable:
            return
        steps = move_task(task, status)
        session = self.ctx.session

        def work() -> None:
            for args in steps:
                session.apply("projects.update_task", args)

        def done(_result: Any) -> None:
            self.problem.setText("")
            self.ctx.data_changed.emit()
            self.reload()
            self.select_task(task_id)

        def failed(exc: BaseException) -> None:
            self.ctx.data_changed.emit()
            message = exc.message if isinstance(exc, CommandError) else str(exc)
            self.problem.setText(f"Not moved: {message}")

        self.ctx.run(self, work, on_success=done, on_failure=failed, busy_text="Moving the task…")

    # -- create and edit -----------------------------------------------------------------------
    def task_fields(self, *, with_project: bool) -> list[FormField]:
        people = [("", "— unassigned —"), *sorted(self.people.items(), key=lambda kv: kv[1])]
        fields = [
            FormField("title", "Title", required=True, max_length=text_limit(CreateTaskArgs, "title")),
            FormField("assignee_employee_id", "Assignee", kind="choice", choices=people),
            FormField("due_date", "Due", kind="date"),
            FormField("estimate_hours", "Estimate (h)", kind="quantity", placeholder="optional", max_length=24),
            FormField("description", "Description", kind="multiline", max_length=text_limit(CreateTaskArgs, "description")),
        ]  # fmt: skip
        if with_project:
            projects = [
                (pid, f"{q['code']} — {q['name']}")
                for pid, q in sorted(self.projects.items(), key=lambda kv: kv[1]["code"])
                if q["status"] in WORKABLE
            ]
            fields.insert(
                0, FormField("project_id", "Project", kind="choice", required=True, choices=projects)
            )
        return fields

    def new_item(self) -> FormDialog | None:
        if not self.ctx.writable:
            return None
        self.load_records()
        task_id = new_id()

        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
            built = build_task(task_id, raw.get("project_id") or None, raw, parse_quantity_input)
            return built.args, built.problems

        dialog = FormDialog(
            self,
            "New task",
            self.task_fields(with_project=True),
            build=build,
            save=apply_from_form(self.ctx, "projects.create_task"),
            initial={"project_id": self.project_filter.currentData()},
            save_text="Create task",
        )
        dialog.accepted.connect(lambda: self._created(task_id))
        dialog.open()
        return dialog

    def _created(self, task_id: str) -> None:
        self.reload()
        self.select_task(task_id)

    def edit(self, task_id: str) -> FormDialog | None:
        task = self.tasks.get(task_id)
        if task is None:
            return None
        before = {key: task.get(key) for key in TASK_FIELDS}
        before["due_date"] = task["due_date"].isoformat() if task.get("due_date") else None
        if before["estimate_hours"] is not None:
            before["estimate_hours"] = quantity_text(Decimal(before["estimate_hours"]))

        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
            built = build_task(task_id, task["project_id"], raw, parse_quantity_input)
            update = update_args(task_id, before, built.args, TASK_FIELDS)
            found = dict(built.problems)
            if not found and not update["changes"]:
                found[""] = "Nothing to save yet: no field was changed."
            return update, found

        project = self.projects.get(task["project_id"])
        dialog = FormDialog(
            self,
            f"Task: {task['title']}",
            self.task_fields(with_project=False),
            build=build,
            save=apply_from_form(self.ctx, "projects.update_task"),
            intro=f"Project {project['code']} — {project['name']}" if project else "",
            initial={
                "title": task["title"],
                "assignee_employee_id": task["assignee_employee_id"] or "",
                "due_date": task["due_date"],
                "estimate_hours": quantity_input(task["estimate_hours"]),
                "description": task["description"] or "",
            },
        )
        if not self.ctx.writable:
            dialog.save_button.hide()
            for widget in dialog.inputs.values():
                widget.setEnabled(False)
        dialog.open()
        return dialog

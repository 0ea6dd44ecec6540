"""Per-record history from the server's audit trail (needs a connection)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import BigInteger

from common.journal_lines import decode_lines
from common.schema import ENTITIES, FORMER_ENTITIES
from common.schema.base import table_of
from desktop.api_client import ApiError, ForbiddenError, OfflineError
from desktop.formatting import money, timestamp
from desktop.qt import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.finance_common import ledger_currency
from desktop.ui.widgets import EmptyState, label
from desktop.words import command_title, field_label

HIDDEN_FIELDS = frozenset({"org_id", "version", "updated_at", "updated_by", "deleted"})


# Where the server's audit trail lists the journal entries a command posted for the document
# it wrote (an invoice posted, a payment recorded): inside the document's event, each entry's
# image with its number and lines (``sync_server.audit.POSTINGS``).
POSTINGS = "postings"
# A journal entry's lines in its image since revision 0019: the entry's column, the stored text
# of a JSON array (``common.journal_lines``), counted as the nested ``lines`` images of older
# events are.
LINES_JSON = "lines_json"


@cache
def _amounts(entity: str) -> frozenset[str]:
    """The fields of ``entity`` that hold amounts, stored in minor units: its whole-number
    (BigInteger) columns but the version (every such column of the schema is money)."""
    model = ENTITIES.get(entity) or FORMER_ENTITIES.get(entity)
    if model is None:
        return frozenset()
    return frozenset(
        c.name for c in table_of(model).c if isinstance(c.type, BigInteger) and c.name != "version"
    )


def describe_change(event: dict[str, Any], currency: str | None = None) -> str:
    """``name: Old → New; price: 1.00 EUR → 1.20 EUR`` from an event's before and after images,
    and the journal entries posted with the change (``Posted: JE-000001``). Amounts are shown in
    the reader's locale, never in the minor units the trail stores, in the currency the event
    names, else ``currency`` (the record's)."""
    before = event.get("before") or {}
    after = event.get("after") or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ""
    amounts = _amounts(str(event.get("entity") or ""))
    currency = after.get("currency") or before.get("currency") or currency

    def shown_value(key: str, value: Any) -> Any:
        if key in amounts and isinstance(value, int) and not isinstance(value, bool):
            return money(value, currency if isinstance(currency, str) else None)
        return value

    posted = _posted(after.get(POSTINGS))
    if not before and after:
        # A list is the rows created with this one (a journal entry's lines, in an event from
        # before revision 0019), as are an entry's lines since: counted.
        shown = []
        for k, v in after.items():
            if k in HIDDEN_FIELDS or k in ("id", POSTINGS) or v in (None, ""):
                continue
            if k == LINES_JSON and isinstance(v, str):
                shown.append(f"Lines: {_line_count(v)}")
            else:
                shown.append(f"{field_label(k)}: {len(v) if isinstance(v, list) else shown_value(k, v)}")
        return "Created with " + "; ".join(shown[:8] + posted)
    parts = []
    for key in sorted(set(before) | set(after)):
        if key in HIDDEN_FIELDS or key == POSTINGS or before.get(key) == after.get(key):
            continue
        parts.append(
            f"{field_label(key)}: {shown_value(key, before.get(key))} → {shown_value(key, after.get(key))}"
        )
    return "; ".join(parts + posted)


def _line_count(stored: str) -> str:
    """How many lines an entry's ``lines_json`` holds, or ``?`` for text that is no lines."""
    try:
        return str(len(decode_lines(stored)))
    except ValueError:
        return "?"


def _posted(postings: Any) -> list[str]:
    """``["Posted: JE-000001"]`` for the entries an event posted, by number; counted when a number
    is not shown (the reader may not read the books: the server masks it)."""
    if not isinstance(postings, list) or not postings:
        return []
    numbers = [p.get("number") for p in postings if isinstance(p, dict)]
    if len(numbers) == len(postings) and all(isinstance(n, str) and n for n in numbers):
        return ["Posted: " + ", ".join(str(n) for n in numbers)]
    count = len(postings)
    return [f"Posted: {count} journal {'entry' if count == 1 else 'entries'}"]


class HistoryDialog(QDialog):
    def __init__(self, parent: QWidget | None, title: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"History — {title}")
        self.resize(820, 460)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN)
        layout.setSpacing(theme.SPACING * 2)
        layout.addWidget(label(f"History of {title}", "pageTitle"))
        layout.addWidget(label("From the server's audit trail: who changed what, and when.", "muted"))
        self.stack = QStackedWidget()
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["When", "Who", "What", "Changes"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        self.message = EmptyState()
        self.message.show_message("Loading history…", "")
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.table)
        layout.addWidget(self.stack, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def show_events(self, events: list[dict[str, Any]], me: str, currency: str | None = None) -> None:
        """The events, newest first; amounts in the currency an event names, else ``currency``."""
        if not events:
            self.message.show_message("No history yet", "The server has no recorded change of this record.")
            return
        self.table.setRowCount(len(events))
        for row, event in enumerate(events):
            actor = event.get("actor")
            who = (
                "You"
                if actor == me
                else str(event.get("actor_name") or event.get("actor_email") or actor or "system")
            )
            action = str(event.get("action", ""))
            what = command_title(action) if "." in action else action.replace("_", " ").capitalize()
            values = (timestamp(event.get("at")), who, what, describe_change(event, currency))
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.stack.setCurrentWidget(self.table)

    def show_problem(self, exc: BaseException) -> None:
        if isinstance(exc, OfflineError):
            self.message.show_message(
                "History needs a connection to the server",
                f"{exc.message}. Your own unsynced changes are not in the server's history yet.",
            )
        elif isinstance(exc, ForbiddenError):
            self.message.show_message("You may not read this history", exc.message)
        elif isinstance(exc, ApiError):
            self.message.show_message("The history could not be loaded", exc.message)
        else:
            self.message.show_message("The history could not be loaded", str(exc))


def open_history(
    owner: QWidget,
    ctx: UiContext,
    sync: Any,
    entity: str,
    entity_id: str,
    title: str,
    currency: str | None = None,
) -> HistoryDialog:
    """Show the dialog at once and fill it from the server in the background. Amounts show in
    the currency an event names, else ``currency`` (the record's), else the books' currency."""
    dialog = HistoryDialog(owner, title)
    session = ctx.session

    def fetch() -> tuple[list[dict[str, Any]], str]:
        events = session.api.audit(session.org_id, entity=entity, entity_id=entity_id)
        return events, currency or ledger_currency(session)  # a read of the local store, off the UI thread

    def loaded(found: tuple[list[dict[str, Any]], str]) -> None:
        sync.online = True
        events, shown_currency = found
        dialog.show_events(events, session.user.id, shown_currency)

    def failed(exc: BaseException) -> None:
        if isinstance(exc, OfflineError):
            sync.online = False
        dialog.show_problem(exc)

    ctx.run(
        dialog,
        fetch,
        on_success=loaded,
        on_failure=failed,
        busy_text="Loading history…",
    )
    dialog.open()
    return dialog
